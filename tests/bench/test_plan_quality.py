import re

import pytest

from bench.plan_quality import main
from tests.shared_data import require_shared

LAST_LINE = re.compile(
    r"^plan_quality instances=(?P<n>\d+) mean_gap_pct=(?P<gap>-?\d+\.\d+) mean_time_s=(?P<time>\d+\.\d+)$"
)


def test_c101_within_five_percent_of_best_known(capsys: pytest.CaptureFixture[str]) -> None:
    data = require_shared("vrptw", "solomon", "C101.txt").parents[2]

    assert main(["--instances", "c101", "--exploration", "1", "--data", str(data)]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    summary = LAST_LINE.match(lines[-1])
    assert summary is not None, lines[-1]
    assert int(summary["n"]) == 1
    assert float(summary["gap"]) < 5
    instance, *_, unassigned, _ = lines[1].split()
    assert (instance, unassigned) == ("C101", "0")
