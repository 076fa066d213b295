"""Telegram in: every update is stored (unique update_id) before anything acts on it, then dispatched.

Webhook mode (a public URL is configured): the web app checks the secret header, stores the raw
update and answers 200, then handles it (bot/web/telegram.py). Long polling (no public URL): the
same store-then-handle for each update fetched. Either way a duplicate delivery of an update is a
no-op, a malformed one (not JSON, not a valid update, or of a type unknown here) is kept (status
`malformed`) for someone to look at, and an update whose handling crashed stays in the inbox with its
error; one stored but never handled (the process died) is handled at the next start (`handle_pending`).
"""

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from bot.handlers import telegram_customer, telegram_driver
from bot.services import Services
from bot.store import inbox
from bot.supervise import Beat, describe, is_outage
from bot.usecases.inbound import TELEGRAM_UPDATE, answer_pending

log = logging.getLogger(__name__)
CHANNEL = "telegram"
UPDATES = ["message", "edited_message", "callback_query"]
POLL_TIMEOUT_S = 25
# Real updates nest about a dozen levels (a reply quoting a message with a keyboard); storing or
# validating thousands of levels recurses past Python's limit, so deeper ones are kept as malformed.
MAX_DEPTH = 64


@dataclass
class TelegramIn:
    """The bot and the dispatcher that reads what it receives."""

    bot: Bot
    dispatcher: Dispatcher


def build_dispatcher(services: Services) -> Dispatcher:
    """Every conversation surface's router, mounted once; handlers get `services` and `inbox_id`.

    Drivers first: their commands and buttons must not reach the recipients' catch-all text handler."""
    dispatcher = Dispatcher(services=services)
    dispatcher.include_routers(telegram_driver.router(), telegram_customer.router())
    return dispatcher


