"""Inbound SMS into the real server: signed Twilio webhooks at `doorstep serve`, from another process.

    python -m bench.sms_inbound [--requests 5000] [--concurrency 16] [--seconds 60] [--deliveries 200]

A temporary SQLite file gets a day of deliveries (sim.sample, tomorrow in Berlin, planned with VROOM);
then `python -m bot serve` runs in its own process on a free loopback port, configured only through
DOORSTEP_* variables (a Twilio auth token and a public URL, so the webhook is on). This process posts
signed `POST /webhooks/twilio/sms` forms over keep-alive connections (aiohttp, `--concurrency` at a
time; forms and signatures are made before the clock starts) until `--requests` are done or
`--seconds` have passed: each a new MessageSid from one of the day's recipients ("1", STATUS, HELP,
"ok", free text), and about `--duplicates` of them Twilio's retries of a sid already acknowledged,
which must change nothing. The server answers each new message off the request path (its Answerer,
which gives way to webhooks during a burst), as in production: that work still competes with the
webhooks for the server's CPU, and the client competes with both for the machine's. With C requests
in flight at R requests/s, queueing alone is C/R on average (16 at 500/s: 32 ms).

Measured: requests/s over the whole run, p50/p99 of the webhook's response time as the client sees it
(every answer must be a 200), and the server's CPU time per request (from /proc; the machine's other
load barely moves it). Then, from the SQLite file, how many messages the server had answered
when the load stopped and how long it took for the rest (up to `--drain` seconds: the webhook's
writes go before the answers', so under a burst the answers lag), and how often each sent sid is in
the inbox (once). Last line:
`sms_inbound req_per_s=X p50_ms=Y p99_ms=Z sent=N stored=M` (N distinct sids sent, M distinct stored).
"""

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
import httpx
from twilio.request_validator import RequestValidator

from bot.composition import build_services
from bot.config import Settings
from bot.usecases.fleet import FleetIn
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from sim.sample import sample_day

TOKEN = "bench-twilio-auth-token"
PATH = "/webhooks/twilio/sms"
BODIES = ("1", "STATUS", "HELP", "ok", "Wo?", "Is it the big box or the small one?")
BERLIN = ZoneInfo("Europe/Berlin")


async def prepare(db: Path, deliveries: int) -> list[str]:
    """Tomorrow's day in Berlin, imported and planned; the recipients' phone numbers."""
    day = datetime.now(BERLIN).date() + timedelta(days=1)
    data = sample_day(day, deliveries, max(1, deliveries // 40), seed=5)
    await import_and_plan(db, data, day, actor="bench")
    return sorted({row["phone"] for row in data["deliveries"]})


async def import_and_plan(db: Path, data: dict[str, Any], day: date, *, actor: str) -> None:
    """A day file (sim.sample's shape) into a fresh database at `db`, planned the nightly way."""
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{db}"},
        eta={"exploration": 1},
        sandbox={"path": db.with_name("sandbox.db")},
        _env_file=None,
    )
    services = await build_services(settings)
    fleet_in = FleetIn.model_validate({k: data[k] for k in ("depots", "drivers")})
    rows = list(enumerate(data["deliveries"], 1))
    try:
        await import_deliveries(services.store, services.clock, settings.day, rows, fleet_in=fleet_in)
        await plan_date(services.store, services.clock, settings.eta, services.matrix, day, actor=actor)
    finally:
        await services.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """`doorstep serve` in its own process, in `folder` (no stray .env), set up only by the environment;
    what it prints goes to `folder`/server.log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    env |= {
        "DOORSTEP_STORE__URL": f"sqlite+aiosqlite:///{folder / 'doorstep.db'}",
        "DOORSTEP_SANDBOX__PATH": str(folder / "sandbox.db"),
        "DOORSTEP_WEB__API_KEY": "bench-api-key-0123456789",
        "DOORSTEP_WEB__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DOORSTEP_TWILIO__AUTH_TOKEN": TOKEN,
        "DOORSTEP_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with (folder / "server.log").open("wb") as log:
        return subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


async def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as client, asyncio.timeout(60):
        while server.poll() is None:
            try:
                if (await client.get("/openapi.json")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise ServerGoneError(f"the server exited with {server.returncode}")


class ServerGoneError(Exception):
    pass


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@dataclass(frozen=True)
class Post:
    sid: str
    body: bytes  # the form, url-encoded
    signature: str


@dataclass
class Load:
    """What the client sends and sees. Forms and signatures are made before the clock starts."""

    messages: list[Post]
    duplicates: float
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    sent: list[str] = field(default_factory=list)  # every new sid posted
    acknowledged: list[Post] = field(default_factory=list)  # new ones that got their 200: retried later
    redelivered: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def next_post(self, n: int) -> tuple[Post, bool]:
        """The n-th request: a Twilio retry of an answered sid now and then, else a new message."""
        if self.acknowledged and self.rng.random() < self.duplicates:
            return self.rng.choice(self.acknowledged), True
        self.sent.append(self.messages[n].sid)
        return self.messages[n], False

    async def post(self, session: aiohttp.ClientSession, url: str, post: Post, again: bool) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": post.signature}
        started = time.perf_counter()
        async with session.post(url, data=post.body, headers=headers) as answer:
            await answer.read()
        self.latencies.append(time.perf_counter() - started)
        if answer.status != 200:
            self.errors.append(f"{post.sid}: {answer.status}")
        elif again:
            self.redelivered += 1
        else:
            self.acknowledged.append(post)


def messages(count: int, phones: list[str], public: str) -> list[Post]:
    """`count` new inbound SMS from the day's recipients, signed for `public` + the webhook's path."""
    rng, validator = random.Random(5), RequestValidator(TOKEN)
    posts = []
    for n in range(count):
        sid = f"SM{n:032x}"
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": rng.choice(phones),
                "To": "+4930555000", "Body": rng.choice(BODIES), "NumMedia": "0"}  # fmt: skip
        signature = validator.compute_signature(public + PATH, form)
        posts.append(Post(sid, urlencode(form).encode(), signature))
    return posts


async def drive(load: Load, base: str, concurrency: int, seconds: float) -> float:
    """Post until every message is out or `seconds` are up, over `concurrency` keep-alive connections."""
    counter = iter(range(len(load.messages)))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            for n in counter:
                if time.perf_counter() > deadline:
                    return
                await load.post(session, base + PATH, *load.next_post(n))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def stored_counts(db: Path, sids: list[str]) -> dict[str, int]:
    """How many inbox rows each sid has, read straight from the file."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT provider_ref, count(*) FROM inbox WHERE channel = 'sms' GROUP BY 1")
        counts = dict(rows.fetchall())
    return {sid: counts.get(sid, 0) for sid in sids}


