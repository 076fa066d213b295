"""The one Services object every surface is given (practice 3 of shared/STYLE.md)."""

from dataclasses import dataclass

import httpx

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.store.db import Store, open_store
from eta.matrix import MatrixProvider
from eta.matrix_factory import build_matrix_provider


@dataclass
class Services:
    """What handlers, use cases and jobs are given: one object, injected by each framework."""

    settings: Settings
    clock: Clock
    store: Store
    matrix: MatrixProvider
    http: httpx.AsyncClient

    async def close(self) -> None:
        await self.http.aclose()
        await self.store.close()


async def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
    store = await open_store(settings.store.url, echo=settings.store.echo)
    matrix = build_matrix_provider(settings.eta, http)
    return Services(settings, clock or SystemClock(), store, matrix, http)
