"""The told invariant at the instant a van leaves: which threshold judges a window held then."""

from datetime import UTC, datetime, timedelta

from bot.domain.figures import Attempt, DayFacts, Parcel, Sent, Version
from bot.domain.invariants import check
from eta.geo import LatLon

LEAVES = datetime(2026, 12, 8, 6, 30, tzinfo=UTC)
MOVED, DELAY = timedelta(minutes=15), timedelta(minutes=10)


def day_with(held_at: datetime, shift: timedelta) -> DayFacts:
    """A parcel told 09:00-10:00 (Berlin) the evening before, held `shift` later from `held_at`."""
    told = Version(1, 1, datetime(2026, 12, 8, 8, tzinfo=UTC), datetime(2026, 12, 8, 9, tzinfo=UTC),
                   "planned", datetime(2026, 12, 7, 16, tzinfo=UTC))  # fmt: skip
    held = Version(1, 2, told.start + shift, told.end + shift, "planned", held_at)
    return DayFacts(
        day=LEAVES.date(),
        parcels={1: Parcel(1, "ORD-1", "Europe/Berlin", LatLon(52.5, 13.4), 180)},
        attempts=[Attempt(1, datetime(2026, 12, 8, 9, tzinfo=UTC), True, 1)],
        ledger={1: [told, held]},
        sent=[Sent(1, "pre-delivery", "sms", datetime(2026, 12, 7, 17, tzinfo=UTC), 1, 1)],
        received={},
        arrived={},
        out_at={1: LEAVES},
        left_depot={1: LEAVES},
        drivers={},
        opted_out=frozenset(),
        rescheduled=frozenset(),
        escalations={},
        staff_answers=[],
    )


def test_a_window_moved_below_the_moved_threshold_as_the_van_leaves_is_not_a_broken_promise() -> None:
    # Made at the very second the van left (a re-plan that ran first, on a whole-second clock): the
    # parcel was still at the depot, so the 15-minute "moved" threshold judges it.
    assert check(day_with(LEAVES, timedelta(minutes=15)), MOVED, DELAY) == []


def test_a_window_moved_after_the_van_left_is_judged_by_the_delay_threshold() -> None:
    found = check(day_with(LEAVES + timedelta(seconds=1), timedelta(minutes=15)), MOVED, DELAY)
    assert [(v.order_id, v.kind) for v in found] == [("ORD-1", "untold")]
    assert check(day_with(LEAVES + timedelta(seconds=1), timedelta(minutes=10)), MOVED, DELAY) == []
