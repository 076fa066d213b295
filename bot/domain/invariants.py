"""What must always hold between the promise ledger and the outbox, checked after a day has run.

- Told: when a parcel is attempted, the window we hold for it is within the threshold of the last window
  its recipient was told (a message stating it went out). `moved` applies to a version made before the
  parcel went out for delivery, `delay` to one made after it (strictly: on a clock of whole seconds a
  re-plan and a van leaving can share an instant, and the re-plan that ran first judged the parcel still
  at the depot). Recipients who opted out are not counted.
- In order: for each attempt, pre-delivery → out-for-delivery → nearby → delivered or failed, in the
  order they went out (any of them may be missing; none may come after a later one). A failed attempt
  ends its sequence: a rebooked parcel starts again.

Every simulated day (`doorstep demo`, `bench/promise.py`) and the loop's scenario tests run `check`.
"""

from dataclasses import dataclass
from datetime import timedelta

from bot.config import MessagesSettings
from bot.domain.figures import Attempt, DayFacts, Version

RANK = {"pre-delivery": 0, "out-for-delivery": 1, "nearby": 2, "delivered": 3, "failed": 3}


@dataclass(frozen=True, slots=True)
class Violation:
    delivery_id: int
    order_id: str
    kind: str  # untold | order
    detail: str


def thresholds(rules: MessagesSettings) -> tuple[timedelta, timedelta]:
    """(moved, delay) as configured."""
    return (
        timedelta(minutes=rules.moved_threshold_minutes),
        timedelta(minutes=rules.delay_threshold_minutes),
    )


def check(facts: DayFacts, moved: timedelta, delay: timedelta) -> list[Violation]:
    """Every recipient whose window changed without a message, and every message out of order."""
    return [*_untold(facts, moved, delay), *_out_of_order(facts)]


def _untold(facts: DayFacts, moved: timedelta, delay: timedelta) -> list[Violation]:
    found = []
    for attempt in facts.today:
        parcel = attempt.delivery_id
        held, told = _held(facts, attempt), facts.windows_told(parcel, attempt.at)
        if held is None or not told or parcel in facts.opted_out:
            continue
        out = facts.out_at.get(parcel)
        threshold = delay if out is not None and held.created_at > out else moved
        if abs(held.start - told[-1].start) > threshold:
            said = (
                f"told {told[-1].start:%H:%M} (v{told[-1].number}), held {held.start:%H:%M} (v{held.number})"
            )
            found.append(Violation(parcel, facts.parcels[parcel].order_id, "untold", said))
    return found


def _held(facts: DayFacts, attempt: Attempt) -> Version | None:
    versions = [v for v in facts.ledger.get(attempt.delivery_id, ()) if v.created_at <= attempt.at]
    return versions[-1] if versions else None


def _out_of_order(facts: DayFacts) -> list[Violation]:
    found: list[Violation] = []
    highest: dict[int, tuple[int, str]] = {}
    for message in facts.sent:
        rank = RANK.get(message.kind)
        if rank is None:
            continue
        parcel = message.delivery_id
        before = highest.get(parcel, (-1, ""))
        if rank < before[0]:
            detail = f"{message.kind} at {message.at:%H:%M} after {before[1]}"
            found.append(Violation(parcel, facts.parcels[parcel].order_id, "order", detail))
        highest[parcel] = (-1, "") if message.kind == "failed" else max(before, (rank, message.kind))
    return found
