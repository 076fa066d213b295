"""The one Services object every surface is given (practice 3 of shared/STYLE.md)."""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from aiogram import Bot

from bot.channels.base import Transport
from bot.channels.dispatch import Dispatcher
from bot.channels.sandbox import SandboxTransport
from bot.channels.telegram import TelegramTransport, make_bot
from bot.channels.twilio import TwilioTransport
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.notify.compose import Composer
from bot.notify.kinds import Channel
from bot.notify.render import Renderer, make_environment
from bot.store.db import Store, open_store
from bot.usecases import fallback
from bot.usecases.learning import Learner
from eta.matrix import MatrixProvider
from eta.matrix_factory import build_matrix_provider
from eta.replan import DayMatrix


@dataclass
class Services:
    """What handlers, use cases and jobs are given: one object, injected by each framework."""

    settings: Settings
    clock: Clock
    store: Store
    matrix: MatrixProvider
    http: httpx.AsyncClient
    sandbox: SandboxTransport
    transports: Mapping[str, Transport]
    composer: Composer
    telegram_bot: Bot | None = None  # when DOORSTEP_TELEGRAM__TOKEN is set
    twilio: TwilioTransport | None = None  # when DOORSTEP_TWILIO__ account, token and sender are set
    _day_matrices: dict[date, DayMatrix] = field(default_factory=dict)
    _learner: Learner | None = None

    def day_matrix(self, day: date) -> DayMatrix:
        """One matrix per delivery day, grown as points appear: re-plans look travel times up."""
        if day not in self._day_matrices:
            self._day_matrices = {d: m for d, m in self._day_matrices.items() if d >= day - timedelta(days=1)}
            self._day_matrices[day] = DayMatrix(self.matrix)
        return self._day_matrices[day]

    def learner(self) -> Learner:
        """What the stop events teach plans and windows (eta/learning.py); it keeps the days that are over."""
        if self._learner is None:
            self._learner = Learner(self.settings.eta, self.matrix)
        return self._learner

    def dispatcher(self) -> Dispatcher:
        """The outbox dispatcher over this process's transports."""
        return Dispatcher(
            self.store,
            self.clock,
            self.transports,
            self.settings.outbox,
            on_address_failed=functools.partial(fallback.reroute, composer=self.composer),
            poison_after=self.settings.health.poison_after,
        )

    async def close(self) -> None:
        if self.telegram_bot is not None:
            await self.telegram_bot.session.close()
        if self.twilio is not None:
            await self.twilio.close()
        await self.http.aclose()
        await self.store.close()
        self.sandbox.close()


async def build_services(settings: Settings, clock: Clock | None = None, *, create: bool = True) -> Services:
    """Everything a surface needs; `create`: a missing database may be made (bot.store.db.open_store)."""
    store = await open_store(settings.store.url, echo=settings.store.echo, create=create)
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
    matrix = build_matrix_provider(settings.eta, http)
    sandbox = SandboxTransport(
        settings.sandbox.path, latency_ms=settings.sandbox.latency_ms, reconcile=settings.sandbox.reconcile
    )
    clock = clock or SystemClock()
    # A channel without its provider configured goes to the sandbox.
    bot = make_bot(settings.telegram)
    sms = None
    if settings.twilio.configured:
        sms = TwilioTransport(settings.twilio, clock, public_url=settings.web.public_url)
    transports: dict[str, Transport] = {
        Channel.SMS.value: sms or sandbox,
        Channel.TELEGRAM.value: TelegramTransport(bot) if bot else sandbox,
    }
    composer = Composer(Renderer(make_environment()), settings.messages, settings.telegram.username)
    return Services(
        settings, clock, store, matrix, http, sandbox, transports, composer, telegram_bot=bot, twilio=sms
    )
