"""A Telegram Bot API peer on loopback: npm ``telegram-test-api`` 4.2.1 with a shim, and a Python client.

What the emulator is (read in ``node_modules/telegram-test-api/lib``; MIT; an Express server):

* Start: only from code, ``new TelegramServer({port, host, storage: "RAM", storeTimeout})``, then
  ``await server.start()`` / ``server.stop()``. The npm package ships no CLI (``npm start`` and ``bin/``
  exist only in its git repository). ``port: 0`` means 9000 (``port || 9000``), so we pick a free port
  and retry on EADDRINUSE. Messages expire after ``storeTimeout`` seconds (default 60; we use 3600).
* Bot API, ``GET|POST /bot<token>/<method>`` with JSON or form bodies. Nothing is validated (any chat_id,
  any length, any parse_mode) and it never answers 429, 403 or migrate_to_chat_id: use
  ``recording.RecordingSession`` for those. Supported methods:
  getMe (a fixed bot, id 666 @TestNameBot, without ``is_bot``);
  sendMessage (answers with the request fields echoed back, ``date`` in milliseconds, a ``chat`` with
  first_name "Bot", and ``reply_markup`` only if inline);
  editMessageText and editMessageReplyMarkup (merge the request into the stored message and answer
  ``result: null``; an edit without ``reply_markup`` keeps the old keyboard, where Telegram drops it);
  answerCallbackQuery (ignored, ``null``); deleteMessage;
  getUpdates (unread user updates, marked read when fetched; it ignores offset, limit, timeout and
  allowed_updates); setWebhook (stores url and secret_token, answers ``null``); deleteWebhook.
  Anything else (getWebhookInfo, sendPhoto, sendLocation, sendChatAction, setMyCommands,
  editMessageLiveLocation, ...) gets HTTP 500 ``{"message": "API method '...' is not supported"}``.
* Client API, for acting as a user (not Telegram's API): ``POST /sendMessage``, ``/sendCommand`` (needs
  ``entities``) and ``/sendCallback`` each take a Message-like (or CallbackQuery-like) body plus
  ``botToken``. They answer ``{"ok": true}`` at once, **before** the update reaches the bot.
  ``POST /getUpdates {token, chatId}`` returns the bot's unread messages to that chat and marks them read.
  ``POST /getUpdatesHistory {token}`` returns every stored bot message (and, in polling mode only, the user
  updates) as ``{time, botToken, message: <the bot's request fields>, updateId, messageId, isRead}``.
  Updates are only ever ``message`` or ``callback_query``: there is no edited_message, so no live-location
  updates. Any field in the body (location, photo, ...) passes through into the message.
* Webhook mode: user updates are POSTed to the url and not stored. It does not retry, and it ignores the
  response body, so a reply that aiogram returns in the webhook response never reaches it: call the API.
  update_id and message_id share one counter. As published, it sends no secret header, its callback
  queries lack ``chat_instance`` (so aiogram rejects the update), and a non-2xx answer rejects a promise
  that nothing awaits, which ends the Node 20 process.

The shim (``emulator_server.js``, the only code that touches the emulator's internals) fixes what breaks
aiogram inside the emulator itself. So the Bot under test runs on the production ``AiohttpSession``
unchanged (only ``api=TelegramAPIServer.from_base(url)``), and the app sees what Telegram would send:
getMe has ``is_bot``; errors have Telegram's ``{"ok": false, "error_code", "description"}`` shape;
getUpdates long-polls for up to 5 s; bot message dates are in seconds, with ``from``; update and message
ids don't collide. Its webhook forwarder sends ``X-Telegram-Bot-Api-Secret-Token`` with the secret the bot
gave in setWebhook, so a test also proves that the app registers the secret. It fills ``chat_instance``,
never crashes the process, records every delivery with its HTTP status (``/_shim/deliveries``), and can
deliver one again (``/_shim/redeliver``), as Telegram does after a slow or failed answer. The alternatives
were worse. A Python proxy on either side would need the secret handed to it by the test, plus a second
server per test and its own crash handling. A custom aiogram session would leave the webhook side
unfixed and change the code under test.

Python side: the ``telegram_emulator`` fixture yields an ``Emulator``. Use ``make_bot()`` for the Bot,
``send_text`` / ``send_message`` / ``press`` to act as a ``TgUser``, ``bot_messages`` / ``wait_bot_messages``
/ ``wait_chat`` to read what a chat got, and ``deliveries`` / ``wait_deliveries`` / ``redeliver`` for
webhook POSTs. ``loopback_server`` serves the app's ASGI webhook on a free port.
"""

