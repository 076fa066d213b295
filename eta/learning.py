"""ETAs that learn: how fast each van really drives, how long stops really take, how arrivals scatter.

Pure: traces of what happened in, a frozen model out. Every estimate leans towards what the planner
assumes without data (pace 1.0, the configured service time, `prior_errors`) in proportion to how
little it has seen, so a thin hour or one odd stop moves it little.

- Pace: travel time ÷ matrix time, the fleet's x a factor per van x a factor per local hour, from
  each leg between a stop (or the depot) and the driver's "arrived" at the next. VROOM gets it as
  the van's `speed_factor` (the mean over the hours it will drive); `Learned.retime` then times its
  routes hour by hour. A leg over LEG_CAP x its matrix time counts as that; one under LEG_FLOOR x,
  or a stop under MIN_VISIT_S, is a button pressed early, not an observation.
- Service: a quantile of the time at the door (done minus the later of "arrived" and the window
  opening), per address, else per stop type, else the configured time x the fleet's ratio.
- Scatter: how much later than predicted past parcels were handed over, by how far ahead the
  prediction was. Past routes are replayed with the current pace and service times, so the errors
  are those of today's model, not of the model that made the old plans.
"""

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from eta.model import JobSpec, PlannedRoute

PACE_PRIOR_S = 1800.0  # the prior pace counts as this many seconds of matrix driving
LEG_CAP = 3.0  # a leg over 3x its matrix time (a breakdown, a lunch break) counts as 3x
LEG_FLOOR = 0.3  # a leg under 0.3x its matrix time was not driven so: "arrived" pressed on the way
MIN_VISIT_S = 15.0  # a stop shorter than this was two presses at once, not a stop
SERVICE_PRIOR = 5.0  # the fallback service time counts as this many observed stops
FITTING_ROUNDS = 4  # van and hour factors are fitted in turn this often
MIN_VISITS = 3  # an address or a stop type seen fewer times has no time of its own
SPEED_LIMITS = (0.2, 5.0)  # VROOM takes a speed factor in (0, 5]
HORIZONS_MIN = (20, 45, 90, 150, 240, 360)  # upper edges of the scatter's horizon bands, minutes
MIN_ERRORS = 20  # fewer errors than this in a band: its neighbours' are added
MAX_ERRORS = 600  # per band, the most recent
# The scatter assumed where none is learned yet (prior_errors): 5 min either way, plus 5 % of the time
# ahead early and 25 % late.
PRIOR_BASE_S, PRIOR_EARLY, PRIOR_LATE, PRIOR_POINTS = 300.0, 0.05, 0.25, 41
SCATTER_ROUTES = 40  # the most recent routes are replayed (each from every stop: n² predictions)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Door:
    """What a stop's service time is learned by: its address, its type, what the shipper said."""

    address: str
    kind: str
    configured_s: int


@dataclass(frozen=True, slots=True)
class Call:
    """One stop of a route as it happened; `matrix_s` is the matrix time from the previous place."""

    door: Door
    matrix_s: float
    arrived: datetime | None  # the driver's "arrived", if pressed
    opens: datetime | None  # when the window the van had to wait for opened
    done: datetime  # delivered or failed
    delivered: bool


@dataclass(frozen=True, slots=True)
class Trace:
    """One van's day: when it left its start, and each stop in the order it was served."""

    van: int
    zone: str
    left: datetime
    calls: tuple[Call, ...]


@dataclass(frozen=True, slots=True)
class Leg:
    van: int
    hour: int  # local hour the leg began
    matrix_s: float
    actual_s: float


@dataclass(frozen=True, slots=True)
class Visit:
    door: Door
    actual_s: float


def legs(trace: Trace) -> Iterator[Leg]:
    """Each drive that ends in an "arrived": from the previous stop's end (or the start) to it."""
    zone, leave = ZoneInfo(trace.zone), trace.left
    for call in trace.calls:
        actual = (call.arrived - leave).total_seconds() if call.arrived is not None else -1.0
        if actual >= LEG_FLOOR * call.matrix_s and actual >= 0:
            yield Leg(trace.van, leave.astimezone(zone).hour, call.matrix_s, actual)
        leave = call.done


def visits(trace: Trace) -> Iterator[Visit]:
    """Time at each door from "arrived" (or the window opening, if the van waited for it) to done."""
    for call in trace.calls:
        if call.arrived is not None:
            began = max(call.arrived, call.opens) if call.opens is not None else call.arrived
            if (spent := (call.done - began).total_seconds()) >= MIN_VISIT_S:
                yield Visit(call.door, spent)


