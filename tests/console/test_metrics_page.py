"""The metrics page on a day with known outcomes (tests/known_day.py): each figure as staff read it."""

import html
import re

import httpx

from bot.app import App
from bot.store.staff import StaffUser
from tests import known_day
from tests.console.conftest import sign_in

COUNTER = re.compile(r"<li><strong>([^<]*)</strong>([^<]*)</li>")


def counters(page: str) -> dict[str, str]:
    """label -> value of every counter on the page."""
    return {html.unescape(label).strip(): html.unescape(value) for value, label in COUNTER.findall(page)}


def table_rows(page: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert table, f"no table {table_id}"
    body = table[1].split("<tbody>", 1)[1]
    return [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def listed(page: str, list_id: str) -> list[str]:
    items = re.search(rf'<ul id="list-{list_id}">(.*?)</ul>', page, re.S)
    assert items, f"no list {list_id}"
    return [
        f"{order} {detail.strip()}"
        for href, order, detail in re.findall(r'<a href="([^"]+)">([^<]+)</a>([^<]*)</li>', items[1])
        if href.startswith("/console/deliveries/")
    ]


async def test_every_figure_of_a_known_day(app: App, console: httpx.AsyncClient, alice: StaffUser) -> None:
    await known_day.write(app.services.store)
    await sign_in(console, "alice")
    page = (await console.get("/console/metrics", params={"date": known_day.DAY.isoformat()})).text
    shown = counters(page)
    assert {k: shown[k] for k in ("parcels", "delivered", "inside the agreed window")} == {
        "parcels": "8",
        "delivered": "6",
        "inside the agreed window": "50.0%",
    }
    assert shown["inside the first window told"] == "16.7%"
    assert shown["inside the last window told"] == "66.7%"
    assert shown["first-attempt success"] == "57.1%"
    assert shown["rescheduled (2)"] == "25.0%"
    assert (shown["median"], shown["p90 (early or late)"]) == ("10.0 min", "70.0 min")
    assert (shown["worst early"], shown["worst late"]) == ("-35.0 min", "70.0 min")
    assert shown["messages per delivered parcel"] == "2.67"
    assert shown["SMS segments per delivered parcel"] == "2.33"
    assert shown["window updates per recipient"] == "0.12"
    assert shown["opted out (1)"] == "12.5%"
    assert shown["median to first staff answer"] == "12.0 min"
    assert "6 of 6 delivered parcels had one" in page
    ada, bo = table_rows(page, "drivers")
    assert ada[:4] == [f"Ada {known_day.SCRIPT}", "4", "1", "0"]
    assert bo[:4] == ["Bo & Co", "4", "2", "2"]
    assert (ada[5], bo[5], ada[6], bo[6]) == ("5.3", "7.0", "0 min", "18 min")
    assert "not home 1 · refused 1" in page
    assert listed(page, "failed") == ["A-5 refused"]
    assert listed(page, "late") == ["A-2 +40 min", "A-3 +20 min", "A-7 -5 min"]
    assert listed(page, "escalated") == ["A-2 late", "A-3 low rating", "A-5 failed"]
    assert known_day.SCRIPT not in page