import asyncio
import json
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from starlette.types import ASGIApp

REPO = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = Path(__file__).with_name("emulator_server.js")
PACKAGE = REPO / "node_modules" / "telegram-test-api" / "package.json"
BOT_TOKEN = "666:doorstep-emulator"  # the id matches the emulator's fixed getMe
BOT_USER = {"id": 666, "is_bot": True, "first_name": "Test First name", "username": "TestNameBot"}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class EmulatorError(RuntimeError):
    """The emulator refused a client call, or did not do what was awaited in time."""


@dataclass(frozen=True)
class TgUser:
    """A Telegram user who talks to the bot in a private chat whose id is the user id."""

    id: int
    first_name: str
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        return user | ({"username": self.username} if self.username else {})

    def chat(self) -> dict[str, Any]:
        return {key: value for key, value in self.as_json().items() if key != "is_bot"} | {"type": "private"}


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent, as the emulator stores it (after any edits)."""

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    date: int

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> "BotMessage":
        message = stored["message"]
        return cls(
            message_id=stored["messageId"],
            chat_id=int(message["chat_id"]),
            text=message.get("text"),
            reply_markup=message.get("reply_markup"),
            date=stored["time"] // 1000,
        )

    def buttons(self) -> dict[str, str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return {button["text"]: button.get("callback_data", "") for row in rows for button in row}

    def as_json(self) -> dict[str, Any]:
        chat = {"id": self.chat_id, "type": "private" if self.chat_id > 0 else "group"}
        message = {"message_id": self.message_id, "date": self.date, "chat": chat, "from": BOT_USER}
        optional = {"text": self.text, "reply_markup": self.reply_markup}
        return message | {key: value for key, value in optional.items() if value is not None}


@dataclass(frozen=True)
class Delivery:
    """One webhook POST made by the shim, and how the app answered it."""

    update: dict[str, Any]
    url: str
    status: int | None
    error: str | None

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


class Emulator:
    """Acts as Telegram users against a running emulator, and reads what the bot sent them."""

    def __init__(self, url: str, http: httpx.AsyncClient, token: str = BOT_TOKEN) -> None:
        self.url = url
        self.token = token
        self._http = http
        self._bots: list[Bot] = []

    def make_bot(self) -> Bot:
        """A Bot on the production session, pointed at the emulator; closed with the emulator."""
        bot = Bot(self.token, session=AiohttpSession(api=TelegramAPIServer.from_base(self.url)))
        self._bots.append(bot)
        return bot

    async def send_message(self, user: TgUser, **fields: Any) -> None:
        """Sends a user's message (text, location, photo, ...); the bot gets it after this returns."""
        body = {"botToken": self.token, "from": user.as_json(), "chat": user.chat(), "date": int(time.time())}
        route = "/sendCommand" if str(fields.get("text", "")).startswith("/") else "/sendMessage"
        if route == "/sendCommand":
            command = fields["text"].split(maxsplit=1)[0]
            fields.setdefault("entities", [{"type": "bot_command", "offset": 0, "length": len(command)}])
        await self._call(route, body | fields)

    async def send_text(self, user: TgUser, text: str) -> None:
        await self.send_message(user, text=text)

    async def press(self, user: TgUser, message: BotMessage, button: str) -> None:
        """Taps the inline button labelled ``button`` under one of the bot's messages."""
        data = message.buttons()[button]
        body = {"botToken": self.token, "from": user.as_json(), "message": message.as_json(), "data": data}
        await self._call("/sendCallback", body)

    async def bot_messages(self, chat_id: int) -> list[BotMessage]:
        """Every message the bot sent to the chat, oldest first, edits applied; reading marks nothing."""
        history = await self._call("/getUpdatesHistory", {"token": self.token})
        sent = [BotMessage.from_stored(item) for item in history if "chat_id" in item.get("message", {})]
        return sorted((m for m in sent if m.chat_id == chat_id), key=lambda m: m.message_id)

    async def wait_bot_messages(self, chat_id: int, count: int = 1, within: float = 3.0) -> list[BotMessage]:
        return await self.wait_chat(chat_id, lambda got: len(got) >= count, within)

    async def wait_chat(
        self, chat_id: int, until: Callable[[list[BotMessage]], bool], within: float = 3.0
    ) -> list[BotMessage]:
        """Waits until the bot's messages to the chat satisfy ``until``; fails after ``within`` seconds."""
        return await _poll(lambda: self.bot_messages(chat_id), until, within)

    async def deliveries(self) -> list[Delivery]:
        response = await self._http.get(f"{self.url}/_shim/deliveries")
        return [_delivery(item) for item in response.json()["result"]]

    async def wait_deliveries(self, count: int, within: float = 3.0) -> list[Delivery]:
        """Waits until ``count`` webhook POSTs have been answered (or failed)."""

        def answered(got: list[Delivery]) -> bool:
            return len(got) >= count and all(d.status or d.error for d in got)

        return await _poll(self.deliveries, answered, within)

    async def redeliver(self, update_id: int) -> Delivery:
        """Posts an already delivered update again, as Telegram does after a slow or failed answer."""
        return _delivery(await self._call("/_shim/redeliver", {"update_id": update_id}))

    async def close_bots(self) -> None:
        await asyncio.gather(*(bot.session.close() for bot in self._bots))

    async def _call(self, path: str, body: dict[str, Any]) -> Any:
        response = await self._http.post(f"{self.url}{path}", json=body)
        answer = response.json()
        if not answer.get("ok"):
            raise EmulatorError(f"{path}: HTTP {response.status_code} {answer}")
        return answer["result"]


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery(update=item["update"], url=item["url"], status=item["status"], error=item["error"])


