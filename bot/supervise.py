"""Background work that never dies: every long-running loop runs under a supervisor that restarts it
after any error, with capped exponential backoff and jitter, and logs one line saying which loop
failed and why. Each loop reports a successful pass (`beat`); /readyz and `doorstep status` read what
every loop last did.

An error is the database's (locked, disk full, gone: `is_outage`) or a row's own. Loops re-raise the
first kind, so the supervisor waits and retries; they count the second kind against the row and park
it after a few tries (bot/store/inbox.py, bot/store/outbox.py), so one bad row never stops the rest.
"""

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import exc as sa_exc

from bot.clock import Clock
from bot.config import HealthSettings
from bot.logs import mask_phones

log = logging.getLogger(__name__)

type Beat = Callable[[], None]
type Work = Callable[[Beat], Awaitable[None]]
type Pause = Callable[[float, asyncio.Event], Awaitable[None]]

_TOKEN = re.compile(r"bot\d+:[\w-]{20,}")  # a Telegram bot token inside a URL


def is_outage(error: BaseException) -> bool:
    """The database or the network failed, not the row at hand: retry later, blame nothing."""
    outage = (sa_exc.OperationalError, sa_exc.InterfaceError, OSError, httpx.TransportError)
    return isinstance(error, outage)


def describe(error: BaseException) -> str:
    """One short line for logs and parked rows: the error's type and first line, without the SQL or its
    parameters (which may hold phone numbers and texts), phone numbers masked, tokens blotted out."""
    shown = error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig is not None else error
    text = str(shown).strip().splitlines()[0] if str(shown).strip() else ""
    text = _TOKEN.sub("bot<token>", mask_phones(text))[:200]
    return f"{type(shown).__name__}: {text}" if text else type(shown).__name__


@dataclass
class Loop:
    """What one background loop last did."""

    name: str
    stale_after: float | None  # seconds without a pass before the loop counts as stuck; None: never
    clock: Clock = field(repr=False)
    monotonic: Callable[[], float] = field(repr=False)
    alive: bool = False
    last_pass: datetime | None = None
    last_error: str | None = None
    last_error_type: str | None = None
    restarts: int = 0
    failures: int = 0  # in a row, since the last pass
    on_demand: bool = False  # runs when called (never stale), and a failure does not keep it down
    _passed: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._passed = self.monotonic()  # a loop just started has not had the time to pass yet

    def beat(self) -> None:
        """A successful pass."""
        self.alive, self.failures = True, 0
        self.last_pass, self._passed = self.clock.now(), self.monotonic()

    def failed(self, error: BaseException, then: str) -> None:
        """Record a failure and log one line: which loop, why, and what happens next."""
        self.alive = self.on_demand
        self.failures += 1
        self.last_error, self.last_error_type = describe(error), type(error).__name__
        log.error("background loop %s failed (%s); %s", self.name, self.last_error, then)

    def since_pass(self) -> float:
        return max(0.0, self.monotonic() - self._passed)

    @property
    def healthy(self) -> bool:
        return self.alive and (self.stale_after is None or self.since_pass() <= self.stale_after)


async def wait_or_stop(seconds: float, stop: asyncio.Event) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Supervisor:
    """Runs loops and restarts them after errors; knows every loop's last pass and last error."""

    def __init__(
        self,
        clock: Clock,
        settings: HealthSettings,
        *,
        pause: Pause = wait_or_stop,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock, self.settings, self.pause = clock, settings, pause
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.loops: dict[str, Loop] = {}

    def loop(self, name: str, stale_after: float | None = None) -> Loop:
        """The record of loop `name` (made on first use)."""
        if name not in self.loops:
            self.loops[name] = Loop(name, stale_after, self.clock, self.monotonic)
        return self.loops[name]

    def on_demand(self, name: str) -> Loop:
        """The record of work that runs when called (a group commit): alive, never stale."""
        loop = self.loop(name)
        loop.alive = loop.on_demand = True
        return loop

    def backoff(self, failures: int) -> float:
        """Seconds before restart number `failures` in a row: doubling from the base up to the cap,
        then between half and all of that (jitter, so loops that failed together do not retry together)."""
        base, cap = self.settings.restart_base_seconds, self.settings.restart_cap_seconds
        doubled: float = base * 2 ** min(failures - 1, 30)
        return min(cap, doubled) * self.rng.uniform(0.5, 1.0)

    async def run(self, name: str, work: Work, stop: asyncio.Event, *, stale_after: float | None) -> None:
        """Run `work` until `stop` is set, restarting it after any error (or if it ends on its own)."""
        loop = self.loop(name, stale_after)
        try:
            while not stop.is_set():
                loop.alive = True
                try:
                    await work(loop.beat)
                except Exception as error:
                    failed: Exception = error
                else:
                    if stop.is_set():
                        return
                    failed = RuntimeError("the loop ended by itself")
                delay = self.backoff(loop.failures + 1)
                loop.failed(failed, f"restarting in {delay:.1f} s")
                await self.pause(delay, stop)
                if stop.is_set():
                    return
                loop.restarts += 1
        finally:
            loop.alive = False

    @property
    def healthy(self) -> bool:
        return all(loop.healthy for loop in self.loops.values())
