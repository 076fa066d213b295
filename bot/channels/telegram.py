"""The Telegram transport: outbox rows out through the Bot API (aiogram), failures classified.

`Outgoing.address` is the chat id (an int, as a string); `body` is Telegram HTML, already escaped by the
templates. It goes out with parse_mode HTML and link previews off.

`Outgoing.payload` (filled by the composer; other keys, such as "render", are not read here):

- ``"buttons"``: rows of inline buttons under the message, each button ``{"text": str, "data": str}``
  (a callback button; data at most 64 bytes) or ``{"text": str, "url": str}``.
- ``"edit"``: the id (int) of a message in that chat to edit in place instead of sending a new one. An
  edit that changes nothing ("message is not modified") is a success; a message that can no longer be
  edited or is gone gets a new message instead.

A body over 4096 UTF-16 units goes as several messages, cut at line breaks (else spaces), never inside a
tag or an entity; tags open at a cut are closed before it and opened again after. The buttons go under
the last part, and `Receipt.provider_ref` is the last part's message id. Parts that went out before a
retryable failure are remembered (in this process) and not sent again on the retry.

Failures (aiogram's exceptions, aiogram/client/session/base.py `check_response`):

- 429 `TelegramRetryAfter`: RETRYABLE after Telegram's retry_after.
- 403 `TelegramForbiddenError` (blocked, deactivated, kicked): PERMANENT, address "dead".
- `TelegramMigrateToChat` (the group became a supergroup): sent once more to the new chat; the receipt
  carries `moved_to`, and the dispatcher moves the contact there.
- 400 "chat not found": PERMANENT, address "invalid"; any other 400 (and 404, 409, 413): PERMANENT.
- 401 `TelegramUnauthorizedError` (a revoked token: our fault, not the recipient's): RETRYABLE.
- 5xx, a timeout, a dropped connection or an unreadable answer: AMBIGUOUS. Telegram may have sent it
  and cannot be asked afterwards, so `lookup` raises NotImplementedError and the row ends `unknown`.
  A connection that was refused before the request left is RETRYABLE.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from aiohttp import ClientConnectorError
from pydantic import ValidationError

from bot.channels.base import Failure, Outgoing, Receipt, SendError
from bot.config import TelegramSettings

LIMIT = 4096  # UTF-16 code units per message text (core.telegram.org/bots/api#sendmessage)
CAPTION_LIMIT = 1024  # per photo caption (core.telegram.org/bots/api#sendphoto)
CALLBACK_DATA_BYTES = 64
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Descriptions of an edit that cannot happen, so the message goes out anew.
GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
TELEGRAM_ERRORS = (TelegramAPIError, ClientDecodeError, TimeoutError)
# aiogram's failure, words in Telegram's description -> what it means (the first match wins).
ERRORS: list[tuple[type[BaseException], str, Failure, str, str | None]] = [
    (TelegramRetryAfter, "", Failure.RETRYABLE, "429", None),
    (TelegramForbiddenError, "", Failure.PERMANENT, "403", "dead"),
    (TelegramBadRequest, "chat not found", Failure.PERMANENT, "400", "invalid"),
    (TelegramBadRequest, "", Failure.PERMANENT, "400", None),
    (TelegramNotFound, "", Failure.PERMANENT, "404", None),
    (TelegramConflictError, "", Failure.PERMANENT, "409", None),
    (TelegramEntityTooLarge, "", Failure.PERMANENT, "413", None),
    (TelegramUnauthorizedError, "", Failure.RETRYABLE, "401", None),  # a revoked token: ours to fix
    (TelegramServerError, "", Failure.AMBIGUOUS, "5xx", None),
    (TelegramNetworkError, "", Failure.AMBIGUOUS, "network", None),
    (TimeoutError, "", Failure.AMBIGUOUS, "timeout", None),
    (ClientDecodeError, "", Failure.AMBIGUOUS, "undecodable", None),
]


REQUEST_TIMEOUT_S = 15


def make_bot(settings: TelegramSettings) -> Bot | None:
    """The Bot for these settings, on their Bot API server; None without a token."""
    if settings.token is None:
        return None
    api = TelegramAPIServer.from_base(settings.api_base)
    # Well inside the outbox lease (60 s by default), even for a long message sent in parts.
    return Bot(settings.token.get_secret_value(), session=AiohttpSession(api=api, timeout=REQUEST_TIMEOUT_S))


@dataclass(frozen=True, slots=True)
class _Plan:
    parts: list[str]
    markup: InlineKeyboardMarkup | None
    edit: int | None
    photo: str | None = None  # a Telegram file id: sent as a photo, the text as its caption if it fits


class TelegramTransport:
    """Sends outbox rows as Telegram messages (see the module docstring for the payload contract)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._progress: dict[int, list[int]] = {}  # outbox id -> Telegram ids of the parts already out
        self._photos: set[int] = set()  # outbox ids whose photo went out ahead of a long text

    async def close(self) -> None:
        await self.bot.session.close()

    async def send(self, message: Outgoing) -> Receipt:
        chat_id, plan = _chat_id(message.address), _plan(message)
        retry_later = False
        try:
            try:
                return Receipt(await self._deliver(message.id, chat_id, plan))
            except TelegramMigrateToChat as moved:
                new_chat = moved.migrate_to_chat_id
                ref = await self._deliver(message.id, new_chat, replace(plan, edit=None))
                return Receipt(ref, moved_to=str(new_chat))
        except TELEGRAM_ERRORS as exc:
            error = classify(exc)
            retry_later = error.failure is Failure.RETRYABLE
            raise error from exc
        finally:
            if not retry_later:
                self._progress.pop(message.id, None)
                self._photos.discard(message.id)

    async def lookup(self, message: Outgoing, since: datetime) -> Receipt | None:
        raise NotImplementedError("the Bot API cannot tell whether a message was sent")

    async def _deliver(self, key: int, chat_id: int, plan: _Plan) -> str:
        if plan.photo is not None and plan.edit is None:
            if len(plan.parts) == 1 and utf16_len(plan.parts[0]) <= CAPTION_LIMIT:
                sent = await self.bot.send_photo(
                    chat_id, plan.photo, caption=plan.parts[0], parse_mode="HTML", reply_markup=plan.markup
                )
                return str(sent.message_id)
            if key not in self._photos:  # too long for a caption: the photo, then the text
                await self.bot.send_photo(chat_id, plan.photo)
                self._photos.add(key)
        done = self._progress.setdefault(key, [])
        last = len(plan.parts) - 1
        if plan.edit is not None and not done:
            markup = plan.markup if last == 0 else None
            if await self._edit(chat_id, plan.edit, plan.parts[0], markup):
                done.append(plan.edit)
        for index in range(len(done), last + 1):
            markup = plan.markup if index == last else None
            sent = await self.bot.send_message(
                chat_id,
                plan.parts[index],
                parse_mode="HTML",
                link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            )
            done.append(sent.message_id)
        return str(done[-1])

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """True if the message shows `text` now; False if it cannot be edited (send a new one)."""
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode="HTML",
                link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            )
        except TelegramBadRequest as exc:
            said = exc.message.lower()
            if "message is not modified" in said:
                return True
            if any(reason in said for reason in GONE):
                return False
            raise
        return True


