"""The incremental re-plan on small synthetic days: real pyvroom, real haversine matrix."""

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from eta import problem
from eta.geo import LatLon
from eta.matrix import HaversineMatrix, Matrix
from eta.model import DayState, JobSpec, PlannedRoute, Replan, VanState, VehicleSpec, Window
from eta.plan import plan_day
from eta.replan import DayMatrix, moved, promises, refresh_etas, replan

DEPOT = LatLon(52.52, 13.405)
MATRIX = HaversineMatrix()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


def east(km: float) -> LatLon:
    return LatLon(DEPOT.lat, DEPOT.lon + km / (111.32 * math.cos(math.radians(DEPOT.lat))))


def leg(a: LatLon, b: LatLon) -> timedelta:
    return timedelta(seconds=int(MATRIX.table_sync([a, b]).durations[0, 1]))


MORNING = at(8)
ALL_DAY = (at(8), at(18))


def van(van_id: int, start: LatLon = DEPOT, leave: datetime = MORNING) -> VehicleSpec:
    return VehicleSpec(van_id, start, DEPOT, leave, at(18), 100)


def job(job_id: int, where: LatLon, window: Window = ALL_DAY, size: int = 1) -> JobSpec:
    return JobSpec(job_id, where, window[0], window[1], 120, size)


def stops(result: Replan | PlannedRoute, van_id: int | None = None) -> dict[int, datetime]:
    routes = [result] if isinstance(result, PlannedRoute) else result.routes
    return {s.job_id: s.arrival for r in routes if van_id in (None, r.vehicle_id) for s in r.stops}


def route_of(result: Replan, van_id: int) -> list[int]:
    return [s.job_id for r in result.routes if r.vehicle_id == van_id for s in r.stops]


def loaded(spec: VehicleSpec, order: Sequence[int]) -> VanState:
    return VanState(spec, tuple(order), frozenset(order))


def requested(jobs: Sequence[JobSpec]) -> dict[int, Window]:
    return {j.id: (j.window_start, j.window_end) for j in jobs}


@pytest.fixture
async def planned_day() -> tuple[DayState, dict[int, datetime]]:
    """Two loaded vans, 16 stops with 2 h windows between 09:00 and 14:00, as the nightly plan left them."""
    rng = random.Random(7)
    vans = [van(1), van(2)]
    jobs = [
        job(
            n,
            LatLon(DEPOT.lat + rng.uniform(-0.04, 0.04), DEPOT.lon + rng.uniform(-0.06, 0.06)),
            (at(h), at(h + 2)),
        )
        for n, h in zip(range(1, 17), [9, 10, 11, 12] * 4, strict=True)
    ]
    plan = await plan_day(vans, jobs, MATRIX, exploration=1, threads=1)
    assert not plan.unserved
    orders = {r.vehicle_id: [s.job_id for s in r.stops] for r in plan.routes}
    state = DayState(
        tuple(loaded(v, orders.get(v.id, [])) for v in vans),
        tuple(jobs),
        promises(plan.routes, requested(jobs)),
    )
    return state, {s.job_id: s.arrival for r in plan.routes for s in r.stops}


async def test_a_reschedule_to_a_later_window_moves_only_that_job(
    planned_day: tuple[DayState, dict[int, datetime]],
) -> None:
    state, before = planned_day
    moving = state.vans[0].order[1]
    new_window = (at(16), at(17))
    after = replace(
        state,
        jobs=tuple(
            replace(j, window_start=at(16), window_end=at(17)) if j.id == moving else j for j in state.jobs
        ),
    )

    result = await replan(after, MATRIX, now=at(7), changed=frozenset({moving}))

    assert [r.vehicle_id for r in result.routes] == [1]
    eta = stops(result)
    assert new_window[0] <= eta[moving] <= new_window[1]
    assert result.late == ()
    for job_id, arrival in eta.items():
        if job_id != moving:
            assert state.promised[job_id][0] <= arrival <= state.promised[job_id][1]
    shifted = [j for j in eta if j != moving and abs(eta[j] - before[j]) > timedelta(minutes=15)]
    assert len(shifted) <= 3


async def test_loaded_parcels_never_change_van() -> None:
    far_east = [job(n, east(8 + n / 10)) for n in range(1, 5)]
    newcomer = job(9, east(8.5))
    vans = (loaded(van(1), [1, 2, 3, 4]), VanState(van(2, start=east(8)), ()))
    state = DayState(vans, (*far_east, newcomer), {})

    result = await replan(state, MATRIX, now=at(7), changed=frozenset({9}))

    assert set(route_of(result, 1)) >= {1, 2, 3, 4}
    free = replace(state, vans=(VanState(van(1), (1, 2, 3, 4)), vans[1]))
    unlocked = await replan(free, MATRIX, now=at(7), changed=frozenset({9}))
    assert set(route_of(unlocked, 2)) >= {1, 2, 3, 4}


async def test_a_van_mid_route_starts_from_where_it_is_at_now() -> None:
    here, there = east(5), east(6)
    state = DayState((loaded(van(1, start=here), [7]),), (job(7, there),), {})

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({7}))

    assert stops(result)[7] == at(11) + leg(here, there)


