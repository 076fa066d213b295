"""On the system clock, through `doorstep serve`: "2" offers times later today, and one can be taken.

The depot's zone is the one where it is nearest 10:00 now, so the day has time left at any hour.
"""

import asyncio
import sqlite3
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.sms_inbound import PATH, TOKEN, free_port, import_and_plan, start_server, stop_server, wait_ready
from bot.notify import format as fmt
from tests.sms.test_inbound import signed, sms

ZONES = tuple(f"Etc/GMT{offset:+d}" for offset in range(-14, 13))
PHONES = ("+4915110000001", "+4915110000002", "+4915110000003")
PARCEL = {"lon": 13.405, "window_start": "14:00", "window_end": "16:00", "service_minutes": 3, "size": 1,
          "locale": "en", "depot": "HUB"}  # fmt: skip


def mid_morning_zone() -> ZoneInfo:
    now = datetime.now(UTC)

    def from_ten(zone: ZoneInfo) -> int:
        local = now.astimezone(zone)
        return abs(local.hour * 60 + local.minute - 600)

    return min((ZoneInfo(name) for name in ZONES), key=from_ten)


def day_file(today: date, zone: ZoneInfo) -> dict[str, Any]:
    """One van at the depot, about to leave; three afternoon parcels, so the morning is free."""
    depot = {"code": "HUB", "name": "Hub", "address": "Am Hub 1", "lat": 52.52, "lon": 13.405,
             "timezone": zone.key}  # fmt: skip
    driver = {"code": "VAN01", "name": "Driver 1", "depot": "HUB", "capacity": 20,
              "shift_start": "05:00", "shift_end": "23:00"}  # fmt: skip
    deliveries = [parcel(n, phone, today) for n, phone in enumerate(PHONES, 1)]
    return {"depots": [depot], "drivers": [driver], "deliveries": deliveries}


def parcel(n: int, phone: str, today: date) -> dict[str, Any]:
    where = {"address": f"Torstraße {n}", "lat": 52.52 + n / 200, "date": today.isoformat()}
    return PARCEL | where | {"order_id": f"LIVE-{n}", "name": f"Recipient {n}", "phone": phone}


async def prepare(folder: Path, today: date, zone: ZoneInfo) -> None:
    data = day_file(today, zone)
    await import_and_plan(folder / "doorstep.db", data, today, actor="test")


async def text(client: httpx.AsyncClient, sid: str, body: str) -> None:
    form = sms(sid, PHONES[0], body)
    answer = await client.post(PATH, data=form, headers=signed(f"{client.base_url}{PATH}", form, TOKEN))
    assert answer.status_code == 200


def query(db: Path, sql: str, *params: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


async def answer(db: Path, kind: str) -> str:
    """The body of the first `kind` message to the recipient, once the server has queued it."""
    sql = "SELECT body FROM messages WHERE kind = ? AND address = ? ORDER BY id"
    for _ in range(200):
        if rows := query(db, sql, kind, PHONES[0]):
            return str(rows[0][0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} answer within 20 s")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def slot(line: str, today: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The window of an offered line "2) Mon 23 Nov 13:00-15:00" on `today`, in UTC."""
    hours = line.rsplit(" ", 1)[1].split("-")
    start, end = (datetime.combine(today, time.fromisoformat(h), zone).astimezone(UTC) for h in hours)
    return start, end


async def test_a_recipient_can_move_to_a_time_later_today(tmp_path: Path) -> None:
    zone = mid_morning_zone()
    today = datetime.now(zone).date()
    await prepare(tmp_path, today, zone)
    db, port = tmp_path / "doorstep.db", free_port()
    server = start_server(tmp_path, port)
    try:
        await wait_ready(f"http://127.0.0.1:{port}", server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await text(client, "SM" + "1" * 32, "2")
            offer = await answer(db, "slots-offered")
            same_day = [line for line in offer.splitlines()[1:] if fmt.day(today, "en") in line]
            assert same_day, offer
            chosen = same_day[-1]  # the latest: still ahead of the cut-off when the answer comes
            await text(client, "SM" + "2" * 32, chosen.split(")")[0])
            done = await answer(db, "rescheduled")
    finally:
        stop_server(server)

    assert fmt.day(today, "en") in done, done
    start, end = slot(chosen, today, zone)
    [(window_start, window_end, status)] = query(
        db, "SELECT window_start, window_end, status FROM deliveries WHERE phone = ?", PHONES[0]
    )
    assert (at(window_start), at(window_end), status) == (start, end, "planned")
    [(promised_start, promised_end)] = query(
        db,
        "SELECT p.start, p.end FROM promises p JOIN deliveries d ON d.id = p.delivery_id "
        "WHERE d.phone = ? ORDER BY p.version DESC LIMIT 1",
        PHONES[0],
    )
    assert start <= at(promised_start) < at(promised_end) <= end
    assert at(promised_start).astimezone(zone).date() == today
