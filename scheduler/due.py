"""What is due for one stop right now: a pure function of the stop's facts, the rules and the clock.

Event-driven messages (delivered, failed, updated window, delay, replies) are written by the use
cases in the same transaction as their cause; this covers the ones that are due because of time.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import MessagesSettings
from bot.domain.deliveries import Status
from bot.notify.kinds import Kind


@dataclass(frozen=True, slots=True)
class StopFacts:
    """A planned stop as the scheduler sees it."""

    delivery_id: int
    day: date
    timezone: str
    status: Status
    promise: tuple[datetime, datetime] | None
    eta: datetime | None  # the stop's current planned arrival
    stops_away: int | None  # stops before it on a route that has started; None before departure
    published_at: datetime  # when the plan that holds it was made


@dataclass(frozen=True, slots=True)
class Due:
    kind: Kind
    key: str
    due_at: datetime
    valid_until: datetime | None


def due(stop: StopFacts, now: datetime, rules: MessagesSettings) -> list[Due]:
    """The time-driven messages this stop should have by `now` (each key is sent at most once)."""
    found = [
        *_pre_delivery(stop, now, rules),
        *_out_for_delivery(stop),
        *_nearby(stop, now, rules),
    ]
    return [d for d in found if d.due_at <= now and (d.valid_until is None or now < d.valid_until)]


def _pre_delivery(stop: StopFacts, now: datetime, rules: MessagesSettings) -> list[Due]:
    if stop.status is not Status.PLANNED or stop.promise is None:
        return []
    evening_before = _local(stop.day - timedelta(days=1), rules.pre_delivery_at, stop.timezone)
    at = max(evening_before, stop.published_at)
    return [Due(Kind.PRE_DELIVERY, attempt_key(stop, Kind.PRE_DELIVERY), at, stop.promise[0])]


def _out_for_delivery(stop: StopFacts) -> list[Due]:
    if stop.status is not Status.OUT_FOR_DELIVERY or stop.eta is None or stop.promise is None:
        return []
    key = attempt_key(stop, Kind.OUT_FOR_DELIVERY)
    return [
        Due(Kind.OUT_FOR_DELIVERY, key, stop.published_at, max(stop.promise[1], stop.eta))
    ]  # due at departure


def _nearby(stop: StopFacts, now: datetime, rules: MessagesSettings) -> list[Due]:
    if stop.status is not Status.OUT_FOR_DELIVERY or stop.eta is None or stop.stops_away is None:
        return []
    ahead = stop.eta - now
    close_in_time = ahead <= timedelta(minutes=rules.nearby_minutes)
    close_in_stops = stop.stops_away <= rules.nearby_stops and ahead <= timedelta(
        minutes=rules.nearby_stops_max_minutes
    )
    if not (close_in_time or close_in_stops):
        return []
    # Useless once the driver should be at the door: it expires rather than arriving late.
    return [Due(Kind.NEARBY, attempt_key(stop, Kind.NEARBY), now, stop.eta + timedelta(minutes=5))]


def attempt_key(stop: StopFacts, kind: Kind) -> str:
    """A notice's idempotency key: once per delivery and attempt day, so a rebooked parcel hears it again."""
    return f"{stop.delivery_id}:{kind}:{stop.day.isoformat()}"


def _local(day: date, at: time, zone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