def classify(exc: BaseException) -> SendError:
    """What an aiogram failure means for the dispatcher: the first row of ERRORS that matches."""
    said = _description(exc)
    if isinstance(exc, TelegramNetworkError) and isinstance(exc.__cause__, ClientConnectorError):
        return SendError(Failure.RETRYABLE, said, code="refused")  # the request never left
    retry_after = exc.retry_after if isinstance(exc, TelegramRetryAfter) else None
    for kind, words, failure, code, state in ERRORS:
        if isinstance(exc, kind) and words in said.lower():
            return SendError(failure, said or code, retry_after=retry_after, code=code, address_state=state)
    return SendError(Failure.PERMANENT, said, code=type(exc).__name__)


def _description(exc: BaseException) -> str:
    """Telegram's own words (aiogram rewrites retry_after and migrate messages around them)."""
    message = exc.message if isinstance(exc, TelegramAPIError | ClientDecodeError) else str(exc)
    return message.rsplit("Original description: ", 1)[-1]


def _chat_id(address: str) -> int:
    try:
        return int(address)
    except ValueError:
        raise SendError(
            Failure.PERMANENT, f"not a Telegram chat id: {address!r}", code="chat-id", address_state="invalid"
        ) from None


def _plan(message: Outgoing) -> _Plan:
    edit = message.payload.get("edit")
    if edit is not None and (not isinstance(edit, int) or isinstance(edit, bool)):
        raise SendError(Failure.PERMANENT, f"payload edit is not a message id: {edit!r}", code="payload")
    try:
        parts = split_html(message.body)
    except ValueError as exc:  # a single tag longer than a message
        raise SendError(Failure.PERMANENT, str(exc), code="too-long") from None
    photo = message.payload.get("photo")
    if photo is not None and not isinstance(photo, str):
        raise SendError(Failure.PERMANENT, f"payload photo is not a file id: {photo!r}", code="payload")
    return _Plan(parts, keyboard(message.payload.get("buttons")), edit, photo)


