"""The shipper's notes from the import reach the driver: on the day's route and on the stop's card."""

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.domain.deliveries import StopEvent
from bot.services import Services
from bot.store import plans
from bot.store.tables import deliveries
from bot.usecases import driver_cards, progress
from scheduler.jobs import fill_outbox
from tests.conftest import DAY
from tests.loop.conftest import outbox_rows

NOTE = "Dog in the yard"


@pytest.fixture
def day_file(day_file: dict[str, Any]) -> dict[str, Any]:
    """The sample day with one note from the shipper, on its first delivery."""
    rows = [{**row, "notes": ""} for row in day_file["deliveries"]]
    rows[0]["notes"] = NOTE
    return {**day_file, "deliveries": rows}


async def noted(services: Services) -> sa.RowMapping:
    async with services.store.read() as conn:
        query = sa.select(deliveries).where(deliveries.c.notes == NOTE)
        return (await conn.execute(query)).mappings().one()


async def driver_of(services: Services, delivery_id: int) -> int:
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        driver_id = await plans.driver_of(conn, header.id, delivery_id)
    assert driver_id is not None
    return driver_id


async def next_stop(services: Services, driver_id: int) -> int:
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        stop = await driver_cards.current_stop(conn, header.id, driver_id)
    assert stop is not None
    return stop.delivery_id


async def test_an_imported_note_shows_on_the_drivers_route_and_on_the_card_of_its_stop(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    dog = await noted(services)
    driver_id = await driver_of(services, dog["id"])
    await fill_outbox(services)
    (overview,) = await outbox_rows(services, kind="driver-route", driver_id=driver_id)
    assert f"\n{dog['address']}\n{dog['name']}\n📦 From shipper: {NOTE}\n" in overview["body"] + "\n"
    assert overview["body"].count("📦") == 1

    await progress.start_route(services, driver_id, actor="test")
    while (current := await next_stop(services, driver_id)) != dog["id"]:
        clock.advance(timedelta(minutes=5))
        await progress.record_stop_event(services, current, StopEvent.DELIVERED, actor="test")
    cards = await outbox_rows(services, kind="driver-stop", driver_id=driver_id)
    shown = [c for c in cards if "📦" in c["body"]]
    assert [c["delivery_id"] for c in shown] == [dog["id"]]
    assert shown[0]["body"].endswith(f"\n{dog['address']}\n{dog['name']}\n📦 From shipper: {NOTE}")