async def test_a_van_still_serving_leaves_when_that_service_ends() -> None:
    here, there = east(5), east(6)
    state = DayState((loaded(van(1, start=here, leave=at(11, 10)), [7]),), (job(7, there),), {})

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({7}))

    assert stops(result)[7] == at(11, 10) + leg(here, there)


async def test_finished_stops_are_not_replanned() -> None:
    left = (job(3, east(3)), job(4, east(4)))
    state = DayState((loaded(van(1, start=east(2)), [1, 2, 3, 4]),), left, {})

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({4}))

    assert sorted(route_of(result, 1)) == [3, 4]


async def test_an_infeasible_seed_does_not_crash_and_its_lateness_is_reported() -> None:
    far, near = job(1, east(10)), job(2, east(1))
    promised = {1: (at(8), at(18)), 2: (at(11), at(11, 30))}
    state = DayState((loaded(van(1), [1, 2, 3]),), (far, near, job(3, east(2))), promised)

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({3}))

    assert sorted(route_of(result, 1)) == [1, 2, 3]
    assert result.unserved == ()
    eta = stops(result)
    outside = {
        j for j, window in {**promised, 3: (at(8), at(18))}.items() if not window[0] <= eta[j] <= window[1]
    }
    assert {late.job_id for late in result.late} == outside


def test_vroom_rejects_an_infeasible_seed_at_the_boundary() -> None:
    points = [DEPOT, east(10), east(1)]
    matrix: Matrix = MATRIX.table_sync(points)
    indexed = problem.Indexed(
        vehicles=[(van(1), 0, 0)], jobs=[(job(1, points[1]), 1), (job(2, points[2], (at(8), at(8, 20))), 2)]
    )

    with pytest.raises(problem.RejectedInputError):
        problem.solve_seeded(indexed, matrix, at(0), {1: [1, 2]}, exploration=1, threads=1)


async def test_a_job_that_can_no_longer_make_its_window_is_served_late_not_dropped() -> None:
    asked = (at(11), at(11, 15))
    state = DayState(
        (loaded(van(1), [5, 6]),), (job(5, east(1)), job(6, east(10), asked)), {5: (at(11), at(12))}
    )

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({6}))

    assert result.unserved == ()
    [late] = result.late
    assert (late.job_id, late.promised) == (6, asked)
    assert late.eta == stops(result)[6] > asked[1]


async def test_a_promise_that_can_no_longer_be_kept_is_reported_late() -> None:
    promised = {5: (at(10, 30), at(11, 10))}
    state = DayState((loaded(van(1), [5, 6]),), (job(5, east(10)), job(6, east(1))), promised)

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({6}))

    assert [(late.job_id, late.promised) for late in result.late] == [(5, promised[5])]
    assert result.unserved == ()


async def test_the_changed_job_yields_to_a_standing_promise() -> None:
    west = LatLon(DEPOT.lat, 2 * DEPOT.lon - east(2).lon)
    state = DayState(
        (loaded(van(1), [1, 2]),),
        (job(1, east(2)), job(2, west, (at(11), at(11, 15)))),
        {1: (at(11), at(11, 15))},
    )

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({2}))

    assert [late.job_id for late in result.late] == [2]


async def test_a_job_no_van_can_carry_is_unserved_with_a_reason() -> None:
    state = DayState((VanState(van(1), ()),), (job(8, east(1), size=500),), {})

    result = await replan(state, MATRIX, now=at(11), changed=frozenset({8}))

    [unserved] = result.unserved
    assert unserved.job_id == 8
    assert "size 500" in unserved.reason


async def test_refresh_after_a_30_minute_delay_flags_exactly_the_stops_past_their_window() -> None:
    order = [1, 2, 3, 4, 5]
    jobs = [job(n, east(n)) for n in order]
    on_time = stops(await refresh_etas(van(1), order, jobs, MATRIX, at(8)))
    slack = dict(zip(order, [60, 45, 10, 40, 20], strict=True))
    promised = {n: (on_time[n] - timedelta(hours=2), on_time[n] + timedelta(minutes=slack[n])) for n in order}

    route = await refresh_etas(van(1), order, jobs, MATRIX, at(8, 30), promised=promised)

    assert [s.job_id for s in route.stops] == order
    assert all(route_eta - on_time[n] == timedelta(minutes=30) for n, route_eta in stops(route).items())
    assert {late.job_id for late in route.late} == {3, 5}
    assert all(late.promised == promised[late.job_id] for late in route.late)


async def test_the_day_matrix_answers_known_points_by_lookup() -> None:
    points = [DEPOT, east(1), east(2), east(3)]
    day = DayMatrix(MATRIX)
    await day.table(points)

    part = await day.table([east(3), DEPOT])
    grown = await day.table([east(4), east(1)])

    assert part.durations.tolist() == MATRIX.table_sync([east(3), DEPOT]).durations.tolist()
    assert grown.distances.tolist() == MATRIX.table_sync([east(4), east(1)]).distances.tolist()


def test_moved_compares_window_starts_against_a_threshold() -> None:
    before = {1: (at(10), at(11)), 2: (at(10), at(11)), 3: (at(10), at(11))}
    after = {1: (at(10, 15), at(11, 15)), 2: (at(10, 30), at(11, 30)), 4: (at(12), at(13))}

    assert moved(before, after, timedelta(minutes=15)) == {2}
