"""sim.report against a small finished day written through the real schema (migrations and column types)."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console

from bot.store import tables as t
from bot.store.db import open_store
from sim.report import OSM_CREDIT, Summary, render_table, summarize, write_html
from tests.conftest import DAY

NEXT = DAY + timedelta(days=1)
EVE = DAY - timedelta(days=1)
SCRIPT = "<script>alert(1)</script>"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def stamps(**row: Any) -> dict[str, Any]:
    return {**row, "created_at": at(5), "updated_at": at(5)}


def delivery(n: int, day: date = DAY) -> dict[str, Any]:
    return stamps(
        id=n, order_id=f"A-{n}", recipient_id=1, name="Rosa", phone="+4915100000001", locale="en",
        timezone="Europe/Berlin", address="Torstraße 1", lat=52.5, lon=13.4, date=day,
        window_start=at(8, day=day), window_end=at(18, day=day), service_s=120, size=1, skills=[],
        status="planned", tracking_token=f"tok-{n}",
    )  # fmt: skip


def promise(delivery_id: int, version: int, start: int, created: datetime) -> dict[str, Any]:
    return {"delivery_id": delivery_id, "version": version, "start": at(start), "end": at(start + 1),
            "reason": "planned" if version == 1 else "late", "created_at": created}  # fmt: skip


def event(kind: str, when: datetime, delivery_id: int | None = None, **data: Any) -> dict[str, Any]:
    plan_id = data.pop("plan_id", None)
    return {"at": when, "kind": kind, "delivery_id": delivery_id, "driver_id": None, "plan_id": plan_id,
            "actor": "test", "data": data}  # fmt: skip


def message(n: int, kind: str, channel: str, status: str, **row: Any) -> dict[str, Any]:
    values = {"delivery_id": None, "driver_id": None, "sent_at": None, **row}
    return stamps(
        idem_key=f"m{n}", kind=kind, channel=channel, address="+4915100000001", locale="en",
        timezone="Europe/Berlin", body="…", payload={}, urgent=False, status=status, due_at=at(6),
        next_attempt_at=at(6), **values,
    )  # fmt: skip


def escalation(kind: str, delivery_id: int | None, created: datetime) -> dict[str, Any]:
    return {"delivery_id": delivery_id, "kind": kind, "detail": "", "status": "open", "created_at": created}


# The day, in UTC (Berlin is UTC+1):
#   A-1 delivered 09:30 inside 09-10                       error   0
#   A-2 delivered 11:40: told 10-11, then 11-12 at 10:50   inside, error +10
#   A-3 delivered 13:20 outside 12-13 (a 13-14 promise came only after) error +50
#   A-4 failed 09:10, rescheduled to 14-15, delivered 14:50 not first attempt, inside, error +20
#   A-5 failed 15:30 (never delivered); A-6 no attempt; A-7 delivered 08:55 before 09-10, error -35
#   A-8 moved from the day to the next; A-9 belongs to the next day
ROWS: list[tuple[sa.Table, list[dict[str, Any]]]] = [
    (t.depots, [stamps(id=1, code="D", name="Depot", lat=52.5, lon=13.4, timezone="Europe/Berlin")]),
    (t.drivers, [
        stamps(id=n, code=f"V{n}", name=name, depot_id=1, capacity=50, skills=[],
               shift_start=time(8), shift_end=time(18))
        for n, name in [(1, f"Ada {SCRIPT}"), (2, "Bo & Co"), (3, "Cy")]
    ]),
    (t.recipients, [
        stamps(id=1, phone="+4915100000001", name="Rosa", locale="en", timezone="Europe/Berlin"),
    ]),
    (t.deliveries, [*(delivery(n) for n in range(1, 8)), delivery(8, NEXT), delivery(9, NEXT)]),
    (t.plans, [
        {"id": n, "date": day, "version": 1, "active": True, "matrix": "haversine", "cost": 1,
         "solve_ms": 50, "created_at": at(5)}
        for n, day in [(1, DAY), (2, NEXT)]
    ]),
    (t.routes, [
        {"id": 1, "plan_id": 1, "driver_id": 1, "start_at": at(8), "end_at": at(17), "distance_m": 1,
         "duration_s": 1},
        {"id": 2, "plan_id": 1, "driver_id": 2, "start_at": at(8), "end_at": at(17), "distance_m": 1,
         "duration_s": 1},
    ]),
    (t.stops, [
        {"route_id": route, "delivery_id": d, "sequence": seq, "planned_arrival": at(9),
         "promised_start": at(9), "promised_end": at(10)}
        for route, ds in [(1, [7, 1, 2, 3]), (2, [4, 5, 6])] for seq, d in enumerate(ds, 1)
    ]),
    (t.promises, [
        promise(1, 1, 9, at(6)), promise(2, 1, 10, at(6)), promise(2, 2, 11, at(10, 50)),
        promise(3, 1, 12, at(6)), promise(3, 2, 13, at(13, 30)), promise(4, 1, 9, at(6)),
        promise(4, 2, 14, at(9, 20)), promise(5, 1, 15, at(6)), promise(7, 1, 9, at(6)),
    ]),
    (t.events, [
        event("delivery.delivered", at(9, 30), 1), event("delivery.delivered", at(11, 40), 2),
        event("delivery.delivered", at(13, 20), 3), event("delivery.failed", at(9, 10), 4, reason="not_home"),
        event("delivery.rescheduled", at(9, 20), 4, **{"from": [at(9).isoformat(), at(10).isoformat()]}),
        event("delivery.delivered", at(14, 50), 4), event("delivery.failed", at(15, 30), 5, reason="refused"),
        event("delivery.delivered", at(8, 55), 7),
        event("delivery.rescheduled", at(7), 8, **{"from": [at(10).isoformat(), at(11).isoformat()]}),
        event("delivery.rescheduled", at(7), 9, **{"from": [at(10, day=NEXT).isoformat()]}),
        event("recipient.opted_out", at(12), 3, channel="sms"), event("recipient.opted_out", at(12), 9),
        event("plan.revised", at(9, 20), plan_id=1, revision=1, latency_ms=120, solve_ms=40, told=2),
        event("plan.revised", at(10, 50), plan_id=1, revision=2, solve_ms=300, told=0),
        event("plan.revised", at(12), plan_id=1, revision=3, latency_ms=80, solve_ms=20, told=4),
        event("plan.revised", at(13), plan_id=1, revision=4, latency_ms=900, told=1),
        event("plan.revised", at(13), plan_id=2, revision=1, latency_ms=5, told=9),
    ]),
    (t.messages, [
        message(1, "pre-delivery", "sms", "sent", delivery_id=1, sent_at=at(17, day=EVE)),
        message(2, "pre-delivery", "sms", "sent", delivery_id=2, sent_at=at(17, 1, day=EVE)),
        message(3, "pre-delivery", "telegram", "sent", delivery_id=3, sent_at=at(17, 2, day=EVE)),
        message(4, "delivered", "sms", "sent", delivery_id=1, sent_at=at(9, 31)),
        message(5, "delivered", "telegram", "failed", delivery_id=2),
        message(6, "delay", "sms", "expired", delivery_id=2),
        message(7, "driver-route", "telegram", "sent", driver_id=1, sent_at=at(7)),
        message(8, "driver-notes", "telegram", "sent", driver_id=3, sent_at=at(7)),  # not on the day's routes
        message(9, "pre-delivery", "sms", "sent", delivery_id=9, sent_at=at(17)),
    ]),
    (t.escalations, [
        escalation("failed", 5, at(15, 31)), escalation("low_rating", 3, at(16)),
        escalation("late", 2, at(10)),
        escalation("not_understood", None, at(12)), escalation("not_understood", None, at(12, day=NEXT)),
        escalation("failed", 9, at(12)),
    ]),
]  # fmt: skip


@pytest.fixture
async def day_db(db_path: Path) -> Path:
    store = await open_store(f"sqlite+aiosqlite:///{db_path}")
    try:
        async with store.tx() as conn:
            for table, rows in ROWS:
                await conn.execute(table.insert(), rows)
    finally:
        await store.close()
    return db_path


@pytest.fixture
def summary(day_db: Path) -> Summary:
    return summarize(day_db, DAY)


def test_delivery_figures(summary: Summary) -> None:
    assert (summary.deliveries, summary.delivered, summary.failed, summary.failed_attempts) == (7, 5, 1, 2)
    assert summary.first_attempt_success_pct == pytest.approx(100 * 4 / 6)
    assert summary.inside_promise_pct == pytest.approx(60.0)
    assert summary.eta_error_minutes == pytest.approx((-35, 0, 10, 50, 20))
    assert summary.timezone == "Europe/Berlin"


def test_messages_of_the_day(summary: Summary) -> None:
    assert summary.messages == {
        ("delay", "sms"): {"expired": 1},
        ("delivered", "sms"): {"sent": 1},
        ("delivered", "telegram"): {"failed": 1},
        ("driver-route", "telegram"): {"sent": 1},
        ("pre-delivery", "sms"): {"sent": 2},
        ("pre-delivery", "telegram"): {"sent": 1},
    }
    assert summary.messages_total == 7
    assert summary.messages_by_status == {"expired": 1, "failed": 1, "sent": 5}


def test_replans_and_support(summary: Summary) -> None:
    assert summary.replans == 4
    assert (summary.replan_latency_p50_ms, summary.replan_latency_p95_ms) == (120, 900)
    assert (summary.moved_per_replan_mean, summary.moved_per_replan_max) == (1.75, 4)
    assert summary.escalations == {"failed": 1, "late": 1, "low_rating": 1, "not_understood": 1}
    assert (summary.rescheduled, summary.opted_out) == (2, 1)


def test_an_empty_day_has_no_ratios(day_db: Path, tmp_path: Path) -> None:
    empty = summarize(day_db, date(2026, 1, 1))
    assert (empty.deliveries, empty.replans, empty.messages_total) == (0, 0, 0)
    assert empty.first_attempt_success_pct is None
    assert empty.replan_latency_p50_ms is None
    page = write_html(empty, day_db, tmp_path / "empty.html").read_text()
    assert "No stop was attempted." in page


def test_terminal_table(summary: Summary) -> None:
    console = Console(record=True, width=120)
    console.print(render_table(summary))
    text = console.export_text()
    for expected in ("66.7%", "60.0%", "120 / 900 ms", "1.8 / 4", "pre-delivery · sms", "2 (sent 2)"):
        assert expected in text


def test_html_report(summary: Summary, day_db: Path, tmp_path: Path) -> None:
    page = write_html(summary, day_db, tmp_path / "out" / "day.html", osm=True).read_text()
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        ET.fromstring(svg)  # well-formed: every text escaped
    assert SCRIPT not in page
    assert "Ada &lt;script&gt;alert(1)&lt;/script&gt; (V1)" in page
    assert "Bo &amp; Co (V2)" in page
    assert "<script" not in page
    for expected in ("66.7%", "60.0%", "+10.0 min", "+50.0 min", "120 / 900 ms", OSM_CREDIT):
        assert expected in page


def test_html_charts(summary: Summary, day_db: Path, tmp_path: Path) -> None:
    page = write_html(summary, day_db, tmp_path / "day.html").read_text()
    histogram, timeline, hourly = re.findall(r"<svg.*?</svg>", page, re.S)
    assert "<title>-35 to -30 min: 1</title>" in histogram
    assert "<title>50 to 55 min: 1</title>" in histogram
    assert timeline.count("<circle") == 5
    assert timeline.count("<polygon") == 2
    assert "A-4 · failed 10:10 · promised 10:00–11:00" in timeline
    assert "A-2 · delivered 12:40 · promised 12:00–13:00" in timeline
    assert "<title>earlier pre-delivery: 3</title>" in hourly  # sent the evening before
    assert "<title>08:00 driver-route: 1</title>" in hourly
    assert "<title>10:00 delivered: 1</title>" in hourly
    assert "driver-notes" not in hourly  # to a van that is not on the day's routes
    assert OSM_CREDIT not in page
