"""What eta plans with and what it hands back: vans, jobs, routes. No chats, no database rows."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from eta.geo import LatLon

# Skills eta adds itself (names start with "eta:"): a parcel still at the depot can only go with a van
# that has not left it yet.
AT_DEPOT = "eta:at-depot"


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    id: int
    start: LatLon
    end: LatLon
    shift_start: datetime
    shift_end: datetime
    capacity: int
    skills: frozenset[str] = frozenset()
    speed_factor: float = 1.0  # VROOM divides the van's matrix times by it (eta.learning: 1 / pace)


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


type Window = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class VanState:
    """A van at re-plan time: `vehicle.start` is where it is now (its depot before departure),
    `vehicle.shift_start` the earliest it can leave from there, `order` the stops it still has
    (job ids, first next) and `loaded` the parcels on board, which never change van."""

    vehicle: VehicleSpec
    order: tuple[int, ...] = ()
    loaded: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class DayState:
    """What is left of a day: the vans, the jobs not yet served (with their *requested* windows)
    and the windows recipients were promised. Finished stops are simply absent."""

    vans: tuple[VanState, ...]
    jobs: tuple[JobSpec, ...]
    promised: Mapping[int, Window]


@dataclass(frozen=True, slots=True)
class Late:
    """A job whose new ETA falls outside the window it was promised (or, if changed, asked for)."""

    job_id: int
    promised: Window
    eta: datetime


@dataclass(frozen=True, slots=True)
class Replan:
    """New routes for the vans a re-plan touched (the others keep theirs); late jobs are still served."""

    routes: tuple[PlannedRoute, ...]
    late: tuple[Late, ...]
    unserved: tuple[Unserved, ...]
    cost: int
    solve_ms: int


@dataclass(frozen=True, slots=True)
class RefreshedRoute(PlannedRoute):
    """A route with fresh ETAs for its fixed order, and the stops that now miss their promise."""

    late: tuple[Late, ...] = ()
