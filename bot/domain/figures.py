"""A day's figures, defined once. The console's metrics page, the demo report and `bench/promise.py`
all show what `compute` returns, from facts `bot.store.day_facts.load` reads; nothing else counts.

What counts, for a day D (local dates in each parcel's own zone):
- D's parcels: deliveries with an attempt on D, and deliveries dated D that had none there (still open,
  or cancelled). An attempt is a `delivery.delivered` or `delivery.failed` event.
- A window told: a promise version stated by a message that went out (`payload["promise"]`, status
  sent), told when it was sent. The agreed window at a moment is the last window told by then that came
  from the plan or the recipient's own choice (reason `planned` or `rescheduled`); a re-promise because
  we ran late (`late`) is not an agreement. The first and last windows told are by the delivered time.
- Arrival error: the delivered time minus the agreed window's middle, in minutes, late positive.
- First-attempt success: a parcel's first attempt, on any day, was delivered (a rebook is a failure).
- Per driver, from what was driven (the attempts they made, in order), not from the last re-plan: km in
  straight lines from the depot through each stop attempted; hours from leaving the depot to the last
  attempt; idle: minutes at stops beyond their service time (from the driver's "arrived" to the attempt).
- The cost of telling: recipient messages sent (and SMS segments) per delivered parcel; "updated window"
  and "delay" messages sent per parcel; parcels whose recipient opted out; minutes from a message that
  needed a person to the first staff answer (median).
"""

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from eta.geo import LatLon, haversine_m

AGREED = frozenset({"planned", "rescheduled"})
WINDOW_UPDATES = frozenset({"window-updated", "delay"})
BIN_MINUTES = 5


@dataclass(frozen=True, slots=True)
class Parcel:
    id: int
    order_id: str
    timezone: str
    at: LatLon
    service_s: int


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: int
    at: datetime
    delivered: bool
    driver_id: int | None
    reason: str | None = None  # why a failed attempt failed


@dataclass(frozen=True, slots=True)
class Version:
    """One promise of the ledger."""

    delivery_id: int
    number: int
    start: datetime
    end: datetime
    reason: str
    created_at: datetime

    @property
    def middle(self) -> datetime:
        return self.start + (self.end - self.start) / 2

    def holds(self, at: datetime) -> bool:
        return self.start <= at <= self.end


@dataclass(frozen=True, slots=True)
class Sent:
    """An outbound message about a parcel, to its recipient, that went out (Telegram edits of one already
    sent are not messages: the recipient is not notified of them)."""

    delivery_id: int
    kind: str
    channel: str
    at: datetime
    promise: int | None  # the version it stated
    segments: int  # SMS segments (1 elsewhere)


@dataclass(frozen=True, slots=True)
class Driver:
    id: int
    name: str
    depot: LatLon


@dataclass(frozen=True)
class DayFacts:
    """Everything the figures of one day are computed from, read from the store in one go."""

    day: date
    parcels: Mapping[int, Parcel]
    attempts: Sequence[Attempt]  # every attempt of these parcels, any day, in time order
    ledger: Mapping[int, Sequence[Version]]  # by delivery, in version order
    sent: Sequence[Sent]  # in time order
    received: Mapping[str, int]  # inbound messages about these parcels, by channel
    arrived: Mapping[int, datetime]  # the driver's "arrived" at each parcel, on the day
    out_at: Mapping[int, datetime]  # when each parcel went out for delivery, on the day
    left_depot: Mapping[int, datetime]  # by driver: when their van left, on the day
    drivers: Mapping[int, Driver]
    opted_out: frozenset[int]  # parcels whose recipient opted out
    rescheduled: frozenset[int]  # parcels the recipient (or staff for them) moved
    escalations: Mapping[int, Sequence[str]]  # by parcel: the kinds opened
    staff_answers: Sequence[tuple[datetime, datetime | None]]  # needed a person -> first staff answer

    def local_date(self, delivery_id: int, at: datetime) -> date:
        return at.astimezone(ZoneInfo(self.parcels[delivery_id].timezone)).date()

    @cached_property
    def today(self) -> list[Attempt]:
        """The attempts made on the day."""
        return [a for a in self.attempts if self.local_date(a.delivery_id, a.at) == self.day]

    @cached_property
    def delivered(self) -> dict[int, Attempt]:
        """Each parcel delivered on the day: its delivered attempt."""
        return {a.delivery_id: a for a in self.today if a.delivered}

    @cached_property
    def told(self) -> dict[int, list[tuple[datetime, Version]]]:
        """Per parcel, each window told with when, in time order."""
        versions = {(v.delivery_id, v.number): v for vs in self.ledger.values() for v in vs}
        found: dict[int, list[tuple[datetime, Version]]] = defaultdict(list)
        for message in self.sent:
            version = versions.get((message.delivery_id, message.promise or 0))
            if version is not None:
                found[message.delivery_id].append((message.at, version))
        return found

    def windows_told(self, delivery_id: int, by: datetime) -> list[Version]:
        return [v for at, v in self.told.get(delivery_id, ()) if at <= by]

    def agreed(self, delivery_id: int, by: datetime) -> Version | None:
        """The last window told by `by` that came from the plan or the recipient's choice."""
        agreed = [v for v in self.windows_told(delivery_id, by) if v.reason in AGREED]
        return agreed[-1] if agreed else None


