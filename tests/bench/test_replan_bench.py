import re
from datetime import UTC, datetime, timedelta

import pytest

from bench import replan

LAST_LINE = re.compile(
    r"^replan p50_ms=\d+\.\d p95_ms=\d+\.\d full_ms=\d+ ratio=\d+ cost_delta_pct=-?\d+\.\d\d "
    r"moved=\d+ broken_promises=(?P<broken>\d+)$"
)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def snapshot(**arrivals: int) -> replan.Snapshot:
    """Stops 1, 2, 3 on van 7, each promised 12:00-13:00 (version 1); arrivals in minutes after 11:00."""
    ids = {int(name[1:]): minutes for name, minutes in arrivals.items()}
    return replan.Snapshot(
        van=dict.fromkeys(ids, 7),
        arrival={d: NOON + timedelta(minutes=m) for d, m in ids.items()},
        version=dict.fromkeys(ids, 1),
        start=dict.fromkeys(ids, NOON + timedelta(hours=1)),
        end=dict.fromkeys(ids, NOON + timedelta(hours=2)),
        asked_end=dict.fromkeys(ids, NOON + timedelta(hours=2)),
    )


def test_a_stop_lost_or_served_outside_its_promise_unreported_is_a_broken_promise() -> None:
    before = snapshot(d1=70, d2=80, d3=90)

    assert replan.judge(before, snapshot(d1=70, d2=80, d3=90), 1, late=[]) == (0, 0)
    assert replan.judge(before, snapshot(d1=70, d2=80), 1, late=[]) == (0, 1)  # 3 lost
    assert replan.judge(before, snapshot(d1=70, d2=80, d3=150), 1, late=[]) == (0, 1)  # 3 outside
    assert replan.judge(before, snapshot(d1=70, d2=80, d3=150), 1, late=[3]) == (0, 0)  # reported late
    assert replan.judge(before, snapshot(d1=200, d2=80, d3=90), 1, late=[]) == (0, 0)  # the moved one


def test_a_new_promise_for_another_recipient_counts_as_moved() -> None:
    after = snapshot(d1=70, d2=80, d3=90)
    after.version[2] = 2

    assert replan.judge(snapshot(d1=70, d2=80, d3=90), after, 1, late=[]) == (1, 0)


def test_the_quick_bench_reschedules_through_the_store_and_breaks_no_promise(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert replan.main(["--quick"]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    summary = LAST_LINE.match(lines[-1])
    assert summary is not None, lines[-1]
    assert summary["broken"] == "0"
    assert any(line.startswith("incremental (take -> commit): 50 reschedules") for line in lines)