@dataclass(frozen=True, slots=True)
class Pace:
    """Travel time over matrix time: the fleet's, x the van's own factor, x the local hour's."""

    overall: float = 1.0
    vans: Mapping[int, float] = field(default_factory=dict)
    hours: Mapping[int, float] = field(default_factory=dict)

    def at(self, van: int, hour: int) -> float:
        return self.overall * self.vans.get(van, 1.0) * self.hours.get(hour, 1.0)

    def over(self, van: int, start: datetime, end: datetime, zone: ZoneInfo) -> float:
        """The mean pace of the hours from `start` to `end` (at least the first)."""
        hours = [start + n * HOUR for n in range(max(1, math.ceil((end - start) / HOUR)))]
        return sum(self.at(van, moment.astimezone(zone).hour) for moment in hours) / len(hours)


def learn_pace(observed: Iterable[Leg]) -> Pace:
    """The fleet's pace, then van and hour factors fitted in turn, each on what the other leaves."""
    found = list(observed)
    overall = _shrunk(found, lambda _leg: 1.0, PACE_PRIOR_S)
    by_van, by_hour = _group(found, lambda leg: leg.van), _group(found, lambda leg: leg.hour)
    vans: dict[int, float] = {}
    hours: dict[int, float] = {}
    for _ in range(FITTING_ROUNDS):
        vans = _factors(by_van, overall, hours, lambda leg: leg.hour)
        hours = _factors(by_hour, overall, vans, lambda leg: leg.van)
    return Pace(overall, vans, hours)


def _factors(
    groups: Mapping[int, Sequence[Leg]], overall: float, other: Mapping[int, float], by: Callable[[Leg], int]
) -> dict[int, float]:
    """Each group's factor on the pace the fleet and the other factor (`other`, keyed `by`) explain."""
    return {
        key: _shrunk(group, lambda leg: overall * other.get(by(leg), 1.0), PACE_PRIOR_S)
        for key, group in groups.items()
    }


def _shrunk(found: Sequence[Leg], expected: Callable[[Leg], float], prior_s: float) -> float:
    """Actual over expected driving (each leg's matrix time x `expected`), with `prior_s` at 1.0."""
    matrix = sum(leg.matrix_s for leg in found)
    actual = sum(min(leg.actual_s, LEG_CAP * leg.matrix_s) / expected(leg) for leg in found)
    return (actual + prior_s) / (matrix + prior_s)


type Estimate = tuple[float, int]  # (quantile, how many observations)


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    """Seconds at the door: the address's quantile, else its type's, else configured x `ratio`."""

    ratio: float = 1.0
    kinds: Mapping[str, Estimate] = field(default_factory=dict)
    addresses: Mapping[str, Estimate] = field(default_factory=dict)

    def seconds(self, door: Door) -> int:
        kind = _shrink(self.kinds.get(door.kind), door.configured_s * self.ratio)
        return round(_shrink(self.addresses.get(door.address), kind))


def learn_service(observed: Iterable[Visit], q: float) -> ServiceTimes:
    found = list(observed)
    ratios = [v.actual_s / v.door.configured_s for v in found if v.door.configured_s > 0]
    ratio = _shrink((quantile(ratios, q), len(ratios)), 1.0) if ratios else 1.0
    kinds = _estimates(_group(found, lambda visit: visit.door.kind), q)
    return ServiceTimes(ratio, kinds, _estimates(_group(found, lambda visit: visit.door.address), q))


def _estimates(groups: Mapping[str, Sequence[Visit]], q: float) -> dict[str, Estimate]:
    """A quantile per group seen at least MIN_VISITS times (below that the level above decides)."""
    return {
        name: (quantile([v.actual_s for v in group], q), len(group))
        for name, group in groups.items()
        if len(group) >= MIN_VISITS
    }


def _shrink(found: Estimate | None, prior: float) -> float:
    if found is None:
        return prior
    value, count = found
    return (count * value + SERVICE_PRIOR * prior) / (count + SERVICE_PRIOR)


@dataclass(frozen=True, slots=True)
class Scatter:
    """Handed over minus predicted arrival (seconds, late positive), per horizon band, sorted."""

    bands: Mapping[int, tuple[float, ...]] = field(default_factory=dict)

    def errors(self, ahead: timedelta) -> tuple[float, ...]:
        """The errors of predictions about as far ahead, with the prior's (`prior_errors`) among them, so
        that a thin band leans on what is assumed; the prior's alone if even the widened band is thin."""
        band = bisect.bisect_left(HORIZONS_MIN, ahead / timedelta(minutes=1))
        for reach in range(len(HORIZONS_MIN) + 1):
            near = [e for b in range(band - reach, band + reach + 1) for e in self.bands.get(b, ())]
            if len(near) >= MIN_ERRORS:
                return tuple(sorted([*near, *prior_errors(ahead)]))
        return prior_errors(ahead)


