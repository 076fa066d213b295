"""Deliveries, drivers and depots as the rest of the code sees them: plain data, no I/O."""

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum


class Status(StrEnum):
    CREATED = "created"
    PLANNED = "planned"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


# The delivery state machine, read top-down: status -> where it may go next.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset({Status.PLANNED, Status.RESCHEDULED, Status.CANCELLED}),
    Status.PLANNED: frozenset(
        {Status.PLANNED, Status.CREATED, Status.OUT_FOR_DELIVERY, Status.RESCHEDULED, Status.CANCELLED}
    ),
    Status.RESCHEDULED: frozenset({Status.PLANNED, Status.CREATED, Status.CANCELLED}),
    Status.OUT_FOR_DELIVERY: frozenset({Status.ARRIVED, Status.DELIVERED, Status.FAILED}),
    Status.ARRIVED: frozenset({Status.DELIVERED, Status.FAILED}),
    Status.FAILED: frozenset({Status.RESCHEDULED, Status.CANCELLED}),
    Status.DELIVERED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# Statuses a (re)plan may still assign to a route.
PLANNABLE: frozenset[Status] = frozenset({Status.CREATED, Status.PLANNED, Status.RESCHEDULED})
# Statuses where the parcel has left the depot: the day's plan can no longer be rebuilt from scratch.
UNDER_WAY: frozenset[Status] = frozenset(
    {Status.OUT_FOR_DELIVERY, Status.ARRIVED, Status.DELIVERED, Status.FAILED}
)


class StopEvent(StrEnum):
    """What a driver (or the API) reports at a stop; each moves the delivery to the status of that name."""

    OUT_FOR_DELIVERY = "out_for_delivery"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


class FailReason(StrEnum):
    NOT_HOME = "not_home"
    REFUSED = "refused"
    ADDRESS_NOT_FOUND = "address_not_found"
    NO_ACCESS = "no_access"
    DAMAGED = "damaged"
    NO_TIME = "no_time"
    OTHER = "other"


class TransitionError(ValueError):
    """A status change the state machine does not allow."""

    def __init__(self, current: Status, wanted: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        super().__init__(f"cannot go from {current} to {wanted}; allowed from {current}: {allowed}")
        self.current = current
        self.wanted = wanted


def check_transition(current: Status, wanted: Status) -> None:
    if wanted not in TRANSITIONS[current]:
        raise TransitionError(current, wanted)


@dataclass(frozen=True, slots=True)
class Depot:
    id: int
    code: str
    name: str
    address: str
    lat: float
    lon: float
    timezone: str


@dataclass(frozen=True, slots=True)
class Driver:
    id: int
    code: str
    name: str
    phone: str | None
    depot_id: int
    capacity: int
    skills: tuple[str, ...]
    shift_start: time
    shift_end: time
    start_lat: float | None
    start_lon: float | None
    end_lat: float | None
    end_lon: float | None
    active: bool
    position_lat: float | None = None
    position_lon: float | None = None
    position_at: datetime | None = None
    telegram_chat_id: str | None = None  # the driver's linked chat (`/driver CODE`); None: not linked


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    order_id: str
    recipient_id: int
    depot_id: int | None
    name: str
    phone: str
    locale: str
    timezone: str
    address: str
    lat: float
    lon: float
    date: date
    window_start: datetime
    window_end: datetime
    service_s: int
    size: int
    skills: tuple[str, ...]
    notes: str
    status: Status
    tracking_token: str
    safe_drop: str | None = None
    access_code: str | None = None
    confirmed_at: datetime | None = None
    rating: int | None = None
    paused: bool = False


# A parcel is still open for changes by its recipient in these statuses.
OPEN: frozenset[Status] = frozenset(
    {Status.CREATED, Status.PLANNED, Status.RESCHEDULED, Status.OUT_FOR_DELIVERY}
)
