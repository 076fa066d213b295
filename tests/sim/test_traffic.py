"""The simulated world (sim/traffic.py): reproducible, slower in the rush hours, long-tailed at the door."""

import random
import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sim.traffic import Truth, World

BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
RUSH = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)  # 08:30


def world(truth: Truth, seed: int = 3) -> World:
    return World(truth, random.Random(seed), BERLIN)


def test_the_same_seed_is_the_same_world() -> None:
    drawn = [(w.drive(600, 1.0, NOON), w.service(180)) for w in (world(Truth()), world(Truth()))]
    assert drawn[0] == drawn[1]


def test_legs_are_slower_in_the_rush_hours_and_late_more_than_early() -> None:
    truth = Truth(travel=1.15, breakdowns_per_hour=0)
    noon = [world(truth, n).drive(600, 1.0, NOON) / timedelta(seconds=600) for n in range(400)]
    rush = [world(truth, n).drive(600, 1.0, RUSH) / timedelta(seconds=600) for n in range(400)]
    assert statistics.median(noon) == pytest.approx(statistics.median(rush) / truth.rush)
    assert abs(statistics.median(noon) - 1.15) < 0.03
    assert statistics.mean(noon) > statistics.median(noon)


def test_stops_take_the_configured_time_times_service_with_a_long_tail() -> None:
    truth = Truth(service=2.0)
    spent = [world(truth, n).service(180).total_seconds() for n in range(1000)]
    assert abs(statistics.median(spent) / 360 - 1) < 0.06
    assert max(spent) > 3 * 360


def test_each_van_keeps_its_pace_every_day() -> None:
    truth = Truth(paces=(0.9, 1.1))
    assert [world(truth, seed).pace(van) for seed in (1, 2) for van in (1, 2, 3)] == [0.9, 1.1, 0.9] * 2