def prior_errors(ahead: timedelta) -> tuple[float, ...]:
    """What is assumed before any hand-over is seen: a route runs late more often than early, more so
    the further ahead (delays add up along it, a van ahead waits): errors spread evenly from
    -(PRIOR_BASE + PRIOR_EARLY x ahead) to +(PRIOR_BASE + PRIOR_LATE x ahead), in seconds."""
    horizon = max(ahead.total_seconds(), 0.0)
    low, high = -(PRIOR_BASE_S + PRIOR_EARLY * horizon), PRIOR_BASE_S + PRIOR_LATE * horizon
    return tuple(low + (high - low) * n / (PRIOR_POINTS - 1) for n in range(PRIOR_POINTS))


def replay(trace: Trace, pace: Pace, service: ServiceTimes) -> Iterator[tuple[float, float]]:
    """(seconds ahead, error) of every delivered stop, predicted from the start and after each stop.

    A prediction drives each leg at the van's pace of the hour it starts (as `retime` does), waits
    for a window that had not opened yet and spends the learned service time at each door.
    """
    zone = ZoneInfo(trace.zone)
    anchors = [trace.left, *(call.done for call in trace.calls)]
    for first, since in enumerate(anchors[:-1]):
        moment = since
        for call in trace.calls[first:]:
            moment += _drive(pace, trace.van, moment, call.matrix_s, zone)
            moment = max(moment, call.opens) if call.opens is not None else moment
            if call.delivered:
                yield (moment - since).total_seconds(), (call.done - moment).total_seconds()
            moment += timedelta(seconds=service.seconds(call.door))


def learn_scatter(traces: Sequence[Trace], pace: Pace, service: ServiceTimes) -> Scatter:
    bands: dict[int, list[float]] = defaultdict(list)
    recent = sorted(traces, key=lambda trace: trace.left, reverse=True)[:SCATTER_ROUTES]
    for trace in recent:
        for ahead, error in replay(trace, pace, service):
            band = bands[bisect.bisect_left(HORIZONS_MIN, ahead / 60)]
            if len(band) < MAX_ERRORS:
                band.append(error)
    return Scatter({band: tuple(sorted(errors)) for band, errors in bands.items()})


@dataclass(frozen=True, slots=True)
class Learned:
    """What the planner knows about how its plans come true; the default knows nothing."""

    pace: Pace = field(default_factory=Pace)
    service: ServiceTimes = field(default_factory=ServiceTimes)
    scatter: Scatter = field(default_factory=Scatter)

    def speed_factor(self, van: int, start: datetime, end: datetime, zone: ZoneInfo) -> float:
        """VROOM's speed factor for a van driving from `start` to `end` (matrix times ÷ it)."""
        low, high = SPEED_LIMITS
        return round(min(max(1 / self.pace.over(van, start, end, zone), low), high), 2)

    @property
    def paced(self) -> bool:
        """Whether any leg has been seen (else plans keep VROOM's times as they are)."""
        return self.pace != Pace()

    def errors(self, ahead: timedelta) -> tuple[float, ...]:
        return self.scatter.errors(ahead)

    def retime[R: PlannedRoute](
        self, route: R, legs_s: Sequence[float], jobs: Sequence[JobSpec], zone: ZoneInfo
    ) -> R:
        """The route's arrivals with each leg (`legs_s`: matrix seconds to each stop) at the van's pace of
        the hour it starts, the wait for each job's window and its service: VROOM knows one pace a day."""
        if not self.paced:
            return route
        moment, stops = route.start_at, []
        for stop, leg, job in zip(route.stops, legs_s, jobs, strict=True):
            moment += _drive(self.pace, route.vehicle_id, moment, leg, zone)
            waiting = max(job.window_start - moment, timedelta(0))
            moment += waiting
            stops.append(replace(stop, arrival=moment, waiting_s=round(waiting.total_seconds())))
            moment += timedelta(seconds=job.service_s)
        return replace(route, stops=tuple(stops))


def _drive(pace: Pace, van: int, leaving: datetime, matrix_s: float, zone: ZoneInfo) -> timedelta:
    return timedelta(seconds=matrix_s * pace.at(van, leaving.astimezone(zone).hour))


NOTHING_LEARNED = Learned()


def learn(traces: Sequence[Trace], service_quantile: float) -> Learned:
    """Pace, service times and the scatter of arrivals, from these routes as they happened."""
    pace = learn_pace(leg for trace in traces for leg in legs(trace))
    service = learn_service((visit for trace in traces for visit in visits(trace)), service_quantile)
    return Learned(pace, service, learn_scatter(traces, pace, service))


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _group[T, K](items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups
