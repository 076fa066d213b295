"""Settings in, a running Doorstep out: the services (built by the composition root, bot/composition.py),
the web app with its typed state (bot/web/state.py), the scheduler, the dispatcher, and the Telegram
bot when it has a token (webhook with a public URL, long polling without).

Every background loop runs under the supervisor (bot/supervise.py): an error restarts it, never ends it.
"""

import asyncio
import contextlib
import functools
import gc
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI

from bot.clock import Clock
from bot.composition import build_services
from bot.config import Settings
from bot.handlers import telegram as tg
from bot.services import Services
from bot.supervise import Beat, Supervisor
from bot.usecases.inbound import Answerer, answer_pending
from bot.web import state as web_state
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
    supervisor: Supervisor
    telegram: tg.TelegramIn | None = None
    telegram_secret: str | None = None
    scheduler: AsyncIOScheduler | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _polling: asyncio.Task[None] | None = None

    async def start_background(self) -> None:
        """Scheduler tick, outbox dispatcher and Telegram beside the web app (crash leftovers first:
        one that fails is counted and tried again by the answerer, never holding up the start)."""
        await answer_pending(self.services, self._handle_telegram if self.telegram else None)
        stale = self.services.settings.health.stale_seconds
        ticks = self.supervisor.loop(
            "scheduler", max(stale, 3 * self.services.settings.scheduler.tick_seconds)
        )
        self.scheduler = build_scheduler(self.services, ticks)
        self.scheduler.start()
        ticks.alive = True  # APScheduler runs it; a failed tick is down until one passes
        self._supervise("dispatcher", self.services.dispatcher().run, stale)
        answerer = Answerer(self.services, webhooks=web_state.of(self.web).inbox_writer)
        web_state.of(self.web).answerer = answerer  # inbound webhooks nudge it (bot/web/twilio.py)
        self._supervise("answerer", answerer.run, stale)
        if self.telegram is not None:
            await self._start_telegram(self.telegram)
        web_state.of(self.web).tiles.file()  # the page's map builds now (if it must), not at a first visit
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
            polling = functools.partial(tg.poll, self.services, bot)
            stale = self.services.settings.health.stale_seconds + tg.POLL_TIMEOUT_S
            self._polling = self._supervise("telegram-polling", polling, stale)
            log.info("telegram: long polling (no DOORSTEP_WEB__PUBLIC_URL)")

    async def _handle_telegram(self, inbox_id: int) -> None:
        assert self.telegram is not None
        await tg.handle(self.services, self.telegram, inbox_id)

    def _supervise(
        self, name: str, run: Callable[[asyncio.Event, Beat], Awaitable[None]], stale_after: float
    ) -> asyncio.Task[None]:
        """Run a loop under the supervisor: restarted after any error, until the app stops."""
        work = self.supervisor.run(
            name, lambda beat: run(self._stop, beat), self._stop, stale_after=stale_after
        )
        return self._spawn(work, name)

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
    supervisor = Supervisor(services.clock, settings.health)
    web = create_web_app(services, api_key, supervisor)
    app = App(services, web, api_key, generated_key=configured is None, supervisor=supervisor)
    if services.telegram_bot is not None:
        given = settings.telegram.webhook_secret
        app.telegram = tg.TelegramIn(services.telegram_bot, tg.build_dispatcher(services))
        app.telegram_secret = given.get_secret_value() if given else secrets.token_urlsafe(32)
        web_state.of(web).telegram, web_state.of(web).telegram_secret = app.telegram, app.telegram_secret
    return app
