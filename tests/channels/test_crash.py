"""Acceptance: SIGKILL the dispatcher mid-batch; after a restart every due message is sent, none twice."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import outbox
from bot.store.db import open_store
from tests.channels.conftest import message

COUNT = 400
LEASE_S = 5


def env_for(folder: Path, *, reconcile: bool) -> dict[str, str]:
    return {
        **os.environ,
        "DOORSTEP_STORE__URL": f"sqlite+aiosqlite:///{folder / 'doorstep.db'}",
        "DOORSTEP_SANDBOX__PATH": str(folder / "sandbox.db"),
        "DOORSTEP_SANDBOX__LATENCY_MS": "5",
        "DOORSTEP_SANDBOX__RECONCILE": str(reconcile).lower(),
        "DOORSTEP_OUTBOX__LEASE_SECONDS": str(LEASE_S),
        "DOORSTEP_OUTBOX__BATCH_SIZE": "100",
        "DOORSTEP_OUTBOX__CONCURRENCY": "10",
        "DOORSTEP_OUTBOX__PER_RECIPIENT_SECONDS": "0",
        "DOORSTEP_OUTBOX__SMS_PER_SECOND": "100000",
        "DOORSTEP_LOG_LEVEL": "WARNING",
    }


def doorstep(folder: Path, *args: str, reconcile: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=folder,
        env=env_for(folder, reconcile=reconcile),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def provider_copies(folder: Path) -> Counter[int]:
    """What the sandbox provider holds; empty until the dispatcher has created its file and table."""
    if not (folder / "sandbox.db").exists():
        return Counter()
    with sqlite3.connect(folder / "sandbox.db") as conn:
        try:
            return Counter(row[0] for row in conn.execute("select message_id from sent"))
        except sqlite3.OperationalError:  # the file exists but its table is not there yet
            return Counter()


def outbox_states(folder: Path) -> Counter[str]:
    with sqlite3.connect(folder / "doorstep.db") as conn:
        return Counter(row[0] for row in conn.execute("select status from messages"))


async def fill_outbox(folder: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{folder / 'doorstep.db'}")
    now = datetime.now(UTC)
    async with store.tx() as conn:
        await outbox.enqueue(conn, [message(f"m{n}", now, urgent=True) for n in range(COUNT)], now)
    await store.close()


def kill_mid_batch(folder: Path, *, reconcile: bool) -> int:
    """Start a dispatcher, SIGKILL it once the provider has some of the messages; return how many it had."""
    worker = doorstep(folder, "dispatch", reconcile=reconcile)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            time.sleep(0.02)
            if sum(provider_copies(folder).values()) >= 130:
                break
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate()
    return sum(provider_copies(folder).values())


def restart_and_drain(folder: Path, *, reconcile: bool) -> str:
    time.sleep(LEASE_S + 0.5)  # the dead worker's lease runs out
    finished = doorstep(folder, "dispatch", "--drain", reconcile=reconcile)
    output, _ = finished.communicate(timeout=120)
    assert finished.returncode == 0, output.decode()
    report = doorstep(folder, "outbox", reconcile=reconcile)
    text, _ = report.communicate(timeout=60)
    return text.decode()


@pytest.mark.slow
async def test_after_a_crash_every_message_is_sent_exactly_once(tmp_path: Path) -> None:
    await fill_outbox(tmp_path)
    at_kill = await asyncio.to_thread(kill_mid_batch, tmp_path, reconcile=True)
    states_at_kill = outbox_states(tmp_path)
    assert 0 < at_kill < COUNT
    assert states_at_kill["sending"] > 0  # the kill landed mid-batch: outcomes were lost with the process

    report = await asyncio.to_thread(restart_and_drain, tmp_path, reconcile=True)

    copies = provider_copies(tmp_path)
    assert sorted(copies) == list(range(1, COUNT + 1))
    assert max(copies.values()) == 1
    assert outbox_states(tmp_path) == {"sent": COUNT}
    assert f"sent {COUNT}" in " ".join(report.split())


@pytest.mark.slow
async def test_when_the_provider_cannot_be_asked_the_in_flight_ones_are_reported_unknown(
    tmp_path: Path,
) -> None:
    await fill_outbox(tmp_path)
    await asyncio.to_thread(kill_mid_batch, tmp_path, reconcile=False)
    in_flight = outbox_states(tmp_path)["sending"]
    assert in_flight > 0

    report = await asyncio.to_thread(restart_and_drain, tmp_path, reconcile=False)

    copies = provider_copies(tmp_path)
    states = outbox_states(tmp_path)
    assert max(copies.values()) == 1  # nothing was sent twice
    assert states == {"sent": COUNT - in_flight, "unknown": in_flight}
    assert set(copies) >= set(range(1, COUNT + 1)) - _ids_in(tmp_path, "unknown")
    assert f"{in_flight} message(s) have an unknown outcome" in report


def _ids_in(folder: Path, status: str) -> set[int]:
    with sqlite3.connect(folder / "doorstep.db") as conn:
        return {row[0] for row in conn.execute("select id from messages where status = ?", (status,))}