async def _poll[T](
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float, every: float = 0.02
) -> T:
    deadline = asyncio.get_running_loop().time() + within
    while not done(got := await read()):
        if asyncio.get_running_loop().time() > deadline:
            raise EmulatorError(f"not there after {within} s; last seen: {got}")
        await asyncio.sleep(every)
    return got


def emulator_unavailable() -> str | None:
    """Why the emulator cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found: the Telegram emulator (npm telegram-test-api) cannot run here"
    if not PACKAGE.exists():
        return "node_modules/telegram-test-api is missing: run `./dev test` (it runs `npm ci`)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _spawn(log: Path) -> tuple[asyncio.subprocess.Process, str]:
    for _ in range(3):
        with log.open("ab") as err:
            process = await asyncio.create_subprocess_exec(
                "node",
                str(SERVER_SCRIPT),
                str(_free_port()),
                cwd=REPO,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=10)
        except TimeoutError:
            await _stop(process)
            raise
        if line:
            return process, str(json.loads(line)["url"])
        await process.wait()  # the port was taken between our check and node's bind: try another
    raise EmulatorError(f"the emulator did not start: {await asyncio.to_thread(log.read_text)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    try:
        await asyncio.wait_for(process.communicate(), timeout=3)
    except TimeoutError:
        process.kill()
        await process.communicate()


@asynccontextmanager
async def running_emulator(log: Path) -> AsyncIterator[Emulator]:
    """Starts the emulator on a free loopback port, waits until it answers, and kills it afterwards."""
    process, url = await _spawn(log)
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            emulator = Emulator(url, http)
            await http.get(f"{url}/bot{emulator.token}/getMe")
            try:
                yield emulator
            finally:
                await emulator.close_bots()
        if process.returncode is not None:
            raise EmulatorError(
                f"the emulator died during the test: {await asyncio.to_thread(log.read_text)}"
            )
    finally:
        await _stop(process)


@pytest.fixture
async def telegram_emulator(tmp_path: Path) -> AsyncIterator[Emulator]:
    if reason := emulator_unavailable():
        if os.environ.get("CI") == "true" and shutil.which("npm"):
            pytest.fail(f"{reason} (CI has npm, so `./dev test` should have installed it)")
        pytest.skip(reason)
    async with running_emulator(tmp_path / "emulator.log") as emulator:
        yield emulator


@asynccontextmanager
async def loopback_server(app: ASGIApp) -> AsyncIterator[str]:
    """Serves an ASGI app (the webhook side) on a free 127.0.0.1 port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # requests wait in the backlog until uvicorn accepts
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            await serving
