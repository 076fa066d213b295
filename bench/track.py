"""The recipient's page on a busy day: page views, and live viewers hearing of a re-plan.

    python -m bench.track [--deliveries 5000] [--routes 100] [--viewers 500] [--pages 300]

The day of bench/console.py (the same tables, bulk inserted: deliveries on routes, a promise ledger,
50,000 rows of messages, events and escalations; 14:00 local, a little over half the stops done) gets a
page link per delivery. A separate process serves it: the real web app (`build_app`, uvicorn, uvloop) on
loopback, with the clock standing at 14:00 and the page's request limits lifted (every request here comes
from one address); no background loops run in it.

- Page views: `--pages` GETs of /t/{token}, one at a time, for parcels picked at random (done and on
  the road), through HTTP on loopback.
- Live viewers: `--viewers` browsers' streams (/t/{token}/live) held open at once, on parcels still on
  the road (the routes' open stops, route by route). Then each of their vans reports a position 33 km
  off (POST /api/drivers/{id}/position, one van after the other): its route is re-timed and the windows of
  its stops move. A viewer's update time runs from the moment its van's report is sent to the moment its
  stream brings a different window; the report's own re-plan is inside it.

Last line: `track page_p95_ms=X viewers=N update_p95_s=Y` (N: viewers who saw their window change). A
viewer whose stream brought no change within `--wait` seconds is counted in `unchanged=` once its page's
data feed confirms the window did not move (its narrowed window already sat at the end of its promise);
if the feed shows a change the stream did not bring, the bench fails.
"""

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.console import NOW, fill, pct
from bot.store import links
from bot.store import tables as t
from bot.store.db import open_store

FAR = (52.80, 13.40)  # 33 km north of the day's stops: every open stop of the van comes over an hour later


def settings_env(folder: Path, api_key: str) -> dict[str, str]:
    return {
        "DOORSTEP_STORE__URL": f"sqlite+aiosqlite:///{folder / 'track.db'}",
        "DOORSTEP_SANDBOX__PATH": str(folder / "sandbox.db"),
        "DOORSTEP_WEB__API_KEY": api_key,
    }


async def prepare(folder: Path, args: argparse.Namespace) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """The day, and a link for every delivery (token by delivery id)."""
    store = await open_store(f"sqlite+aiosqlite:///{folder / 'track.db'}")
    try:
        ds = await fill(store, args.deliveries, args.routes, args.messages, args.seed)
        async with store.tx() as conn:
            tokens = {d["id"]: await links.issue(conn, d["id"], NOW - timedelta(hours=20)) for d in ds}
            stops = (await conn.execute(sa.select(t.stops.c.delivery_id, t.stops.c.route_id))).all()
        by_route = dict(stops)
        for d in ds:
            d["route_id"] = by_route[d["id"]]
        return tokens, ds
    finally:
        await store.close()


