"""bench/promise.py, small: one demo day, its line per seed and the pooled last line, invariants held."""

import re
from datetime import date

import pytest

from bench import promise

LAST = re.compile(
    r"^promise days=1 in_agreed_pct=[\d.]+ in_first_pct=[\d.]+ first_attempt_pct=[\d.]+ "
    r"updates_per_recipient=[\d.]+ untold_changes=0 out_of_order=0 eta_p90_min=[\d.]+$"
)


async def test_one_small_day_prints_its_figures_last(capsys: pytest.CaptureFixture[str]) -> None:
    await promise.run([3], deliveries=14, drivers=2, roads=None, day=date(2026, 3, 10), history=0)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("seed=3 days=1 in_agreed_pct=")
    assert LAST.match(lines[-1]), lines[-1]


def test_shares_are_pooled_over_what_each_day_measured() -> None:
    assert promise.weighted([(100.0, 30), (50.0, 10), (None, 0)]) == 87.5
    assert promise.weighted([(None, 5)]) is None


def test_seeds_are_given_as_a_list_or_a_range() -> None:
    assert promise.seed_list("1-5") == [1, 2, 3, 4, 5]
    assert promise.seed_list("2, 7") == [2, 7]
    assert promise.seed_list("1-3,9") == [1, 2, 3, 9]
