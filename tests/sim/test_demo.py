"""`doorstep demo`, small: a simulated day runs to its summary through the real system and loses nothing."""

import asyncio
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_app
from bot.config import Settings
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

    link = re.search(r"A recipient's page, once it serves: http://127\.0\.0\.1:8000(/t/[\w-]+)", out)
    assert link is not None, out
    page = asyncio.run(served(db, link[1]))  # as `doorstep serve` on the demo's database, on the system clock
    assert page.status_code == 200
    (order_id,) = rows(
        db, "select order_id from deliveries where status = 'delivered' order by date, window_start, id"
    )[0]
    assert order_id in page.text
    assert "How did we do?" in page.text  # delivered: the page asks for a rating


async def served(db: Path, path: str) -> httpx.Response:
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{db}"},
        sandbox={"path": db.with_name("sandbox.db")},
        _env_file=None,
    )
    app = await build_app(settings)
    try:
        transport = httpx.ASGITransport(app=app.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            return await client.get(path)
    finally:
        await app.services.close()