def read(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The update as a JSON object, or None and why it is not one."""
    too_deep = f"nested more than {MAX_DEPTH} levels deep"
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"not JSON: {error}"
    except RecursionError:  # the decoder recurses per level: thousands of [[[[ end here
        return None, too_deep
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        return None, "not a Telegram update (no integer update_id)"
    return (None, too_deep) if _deeper_than(raw, MAX_DEPTH) else (raw, None)


def _deeper_than(value: object, levels: int) -> bool:
    """Whether JSON `value` nests more than `levels` deep (counted level by level, not recursively)."""
    level = [value]
    for _ in range(levels):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
        ]
        if not level:
            return False
    return True


async def store(services: Services, raw: Mapping[str, Any]) -> int | None:
    """Keep the update (before answering Telegram); None if this update_id was stored before."""
    ref, chat, text = _summary(raw)
    async with services.store.tx() as conn:
        return await inbox.store(conn, CHANNEL, ref, chat, text, raw, services.clock.now())


async def store_malformed(services: Services, body: bytes, why: str) -> None:
    """Keep what could not be read, once per distinct body, for someone to look at."""
    text = body.decode("utf-8", "replace")[:20_000]
    ref = f"malformed:{hashlib.sha256(body).hexdigest()[:32]}"
    async with services.store.tx() as conn:
        await inbox.store(
            conn,
            CHANNEL,
            ref,
            "",
            text[:1000],
            {"body": text},
            services.clock.now(),
            status=inbox.MALFORMED,
            error=why,
        )


async def handle(services: Services, telegram: TelegramIn, inbox_id: int) -> None:
    """Dispatch one stored update to the handlers; whatever happens, the inbox row says so."""
    async with services.store.read() as conn:
        raw = await inbox.raw_of(conn, inbox_id)
    if raw is None:
        return
    update = _update_of(raw, telegram.bot)
    if isinstance(update, str):
        await _finish(services, inbox_id, inbox.MALFORMED, update)
        return
    try:
        await telegram.dispatcher.feed_update(telegram.bot, update, inbox_id=inbox_id)
    except Exception as error:  # kept with its error; never lost in a background task
        log.exception("telegram update %s failed", raw.get("update_id"))
        await _finish(services, inbox_id, "error", f"{type(error).__name__}: {error}"[:1000])
        return
    await _finish(services, inbox_id, "done", None)  # handlers that answered directly leave it received


def _update_of(raw: Mapping[str, Any], bot: Bot) -> Update | str:
    """The update, or why it is kept as malformed: not a valid update, or one of a type this aiogram
    does not know (a newer Bot API), which aiogram would skip with a warning holding the whole update."""
    try:
        update = Update.model_validate(raw, context={"bot": bot})
        update.event_type  # noqa: B018 - raises UpdateTypeLookupError for an unknown type
    except ValidationError as error:
        return f"not a valid update: {error.error_count()} errors"
    except UpdateTypeLookupError:
        fields = ", ".join(sorted(key for key in raw if key != "update_id"))
        return f"unknown update type: {fields or 'none'}"[:1000]
    return update


async def handle_pending(services: Services, telegram: TelegramIn) -> int:
    """After a restart: handle what was stored but not handled."""
    return await answer_pending(services, lambda inbox_id: handle(services, telegram, inbox_id))


async def poll(
    services: Services, telegram: TelegramIn, stop: asyncio.Event, beat: Beat = lambda: None
) -> None:
    """Long polling, for a bot without a public URL: fetch, store, handle, move the offset on; `beat`
    after every fetch. A database that fails raises before the offset moves past the update."""
    await telegram.bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            updates = await telegram.bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=UPDATES
            )
        except (TelegramNetworkError, TelegramAPIError) as error:
            failures += 1
            log.warning("telegram polling failed (%s), retrying", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(30, 2**failures))
            continue
        failures = 0
        beat()
        for update in updates:
            await _take(services, telegram, update)
            offset = update.update_id + 1


async def _take(services: Services, telegram: TelegramIn, update: Update) -> None:
    """Store and handle one fetched update (or one stored before but never handled: the database failed
    in between). One that cannot even be stored is kept as malformed, so it does not come back at every
    fetch and hold up the rest."""
    raw = update.model_dump(mode="json", exclude_none=True, by_alias=True)
    try:
        inbox_id = await store(services, raw)
        if inbox_id is None:
            async with services.store.read() as conn:
                inbox_id = await inbox.unhandled(conn, CHANNEL, _summary(raw)[0])
    except Exception as error:
        if is_outage(error):
            raise
        log.error(
            "telegram update %s could not be stored (%s); kept as malformed",
            update.update_id,
            describe(error),
        )
        await store_malformed(services, json.dumps(raw).encode(), f"not stored: {describe(error)}")
        return
    if inbox_id is not None:
        await handle(services, telegram, inbox_id)


async def _finish(services: Services, inbox_id: int, status: str, error: str | None) -> None:
    async with services.store.tx() as conn:
        await inbox.finish(
            conn,
            inbox_id,
            services.clock.now(),
            delivery_id=None,
            intent="Telegram",
            status=status,
            error=error,
            only_if_received=True,
        )


def _summary(raw: Mapping[str, Any]) -> tuple[str, str, str]:
    """(provider ref, chat id, text) of an update: what the inbox shows without reading the JSON."""
    ref = f"{TELEGRAM_UPDATE}{raw['update_id']}"
    message = raw.get("message") or raw.get("edited_message")
    if isinstance(message, dict):
        chat = str(message.get("chat", {}).get("id", ""))
        location = message.get("location")
        text = message.get("text") or message.get("caption") or ("[location]" if location else "")
        return ref, chat, str(text)[:4096]
    query = raw.get("callback_query")
    if isinstance(query, dict):
        chat = query.get("message", {}).get("chat", {}).get("id") or query.get("from", {}).get("id", "")
        return ref, str(chat), f"[button] {str(query.get('data', ''))[:64]}"
    return ref, "", ""
