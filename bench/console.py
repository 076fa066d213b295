"""The support console's reads on a busy day: board, a delivery's timeline, search and the queue.

    python -m bench.console [--deliveries 5000] [--routes 100] [--messages 50000] [--runs 50]

A temporary SQLite store (migrated as `doorstep serve` migrates it) is filled with one day, bulk
inserted through the same tables: deliveries on routes of the active plan, their promise ledger
(one in ten re-promised), and `--messages` rows split as a day splits them: 60% outbound, 12%
inbound, 25% events (planned, out for delivery, delivered or failed), 3% escalations. The clock
stands at 14:00 local with a little over half the stops done. Each query runs `--runs` times in its
own read snapshot, as a page would. Then the same reads as staff meet them: the pages, through the
real web app (sign-in, session and CSRF checks, the privacy view, Jinja rendering of the HTML) over
in-process ASGI, `--runs` times each. Last line: `console p50_ms=X p95_ms=Y` over every timed page.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app import build_app, settle_heap
from bot.clock import ManualClock
from bot.config import Settings
from bot.console.board import BoardFilter, board
from bot.console.queue import queue
from bot.console.search import search
from bot.console.timeline import timeline
from bot.store import tables as t
from bot.store.db import Store, open_store
from bot.usecases import staff

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 23)
NOW = datetime.combine(DAY, clock_time(14, 0), ZONE).astimezone(UTC)
FIRST = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Jonas", "Lena", "Max", "Mia")
LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch")
SHARES = {"outbound": 0.60, "inbound": 0.12, "events": 0.25, "escalations": 0.03}
REASONS = ("not_understood", "person", "not_received", "low_rating", "late", "failed", "unreachable")
KINDS = ("pre-delivery", "out-for-delivery", "nearby", "delivered", "window-updated", "confirmed")
SLA_MINUTES = 30
Query = Callable[[AsyncConnection], Awaitable[object]]


def stamp(at: datetime) -> dict[str, datetime]:
    return {"created_at": at, "updated_at": at}


def local(hour: float) -> datetime:
    return datetime.combine(DAY, clock_time(0), ZONE).astimezone(UTC) + timedelta(hours=hour)


def people(n: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "phone": f"+49151{10_000_000 + i * 7919 % 89_999_999:08d}",
        }
        for i in range(n)
    ]


def day_rows(deliveries: int, routes: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Depot, drivers, recipients, deliveries, the plan's routes and stops, and the promise ledger."""
    eve = local(-6)
    who = people(deliveries, rng)
    rows: dict[str, list[dict[str, Any]]] = {
        "depots": [
            {
                "id": 1,
                "code": "BER",
                "name": "Berlin",
                "lat": 52.5,
                "lon": 13.4,
                "timezone": ZONE.key,
                **stamp(eve),
            }
        ],
        "drivers": [
            {
                "id": r + 1,
                "code": f"D{r + 1:03d}",
                "name": f"Driver {r + 1}",
                "depot_id": 1,
                "capacity": 200,
                "skills": [],
                "shift_start": clock_time(7, 30),
                "shift_end": clock_time(19, 30),
                **stamp(eve),
            }
            for r in range(routes)
        ],
        "recipients": [
            {
                "id": i + 1,
                "phone": p["phone"],
                "name": p["name"],
                "locale": "de",
                "timezone": ZONE.key,
                **stamp(eve),
            }
            for i, p in enumerate(who)
        ],
        "plans": [
            {
                "id": 1,
                "date": DAY,
                "version": 1,
                "active": True,
                "matrix": "haversine",
                "cost": 0,
                "solve_ms": 0,
                "created_at": eve,
            }
        ],
        "routes": [
            {
                "id": r + 1,
                "plan_id": 1,
                "driver_id": r + 1,
                "start_at": local(7.5),
                "end_at": local(19),
                "distance_m": 0,
                "duration_s": 0,
            }
            for r in range(routes)
        ],
    }
    per_route = -(-deliveries // routes)
    rows["deliveries"], rows["stops"], rows["promises"], rows["contacts"] = [], [], [], []
    for i, p in enumerate(who):
        route, seq = divmod(i, per_route)
        arrival = local(8 + 10 * seq / per_route) + timedelta(minutes=rng.gauss(0, 20))
        start = local(8 + 10 * seq / per_route).replace(minute=0, second=0, microsecond=0)
        done = arrival < NOW - timedelta(minutes=15)
        status = ("failed" if rng.random() < 0.03 else "delivered") if done else "out_for_delivery"
        rows["deliveries"].append(
            {
                "id": i + 1,
                "order_id": f"ORD-{DAY:%Y%m%d}-{i + 1:05d}",
                "recipient_id": i + 1,
                "depot_id": 1,
                **p,
                "locale": "de",
                "timezone": ZONE.key,
                "address": f"Torstraße {i % 200 + 1}, Berlin",
                "lat": 52.5,
                "lon": 13.4,
                "date": DAY,
                "window_start": local(8),
                "window_end": local(20),
                "service_s": 120,
                "size": 1,
                "skills": [],
                "status": status,
                "tracking_token": f"tok-{i}",
                **stamp(eve),
            }
        )
        rows["stops"].append(
            {
                "route_id": route + 1,
                "delivery_id": i + 1,
                "sequence": seq + 1,
                "planned_arrival": arrival,
                "promised_start": start,
                "promised_end": start + timedelta(hours=1),
            }
        )
        rows["promises"].append(
            {
                "delivery_id": i + 1,
                "version": 1,
                "start": start,
                "end": start + timedelta(hours=1),
                "reason": "planned",
                "created_at": eve,
            }
        )
        if i % 10 == 0:
            later = start + timedelta(minutes=30)
            rows["promises"].append(
                {
                    "delivery_id": i + 1,
                    "version": 2,
                    "start": later,
                    "end": later + timedelta(hours=1),
                    "reason": "replanned",
                    "created_at": local(9),
                }
            )
        rows["contacts"].append(
            {
                "recipient_id": i + 1,
                "channel": "sms",
                "address": p["phone"],
                "state": "active",
                "priority": 2,
                **stamp(eve),
            }
        )
    return rows


def traffic(
    day: dict[str, list[dict[str, Any]]], messages: int, rng: random.Random
) -> dict[str, list[dict[str, Any]]]:
    """Outbound, inbound, events and escalations about the day's deliveries, `messages` rows in all."""
    ds = day["deliveries"]
    counts = {name: round(messages * share) for name, share in SHARES.items()}
    out, inbound, log, raised = [], [], [], []
    for n in range(counts["outbound"]):
        d, at = rng.choice(ds), min(local(rng.uniform(-6, 14)), NOW)
        kind = "staff-reply" if n % 200 == 0 else rng.choice(KINDS)
        out.append(
            {
                "idem_key": f"b:{n}",
                "kind": kind,
                "channel": "sms" if n % 3 else "telegram",
                "address": d["phone"],
                "locale": "de",
                "timezone": ZONE.key,
                "delivery_id": d["id"],
                "recipient_id": d["id"],
                "body": f"Message {n} about {d['order_id']}",
                "payload": {},
                "urgent": False,
                "status": "sent",
                "due_at": at,
                "next_attempt_at": at,
                "attempts": 1,
                "provider_ref": f"SM{n}",
                "provider_status": "delivered",
                "sent_at": at,
                **stamp(at),
            }
        )
    for n in range(counts["inbound"]):
        d, at = rng.choice(ds), local(rng.uniform(7, 13.9))
        intent = rng.choice(("Confirm", "Confirm", "AskSlots", "SafeDrop", "Rate", "NotUnderstood", "Person"))
        inbound.append(
            {
                "channel": "sms",
                "provider_ref": f"in{n}",
                "address": d["phone"],
                "body": f"reply {n}",
                "raw": {},
                "status": "done",
                "delivery_id": d["id"],
                "intent": intent,
                "received_at": at,
                "processed_at": at,
            }
        )
    for n in range(counts["events"]):
        d = ds[n % len(ds)]
        kind = ("delivery.planned", "delivery.out_for_delivery", f"delivery.{d['status']}")[n // len(ds) % 3]
        log.append(
            {
                "at": local(-6 + (n // len(ds)) * 7),
                "kind": kind,
                "delivery_id": d["id"],
                "actor": "bench",
                "data": {},
            }
        )
    for n in range(counts["escalations"]):
        d, at = rng.choice(ds), local(rng.uniform(7, 13.9))
        resolved = n % 3 == 0
        raised.append(
            {
                "delivery_id": d["id"],
                "recipient_id": d["id"],
                "kind": rng.choice(REASONS),
                "detail": f"escalation {n}",
                "status": "resolved" if resolved else "open",
                "created_at": at,
                "resolved_at": NOW if resolved else None,
            }
        )
    return {"messages": out, "inbox": inbound, "events": log, "escalations": raised}


async def fill(store: Store, deliveries: int, routes: int, messages: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    day = day_rows(deliveries, routes, rng)
    rows = {**day, **traffic(day, messages, rng)}
    async with store.tx() as conn:
        for name, table in t.metadata.tables.items():
            if rows.get(name):
                await conn.execute(table.insert(), rows[name])
    return day["deliveries"]


async def timed(store: Store, query: Query, runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        async with store.read() as conn:
            await query(conn)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def queries(ds: list[dict[str, Any]], rng: random.Random) -> dict[str, Query]:
    def pick() -> dict[str, Any]:
        return rng.choice(ds)

    problems = BoardFilter(problems_only=True, text="straße 1")
    return {
        "board": lambda conn: board(conn, DAY, NOW),
        "board_filtered": lambda conn: board(conn, DAY, NOW, problems),
        "timeline": lambda conn: timeline(conn, pick()["id"]),
        "search_order": lambda conn: search(conn, pick()["order_id"][:-1]),
        "search_name": lambda conn: search(conn, pick()["name"].split()[-1].lower()),
        "search_phone": lambda conn: search(conn, "0" + pick()["phone"][3:6] + " " + pick()["phone"][6:10]),
        "queue": lambda conn: queue(conn, NOW, SLA_MINUTES),
    }


PASSWORD = "correct horse battery staple"


def pages(ds: list[dict[str, Any]], rng: random.Random) -> dict[str, Callable[[], str]]:
    def pick() -> dict[str, Any]:
        return rng.choice(ds)

    return {
        "page_board": lambda: f"/console/?date={DAY}",
        "page_board_filtered": lambda: f"/console/?date={DAY}&problems=1&text=stra%C3%9Fe+1",
        "page_delivery": lambda: f"/console/deliveries/{pick()['id']}",
        "page_search": lambda: f"/console/search?q={pick()['name'].split()[-1].lower()}",
        "page_queue": lambda: "/console/queue",
    }


async def time_pages(folder: Path, ds: list[dict[str, Any]], runs: int, seed: int) -> list[float]:
    """Every page `runs` times through the real app, signed in as an agent; prints p50/p95 per page."""
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{folder / 'console.db'}"},
        sandbox={"path": folder / "sandbox.db"},
        _env_file=None,
    )
    app = await build_app(settings, ManualClock(NOW))
    try:
        await staff.add_user(app.services, "bench", PASSWORD, "agent", actor="bench")
        transport = httpx.ASGITransport(app=app.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            form = (await client.get("/console/login")).text
            csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            login = {"username": "bench", "password": PASSWORD, "csrf_token": csrf}
            assert (await client.post("/console/login", data=login)).status_code == 303
            settle_heap()
            every: list[float] = []
            for name, url in pages(ds, random.Random(seed)).items():
                spent = []
                for _ in range(runs):
                    started = time.perf_counter()
                    answer = await client.get(url())
                    spent.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, (url, answer.status_code)
                every += spent
                print(f"{name:20} p50_ms={statistics.median(spent):7.1f} p95_ms={pct(spent, 95):7.1f}")
            return every
    finally:
        await app.services.close()


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(round(p / 100 * len(ordered) + 0.4999), 1) - 1]


async def run(args: argparse.Namespace, folder: Path) -> list[float]:
    store = await open_store(f"sqlite+aiosqlite:///{folder / 'console.db'}")
    try:
        started = time.perf_counter()
        ds = await fill(store, args.deliveries, args.routes, args.messages, args.seed)
        took = time.perf_counter() - started
        print(
            f"filled {args.deliveries} deliveries, {args.routes} routes, {args.messages} rows ({took:.1f} s)"
        )
        settle_heap()  # as `doorstep serve` does once started
        for name, query in queries(ds, random.Random(args.seed)).items():
            spent = await timed(store, query, args.runs)
            print(f"{name:20} p50_ms={statistics.median(spent):7.1f} p95_ms={pct(spent, 95):7.1f}")
    finally:
        await store.close()
    return await time_pages(folder, ds, args.runs, args.seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=5_000)
    parser.add_argument("--routes", type=int, default=100)
    parser.add_argument(
        "--messages", type=int, default=50_000, help="outbound + inbound + events + escalations"
    )
    parser.add_argument("--runs", type=int, default=50, help="timed calls per query")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        every = asyncio.run(run(args, Path(folder)))
    print(f"console p50_ms={statistics.median(every):.1f} p95_ms={pct(every, 95):.1f}")


if __name__ == "__main__":
    main()
