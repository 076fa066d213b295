"""Composition root: settings in, a running Doorstep out (store, services, web app, scheduler, dispatcher,
and the Telegram bot when it has a token: webhook with a public URL, long polling without)."""

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI

from bot.clock import Clock
from bot.config import Settings
from bot.handlers import telegram as tg
from bot.services import Services, build_services
from bot.usecases.inbound import Answerer, answer_pending
from bot.web.api import create_web_app
from scheduler.wiring import build_scheduler

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Collect, then move what start-up left alive out of the collector's way (gc.freeze): the modules,
    settings and caches of a long-running process are never garbage, and a full pass over them costs a
    request 100-300 ms (measured in bench/replan.py)."""
    gc.collect()
    gc.freeze()


WEBHOOK_PATH = "/webhooks/telegram"


@dataclass
class App:
    services: Services
    web: FastAPI
    api_key: str
    generated_key: bool
    telegram: tg.TelegramIn | None = None
    telegram_secret: str | None = None
    scheduler: AsyncIOScheduler | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _polling: asyncio.Task[None] | None = None

    async def start_background(self) -> None:
        """Scheduler tick, outbox dispatcher and Telegram beside the web app (crash leftovers first)."""
        await answer_pending(self.services, self._handle_telegram if self.telegram else None)
        self.scheduler = build_scheduler(self.services)
        self.scheduler.start()
        self._spawn(self.services.dispatcher().run(self._stop), "dispatcher")
        answerer = Answerer(self.services, webhooks=self.web.state.inbox_writer)
        self.web.state.answerer = answerer  # inbound webhooks nudge it (bot/web/twilio.py)
        self._spawn(answerer.run(self._stop), "answerer")
        if self.telegram is not None:
            await self._start_telegram(self.telegram)
        settle_heap()

    async def _start_telegram(self, bot: tg.TelegramIn) -> None:
        public = self.services.settings.web.public_url
        if public:
            await bot.bot.set_webhook(
                url=public.rstrip("/") + WEBHOOK_PATH,
                secret_token=self.telegram_secret,
                allowed_updates=tg.UPDATES,
            )
            log.info("telegram: webhook at %s%s", public.rstrip("/"), WEBHOOK_PATH)
        else:
            self._polling = self._spawn(tg.poll(self.services, bot, self._stop), "telegram-polling")
            log.info("telegram: long polling (no DOORSTEP_WEB__PUBLIC_URL)")

    async def _handle_telegram(self, inbox_id: int) -> None:
        assert self.telegram is not None
        await tg.handle(self.services, self.telegram, inbox_id)

    def _spawn(self, work: Coroutine[None, None, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self._polling is not None:  # it may be inside a long poll
            self._polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.services.close()


async def build_app(settings: Settings, clock: Clock | None = None) -> App:
    services = await build_services(settings, clock)
    configured = settings.web.api_key.get_secret_value() if settings.web.api_key else None
    api_key = configured or secrets.token_urlsafe(24)
    web = create_web_app(services, api_key)
    app = App(services, web, api_key, generated_key=configured is None)
    if services.telegram_bot is not None:
        given = settings.telegram.webhook_secret
        app.telegram = tg.TelegramIn(services.telegram_bot, tg.build_dispatcher(services))
        app.telegram_secret = given.get_secret_value() if given else secrets.token_urlsafe(32)
        web.state.telegram, web.state.telegram_secret = app.telegram, app.telegram_secret
    return app
