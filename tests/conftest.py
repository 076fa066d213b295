"""Shared fixtures: a manual clock, a real SQLite file per test, the real ASGI app over httpx."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.services import Services
from sim.sample import sample_day

API_KEY = "test-key-0123456789"
DAY = date(2026, 11, 23)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 22, 18, 0, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "doorstep.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        web={"api_key": API_KEY},
        eta={"exploration": 1},
        sandbox={"path": db_path.with_name("sandbox.db")},
        _env_file=None,
    )


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[App]:
    built = await build_app(settings, clock)
    yield built
    await built.services.close()


@pytest.fixture
def services(app: App) -> Services:
    return app.services


@pytest.fixture
async def api(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://doorstep.test", headers={"X-API-Key": API_KEY}
    ) as c:
        yield c


@pytest.fixture
def day_file() -> dict[str, Any]:
    """A 40-delivery, 3-driver day in Berlin (sim.sample, fixed seed)."""
    return sample_day(DAY, 40, 3, seed=11)