def keyboard(rows: Any) -> InlineKeyboardMarkup | None:
    """The inline keyboard for payload["buttons"]; a malformed one is a permanent failure."""
    if not rows:
        return None
    try:
        return InlineKeyboardMarkup(inline_keyboard=[[_button(spec) for spec in row] for row in rows])
    except (TypeError, KeyError, ValueError, ValidationError) as exc:
        raise SendError(Failure.PERMANENT, f"bad payload buttons: {exc}", code="payload") from None


def _button(spec: Mapping[str, str]) -> InlineKeyboardButton:
    if "data" in spec:
        if len(spec["data"].encode()) > CALLBACK_DATA_BYTES:
            raise ValueError(f"callback data over {CALLBACK_DATA_BYTES} bytes: {spec['data']!r}")
        return InlineKeyboardButton(text=spec["text"], callback_data=spec["data"])
    return InlineKeyboardButton(text=spec["text"], url=spec["url"])


_ATOM = re.compile(r"<[^>]*>|&#?\w+;|.", re.DOTALL)  # a tag, an entity, or one character
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)[^>]*?(/?)>")
type _Open = list[tuple[str, str]]  # (name, opening tag) of the tags open at a point


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Telegram HTML in parts of at most `limit` UTF-16 units (tags counted too, so it is safe)."""
    if utf16_len(text) <= limit:
        return [text]
    atoms, parts = _ATOM.findall(text), []
    start = 0
    opened: _Open = []
    while start < len(atoms):
        end, resume, closing = _cut(atoms, start, opened, limit)
        head, tail = "".join(tag for _, tag in opened), "".join(f"</{name}>" for name, _ in reversed(closing))
        part = head + "".join(atoms[start:end]) + tail
        if _TAG.sub("", part).strip():
            parts.append(part)
        start, opened = resume, closing
    return parts


def _cut(atoms: Sequence[str], start: int, opened: _Open, limit: int) -> tuple[int, int, _Open]:
    """Where the part from `start` ends: (end, where the next begins, tags open at the end)."""
    stack = list(opened)
    size = sum(utf16_len(tag) + len(name) + 3 for name, tag in stack)  # reopened tags and their closers
    best: dict[str, tuple[int, int, _Open]] = {}
    for index in range(start, len(atoms)):
        atom = atoms[index]
        if index > start:
            best[atom if atom in ("\n", " ") else ""] = (index, index + (atom in ("\n", " ")), list(stack))
        size += utf16_len(atom) + _track(stack, atom)
        if size > limit:
            break
    else:
        return len(atoms), len(atoms), stack
    found = best.get("\n") or best.get(" ") or best.get("")
    if found is None:
        raise ValueError(f"cannot cut {atoms[start]!r} to fit {limit} UTF-16 units")
    return found


def _track(stack: _Open, atom: str) -> int:
    """Apply a tag to the open-tag stack; returns the change in the size of the closers needed."""
    tag = _TAG.fullmatch(atom)
    if tag is None or tag[3]:
        return 0
    name = tag[2].lower()
    if not tag[1]:
        stack.append((name, atom))
        return len(name) + 3
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            del stack[index]
            return -(len(name) + 3)
    return 0