def answered(db: Path) -> tuple[int, int]:
    """(handled, total) inbox rows: handled ones are no longer 'received'."""
    with sqlite3.connect(db) as conn:
        total, waiting = conn.execute(
            "SELECT count(*), coalesce(sum(status = 'received'), 0) FROM inbox"
        ).fetchone()
    return total - waiting, total


async def report_answers(db: Path, drain: float) -> None:
    """How far the server's answers lagged: answered when the load stopped, and how long the rest took."""
    handled, total = answered(db)
    print(f"answered when the load stopped: {handled} of {total}")
    started = time.perf_counter()
    while handled < total and time.perf_counter() - started < drain:
        await asyncio.sleep(0.25)
        handled, total = answered(db)
    print(f"answered {handled} of {total} within {time.perf_counter() - started:.1f} s after the load")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc: a figure the machine's other
    load barely moves, unlike requests/s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


async def run(args: argparse.Namespace, folder: Path) -> tuple[Load, float, float]:
    db = folder / "doorstep.db"
    phones = await prepare(db, args.deliveries)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(folder, port)
    try:
        await wait_ready(base, server)
        load = Load(messages(args.requests, phones, base), args.duplicates)
        cpu = cpu_seconds(server.pid)
        elapsed = await drive(load, base, args.concurrency, args.seconds)
        cpu = cpu_seconds(server.pid) - cpu
        await report_answers(db, args.drain)
    finally:
        stop_server(server)
    return load, elapsed, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000, help="webhook calls in all, retries included")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (connections)")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop sending after this long")
    parser.add_argument("--deliveries", type=int, default=200, help="deliveries (recipients) in the day")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the answers after")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of requests that are retries")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        try:
            load, elapsed, cpu = asyncio.run(run(args, folder))
        except (ServerGoneError, TimeoutError):
            print((folder / "server.log").read_text()[-3000:], file=sys.stderr)
            raise
        counts = stored_counts(folder / "doorstep.db", load.sent)
    twice = sum(1 for c in counts.values() if c > 1)
    print(f"requests={len(load.latencies)} concurrency={args.concurrency} seconds={elapsed:.1f}")
    print(f"retries={load.redelivered} stored_twice={twice} missing={list(counts.values()).count(0)}")
    print(f"server cpu during the load: {1000 * cpu / len(load.latencies):.2f} ms per request")
    for error in load.errors[:5]:
        print(f"error: {error}")
    p50, p99 = percentile(load.latencies, 0.5) * 1000, percentile(load.latencies, 0.99) * 1000
    stored = sum(1 for c in counts.values() if c)
    rate = len(load.latencies) / elapsed
    figures = f"req_per_s={rate:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f}"
    print(f"sms_inbound {figures} sent={len(counts)} stored={stored}")


if __name__ == "__main__":
    main()
