"""The one Services object every surface is given (practice 3 of shared/STYLE.md); bot/composition.py
builds it."""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from aiogram import Bot

from bot.channels.base import Transport
from bot.channels.dispatch import Dispatcher
from bot.channels.sandbox import SandboxTransport
from bot.clock import Clock
from bot.config import Settings
from bot.domain.intents import Reader
from bot.notify.compose import Composer
from bot.store.db import Store
from bot.usecases import fallback
from bot.usecases.learning import Learner
from bot.usecases.on_the_road import Road
from eta.matrix import MatrixProvider
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
    read: Reader  # a recipient's words as an intent (bot/handlers/sms_text.parse)
    telegram_bot: Bot | None = None  # when DOORSTEP_TELEGRAM__TOKEN is set
    _day_matrices: dict[date, DayMatrix] = field(default_factory=dict)
    _learner: Learner | None = None
    _road: Road | None = None

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

    def road(self) -> Road:
        """Where the parcels on the road stand, for every recipient's page (bot/usecases/on_the_road.py)."""
        if self._road is None:
            width = timedelta(minutes=self.settings.messages.out_for_delivery_window_minutes)
            self._road = Road(self.learner(), width)
        return self._road

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
        for transport in {id(t): t for t in [*self.transports.values(), self.sandbox]}.values():
            await transport.close()
        await self.http.aclose()
        await self.store.close()
