"""Today board: the day's routes and their stops, each stop's ETA classed against its promise.

A stop's class:
- done: delivered inside (or before the end of) its promised window.
- late: delivered after the window's end; or still to come and its ETA is past the end.
- at_risk: still to come and its ETA is within `at_risk_minutes` of the window's end (or on it).
- on_time: still to come, ETA earlier than that.
- failed: the driver reported a failed attempt.
The ETA of a stop still to come is its planned arrival, or now if that has passed (the van is not
there yet, so it cannot come earlier than now). An arrived stop's ETA is when it arrived.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Status
from bot.store import plans
from bot.store.tables import deliveries, drivers, escalations, events, routes, stops

AT_RISK_MINUTES = 10
_FINISHED = {Status.DELIVERED, Status.FAILED}
_REACHED = ("delivery.arrived", "delivery.delivered", "delivery.failed")


class StopClass(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    LATE = "late"
    DONE = "done"
    FAILED = "failed"


PROBLEMS = frozenset({StopClass.AT_RISK, StopClass.LATE, StopClass.FAILED})


@dataclass(frozen=True, slots=True)
class BoardStop:
    delivery_id: int
    order_id: str
    name: str
    address: str
    sequence: int
    status: Status
    eta: datetime  # see the module's docstring; the time it happened once it has
    promised_start: datetime
    promised_end: datetime
    reached_at: datetime | None  # arrived, delivered or failed: the driver's last report
    state: StopClass
    open_escalations: int
    timezone: str

    @property
    def problem(self) -> bool:
        return self.state in PROBLEMS or self.open_escalations > 0


@dataclass(frozen=True, slots=True)
class BoardRoute:
    driver_id: int
    driver_code: str  # the van: a driver is also the vehicle they drive
    driver_name: str
    done: int  # stops delivered or failed
    total: int
    next_eta: datetime | None  # the first stop in order not finished yet
    stops: tuple[BoardStop, ...]


@dataclass(frozen=True, slots=True)
class Counters:
    """The page header, over every stop of the day whatever the filters."""

    stops: int = 0
    on_time: int = 0
    at_risk: int = 0
    late: int = 0
    done: int = 0
    failed: int = 0
    escalated: int = 0  # stops with an open escalation
    open_escalations: int = 0


@dataclass(frozen=True, slots=True)
class BoardFilter:
    driver_id: int | None = None
    states: frozenset[StopClass] = frozenset()
    problems_only: bool = False  # at risk, late, failed, or with an open escalation
    text: str = ""  # in order id, name or address, case-insensitive


@dataclass(frozen=True, slots=True)
class Board:
    day: date
    plan_version: int | None  # None: the day has no plan yet
    routes: tuple[BoardRoute, ...]
    counters: Counters = field(default_factory=Counters)


async def board(
    conn: AsyncConnection,
    day: date,
    now: datetime,
    filters: BoardFilter = BoardFilter(),
    *,
    at_risk_minutes: int = AT_RISK_MINUTES,
) -> Board:
    """The day's active plan as the board shows it: every route, its stops filtered by `filters`."""
    header = await plans.active(conn, day)
    if header is None:
        return Board(day, None, ())
    by_route = await _stops(conn, header.id, now, timedelta(minutes=at_risk_minutes))
    every = [_route(row, by_route.get(row.id, ())) for row in await conn.execute(_routes(header.id))]
    shown = tuple(r for r in (_filtered(route, filters) for route in every) if r is not None)
    return Board(day, header.version, shown, _count(every))


def _routes(plan_id: int) -> sa.Select[Any]:
    return (
        sa.select(routes.c.id, routes.c.driver_id, drivers.c.code, drivers.c.name)
        .join(drivers, drivers.c.id == routes.c.driver_id)
        .where(routes.c.plan_id == plan_id)
        .order_by(drivers.c.code)
    )