@dataclass(frozen=True, slots=True)
class ParcelRef:
    delivery_id: int
    order_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class DriverFigures:
    driver_id: int
    name: str
    stops: int  # attempts made on the day
    on_time: int  # delivered inside the agreed window
    failures: int
    km: float  # straight lines from the depot through the stops attempted
    hours: float  # from leaving the depot to the last attempt
    idle_min: float


@dataclass(frozen=True)
class DayFigures:
    """The day in figures; a percentage or a statistic is None when there was nothing to measure."""

    day: date
    parcels: int
    attempted: int  # parcels with an attempt on the day (the base of first-attempt success)
    delivered: int
    failed: int  # parcels attempted on the day and not delivered
    with_agreed: int  # delivered parcels that had an agreed window (the base of the three shares)
    in_agreed_pct: float | None
    in_first_pct: float | None
    in_last_pct: float | None
    errors_min: tuple[float, ...]  # arrival error against the agreed window, per delivered parcel
    error_median_min: float | None
    error_p90_min: float | None  # of the size of the error, early or late
    worst_early_min: float | None
    worst_late_min: float | None
    first_attempt_pct: float | None
    failed_attempts: Mapping[str, int]  # failed attempts on the day, by reason
    drivers: tuple[DriverFigures, ...]
    messages_per_delivered: float | None
    segments_per_delivered: float | None
    sent_per_parcel: Mapping[str, float]  # by channel
    received_per_parcel: Mapping[str, float]
    window_updates_per_recipient: float | None
    opted_out: int
    opt_out_pct: float | None
    rescheduled: int
    reschedule_pct: float | None
    first_staff_answer_median_min: float | None
    failed_list: tuple[ParcelRef, ...]
    late_list: tuple[ParcelRef, ...]  # delivered after the agreed window closed (or before it opened)
    escalated_list: tuple[ParcelRef, ...]
    error_bins: tuple[tuple[int, int], ...] = field(default=())  # (lower edge, parcels), BIN_MINUTES wide


def compute(facts: DayFacts) -> DayFigures:
    """The figures of `facts.day`."""
    delivered = facts.delivered
    agreed = {d: v for d, a in delivered.items() if (v := facts.agreed(d, a.at)) is not None}
    errors = tuple(_minutes(delivered[d].at - v.middle) for d, v in sorted(agreed.items()))
    n_parcels, n_delivered = len(facts.parcels), len(delivered)
    sent = [m for m in facts.sent if _on_day(facts, m)]
    return DayFigures(
        day=facts.day,
        parcels=n_parcels,
        attempted=len({a.delivery_id for a in facts.today}),
        delivered=n_delivered,
        failed=len({a.delivery_id for a in facts.today} - delivered.keys()),
        with_agreed=len(agreed),
        in_agreed_pct=pct(sum(v.holds(delivered[d].at) for d, v in agreed.items()), len(agreed)),
        in_first_pct=_inside_told(facts, agreed, first=True),
        in_last_pct=_inside_told(facts, agreed, first=False),
        errors_min=errors,
        error_median_min=median(errors),
        error_p90_min=percentile([abs(e) for e in errors], 90),
        worst_early_min=min(errors) if errors and min(errors) < 0 else None,
        worst_late_min=max(errors) if errors and max(errors) > 0 else None,
        first_attempt_pct=_first_attempt_pct(facts),
        failed_attempts=dict(Counter(a.reason or "other" for a in facts.today if not a.delivered)),
        drivers=tuple(_driver(facts, driver, agreed) for driver in facts.drivers.values()),
        messages_per_delivered=ratio(len(sent), n_delivered),
        segments_per_delivered=ratio(sum(m.segments for m in sent if m.channel == "sms"), n_delivered),
        sent_per_parcel=_per(Counter(m.channel for m in sent), n_parcels),
        received_per_parcel=_per(Counter(facts.received), n_parcels),
        window_updates_per_recipient=ratio(sum(m.kind in WINDOW_UPDATES for m in sent), n_parcels),
        opted_out=len(facts.opted_out),
        opt_out_pct=pct(len(facts.opted_out), n_parcels),
        rescheduled=len(facts.rescheduled),
        reschedule_pct=pct(len(facts.rescheduled), n_parcels),
        first_staff_answer_median_min=median(
            [_minutes(answer - asked) for asked, answer in facts.staff_answers if answer is not None]
        ),
        failed_list=_failed(facts),
        late_list=tuple(_late(facts, agreed)),
        escalated_list=tuple(
            ParcelRef(d, facts.parcels[d].order_id, ", ".join(sorted(set(kinds))))
            for d, kinds in sorted(facts.escalations.items())
            if kinds
        ),
        error_bins=bins(errors, BIN_MINUTES),
    )


