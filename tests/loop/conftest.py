"""A planned day on the virtual clock, with helpers to read the outbox as a recipient would."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.domain import invariants
from bot.services import Services
from bot.store import day_facts
from bot.store.tables import messages
from bot.usecases.fleet import FleetIn
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from tests.conftest import DAY

MORNING = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # 07:30 in Berlin, vans not yet out


@pytest.fixture(autouse=True)
async def invariants_hold(services: Services) -> AsyncIterator[None]:
    """Every scenario ends with the ledger and the outbox agreeing: no window changed without a message,
    no message out of order (bot/domain/invariants.py), on the day and the days around it."""
    yield
    thresholds = invariants.thresholds(services.settings.messages)
    async with services.store.read() as conn:
        for offset in range(-1, 4):
            facts = await day_facts.load(conn, DAY + timedelta(days=offset))
            assert invariants.check(facts, *thresholds) == []


@pytest.fixture
async def planned_day(services: Services, clock: ManualClock, day_file: dict[str, Any]) -> Services:
    fleet_in = FleetIn.model_validate({k: day_file[k] for k in ("depots", "drivers")})
    rows = list(enumerate(day_file["deliveries"], 1))
    await import_deliveries(services.store, clock, services.settings.day, rows, fleet_in=fleet_in)
    await plan_date(services.store, clock, services.settings.eta, services.matrix, DAY, actor="test")
    clock.set(MORNING)
    return services


async def outbox_rows(services: Services, **where: Any) -> list[sa.RowMapping]:
    query = sa.select(messages).order_by(messages.c.id)
    for column, value in where.items():
        query = query.where(messages.c[column] == value)
    async with services.store.read() as conn:
        return list((await conn.execute(query)).mappings())
