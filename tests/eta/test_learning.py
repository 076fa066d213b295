"""ETAs that learn (eta/learning.py): known observations give known estimates; thin data falls back."""

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eta import learning
from eta.geo import LatLon
from eta.learning import (
    LEG_CAP,
    NOTHING_LEARNED,
    PACE_PRIOR_S,
    SERVICE_PRIOR,
    Call,
    Door,
    Learned,
    Leg,
    Pace,
    Trace,
    Visit,
    learn,
    learn_pace,
    learn_service,
    quantile,
)
from eta.matrix import HaversineMatrix
from eta.model import JobSpec, PlannedRoute, PlannedStop, VehicleSpec
from eta.plan import plan_day
from eta.replan import refresh_etas
from eta.windows import promised_window

UTC_ZONE = ZoneInfo("UTC")
DOOR = Door("torstraße 1, berlin", "3min/parcel/", 180)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


def legs(count: int, matrix_s: float, actual_s: float, van: int = 1, hour: int = 10) -> list[Leg]:
    return [Leg(van, hour, matrix_s, actual_s) for _ in range(count)]


def test_pace_is_driving_time_over_matrix_time_shrunk_towards_one() -> None:
    pace = learn_pace(legs(10, 600, 690))
    assert pace.overall == pytest.approx((6900 + PACE_PRIOR_S) / (6000 + PACE_PRIOR_S))
    assert learn_pace(legs(400, 600, 690)).at(1, 10) == pytest.approx(1.15, abs=0.005)


def test_a_van_and_an_hour_nobody_has_seen_drive_at_the_prior() -> None:
    assert learn_pace([]).at(1, 10) == 1.0
    one = learn_pace(legs(1, 600, 1200))
    assert 1.0 < one.overall < 1.3  # one slow leg moves the estimate, not to 2.0
    assert 1.0 < one.at(1, 10) < 1.6  # fleet, van and hour each lean on it a little
    assert one.at(2, 10) < one.at(1, 10)  # a van never seen drives at the fleet's pace in that hour


def test_van_and_hour_factors_combine() -> None:
    pace = learn_pace(
        [
            *legs(200, 600, 600, van=1, hour=10),
            *legs(200, 600, 900, van=2, hour=10),
            *legs(200, 600, 780, van=1, hour=8),
        ]
    )
    assert pace.at(2, 8) == pytest.approx(pace.overall * pace.vans[2] * pace.hours[8])
    assert pace.at(2, 8) > pace.at(2, 10) > pace.at(1, 10)
    assert pace.at(1, 10) == pytest.approx(1.0, abs=0.05)
    assert pace.at(2, 10) == pytest.approx(1.5, abs=0.1)


def test_a_breakdown_counts_as_a_slow_leg_not_as_hours_of_driving() -> None:
    broken = learn_pace([*legs(20, 600, 600), Leg(1, 10, 600, 600 + 3 * 3600)])
    capped = learn_pace([*legs(20, 600, 600), Leg(1, 10, 600, LEG_CAP * 600)])
    assert broken == capped


def test_pace_over_a_shift_averages_its_hours() -> None:
    pace = learn_pace([*legs(500, 600, 600, hour=8), *legs(500, 600, 900, hour=9)])
    mean = pace.over(1, at(8), at(10), UTC_ZONE)
    assert mean == pytest.approx((pace.at(1, 8) + pace.at(1, 9)) / 2)
    assert pace.over(1, at(9, 30), at(9, 40), UTC_ZONE) == pace.at(1, 9)


def test_buttons_pressed_together_teach_nothing() -> None:
    rushed = Call(DOOR, 600, at(8, 1), None, at(8, 1), delivered=True)  # "arrived" and "delivered" at once
    trace = Trace(1, "UTC", at(8), (rushed,))
    assert list(learning.legs(trace)) == []  # one minute for ten minutes of driving: pressed on the way
    assert list(learning.visits(trace)) == []


def test_quantile_interpolates_between_ranks() -> None:
    assert quantile([1, 2, 3, 4, 5], 0.5) == 3
    assert quantile([0, 10], 0.6) == 6
    assert quantile([7], 0.9) == 7


def test_service_is_the_quantile_of_the_time_at_the_door() -> None:
    seen = [Visit(DOOR, float(s)) for s in range(300, 400)]  # 300 .. 399 s for a 180 s stop
    service = learn_service(seen, 0.6)
    kind = quantile([float(s) for s in range(300, 400)], 0.6)
    assert service.ratio == pytest.approx((100 * kind / 180 + SERVICE_PRIOR) / (100 + SERVICE_PRIOR))
    assert service.seconds(DOOR) == pytest.approx(kind, abs=2)


def test_thin_data_falls_back_to_the_type_then_the_configured_time() -> None:
    assert learn_service([], 0.6).seconds(DOOR) == 180
    kind_only = learn_service([Visit(replace(DOOR, address=f"street {n}"), 360.0) for n in range(100)], 0.6)
    assert kind_only.seconds(DOOR) == pytest.approx(360, abs=1)  # another address, the same type
    other_kind = replace(DOOR, kind="5min/bulky/", configured_s=300)
    assert kind_only.seconds(other_kind) == pytest.approx(300 * kind_only.ratio, abs=1)
    one_visit = learn_service([Visit(DOOR, 900.0)], 0.6)
    assert 180 < one_visit.seconds(DOOR) < 400  # one long stop does not make it 900


def test_an_address_seen_often_has_its_own_time() -> None:
    here = [Visit(DOOR, 600.0)] * 50
    elsewhere = [Visit(replace(DOOR, address=f"street {n}"), 200.0) for n in range(200)]
    service = learn_service(here + elsewhere, 0.5)
    assert service.seconds(DOOR) > 500
    assert service.seconds(replace(DOOR, address="new street 1")) < 300