# When the driver last reported the stop arrived, delivered or failed; how many escalations are open on it.
_REACHED_AT = (
    sa.select(sa.func.max(events.c.at))
    .where(events.c.delivery_id == stops.c.delivery_id, events.c.kind.in_(_REACHED))
    .scalar_subquery()
)
_OPEN = (
    sa.select(sa.func.count())
    .where(escalations.c.delivery_id == stops.c.delivery_id, escalations.c.status == "open")
    .scalar_subquery()
)
_STOPS = (
    sa.select(
        stops.c.route_id,
        stops.c.delivery_id,
        deliveries.c.order_id,
        deliveries.c.name,
        deliveries.c.address,
        stops.c.sequence,
        deliveries.c.status,
        stops.c.planned_arrival,
        stops.c.promised_start,
        stops.c.promised_end,
        _REACHED_AT.label("reached_at"),
        _OPEN.label("open_escalations"),
        deliveries.c.timezone,
    )
    .join(deliveries, deliveries.c.id == stops.c.delivery_id)
    .join(routes, routes.c.id == stops.c.route_id)
    .order_by(routes.c.id, stops.c.sequence)  # as the indexes walk them (SQLite sorts nothing)
)
_STATUS = {status.value: status for status in Status}


async def _stops(
    conn: AsyncConnection, plan_id: int, now: datetime, margin: timedelta
) -> dict[int, list[BoardStop]]:
    """The plan's stops, classed, by route and in order: one query straight into the board's rows."""
    by_route: dict[int, list[BoardStop]] = {}
    for row in await conn.execute(_STOPS.where(routes.c.plan_id == plan_id)):
        by_route.setdefault(row[0], []).append(_stop(row, now, margin))
    return by_route


def _stop(row: Sequence[Any], now: datetime, margin: timedelta) -> BoardStop:
    # By position: reading 5,000 rows' columns by name costs more than the query (about 0.5 µs each).
    _, delivery_id, order_id, name, address, sequence, value, arrival, start, end, reached_at, n, zone = row
    status = _STATUS[value]
    state, eta = classify(status, arrival, end, reached_at, now, margin)
    return BoardStop(
        delivery_id, order_id, name, address, sequence, status, eta, start, end, reached_at, state, n, zone
    )


def classify(
    status: Status,
    arrival: datetime,
    end: datetime,
    reached_at: datetime | None,
    now: datetime,
    margin: timedelta,
) -> tuple[StopClass, datetime]:
    """The stop's class and its ETA (see the module's docstring)."""
    if status is Status.FAILED:
        return StopClass.FAILED, reached_at or arrival
    if status is Status.DELIVERED:
        at = reached_at or arrival
        return (StopClass.LATE if at > end else StopClass.DONE), at
    eta = reached_at if status is Status.ARRIVED and reached_at else max(arrival, now)
    if eta > end:
        return StopClass.LATE, eta
    return (StopClass.AT_RISK if eta >= end - margin else StopClass.ON_TIME), eta


def _route(row: sa.Row[Any], board_stops: Sequence[BoardStop]) -> BoardRoute:
    ahead = [s for s in board_stops if s.status not in _FINISHED]
    return BoardRoute(
        driver_id=row.driver_id,
        driver_code=row.code,
        driver_name=row.name,
        done=len(board_stops) - len(ahead),
        total=len(board_stops),
        next_eta=ahead[0].eta if ahead else None,
        stops=tuple(board_stops),
    )


def _filtered(route: BoardRoute, f: BoardFilter) -> BoardRoute | None:
    if f.driver_id is not None and route.driver_id != f.driver_id:
        return None
    if not (f.states or f.problems_only or f.text):
        return route
    text = f.text.strip().casefold()
    kept = tuple(s for s in route.stops if _matches(s, f, text))
    return replace(route, stops=kept) if kept else None


def _matches(stop: BoardStop, f: BoardFilter, text: str) -> bool:
    if f.states and stop.state not in f.states:
        return False
    if f.problems_only and not stop.problem:
        return False
    return not text or any(text in v.casefold() for v in (stop.order_id, stop.name, stop.address))


def _count(every: Sequence[BoardRoute]) -> Counters:
    all_stops = [s for route in every for s in route.stops]
    by_state = Counter(s.state for s in all_stops)
    escalated = [s.open_escalations for s in all_stops if s.open_escalations]
    return Counters(
        stops=len(all_stops),
        on_time=by_state[StopClass.ON_TIME],
        at_risk=by_state[StopClass.AT_RISK],
        late=by_state[StopClass.LATE],
        done=by_state[StopClass.DONE],
        failed=by_state[StopClass.FAILED],
        escalated=len(escalated),
        open_escalations=sum(escalated),
    )
