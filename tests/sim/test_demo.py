"""`doorstep demo`, small: a simulated day runs to its summary through the real system and loses nothing."""

import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import runner_in


def rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(query))


def test_a_small_demo_day_runs_to_its_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_SHARED_DATA", str(tmp_path / "no-shared-data"))  # Berlin, straight lines
    doorstep = runner_in(tmp_path, monkeypatch)
    result = doorstep("demo", "--deliveries", "14", "--drivers", "2", "--seed", "5", "--out", "day")
    assert result.exit_code == 0, result.output
    out = result.output
    for figure in ("first-attempt success", "inside the agreed window", "latency p50 / p95"):
        assert figure in out
    assert re.search(r"windows changed untold\W+0\W", out), out  # the invariants held all day
    assert re.search(r"messages out of order\W+0\W", out), out
    report = tmp_path / "day" / "report.html"
    assert f"Report: {report}" in out.replace("\n", "")
    assert "<svg" in report.read_text(encoding="utf-8")

    db, sandbox = tmp_path / "day" / "doorstep.db", tmp_path / "day" / "sandbox.db"
    (day,) = {d for (d,) in rows(db, "select min(date) from deliveries")}
    statuses = rows(db, f"select status, date from deliveries where date = '{day}' or status = 'rescheduled'")
    assert len(rows(db, "select id from deliveries")) == 14
    assert all(s in {"delivered", "failed", "cancelled"} or d > day for s, d in statuses)  # none left behind
    copies = Counter(m for (m,) in rows(sandbox, "select message_id from sent"))
    assert copies
    assert max(copies.values()) == 1  # the provider got every message once
    states = Counter(s for (s,) in rows(db, "select status from messages"))
    assert set(states) <= {"sent", "expired"}, states
    assert rows(db, "select count(*) from events where kind = 'plan.revised'")[0][0] > 0
    pre = rows(db, "select count(distinct delivery_id) from messages where kind = 'pre-delivery'")
    assert pre[0][0] == 14
