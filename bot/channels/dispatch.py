"""The outbox dispatcher: claim due rows with a lease, send each once, record what happened.

Nothing is sent twice on purpose: a send whose outcome is unclear (a timeout after the request
left, a crash before the result was written) is first checked with the provider, and stays
`unknown` when the provider cannot tell.

A row our own code keeps failing on (one that cannot be read, claimed or recorded, or a bug in a
transport) is counted (`failures`) and parked as `poison` after `poison_after` failures; the rest of
its batch goes on. A database that fails (locked, full) raises, for the supervisor to retry later.
"""

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels import registry
from bot.channels.base import Failure, Outgoing, SendError, Transport
from bot.channels.limits import Limits
from bot.clock import Clock
from bot.config import OutboxSettings
from bot.domain.messages import MessageStatus
from bot.store import contacts, outbox
from bot.store.db import Store
from bot.store.outbox import Claimed, Outcome
from bot.supervise import Beat, describe, is_outage

log = logging.getLogger(__name__)
CHECK_DELAY = timedelta(seconds=10)  # let the provider's records catch up before asking
INLINE_WAIT_S = (
    0.5  # wait this long for a rate-limit slot inside the batch; longer waits go back to the queue
)


# Called in the transaction that records a batch, with (message id, address state) of each send that
# failed because the address stopped working: marks the channel and re-routes (bot/usecases/fallback.py).
type AddressFailed = Callable[[AsyncConnection, Sequence[tuple[int, str]], datetime], Awaitable[None]]


# The answer to an opt-out goes to the address that just opted out (carriers confirm a STOP the same way).
ALWAYS_SENT = frozenset({"opted-out"})


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_limits(settings: OutboxSettings) -> Limits:
    rates = {name: registry.get(name).per_second(settings) for name in registry.names()}
    return Limits(rates, settings.per_recipient_seconds)


def quiet_until(now: datetime, zone: str, start: time, end: time) -> datetime | None:
    """When quiet hours end if `now` falls inside them in `zone` (they may span midnight), else None."""
    local = now.astimezone(ZoneInfo(zone))
    moment = local.time()
    inside = start <= moment or moment < end if start > end else start <= moment < end
    if not inside:
        return None
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(now.tzinfo)


