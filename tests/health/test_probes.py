"""GET /healthz and /readyz on the real app: no key needed, and /readyz says what it found."""

import sqlite3
from datetime import timedelta
from pathlib import Path

import httpx

from bot.app import App
from bot.clock import ManualClock
from bot.store import outbox
from tests.channels.conftest import message


def client(app: App) -> httpx.AsyncClient:
    """No X-API-Key: a process manager or a load balancer asks."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app.web), base_url="http://doorstep.test")


async def test_healthz_says_the_process_is_up_and_nothing_more(app: App) -> None:
    async with client(app) as web:
        answer = await web.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_readyz_says_what_waits_and_turns_503_while_another_process_locks_the_database(
    app: App, clock: ManualClock, db_path: Path
) -> None:
    now = clock.now()
    async with app.services.store.tx() as conn:
        await outbox.enqueue(conn, [message("late", now - timedelta(seconds=90))], now)

    async with client(app) as web:
        ready = await web.get("/readyz")
        with sqlite3.connect(db_path, isolation_level=None) as other:
            other.execute("BEGIN EXCLUSIVE")
            locked = await web.get("/readyz")
            other.execute("ROLLBACK")
        again = await web.get("/readyz")

    assert ready.status_code == 200
    facts = ready.json()
    assert facts["ready"] is True
    assert facts["database"]["ok"] is True
    assert facts["outbox"] == {"oldest_due_seconds": 90.0}
    assert facts["parked"] == {"inbox": 0, "outbox": 0}
    assert facts["loops"]["inbound-commit"]["ok"] is True
    assert locked.status_code == 503
    assert locked.json()["database"] == {
        "ok": False,
        "ms": locked.json()["database"]["ms"],
        "error": "OperationalError: database is locked",
    }
    assert again.status_code == 200
