"""The composition root of the services: the one place that decides which parts make them up (bot/app.py
adds the web app, the scheduler and the background loops on top).

Which transport carries each registered channel (the provider's when configured, else the sandbox), which
reader reads a recipient's words, which travel-time matrix plans; everything else is handed the
`Services` built here.
"""

import httpx

from bot.channels import registry
from bot.channels.base import Transport
from bot.channels.sandbox import SandboxTransport
from bot.channels.telegram import TelegramTransport
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.handlers import sms_text
from bot.notify.compose import Composer
from bot.notify.kinds import Channel
from bot.notify.render import Renderer, make_environment
from bot.services import Services
from bot.store.db import open_store
from eta.matrix_factory import build_matrix_provider


async def build_services(settings: Settings, clock: Clock | None = None, *, create: bool = True) -> Services:
    """Everything a surface needs; `create`: a missing database may be made (bot.store.db.open_store)."""
    store = await open_store(settings.store.url, echo=settings.store.echo, create=create)
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
    matrix = build_matrix_provider(settings.eta, http)
    sandbox = SandboxTransport(
        settings.sandbox.path, latency_ms=settings.sandbox.latency_ms, reconcile=settings.sandbox.reconcile
    )
    clock = clock or SystemClock()
    # Each registered channel on its provider's transport; one without its provider configured on the sandbox.
    transports: dict[str, Transport] = {
        name: registry.get(name).transport(settings, clock) or sandbox for name in registry.names()
    }
    telegram = transports.get(Channel.TELEGRAM.value)
    composer = Composer(
        Renderer(make_environment()), settings.messages, settings.telegram.username, settings.web.public_url
    )
    return Services(
        settings,
        clock,
        store,
        matrix,
        http,
        sandbox,
        transports,
        composer,
        read=sms_text.parse,
        telegram_bot=telegram.bot if isinstance(telegram, TelegramTransport) else None,
    )
