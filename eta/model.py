"""What eta plans with and what it hands back: vans, jobs, routes. No chats, no database rows."""

from dataclasses import dataclass
from datetime import datetime

from eta.geo import LatLon


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    id: int
    start: LatLon
    end: LatLon
    shift_start: datetime
    shift_end: datetime
    capacity: int
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: int
    location: LatLon
    window_start: datetime
    window_end: datetime
    service_s: int
    size: int
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A job on a route: `arrival` is when service starts (after any wait for the window)."""

    job_id: int
    sequence: int
    arrival: datetime
    waiting_s: int


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    vehicle_id: int
    stops: tuple[PlannedStop, ...]
    start_at: datetime
    end_at: datetime
    duration_s: int
    distance_m: int


@dataclass(frozen=True, slots=True)
class Unserved:
    job_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[PlannedRoute, ...]
    unserved: tuple[Unserved, ...]
    cost: int
    solve_ms: int
