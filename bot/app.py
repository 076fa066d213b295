"""Composition root: settings in, a running Doorstep out (store, services, web app, scheduler, dispatcher)."""

import asyncio
import secrets
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI

from bot.clock import Clock
from bot.config import Settings
from bot.services import Services, build_services
from bot.usecases.inbound import answer_pending
from bot.web.api import create_web_app
from scheduler.wiring import build_scheduler


@dataclass
class App:
    services: Services
    web: FastAPI
    api_key: str
    generated_key: bool
    scheduler: AsyncIOScheduler | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start_background(self) -> None:
        """The scheduler tick and the outbox dispatcher beside the web app (replies a crash left, first)."""
        await answer_pending(self.services)
        self.scheduler = build_scheduler(self.services)
        self.scheduler.start()
        task = asyncio.create_task(self.services.dispatcher().run(self._stop), name="dispatcher")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.services.close()


async def build_app(settings: Settings, clock: Clock | None = None) -> App:
    services = await build_services(settings, clock)
    configured = settings.web.api_key.get_secret_value() if settings.web.api_key else None
    api_key = configured or secrets.token_urlsafe(24)
    return App(services, create_web_app(services, api_key), api_key, generated_key=configured is None)