def serve(folder: Path, port: int, api_key: str) -> None:
    """The server process: the real app on loopback, the clock at the bench's 14:00."""
    import uvicorn  # noqa: PLC0415 - only the server process needs it
    import uvloop  # noqa: PLC0415

    from bot.app import build_app, settle_heap  # noqa: PLC0415
    from bot.clock import ManualClock  # noqa: PLC0415
    from bot.config import Settings  # noqa: PLC0415
    from bot.web import state  # noqa: PLC0415
    from bot.web.throttle import Throttle  # noqa: PLC0415

    os.environ.update(settings_env(folder, api_key))

    async def run() -> None:
        app = await build_app(Settings(_env_file=None), ManualClock(NOW))
        web = state.of(app.web)
        web.page_per_address = web.page_per_link = Throttle(10**9, timedelta(minutes=1))
        settle_heap()
        config = uvicorn.Config(app.web, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        try:
            await uvicorn.Server(config).serve()
        finally:
            await app.services.close()

    asyncio.run(run(), loop_factory=uvloop.new_event_loop)


@asynccontextmanager
async def server(folder: Path, api_key: str) -> AsyncIterator[str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [
            sys.executable,
            "-m",
            "bench.track",
            "--serve",
            str(folder),
            "--port",
            str(port),
            f"--key={api_key}",
        ],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(30)


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def page_views(base: str, tokens: dict[int, str], count: int, seed: int) -> list[float]:
    import random  # noqa: PLC0415

    rng = random.Random(seed)
    picked = rng.sample(sorted(tokens), min(count, len(tokens)))
    spent: list[float] = []
    async with httpx.AsyncClient(base_url=base) as client:
        await client.get(f"/t/{tokens[picked[0]]}")  # the first view makes the day's road snapshot
        for delivery_id in picked:
            started = time.perf_counter()
            answer = await client.get(f"/t/{tokens[delivery_id]}")
            spent.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (delivery_id, answer.status_code)
    return spent


class Viewer:
    """One open page's stream: the window it was shown first, and when a different one came."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.first: str | None = None
        self.changed_at: float | None = None
        self.ready = asyncio.Event()

    async def watch(self, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", f"/t/{self.token}/live") as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data: "):
                    continue
                feed = json.loads(line.removeprefix("data: "))
                window = json.dumps(feed["live"])
                if self.first is None:
                    self.first = window
                    self.ready.set()
                elif window != self.first and self.changed_at is None:
                    self.changed_at = time.perf_counter()
                    return


async def live_viewers(
    base: str, api_key: str, tokens: dict[int, str], ds: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[list[float], int, list[float]]:
    """Update times (s) of the viewers who saw their window change, how many did not, and each van's
    report-to-answer time (s, the re-plan)."""
    on_road = [d for d in ds if d["status"] == "out_for_delivery"]
    viewers_of: dict[int, list[Viewer]] = {}
    for d in on_road[: args.viewers]:
        viewers_of.setdefault(d["route_id"], []).append(Viewer(tokens[d["id"]]))
    everyone = [v for vs in viewers_of.values() for v in vs]
    limits = httpx.Limits(max_connections=len(everyone) + 10, max_keepalive_connections=len(everyone) + 10)
    timeout = httpx.Timeout(args.wait + 60)
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client,
        httpx.AsyncClient(base_url=base, headers={"X-API-Key": api_key}, timeout=60) as ops,
    ):
        watching = [asyncio.create_task(v.watch(client)) for v in everyone]
        await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in everyone)), 120)
        sent_at: dict[int, float] = {}
        replans: list[float] = []
        for route_id in viewers_of:
            sent_at[route_id] = time.perf_counter()
            answer = await ops.post(f"/api/drivers/{route_id}/position", json={"lat": FAR[0], "lon": FAR[1]})
            replans.append(time.perf_counter() - sent_at[route_id])
            assert answer.status_code == 204, answer.text
        await asyncio.wait(watching, timeout=args.wait)
        for task in watching:
            task.cancel()
        ended = await asyncio.gather(*watching, return_exceptions=True)
        broken = [e for e in ended if isinstance(e, Exception) and not isinstance(e, asyncio.CancelledError)]
        if broken:
            raise RuntimeError(f"{len(broken)} streams broke, the first: {broken[0]!r}")
        for viewer in (v for v in everyone if v.changed_at is None):  # their window truly did not move?
            now = json.dumps((await client.get(f"/t/{viewer.token}/feed")).json()["live"])
            if now != viewer.first:
                raise RuntimeError(f"a stream missed a change: {viewer.first} became {now}")
    took = [
        v.changed_at - sent_at[route_id]
        for route_id, vs in viewers_of.items()
        for v in vs
        if v.changed_at is not None
    ]
    return took, len(everyone) - len(took), replans


async def run(args: argparse.Namespace, folder: Path) -> None:
    started = time.perf_counter()
    tokens, ds = await prepare(folder, args)
    print(f"filled {len(ds)} deliveries with a link each ({time.perf_counter() - started:.1f} s)")
    api_key = secrets.token_urlsafe(24)
    async with server(folder, api_key) as base:
        spent = await page_views(base, tokens, args.pages, args.seed)
        p50, p95 = statistics.median(spent), pct(spent, 95)
        print(f"page views        n={len(spent)} p50_ms={p50:.1f} p95_ms={p95:.1f}")
        took, unchanged, replans = await live_viewers(base, api_key, tokens, ds, args)
    print(
        f"re-plans          n={len(replans)} p50_s={statistics.median(replans):.2f} "
        f"max_s={max(replans):.2f} (a van's position report, answered once its route is re-timed)"
    )
    update = pct(took, 95) if took else float("nan")
    print(
        f"live viewers      n={len(took) + unchanged} changed={len(took)} unchanged={unchanged} "
        f"update_p50_s={statistics.median(took) if took else float('nan'):.2f} (from the report sent)"
    )
    print(f"track page_p95_ms={pct(spent, 95):.1f} viewers={len(took)} update_p95_s={update:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=5_000)
    parser.add_argument("--routes", type=int, default=100)
    parser.add_argument("--messages", type=int, default=50_000, help="as bench/console.py")
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--pages", type=int, default=300, help="timed page views")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds viewers wait for their change")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.key)
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