def route(pace: float, service_s: float, stops: int = 8) -> Trace:
    """A van that drives `pace` x the matrix (600 s legs) and spends `service_s` at each door."""
    calls, moment = [], at(8)
    for _ in range(stops):
        arrived = moment + timedelta(seconds=600 * pace)
        moment = arrived + timedelta(seconds=service_s)
        calls.append(Call(DOOR, 600, arrived, None, moment, delivered=True))
    return Trace(1, "UTC", at(8), tuple(calls))


def test_a_route_that_keeps_its_pace_is_predicted_to_the_second_apart_from_the_handover() -> None:
    learned = learn([route(1.0, 180)] * 3, 0.6)
    assert learned.pace.at(1, 9) == pytest.approx(1.0)
    assert learned.service.seconds(DOOR) == 180
    errors = learned.errors(timedelta(minutes=30))
    seen = Counter(errors) - Counter(learning.prior_errors(timedelta(minutes=30)))
    assert set(seen) == {180.0}  # handed over after the time at the door
    assert abs(quantile(errors, 0.5) - 180) <= 30  # the likely hand-over is what was seen


def test_learned_from_slow_days_the_replay_is_unbiased() -> None:
    learned = learn([route(1.15, 360)] * 20, 0.6)
    assert 1 / learned.speed_factor(1, at(8), at(10), UTC_ZONE) == pytest.approx(1.15, abs=0.02)
    assert learned.service.seconds(DOOR) == pytest.approx(360, abs=2)
    far = learned.errors(timedelta(hours=1))
    assert abs(quantile(far, 0.5) - 360) < 60


def test_no_data_no_change_and_the_prior_scatter() -> None:
    learned = learn([], 0.6)
    assert learned.speed_factor(1, at(8), at(18), UTC_ZONE) == 1.0
    assert learned.service.seconds(DOOR) == 180
    soon, later = learned.errors(timedelta(minutes=20)), learned.errors(timedelta(hours=5))
    assert (soon[0], soon[-1]) == (-360, 600)  # 5 min either way, plus 5 % early and 25 % late of 20 min
    assert (later[0], later[-1]) == (-1200, 4800)
    assert learned.errors(timedelta(hours=2)) == learning.prior_errors(timedelta(hours=2))


def test_with_nothing_learned_a_far_stop_gets_its_late_slack_and_a_near_one_is_centred() -> None:
    day = (at(8), at(18))
    near = NOTHING_LEARNED.errors(timedelta(minutes=20))
    far = NOTHING_LEARNED.errors(timedelta(hours=5))
    assert promised_window(at(10), day, errors=near) == (at(9, 30), at(10, 30))
    assert promised_window(at(10), day, errors=far) == (at(10), at(11))  # late more likely than early


def test_a_route_is_re_timed_hour_by_hour() -> None:
    stops = (PlannedStop(1, 1, at(7, 10), 0), PlannedStop(2, 2, at(8), 0))
    route = PlannedRoute(1, stops, at(7), at(9), 0, 0)
    here = LatLon(52.5, 13.4)
    jobs = [JobSpec(1, here, at(7), at(18), 600, 1), JobSpec(2, here, at(8, 30), at(18), 60, 1)]
    rush = Learned(pace=Pace(1.0, {}, {7: 1.5}))
    timed = rush.retime(route, [600, 600], jobs, UTC_ZONE)
    assert [s.arrival for s in timed.stops] == [at(7, 15), at(8, 30)]  # 15 min, 10 at the door, 15, a wait
    assert timed.stops[1].waiting_s == 50 * 60
    assert NOTHING_LEARNED.retime(route, [600, 600], jobs, UTC_ZONE) is route


def test_the_window_goes_where_parcels_really_come_keeping_the_arrival_inside() -> None:
    day = (at(8), at(18))
    assert promised_window(at(10, 7), day) == (at(9, 30), at(10, 30))
    late = [40 * 60.0] * 30
    assert promised_window(at(10, 7), day, errors=late) == (at(10), at(11))
    early = [-40 * 60.0] * 30
    assert promised_window(at(10, 7), day, errors=early) == (at(9, 15), at(10, 15))
    assert promised_window(at(10, 7), (at(10), at(12)), errors=early) == (at(10), at(11))  # asked for 10-12


def test_early_slack_is_worth_less_than_late_slack() -> None:
    day = (at(8), at(18))
    spread = [60.0 * m for m in range(-45, 46)]  # -45 .. +45 min, evenly: wider than the window
    assert promised_window(at(10), day, errors=spread) == (at(9, 45), at(10, 45))  # not centred: later
    assert promised_window(at(10), day, errors=[0.0] * 30) == (at(9, 30), at(10, 30))


async def test_vroom_drives_a_van_at_its_speed_factor() -> None:
    depot, there = LatLon(52.52, 13.405), LatLon(52.52, 13.505)
    matrix = HaversineMatrix()
    leg = int(matrix.table_sync([depot, there]).durations[0, 1])
    job = JobSpec(1, there, at(8), at(18), 120, 1)
    normal = VehicleSpec(1, depot, depot, at(8), at(18), 10)
    slow = replace(normal, speed_factor=0.5)
    for spec, factor in ((normal, 1), (slow, 2)):
        plan = await plan_day([spec], [job], matrix, exploration=1, threads=1)
        arrival = plan.routes[0].stops[0].arrival
        assert abs((arrival - at(8)).total_seconds() - leg * factor) <= 1
        fresh = await refresh_etas(spec, [1], [job], matrix, at(8))
        assert fresh.stops[0].arrival == arrival
