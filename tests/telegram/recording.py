"""Recorded Telegram traffic for unit tests: updates in (tests/fixtures/telegram/*.json), Bot API calls out.

``RecordingSession`` is an aiogram session that records every call instead of sending it. Each call is
kept as aiogram's own pydantic method model (validated when the handler built it, and again from its dump,
so ``==`` compares fields), with the form fields aiogram would POST. Answers go through aiogram's
``check_response`` exactly as a real reply would: a plausible result is validated into aiogram's types,
and a ``Fault`` becomes aiogram's own exception (``TelegramRetryAfter``, ``TelegramForbiddenError``,
``TelegramMigrateToChat``, ``TelegramBadRequest``). ``fail()`` and ``respond()`` queue answers per method.
"""

import itertools
import json
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_args

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetFile, GetMe, GetWebhookInfo, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile, Message, Update

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
TOKEN = "42:recording-session"
BOT_USER = {
    "id": 42,
    "is_bot": True,
    "first_name": "Doorstep",
    "username": "doorstep_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def load_update(name: str, **overrides: Any) -> Update:
    """A recorded update from tests/fixtures/telegram, with nested dicts in ``overrides`` merged in."""
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    return Update.model_validate(_merge(raw, overrides))


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        nested = isinstance(value, Mapping) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if nested else value
    return merged


@dataclass(frozen=True)
class Fault:
    """An error answer from the Bot API, as Telegram sends it."""

    error_code: int
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        parameters = {"retry_after": self.retry_after, "migrate_to_chat_id": self.migrate_to_chat_id}
        answer = {"ok": False, "error_code": self.error_code, "description": self.description}
        if given := {key: value for key, value in parameters.items() if value is not None}:
            answer["parameters"] = given
        return answer


def retry_after(seconds: int) -> Fault:
    return Fault(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


def migrated(to_chat_id: int) -> Fault:
    return Fault(
        400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=to_chat_id
    )


BLOCKED = Fault(403, "Forbidden: bot was blocked by the user")
MESSAGE_TOO_LONG = Fault(400, "Bad Request: message is too long")


@dataclass(frozen=True)
class Call:
    """One Bot API call: aiogram's method model (== compares fields) and the form fields it would POST."""

    method: TelegramMethod[Any]
    form: dict[str, str]

    @property
    def name(self) -> str:
        return self.method.__api_method__


type Answer = Fault | dict[str, Any]


class RecordingSession(BaseSession):
    """Records every call; answers with a plausible result, a queued result, or a queued ``Fault``."""

    def __init__(self, now: datetime = NOW) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.now = now
        self._answers: defaultdict[type[TelegramMethod[Any]], deque[Answer]] = defaultdict(deque)
        self._message_ids = itertools.count(1)
        self.files: dict[str, bytes] = {}  # by file id: what getFile and a download give (none: 400)

    def fail(self, method: type[TelegramMethod[Any]], fault: Fault, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get ``fault``."""
        self._answers[method].extend([fault] * times)

    def respond(self, method: type[TelegramMethod[Any]], result: Any) -> None:
        """The next call of ``method`` gets ``result`` (its JSON form) instead of the made-up one."""
        self._answers[method].append({"ok": True, "result": result})

    def sent[M: TelegramMethod[Any]](self, method: type[M]) -> list[M]:
        return [call.method for call in self.calls if isinstance(call.method, method)]

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        detached = type(method).model_validate(method.model_dump(warnings=False))  # validated again, no bot
        self.calls.append(Call(detached, self._form(bot, method)))
        queued = self._answers[type(method)]
        answer = queued.popleft() if queued else self._answer(method)
        status = 200
        if isinstance(answer, Fault):
            status, answer = answer.error_code, answer.as_json()
        response = self.check_response(bot, method, status, json.dumps(answer))
        return cast(TelegramType, response.result)

    def _form(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, str]:
        files: dict[str, InputFile] = {}  # as AiohttpSession.build_form_data: uploads become attach://
        prepared = {
            key: self.prepare_value(value, bot=bot, files=files)
            for key, value in method.model_dump(warnings=False).items()
        }
        return {key: value for key, value in prepared.items() if value}

    def _answer(self, method: TelegramMethod[Any]) -> Answer:
        if isinstance(method, GetFile):  # as Telegram: a file it has, or 400
            if method.file_id not in self.files:
                return Fault(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
            size = len(self.files[method.file_id])
            path = f"photos/{method.file_id}.jpg"
            return {
                "ok": True,
                "result": {
                    "file_id": method.file_id,
                    "file_unique_id": "u1",
                    "file_size": size,
                    "file_path": path,
                },
            }
        return {"ok": True, "result": self._result(method)}

    def _result(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetWebhookInfo):
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        returning = method.__returning__
        if getattr(method, "inline_message_id", None) or returning is bool:
            return True
        if returning is Message or Message in get_args(returning):
            return self._message(method)
        raise NotImplementedError(f"no made-up result for {method.__api_method__}: use session.respond()")

    def _message(self, method: TelegramMethod[Any]) -> dict[str, Any]:
        date = int(self.now.timestamp())
        edited = getattr(method, "message_id", None)
        message = {
            "message_id": edited or next(self._message_ids),
            "date": date,
            "chat": _chat(getattr(method, "chat_id", None)),
            "from": BOT_USER,
        }
        if edited:
            message["edit_date"] = date
        for field in ("text", "caption"):
            if isinstance(value := getattr(method, field, None), str):
                message[field] = value
        if isinstance(markup := getattr(method, "reply_markup", None), InlineKeyboardMarkup):
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        if (latitude := getattr(method, "latitude", None)) is not None:
            message["location"] = {"latitude": latitude, "longitude": getattr(method, "longitude", None)}
        return message

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        name = url.rsplit("/", 1)[-1].removesuffix(".jpg")
        if name not in self.files:
            raise NotImplementedError(f"RecordingSession has no file behind {url}")
        yield self.files[name]


def _chat(chat_id: int | str | None) -> dict[str, Any]:
    if isinstance(chat_id, str):
        return {"id": -1001, "type": "channel", "username": chat_id.lstrip("@")}
    if chat_id is not None and chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": "group"}
    return {"id": chat_id or 1, "type": "private", "first_name": "recipient"}


@pytest.fixture
def recording_session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def recording_bot(recording_session: RecordingSession) -> Bot:
    return Bot(TOKEN, session=recording_session)
