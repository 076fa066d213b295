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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Status
from bot.store import plans
from bot.store.tables import escalations, events, routes, stops

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
    views = await plans.route_views(conn, header.id)
    reached = await _reached(conn, header.id)
    escalated = await _open_escalations(conn, header.id)
    margin = timedelta(minutes=at_risk_minutes)
    every = [_route(view, reached, escalated, now, margin) for view in views]
    shown = tuple(r for r in (_filtered(route, filters) for route in every) if r is not None)
    return Board(day, header.version, shown, _count(every))


async def _reached(conn: AsyncConnection, plan_id: int) -> dict[int, datetime]:
    """When the driver last reported each stop of the plan arrived, delivered or failed."""
    on_plan = sa.select(stops.c.delivery_id).join(routes, routes.c.id == stops.c.route_id)
    query = (
        sa.select(events.c.delivery_id, sa.func.max(events.c.at).label("at"))
        .where(events.c.kind.in_(_REACHED))
        .where(events.c.delivery_id.in_(on_plan.where(routes.c.plan_id == plan_id)))
        .group_by(events.c.delivery_id)
    )
    return {row.delivery_id: row.at for row in await conn.execute(query)}


async def _open_escalations(conn: AsyncConnection, plan_id: int) -> dict[int, int]:
    on_plan = sa.select(stops.c.delivery_id).join(routes, routes.c.id == stops.c.route_id)
    query = (
        sa.select(escalations.c.delivery_id, sa.func.count())
        .where(escalations.c.status == "open")
        .where(escalations.c.delivery_id.in_(on_plan.where(routes.c.plan_id == plan_id)))
        .group_by(escalations.c.delivery_id)
    )
    return {delivery_id: int(n) for delivery_id, n in await conn.execute(query)}


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


def _route(
    view: plans.RouteView,
    reached: Mapping[int, datetime],
    escalated: Mapping[int, int],
    now: datetime,
    margin: timedelta,
) -> BoardRoute:
    board_stops = tuple(_stop(s, reached.get(s.delivery_id), escalated, now, margin) for s in view.stops)
    ahead = [s for s in board_stops if s.status not in _FINISHED]
    return BoardRoute(
        driver_id=view.driver_id,
        driver_code=view.driver_code,
        driver_name=view.driver_name,
        done=len(board_stops) - len(ahead),
        total=len(board_stops),
        next_eta=ahead[0].eta if ahead else None,
        stops=board_stops,
    )


def _stop(
    s: plans.StopView,
    reached_at: datetime | None,
    escalated: Mapping[int, int],
    now: datetime,
    margin: timedelta,
) -> BoardStop:
    state, eta = classify(s.status, s.planned_arrival, s.promised_end, reached_at, now, margin)
    return BoardStop(
        s.delivery_id, s.order_id, s.name, s.address, s.sequence, s.status, eta, s.promised_start,
        s.promised_end, reached_at, state, escalated.get(s.delivery_id, 0), s.timezone,
    )  # fmt: skip


def _filtered(route: BoardRoute, f: BoardFilter) -> BoardRoute | None:
    if f.driver_id is not None and route.driver_id != f.driver_id:
        return None
    if not (f.states or f.problems_only or f.text):
        return route
    kept = tuple(s for s in route.stops if _matches(s, f))
    return replace(route, stops=kept) if kept else None


def _matches(stop: BoardStop, f: BoardFilter) -> bool:
    if f.states and stop.state not in f.states:
        return False
    if f.problems_only and not stop.problem:
        return False
    text = f.text.strip().casefold()
    return not text or any(text in v.casefold() for v in (stop.order_id, stop.name, stop.address))


def _count(every: Sequence[BoardRoute]) -> Counters:
    all_stops = [s for route in every for s in route.stops]
    by_state = {state: sum(s.state is state for s in all_stops) for state in StopClass}
    return Counters(
        stops=len(all_stops),
        on_time=by_state[StopClass.ON_TIME],
        at_risk=by_state[StopClass.AT_RISK],
        late=by_state[StopClass.LATE],
        done=by_state[StopClass.DONE],
        failed=by_state[StopClass.FAILED],
        escalated=sum(s.open_escalations > 0 for s in all_stops),
        open_escalations=sum(s.open_escalations for s in all_stops),
    )