class Dispatcher:
    """Sends what the outbox holds, within rate limits and quiet hours."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        transports: Mapping[str, Transport],
        settings: OutboxSettings,
        *,
        limits: Limits | None = None,
        owner: str | None = None,
        rng: random.Random | None = None,
        on_address_failed: AddressFailed | None = None,
        poison_after: int = 3,
    ) -> None:
        self.store, self.clock, self.transports, self.settings = store, clock, transports, settings
        self.on_address_failed = on_address_failed
        self.limits = limits or build_limits(settings)
        self.owner = owner or worker_name()
        self.rng = rng or random.Random()
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.poison_after = poison_after
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._closed: dict[tuple[str, str], str] = {}  # addresses of this batch that take no messages

    async def run_once(self) -> int:
        """One round: settle ambiguous sends, then send a batch of due messages. Returns rows handled."""
        return await self._round(recheck=True) + await self._round(recheck=False)

    async def drain(self) -> None:
        """Run rounds until nothing is due now (tests, benchmarks, `doorstep dispatch --drain`)."""
        while await self.run_once():
            pass

    async def run(self, stop: asyncio.Event, beat: Beat = lambda: None) -> None:
        """Keep sending until `stop` is set; sleep while nothing is due; `beat` after every round."""
        while not stop.is_set():
            handled = await self.run_once()
            beat()
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_seconds)

    async def _round(self, *, recheck: bool) -> int:
        self._closed = {}
        try:
            rows = await self._claim(recheck)
        except Exception as error:
            if is_outage(error):
                raise
            rows = await self._claim_one_by_one(recheck)
        if not rows:
            return 0
        handle = self._settle if recheck else self._deliver
        outcomes = await asyncio.gather(*(self._limited(handle, row) for row in rows))
        try:
            await self._record(rows, outcomes)
        except Exception as error:
            if is_outage(error):
                raise  # the rows stay leased: once the lease runs out they are checked, not resent blindly
            await self._record_one_by_one(rows, outcomes)
        return len(rows)

    async def _claim(self, recheck: bool, only: Sequence[int] | None = None) -> list[Claimed]:
        async with self.store.tx() as conn:
            limit = self.settings.batch_size
            rows = await outbox.claim(
                conn, self.clock.now(), self.owner, self.lease, limit, recheck=recheck, only=only
            )
            self._closed |= await contacts.not_working(conn, [(r.channel, r.address) for r in rows])
        return rows

    async def _record(self, rows: Sequence[Claimed], outcomes: Sequence[Outcome]) -> None:
        async with self.store.tx() as conn:
            now = self.clock.now()
            await outbox.record(conn, outcomes, now)
            await _follow_moves(conn, rows, outcomes, now)
            dead = [(o.id, o.address_state) for o in outcomes if o.address_state]
            if dead and self.on_address_failed is not None:
                await self.on_address_failed(conn, dead, now)

    async def _claim_one_by_one(self, recheck: bool) -> list[Claimed]:
        """A batch that cannot be claimed for a row's sake: each due row alone, so only that one fails."""
        async with self.store.read() as conn:
            ids = await outbox.due_ids(conn, self.clock.now(), self.settings.batch_size, recheck=recheck)
        rows: list[Claimed] = []
        for message_id in ids:
            try:
                rows += await self._claim(recheck, only=[message_id])
            except Exception as error:
                if is_outage(error):
                    raise
                await self._count_failure(message_id, "claiming", error)
        return rows

    async def _record_one_by_one(self, rows: Sequence[Claimed], outcomes: Sequence[Outcome]) -> None:
        """A batch whose outcomes cannot be written for a row's sake: each alone, so only that one fails
        (it stays leased, and is checked with the provider once the lease runs out)."""
        for row, outcome in zip(rows, outcomes, strict=True):
            try:
                await self._record([row], [outcome])
            except Exception as error:
                if is_outage(error):
                    raise
                await self._count_failure(row.id, "recording", error)

    async def _count_failure(self, message_id: int, doing: str, error: Exception) -> None:
        why = describe(error)
        async with self.store.tx() as conn:
            parked = await outbox.count_failure(conn, message_id, self.clock.now(), why, self.poison_after)
        then = f"parked after {self.poison_after} failures" if parked else "tried again later"
        log.error("%s outbox message %s failed (%s); %s", doing, message_id, why, then)

    async def _limited(self, handle: Callable[[Claimed], Awaitable[Outcome]], row: Claimed) -> Outcome:
        async with self._slots:
            try:
                return await handle(row)
            except Exception as error:  # a bug in a transport must not lose the row: treat it as ambiguous
                log.exception("sending message %s failed unexpectedly", row.id)
                if row.failures + 1 >= self.poison_after:  # ...and a row it keeps failing on is parked
                    why = f"internal error: {describe(error)}"
                    return Outcome(
                        row.id, MessageStatus.POISON, error=why, counts_attempt=False, internal=True
                    )
                return Outcome(
                    row.id,
                    MessageStatus.CHECKING,
                    self.clock.now() + CHECK_DELAY,
                    error="internal error",
                    internal=True,
                )

    async def _deliver(self, row: Claimed) -> Outcome:
        now = self.clock.now()
        if (held := self._held(row, now)) is not None:
            return held
        if (wait := await self._slot(row)) > 0:
            return Outcome(row.id, MessageStatus.QUEUED, now + timedelta(seconds=wait), counts_attempt=False)
        try:
            receipt = await self.transports[row.channel].send(_outgoing(row))
        except SendError as exc:
            return self._failed(row, exc)
        return Outcome(
            row.id,
            MessageStatus.SENT,
            provider_ref=receipt.provider_ref,
            sent_at=self.clock.now(),
            moved_to=receipt.moved_to,
        )

    def _held(self, row: Claimed, now: datetime) -> Outcome | None:
        """Why the row must not go out now: its address takes no messages, it is stale, or quiet hours."""
        closed = self._closed.get((row.channel, row.address))
        if closed is not None and row.kind not in ALWAYS_SENT:
            # Checked before every send: an opt-out (or a dead chat) after the message was queued wins.
            why, failed = f"not sent: {closed}", MessageStatus.FAILED
            return Outcome(row.id, failed, error=why, counts_attempt=False, address_state=closed)
        if row.valid_until is not None and now >= row.valid_until:
            return Outcome(row.id, MessageStatus.EXPIRED, error="no longer valid", counts_attempt=False)
        if not row.urgent and (resume := self._quiet_until(now, row.timezone)) is not None:
            if row.valid_until is not None and resume >= row.valid_until:
                return Outcome(
                    row.id, MessageStatus.EXPIRED, error="quiet hours outlast it", counts_attempt=False
                )
            return Outcome(row.id, MessageStatus.QUEUED, resume, error="quiet hours", counts_attempt=False)
        return None

    def _quiet_until(self, now: datetime, zone: str) -> datetime | None:
        return quiet_until(now, zone, self.settings.quiet_start, self.settings.quiet_end)

    async def _slot(self, row: Claimed) -> float:
        """Wait briefly for a rate-limit slot; a longer wait is returned so the row goes back in the queue."""
        while (wait := self.limits.reserve(row.channel, row.address)) > 0:
            if wait > INLINE_WAIT_S:
                return wait
            await asyncio.sleep(wait)
        return 0.0

    def _failed(self, row: Claimed, exc: SendError) -> Outcome:
        now = self.clock.now()
        reason = f"{exc.code}: {exc}" if exc.code else str(exc)
        if exc.failure is Failure.AMBIGUOUS:
            return Outcome(row.id, MessageStatus.CHECKING, now + CHECK_DELAY, error=reason)
        if exc.failure is Failure.PERMANENT:
            return Outcome(row.id, MessageStatus.FAILED, error=reason, address_state=exc.address_state)
        if row.attempts + 1 >= self.settings.max_attempts:
            return Outcome(row.id, MessageStatus.FAILED, error=reason)
        return Outcome(
            row.id, MessageStatus.QUEUED, now + self._backoff(row.attempts, exc.retry_after), error=reason
        )

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        base = min(self.settings.retry_cap_seconds, self.settings.retry_base_seconds * 2**attempts)
        return timedelta(seconds=base * self.rng.uniform(0.5, 1.5))

    async def _settle(self, row: Claimed) -> Outcome:
        """An ambiguous send: sent if the provider has it, queued again if it has not, else unknown."""
        try:
            receipt = await self.transports[row.channel].lookup(_outgoing(row), since=row.due_at)
        except NotImplementedError:
            error = "outcome unknown and the provider cannot be asked; not resent"
            return Outcome(row.id, MessageStatus.UNKNOWN, error=error, counts_attempt=False)
        if receipt is None:
            return Outcome(row.id, MessageStatus.QUEUED, self.clock.now(), counts_attempt=False)
        return Outcome(
            row.id,
            MessageStatus.SENT,
            provider_ref=receipt.provider_ref,
            error="confirmed by provider lookup",
            sent_at=self.clock.now(),
            counts_attempt=False,
            moved_to=receipt.moved_to,
        )


async def _follow_moves(
    conn: AsyncConnection, rows: Sequence[Claimed], outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Sends that found their address moved: the contacts there take the new one."""
    claimed = {row.id: row for row in rows}
    for outcome in outcomes:
        if outcome.moved_to is not None:
            row = claimed[outcome.id]
            await contacts.move_address(conn, row.channel, row.address, outcome.moved_to, now)


def _outgoing(row: Claimed) -> Outgoing:
    return Outgoing(row.id, row.channel, row.address, row.kind, row.body, row.payload, row.valid_until)
