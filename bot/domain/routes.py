"""A day's plan as the rest of Doorstep sees it: header, routes, stops (stored by bot/store/plans.py)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.deliveries import Status


@dataclass(frozen=True, slots=True)
class NewStop:
    delivery_id: int
    sequence: int
    planned_arrival: datetime
    promised_start: datetime
    promised_end: datetime


@dataclass(frozen=True, slots=True)
class NewRoute:
    driver_id: int
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    stops: Sequence[NewStop]


@dataclass(frozen=True, slots=True)
class PlanHeader:
    id: int
    date: date
    version: int
    matrix: str
    cost: int
    solve_ms: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StopView:
    delivery_id: int
    order_id: str
    name: str
    address: str
    sequence: int
    planned_arrival: datetime
    promised_start: datetime
    promised_end: datetime
    window_start: datetime
    window_end: datetime
    status: Status
    timezone: str


@dataclass(frozen=True, slots=True)
class RouteView:
    id: int
    driver_id: int
    driver_code: str
    driver_name: str
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    stops: tuple[StopView, ...]


@dataclass(frozen=True, slots=True)
class UnassignedView:
    delivery_id: int
    order_id: str
    reason: str
