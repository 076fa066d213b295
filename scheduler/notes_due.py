"""Stop notes a driver has not confirmed by the time the van is two stops from the stop.

A driver note (kind driver-notes) lists the deliveries it is about (`payload["deliveries"]`); "Got it"
under it records `driver.acknowledged` with the note's id for each of them. A stop on a route under
way that is `STOPS_AHEAD` stops away or closer, with a note its driver has not confirmed, gets that
note once more and goes to support (escalation `note_unconfirmed`), once per note. A confirmation of
a note, or of its repetition, covers every earlier note about that stop.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.escalations import Reason
from bot.domain.messages import NewMessage
from bot.notify.compose import Composer
from bot.notify.kinds import Kind
from bot.store import escalations, events, outbox
from bot.usecases import driver_notes
from bot.usecases.day import Day, departed
from bot.usecases.driver_chat import ACKNOWLEDGED

STOPS_AHEAD = 2  # 0 is the stop the van is heading for
GRACE = timedelta(minutes=5)  # a note younger than this has not had its chance to be read yet
AGAIN = "notes-again:"  # the key prefix of a repeated note
UNCONFIRMED = "the driver has not pressed Got it on this stop's changed note; it was sent again"


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    driver_id: int
    at: datetime
    deliveries: frozenset[int]


@dataclass(frozen=True, slots=True)
class Ack:
    driver_id: int
    delivery_id: int
    note_id: int


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    driver_id: int
    delivery_id: int
    note_id: int  # the first note about the stop its driver has not confirmed
    stops_away: int

    @property
    def key(self) -> str:
        return f"{AGAIN}{self.note_id}:{self.delivery_id}"


def unconfirmed(
    ahead: Mapping[int, Sequence[int]], notes: Iterable[Note], acks: Iterable[Ack], now: datetime
) -> list[Unconfirmed]:
    """The stops to note again: `ahead` is each departed van's remaining deliveries, in order."""
    first = _first_unconfirmed(notes, acks)
    return [
        Unconfirmed(driver_id, delivery_id, note.id, stops_away)
        for driver_id, stops in ahead.items()
        for stops_away, delivery_id in enumerate(stops[: STOPS_AHEAD + 1])
        if (note := first.get((driver_id, delivery_id))) is not None and note.at <= now - GRACE
    ]


def _first_unconfirmed(notes: Iterable[Note], acks: Iterable[Ack]) -> dict[tuple[int, int], Note]:
    """Per driver and delivery, the oldest note after the last one that driver confirmed."""
    confirmed: dict[tuple[int, int], int] = {}
    for ack in acks:
        key = (ack.driver_id, ack.delivery_id)
        confirmed[key] = max(confirmed.get(key, 0), ack.note_id)
    first: dict[tuple[int, int], Note] = {}
    for note in sorted(notes, key=lambda n: n.id):
        for key in ((note.driver_id, d) for d in note.deliveries):
            if note.id > confirmed.get(key, 0):
                first.setdefault(key, note)
    return first


async def notes_again(conn: AsyncConnection, composer: Composer, day: Day, now: datetime) -> list[NewMessage]:
    """Each unconfirmed note near its stop once more, with an escalation (opened here, once per note)."""
    ahead = {
        route.driver_id: [s.delivery_id for s in day.remaining(route)]
        for route in day.routes.values()
        if departed(day, route)
    }
    if not ahead:
        return []
    notes = await _notes(conn, day)
    acks = await _acks(conn, sorted({d for n in notes for d in n.deliveries}))
    due = unconfirmed(ahead, notes, acks, now)
    known = await outbox.known_keys(conn, [u.key for u in due])
    again: list[NewMessage] = []
    for item in (u for u in due if u.key not in known):
        again.append(
            driver_notes.again(composer, day, item.driver_id, item.delivery_id, key=item.key, now=now)
        )
        await escalations.open_one(
            conn, now, Reason.NOTE_UNCONFIRMED, UNCONFIRMED, delivery_id=item.delivery_id
        )
    return again


async def _notes(conn: AsyncConnection, day: Day) -> list[Note]:
    """The notes to drivers since the plan was made, but not their repetitions."""
    rows = await outbox.of_kind_since(conn, Kind.DRIVER_NOTES.value, day.plan.created_at)
    return [
        Note(
            r["id"],
            r["driver_id"],
            r["created_at"],
            frozenset(int(d) for d in r["payload"].get("deliveries", [])),
        )
        for r in rows
        if r["driver_id"] is not None and not r["idem_key"].startswith(AGAIN)
    ]


async def _acks(conn: AsyncConnection, delivery_ids: Sequence[int]) -> list[Ack]:
    if not delivery_ids:
        return []
    found = await events.of_kind(conn, ACKNOWLEDGED, delivery_ids)
    return [
        Ack(e.driver_id, e.delivery_id, int(e.data.get("message_id", 0)))
        for e in found
        if e.driver_id is not None and e.delivery_id is not None
    ]
