"""Readiness: can this process do its work now? The database takes one short write, and every
background loop is alive and has finished a pass lately. Beside it, what waits (the oldest due
message) and what was parked. Read by GET /readyz and `doorstep status`."""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.config import HealthSettings
from bot.store import health, inbox, outbox
from bot.store.db import Store
from bot.supervise import Supervisor, describe


@dataclass(frozen=True, slots=True)
class LoopFacts:
    name: str
    alive: bool
    healthy: bool  # alive, and passed within its time
    last_pass: datetime | None
    seconds_since_pass: float | None  # None: no pass yet
    restarts: int
    last_error: str | None  # the type of the last error only: /readyz asks for no key


@dataclass(frozen=True, slots=True)
class Report:
    database_error: str | None  # None: it took a write within the timeout
    database_ms: float
    oldest_due_seconds: float | None  # how long the oldest due message has waited (None: none is due)
    parked_inbox: int | None  # None: could not be read
    parked_outbox: int | None
    loops: tuple[LoopFacts, ...] = ()

    @property
    def ready(self) -> bool:
        return self.database_error is None and all(loop.healthy for loop in self.loops)


async def check(store: Store, clock: Clock, settings: HealthSettings, loops: Supervisor | None) -> Report:
    """Probe the database (one write, at most `db_timeout_seconds`), read what waits, list the loops."""
    started = time.perf_counter()
    error = await _write_error(store, clock, settings.db_timeout_seconds)
    took = round((time.perf_counter() - started) * 1000, 1)
    oldest, parked_in, parked_out = await _waiting(store, clock, settings.db_timeout_seconds)
    return Report(error, took, oldest, parked_in, parked_out, _loops(loops))


async def _write_error(store: Store, clock: Clock, seconds: float) -> str | None:
    try:
        await store.probe(lambda conn: health.touch(conn, clock.now()), seconds)
    except TimeoutError:
        return f"no write within {seconds:g} s"
    except Exception as error:  # whatever it is, the database is not usable now: say so, never raise
        return describe(error)
    return None


async def _waiting(store: Store, clock: Clock, seconds: float) -> tuple[float | None, int | None, int | None]:
    try:
        async with asyncio.timeout(seconds), store.read() as conn:
            due = await outbox.next_due(conn)
            parked_in, _ = await inbox.poisoned(conn, limit=0)
            parked_out, _ = await outbox.poisoned(conn, limit=0)
    except Exception:  # unreadable as well: the write check says why
        return None, None, None
    now = clock.now()
    oldest = round((now - due).total_seconds(), 1) if due is not None and due <= now else None
    return oldest, parked_in, parked_out


def _loops(supervisor: Supervisor | None) -> tuple[LoopFacts, ...]:
    if supervisor is None:
        return ()
    return tuple(
        LoopFacts(
            loop.name,
            loop.alive,
            loop.healthy,
            loop.last_pass,
            round(loop.since_pass(), 1) if loop.last_pass else None,
            loop.restarts,
            loop.last_error_type,
        )
        for loop in supervisor.loops.values()
    )


def as_json(report: Report) -> dict[str, Any]:
    """What GET /readyz answers."""
    return {
        "ready": report.ready,
        "database": {
            "ok": report.database_error is None,
            "ms": report.database_ms,
            "error": report.database_error,
        },
        "loops": {
            loop.name: {
                "alive": loop.alive,
                "ok": loop.healthy,
                "last_pass": loop.last_pass.isoformat() if loop.last_pass else None,
                "seconds_since_pass": loop.seconds_since_pass,
                "restarts": loop.restarts,
                "last_error": loop.last_error,
            }
            for loop in report.loops
        },
        "outbox": {"oldest_due_seconds": report.oldest_due_seconds},
        "parked": {"inbox": report.parked_inbox, "outbox": report.parked_outbox},
    }
