"""The nightly plan spreads the day over the fleet (eta/plan.py `spread`): real pyvroom, haversine matrix."""

import random
from collections import Counter

from eta.geo import LatLon
from eta.model import JobSpec, Plan, VehicleSpec
from eta.plan import plan_day
from tests.eta.test_replan import ALL_DAY, DEPOT, MATRIX, at, van


def near_depot(n: int, skills: frozenset[str] = frozenset()) -> list[JobSpec]:
    rng = random.Random(n)
    return [
        JobSpec(k, LatLon(DEPOT.lat + rng.uniform(-0.01, 0.01), DEPOT.lon + rng.uniform(-0.015, 0.015)),
                *ALL_DAY, 120, 1, skills)
        for k in range(1, n + 1)
    ]  # fmt: skip


def per_van(plan: Plan) -> Counter[int]:
    return Counter({route.vehicle_id: len(route.stops) for route in plan.routes})


async def test_without_a_limit_the_fewest_vans_take_the_day_and_with_one_every_van_carries_a_share() -> None:
    vans, jobs = [van(n) for n in range(1, 5)], near_depot(40)

    packed = await plan_day(vans, jobs, MATRIX, exploration=1, threads=1)
    spread = await plan_day(vans, jobs, MATRIX, exploration=1, threads=1, spread=1.1)

    assert max(per_van(packed).values()) > 11  # one van could do it all, so fewer vans do
    assert len(per_van(spread)) == 4
    assert max(per_van(spread).values()) <= 11  # 1.1 x an even share of 40 over 4 vans
    assert sum(per_van(spread).values()) == 40
    assert not spread.unserved


async def test_the_limit_never_leaves_a_parcel_behind() -> None:
    """Eight chilled parcels and one van with a fridge: its share is 3, yet all eight go on it."""
    fridge = VehicleSpec(1, DEPOT, DEPOT, at(8), at(18), 100, frozenset({"chilled"}))
    vans = [fridge, *(van(n) for n in range(2, 5))]
    jobs = near_depot(8, frozenset({"chilled"})) + [
        JobSpec(100 + j.id, j.location, j.window_start, j.window_end, 120, 1) for j in near_depot(4)
    ]

    plan = await plan_day(vans, jobs, MATRIX, exploration=1, threads=1, spread=1.1)

    assert not plan.unserved
    assert per_van(plan)[1] >= 8
