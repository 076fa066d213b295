"""Which stop notes go again: near the stop, not confirmed, had their chance, once per note."""

from datetime import UTC, datetime, timedelta

from scheduler.notes_due import GRACE, Ack, Note, Unconfirmed, unconfirmed

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EARLIER = NOW - GRACE
VAN, OTHER_VAN = 1, 2
AHEAD = {VAN: [10, 11, 12, 13]}  # 10 is the stop the van is heading for


def note(note_id: int, *deliveries: int, driver_id: int = VAN, at: datetime = EARLIER) -> Note:
    return Note(note_id, driver_id, at, frozenset(deliveries))


def test_an_unconfirmed_note_goes_again_up_to_two_stops_ahead() -> None:
    notes = [note(5, 12, 13)]
    assert unconfirmed(AHEAD, notes, [], NOW) == [Unconfirmed(VAN, 12, 5, 2)]
    assert unconfirmed(AHEAD, notes, [], NOW)[0].key == "notes-again:5:12"


def test_a_confirmed_note_does_not() -> None:
    assert unconfirmed(AHEAD, [note(5, 11)], [Ack(VAN, 11, 5)], NOW) == []


def test_confirming_the_repetition_covers_the_note() -> None:
    assert unconfirmed(AHEAD, [note(5, 11)], [Ack(VAN, 11, 9)], NOW) == []


def test_a_later_change_after_a_confirmed_one_is_its_own_note() -> None:
    notes = [note(5, 11), note(7, 11)]
    assert unconfirmed(AHEAD, notes, [Ack(VAN, 11, 5)], NOW) == [Unconfirmed(VAN, 11, 7, 1)]


def test_a_fresh_note_has_its_chance_first() -> None:
    assert unconfirmed(AHEAD, [note(5, 10, at=NOW - GRACE + timedelta(seconds=1))], [], NOW) == []


def test_only_the_notes_to_the_van_that_has_the_stop_now_count() -> None:
    notes = [note(5, 10, driver_id=OTHER_VAN)]
    assert unconfirmed(AHEAD, notes, [], NOW) == []
    assert unconfirmed(AHEAD, [note(6, 10)], [Ack(OTHER_VAN, 10, 6)], NOW) == [Unconfirmed(VAN, 10, 6, 0)]
