"""sim.report against a small finished day written through the real schema (migrations and column types)."""

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from bot.domain.figures import DayFigures
from bot.store.db import open_store
from eta.geo import haversine_m
from sim.report import OSM_CREDIT, Summary, render_table, summarize, write_html
from tests import known_day
from tests.known_day import DEPOT, SCRIPT, where

DAY = known_day.DAY


@pytest.fixture
async def day_db(db_path: Path) -> Path:
    store = await open_store(f"sqlite+aiosqlite:///{db_path}")
    try:
        await known_day.write(store)
    finally:
        await store.close()
    return db_path


@pytest.fixture
async def summary(day_db: Path) -> Summary:
    return await summarize(day_db, DAY)


def km(*stops: int) -> float:
    legs = [DEPOT, *(where(n) for n in stops)]
    return sum(haversine_m(a, b) for a, b in itertools.pairwise(legs)) / 1000


def assert_known_day(f: DayFigures) -> None:
    """Every figure of tests/known_day.py, worked out by hand from its table."""
    assert (f.parcels, f.delivered, f.failed, f.with_agreed) == (8, 6, 1, 6)
    assert f.in_agreed_pct == pytest.approx(100 * 3 / 6)
    assert f.in_first_pct == pytest.approx(100 * 1 / 6)
    assert f.in_last_pct == pytest.approx(100 * 4 / 6)
    assert f.errors_min == pytest.approx((0, 70, 50, 20, -35, 0))  # by delivery id
    assert (f.error_median_min, f.error_p90_min) == (10, 70)
    assert (f.worst_early_min, f.worst_late_min) == (-35, 70)
    assert f.first_attempt_pct == pytest.approx(100 * 4 / 7)  # failed first
    assert f.failed_attempts == {"not_home": 1, "refused": 1}  # A-10's failure was the day before
    ada, bo = f.drivers
    assert (ada.name, ada.stops, ada.on_time, ada.failures) == (f"Ada {SCRIPT}", 4, 1, 0)
    assert (bo.name, bo.stops, bo.on_time, bo.failures) == ("Bo & Co", 4, 2, 2)
    assert ada.km == pytest.approx(km(7, 1, 2, 3))
    assert bo.km == pytest.approx(km(4, 10, 4, 5))
    assert ada.hours == pytest.approx(16 / 3)  # 08:00-13:20
    assert bo.hours == 7.0  # 08:30-15:30
    assert (ada.idle_min, bo.idle_min) == (0, 18)  # A-1 arrived 2 min (its service) before; A-4 20 min
    assert f.messages_per_delivered == pytest.approx(16 / 6)  # 14 SMS, 2 Telegram; not A-10's of 2 days back
    assert f.segments_per_delivered == pytest.approx(14 / 6)
    assert f.sent_per_parcel == {"sms": 14 / 8, "telegram": 2 / 8}
    assert f.received_per_parcel == {"telegram": 1 / 8}
    assert f.window_updates_per_recipient == 1 / 8  # A-2's delay
    assert (f.opted_out, f.opt_out_pct) == (1, 12.5)
    assert (f.rescheduled, f.reschedule_pct) == (2, 25.0)
    assert f.first_staff_answer_median_min == 12
    assert [(p.order_id, p.detail) for p in f.failed_list] == [("A-5", "refused")]
    assert [(p.order_id, p.detail) for p in f.late_list] == [
        ("A-2", "+40 min"), ("A-3", "+20 min"), ("A-7", "-5 min")
    ]  # fmt: skip
    assert [(p.order_id, p.detail) for p in f.escalated_list] == [
        ("A-2", "late"), ("A-3", "low_rating"), ("A-5", "failed")
    ]  # fmt: skip


def test_delivery_figures(summary: Summary) -> None:
    assert_known_day(summary.figures)
    assert summary.timezone == "Europe/Berlin"


def test_messages_of_the_day(summary: Summary) -> None:
    assert summary.messages == {
        ("delay", "sms"): {"expired": 1, "sent": 1},
        ("delivered", "sms"): {"sent": 2},
        ("delivered", "telegram"): {"failed": 1},
        ("driver-route", "telegram"): {"sent": 1},
        ("failed", "sms"): {"sent": 1},
        ("nearby", "sms"): {"sent": 1},
        ("out-for-delivery", "sms"): {"sent": 1},
        ("pre-delivery", "sms"): {"sent": 7},
        ("pre-delivery", "telegram"): {"sent": 1},
        ("rescheduled", "sms"): {"sent": 2},
        ("staff-reply", "telegram"): {"sent": 1},
    }
    assert summary.messages_total == 20
    assert summary.messages_by_status == {"expired": 1, "failed": 1, "sent": 18}


def test_replans_and_support(summary: Summary) -> None:
    assert summary.replans == 4
    assert (summary.replan_latency_p50_ms, summary.replan_latency_p95_ms) == (120, 900)
    assert (summary.moved_per_replan_mean, summary.moved_per_replan_max) == (1.75, 4)
    assert summary.escalations == {"failed": 1, "late": 1, "low_rating": 1, "not_understood": 1}


async def test_an_empty_day_has_no_ratios(day_db: Path, tmp_path: Path) -> None:
    empty = await summarize(day_db, date(2026, 1, 1))
    assert (empty.figures.parcels, empty.replans, empty.messages_total) == (0, 0, 0)
    assert (empty.figures.first_attempt_pct, empty.figures.in_agreed_pct) == (None, None)
    assert empty.figures.messages_per_delivered is None
    assert empty.replan_latency_p50_ms is None
    page = write_html(empty, day_db, tmp_path / "empty.html").read_text()
    assert "No stop was attempted." in page


def test_terminal_table(summary: Summary) -> None:
    console = Console(record=True, width=120)
    console.print(render_table(summary))
    text = console.export_text()
    for expected in ("50.0%", "16.7%", "57.1%", "+10.0 min", "+70.0 min", "-35.0 min", "70.0 min",
                     "2.67", "120 / 900 ms", "1.8 / 4", "pre-delivery · sms", "6 of 6"):  # fmt: skip
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
    for expected in (
        "50.0%",
        "16.7%",
        "66.7%",
        "57.1%",
        "+10.0 min",
        "+70.0 min",
        "120 / 900 ms",
        OSM_CREDIT,
    ):
        assert expected in page
    assert "<td>A-3</td><td>+20 min</td>" in page  # the lists
    assert '<td class="n">18 min</td>' in page  # Bo's idle time


def test_html_charts(summary: Summary, day_db: Path, tmp_path: Path) -> None:
    page = write_html(summary, day_db, tmp_path / "day.html").read_text()
    histogram, timeline, hourly = re.findall(r"<svg.*?</svg>", page, re.S)
    assert "<title>-35 to -30 min: 1</title>" in histogram
    assert "<title>70 to 75 min: 1</title>" in histogram
    assert timeline.count("<circle") == 6
    assert timeline.count("<polygon") == 2
    assert "A-4 · failed 10:10 · agreed 10:00–11:00" in timeline
    assert "A-2 · delivered 12:40 · agreed 11:00–12:00" in timeline
    assert "<title>earlier pre-delivery: 8</title>" in hourly  # sent the evening(s) before
    assert "<title>08:00 driver-route: 1</title>" in hourly
    assert "<title>10:00 delivered: 1</title>" in hourly
    assert "driver-notes" not in hourly  # to a van that is not on the day's routes
    assert OSM_CREDIT not in page
