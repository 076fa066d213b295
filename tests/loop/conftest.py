"""A planned day on the virtual clock, with helpers to read the outbox as a recipient would."""

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.services import Services
from bot.store.tables import messages
from bot.usecases.fleet import FleetIn
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from tests.conftest import DAY

MORNING = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # 07:30 in Berlin, vans not yet out


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
