"""The supervisor: a loop that raises is restarted after a pause that doubles up to a cap, and says so."""

import asyncio
import logging
import random
import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from bot.clock import ManualClock
from bot.config import HealthSettings
from bot.supervise import Beat, Supervisor

SETTINGS = HealthSettings(restart_base_seconds=1.0, restart_cap_seconds=8.0)


class Paused:
    """The supervisor's pauses, recorded instead of slept (tests take no time)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float, stop: asyncio.Event) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


def supervisor(paused: Paused, now: list[float] | None = None) -> Supervisor:
    ticks = now if now is not None else [0.0]
    clock = ManualClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    return Supervisor(clock, SETTINGS, pause=paused, rng=random.Random(3), monotonic=lambda: ticks[0])


def locked() -> OperationalError:
    """What SQLAlchemy raises when another process holds the database, SQL and a phone number included."""
    orig = sqlite3.OperationalError("database is locked")
    return OperationalError("UPDATE messages SET address=?", ("+4915123456789",), orig)


async def test_a_loop_that_raises_is_restarted_with_backoff_and_one_log_line_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    paused, stop = Paused(), asyncio.Event()
    runs: list[int] = []

    async def dispatcher(beat: Beat) -> None:
        runs.append(len(runs))
        if len(runs) <= 3:
            raise locked()
        beat()
        stop.set()

    loops = supervisor(paused)
    with caplog.at_level(logging.ERROR, logger="bot.supervise"):
        await loops.run("dispatcher", dispatcher, stop, stale_after=60)

    assert len(runs) == 4
    assert loops.loops["dispatcher"].restarts == 3
    for n, pause in enumerate(paused.seconds):  # 1, 2, 4 s, each with jitter (half to all of it)
        assert 2**n * 0.5 <= pause <= 2**n
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert all(
        line.startswith(
            "background loop dispatcher failed (OperationalError: database is locked); restarting in"
        )
        for line in lines
    )
    assert not any("+49151" in line or "UPDATE" in line for line in lines)  # no SQL, no phone number
    assert loops.loops["dispatcher"].last_pass == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


async def test_a_loop_that_keeps_failing_stays_supervised_with_capped_pauses_until_it_passes() -> None:
    paused, stop = Paused(), asyncio.Event()
    loops = supervisor(paused)
    passed = asyncio.Event()

    async def answerer(beat: Beat) -> None:
        if loops.loops["answerer"].restarts < 12:
            raise ValueError("a bug")
        beat()
        passed.set()
        await stop.wait()

    running = asyncio.create_task(loops.run("answerer", answerer, stop, stale_after=60))
    await passed.wait()
    record = loops.loops["answerer"]

    assert record.healthy  # passing again, after 12 failures in a row
    assert (record.restarts, record.failures, record.last_error) == (12, 0, "ValueError: a bug")
    assert max(paused.seconds) <= 8.0  # never more than the cap...
    assert min(paused.seconds[4:]) >= 4.0  # ...and at the cap (with jitter) once it is reached
    stop.set()
    await running
    assert not record.alive


async def test_a_loop_that_ends_on_its_own_is_started_again() -> None:
    paused, stop = Paused(), asyncio.Event()
    runs: list[None] = []

    async def ticks(beat: Beat) -> None:
        runs.append(None)
        beat()
        if len(runs) == 3:
            stop.set()

    loops = supervisor(paused)
    await loops.run("scheduler", ticks, stop, stale_after=60)

    assert len(runs) == 3
    assert loops.loops["scheduler"].last_error == "RuntimeError: the loop ended by itself"


async def test_a_loop_alive_but_without_a_pass_for_too_long_is_not_healthy() -> None:
    paused, stop, now = Paused(), asyncio.Event(), [100.0]
    loops = supervisor(paused, now)
    started = asyncio.Event()

    async def stuck(beat: Beat) -> None:
        beat()
        started.set()
        await stop.wait()  # waits forever on a lock, say

    running = asyncio.create_task(loops.run("dispatcher", stuck, stop, stale_after=60))
    await started.wait()
    record = loops.loops["dispatcher"]
    now[0] += 59
    assert loops.healthy
    now[0] += 2
    assert record.alive
    assert not record.healthy
    assert not loops.healthy
    stop.set()
    await running