def _on_day(facts: DayFacts, message: Sent) -> bool:
    """Messages about the day's attempt: from the evening before to the end of the day."""
    return (facts.day - facts.local_date(message.delivery_id, message.at)).days in (0, 1)


def _inside_told(facts: DayFacts, agreed: Mapping[int, Version], *, first: bool) -> float | None:
    inside = []
    for delivery_id in agreed:
        at = facts.delivered[delivery_id].at
        told = facts.windows_told(delivery_id, at)
        inside.append((told[0] if first else told[-1]).holds(at))
    return pct(sum(inside), len(inside))


def _first_attempt_pct(facts: DayFacts) -> float | None:
    first: dict[int, bool] = {}
    for attempt in facts.attempts:
        first.setdefault(attempt.delivery_id, attempt.delivered)
    tried = {a.delivery_id for a in facts.today}
    return pct(sum(first[d] for d in tried), len(tried))


def _driver(facts: DayFacts, driver: Driver, agreed: Mapping[int, Version]) -> DriverFigures:
    mine = [a for a in facts.today if a.driver_id == driver.id]
    path = [driver.depot, *(facts.parcels[a.delivery_id].at for a in mine)]
    left = facts.left_depot.get(driver.id)
    hours = (mine[-1].at - left).total_seconds() / 3600 if mine and left else 0.0
    return DriverFigures(
        driver_id=driver.id,
        name=driver.name,
        stops=len(mine),
        on_time=sum(
            a.delivered and a.delivery_id in agreed and agreed[a.delivery_id].holds(a.at) for a in mine
        ),
        failures=sum(not a.delivered for a in mine),
        km=sum(haversine_m(a, b) for a, b in itertools.pairwise(path)) / 1000,
        hours=hours,
        idle_min=sum(_idle(facts, a) for a in mine),
    )


def _idle(facts: DayFacts, attempt: Attempt) -> float:
    arrived = facts.arrived.get(attempt.delivery_id)
    if arrived is None or arrived > attempt.at:
        return 0.0
    return max(0.0, _minutes(attempt.at - arrived) - facts.parcels[attempt.delivery_id].service_s / 60)


def _failed(facts: DayFacts) -> tuple[ParcelRef, ...]:
    last: dict[int, Attempt] = {a.delivery_id: a for a in facts.today}
    return tuple(
        ParcelRef(d, facts.parcels[d].order_id, a.reason or "other")
        for d, a in sorted(last.items())
        if d not in facts.delivered
    )


def _late(facts: DayFacts, agreed: Mapping[int, Version]) -> Iterable[ParcelRef]:
    for delivery_id, version in sorted(agreed.items()):
        at = facts.delivered[delivery_id].at
        if not version.holds(at):
            off = _minutes(at - version.end) if at > version.end else _minutes(at - version.start)
            yield ParcelRef(delivery_id, facts.parcels[delivery_id].order_id, f"{off:+.0f} min")


def _per(counts: Counter[str], whole: int) -> dict[str, float]:
    return {key: n / whole for key, n in sorted(counts.items())} if whole else {}


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def bins(values: Sequence[float], width: int = BIN_MINUTES) -> tuple[tuple[int, int], ...]:
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


def ratio(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def percentile[T: (int, float)](values: Sequence[T], p: int) -> T | None:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1] if ordered else None


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
