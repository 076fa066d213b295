"""A double start during a deploy (RELIABILITY.md fault 24): two `doorstep dispatch` processes run side
by side on one outbox, and the provider gets every message exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store.db import open_store
from tests.channels.test_crash import COUNT, env_for, fill_outbox, outbox_states, provider_copies

# Slow enough sends in small batches that the two overlap for seconds (each polls once a second when idle).
SLOW_SENDS = {"DOORSTEP_SANDBOX__LATENCY_MS": "40", "DOORSTEP_OUTBOX__BATCH_SIZE": "20"}


def dispatcher_process(folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "dispatch"],
        cwd=folder,
        env=env_for(folder, reconcile=True) | SLOW_SENDS,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds `path` open (Linux /proc): its store is open, its loop about to run."""
    try:
        with os.scandir(f"/proc/{pid}/fd") as handles:
            return any(os.path.realpath(fd.path) == str(path) for fd in handles)
    except OSError:
        return False


def wait_for(done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


def run_two_dispatchers(folder: Path, started: list[subprocess.Popen[bytes]]) -> None:
    """Both running before anything is due; they are stopped once the provider has had every message
    and a few more polls (a late second copy would show)."""
    started += [dispatcher_process(folder) for _ in range(2)]
    database = (folder / "doorstep.db").resolve()
    wait_for(lambda: all(has_open(w.pid, database) for w in started), 60)
    asyncio.run(fill_outbox(folder))
    wait_for(lambda: sum(provider_copies(folder).values()) >= COUNT, 60)
    time.sleep(2)
    for worker in started:
        worker.send_signal(signal.SIGTERM)
    for worker in started:
        output, _ = worker.communicate(timeout=30)
        assert worker.returncode == 0, output.decode()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see both workers up")
async def test_two_dispatcher_processes_send_every_message_once(tmp_path: Path) -> None:
    await (await open_store(f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}")).close()  # empty, migrated
    started: list[subprocess.Popen[bytes]] = []
    try:
        await asyncio.to_thread(run_two_dispatchers, tmp_path, started)
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()

    copies = provider_copies(tmp_path)
    assert sorted(copies) == list(range(1, COUNT + 1))
    assert max(copies.values()) == 1
    assert outbox_states(tmp_path) == {"sent": COUNT}
