"""The one inbound path every channel uses: store the message first, then answer it.

A provider that delivers the same message twice (same provider id) gets the same single answer; a
crash between storing and answering leaves the message `received`, and `answer_pending` picks it up.
A message whose answering keeps failing is parked (`poison`), so it never holds up the others.
"""

import asyncio
import contextlib
import functools
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.services import Services
from bot.store import contacts, inbox
from bot.store import deliveries as delivery_store
from bot.supervise import Beat, Loop, describe, is_outage
from bot.usecases.errors import NotFoundError
from bot.usecases.respond import respond

log = logging.getLogger(__name__)


async def receive(
    services: Services, channel: str, provider_ref: str, address: str, body: str, raw: Mapping[str, Any]
) -> int | None:
    """Store an inbound message and answer it; None when this provider message was seen before."""
    async with services.store.tx() as conn:
        inbox_id = await inbox.store(conn, channel, provider_ref, address, body, raw, services.clock.now())
    if inbox_id is not None:
        await respond(services, inbox_id)
    return inbox_id


TELEGRAM_UPDATE = "update:"  # provider refs of stored Telegram updates (bot/handlers/telegram.py)


async def answer_pending(
    services: Services,
    telegram: Callable[[int], Awaitable[None]] | None = None,
    before_each: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Answer messages stored but never handled (after a crash). Returns how many were answered or parked.

    Telegram updates need the bot's dispatcher (`telegram`); without one they wait for it. A message
    whose answering fails is counted and tried again on a later pass, and parked after
    `health.poison_after` tries. A database that fails (locked, full) is no message's fault: that error
    is raised, for the caller to try again later.
    """
    async with services.store.read() as conn:
        waiting = await inbox.pending(conn)
    handled = 0
    for inbox_id, ref in waiting:
        if before_each is not None:
            await before_each()
        if not ref.startswith(TELEGRAM_UPDATE):
            handler: Callable[[int], Awaitable[Any]] = functools.partial(respond, services)
        elif telegram is not None:
            handler = telegram
        else:
            continue
        try:
            await handler(inbox_id)
        except Exception as error:
            if is_outage(error):
                raise
            handled += await _failed(services, inbox_id, error)
            continue
        handled += 1
    return handled


async def _failed(services: Services, inbox_id: int, error: Exception) -> int:
    """Count a failed answer against the message: 1 when that parked it, else 0."""
    why, limit = describe(error), services.settings.health.poison_after
    async with services.store.tx() as conn:
        parked = await inbox.fail(conn, inbox_id, services.clock.now(), why, limit)
    then = f"parked after {limit} tries" if parked else "tried again later"
    log.error("answering inbox message %s failed (%s); %s", inbox_id, why, then)
    return int(parked)


@dataclass(frozen=True, slots=True)
class Arrived:
    """A provider's message as its webhook delivered it."""

    channel: str
    provider_ref: str
    address: str
    body: str
    raw: Mapping[str, Any]


class GroupCommit:
    """Stores messages that arrive together in one transaction (a group commit), each caller waiting
    until the commit that holds its row: the webhook still answers only once its message is stored,
    but a burst costs one transaction per batch instead of one per message.

    A commit the database fails (locked, full) fails every message in it (each provider retries; a
    duplicate changes nothing); one that fails for a message's own sake is retried one message at a
    time, so only that message fails.
    """

    def __init__(self, services: Services, limit: int = 500, loop: Loop | None = None) -> None:
        self.services = services
        self.limit = limit
        self.loop = loop  # what /readyz shows of it
        self._waiting: list[tuple[Arrived, asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_write = -math.inf  # loop time the last batch was committed

    def quiet_for(self) -> float:
        """Seconds since webhooks last stored anything (0 while some wait to be stored)."""
        if self._waiting or (self._writer is not None and not self._writer.done()):
            return 0.0
        return asyncio.get_running_loop().time() - self._last_write

    async def store(self, message: Arrived) -> int | None:
        """The inbox id, or None when this provider message was stored before."""
        stored: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await asyncio.shield(stored)  # a client that hangs up does not cancel the others' commit

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
            try:
                self._stored(batch, await self._commit([m for m, _ in batch]))
            except Exception as exc:
                if len(batch) == 1 or is_outage(exc):
                    self._refused(batch, exc)
                else:  # one message the database refuses must not fail the others with it
                    await self._one_by_one(batch)
            self._last_write = asyncio.get_running_loop().time()

    async def _commit(self, batch: Sequence[Arrived]) -> list[int | None]:
        async with self.services.store.tx(urgent=True) as conn:
            now = self.services.clock.now()
            return [
                await inbox.store(conn, m.channel, m.provider_ref, m.address, m.body, m.raw, now)
                for m in batch
            ]

    async def _one_by_one(self, batch: Sequence[tuple[Arrived, asyncio.Future[int | None]]]) -> None:
        for waiting in batch:
            try:
                self._stored([waiting], await self._commit([waiting[0]]))
            except Exception as exc:
                self._refused([waiting], exc)

    def _stored(
        self, batch: Sequence[tuple[Arrived, asyncio.Future[int | None]]], ids: list[int | None]
    ) -> None:
        for (_, stored), inbox_id in zip(batch, ids, strict=True):
            stored.set_result(inbox_id)
        if self.loop is not None:
            self.loop.beat()

    def _refused(self, batch: Sequence[tuple[Arrived, asyncio.Future[int | None]]], exc: Exception) -> None:
        """Every webhook in the batch answers 500; the providers retry."""
        for _, stored in batch:
            stored.set_exception(exc)
        if self.loop is not None:
            self.loop.failed(exc, f"{len(batch)} webhook(s) answer 500 and are retried by the provider")


class Answerer:
    """Answers stored messages off the request path, oldest first: the inbox itself is the queue.

    A webhook stores its message, nudges, and returns: the provider never waits for an answer, and a
    keep-alive connection is free for its next request at once. A burst makes answers lag, never
    lost (rows stay `received` until answered, and a restart answers them). Telegram updates are
    handled by their own webhook path and are left alone here.
    """

    def __init__(
        self, services: Services, webhooks: GroupCommit | None = None, idle_seconds: float = 5.0
    ) -> None:
        self.services = services
        self.webhooks = webhooks
        self.idle_seconds = idle_seconds  # a look at the inbox even without a nudge
        self._nudged = asyncio.Event()

    def nudge(self) -> None:
        self._nudged.set()

    async def run(self, stop: asyncio.Event, beat: Beat = lambda: None) -> None:
        """Answer until `stop` is set; `beat` after every pass and before every message."""
        while not stop.is_set():
            self._nudged.clear()
            answered = await answer_pending(self.services, before_each=lambda: self._make_way(beat))
            beat()
            if answered == 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle_seconds):
                        await _first(self._nudged.wait(), stop.wait())

    async def _make_way(self, beat: Beat) -> None:
        """Webhooks first: a provider holds its request open and retries a slow one. During a burst,
        answer once webhooks have been quiet for a moment, and at least one message a second."""
        beat()
        if self.webhooks is None:
            return
        waited = 0.0
        while self.webhooks.quiet_for() < QUIET and waited < MAX_YIELD:
            await asyncio.sleep(QUIET)
            waited += QUIET


QUIET, MAX_YIELD = 0.02, 1.0  # seconds


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def sandbox_reply(
    services: Services, delivery: int | str, text: str, channel: str = "sms"
) -> int | None:
    """A simulated recipient answers a delivery (id or order id), the way a real reply comes in."""
    async with services.store.read() as conn:
        found = (
            await delivery_store.get(conn, delivery)
            if isinstance(delivery, int)
            else (await delivery_store.by_order_ids(conn, [delivery])).get(delivery)
        )
        if found is None:
            raise NotFoundError(f"no delivery {delivery!r} (give its id or order id)", field="delivery")
        delivery_id = found.id
        known = [c for c in await contacts.for_recipient(conn, found.recipient_id) if c.channel == channel]
    if not known:
        raise NotFoundError(f"delivery {delivery!r} has no {channel} contact", field="channel")
    ref = f"sandbox-in-{uuid.uuid4().hex}"
    raw = {"sandbox": True, "delivery_id": delivery_id}
    return await receive(services, channel, ref, known[0].address, text, raw)
