import re

import pytest

from bench.replan import main

LAST_LINE = re.compile(
    r"^replan p50_ms=(?P<p50>\d+\.\d) p95_ms=(?P<p95>\d+\.\d) full_ms=(?P<full>\d+) ratio=(?P<ratio>\d+) "
    r"cost_delta_pct=(?P<delta>-?\d+\.\d\d) moved=(?P<moved>\d+) broken_promises=(?P<broken>\d+)$"
)


def test_quick_bench_keeps_every_other_promise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick"]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    summary = LAST_LINE.match(lines[-1])
    assert summary is not None, lines[-1]
    assert summary["broken"] == "0"
    assert float(summary["p50"]) <= float(summary["p95"])
    rows = [line for line in lines if re.match(r"^\s*\d+\s+\d+\s+\d\d:\d\d-", line)]
    assert len(rows) >= 50
