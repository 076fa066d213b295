"""A day's delivery figures from its attempts and promise ledger: pure, shared by the demo report and
the console's metrics page so both count the same way.

- an attempt is a `delivery.delivered` or `delivery.failed` event; a delivery's first attempt decides
  first-attempt success.
- the promise at a moment is the latest one told (created) at or before it.
- ETA error is the delivered time minus the midpoint of that promise, in minutes, late positive.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Told:
    """One promise of the ledger: a window, and when the recipient was told it."""

    start: datetime
    end: datetime
    created_at: datetime

    @property
    def midpoint(self) -> datetime:
        return self.start + (self.end - self.start) / 2


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: int
    order_id: str
    at: datetime
    delivered: bool
    driver_id: int | None


Ledger = Mapping[int, Sequence[Told]]  # delivery id -> promises in version order


def promise_at(ledger: Ledger, delivery_id: int, at: datetime) -> Told | None:
    told = [p for p in ledger.get(delivery_id, ()) if p.created_at <= at]
    return told[-1] if told else None


def delivered(attempts: Sequence[Attempt]) -> dict[int, Attempt]:
    """Each delivery's first delivered attempt (attempts in time order)."""
    found: dict[int, Attempt] = {}
    for attempt in attempts:
        if attempt.delivered:
            found.setdefault(attempt.delivery_id, attempt)
    return found


def first_attempt_pct(attempts: Sequence[Attempt]) -> float | None:
    first: dict[int, bool] = {}
    for attempt in attempts:
        first.setdefault(attempt.delivery_id, attempt.delivered)
    return pct(sum(first.values()), len(first))


def inside_pct(attempts: Sequence[Attempt], ledger: Ledger) -> float | None:
    """Share of delivered parcels that came inside the promise standing when they came."""
    inside = [
        p.start <= a.at <= p.end
        for a in delivered(attempts).values()
        if (p := promise_at(ledger, a.delivery_id, a.at)) is not None
    ]
    return pct(sum(inside), len(inside))


def eta_errors(attempts: Sequence[Attempt], ledger: Ledger) -> tuple[float, ...]:
    return tuple(
        (a.at - p.midpoint).total_seconds() / 60
        for a in delivered(attempts).values()
        if (p := promise_at(ledger, a.delivery_id, a.at)) is not None
    )


def bins(values: Sequence[float], width: int = 5) -> tuple[tuple[int, int], ...]:
    """(lower edge, count) per `width`-wide bin from the lowest to the highest, empty bins included."""
    counts: dict[int, int] = {}
    for value in values:
        edge = math.floor(value / width) * width
        counts[edge] = counts.get(edge, 0) + 1
    if not counts:
        return ()
    return tuple((edge, counts.get(edge, 0)) for edge in range(min(counts), max(counts) + 1, width))


def pct(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def percentile(values: Sequence[int], p: int) -> int | None:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1] if ordered else None


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
