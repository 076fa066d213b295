"""Safe-drop places and access codes through the inbound path: what the driver sees, what is kept."""

from typing import Any

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.services import Services
from bot.store.tables import deliveries, events, recipients
from bot.usecases.inbound import sandbox_reply
from bot.usecases.intake import import_deliveries
from tests.loop.conftest import outbox_rows


async def delivery_row(services: Services, delivery_id: int) -> sa.RowMapping:
    async with services.store.read() as conn:
        query = sa.select(deliveries).where(deliveries.c.id == delivery_id)
        return (await conn.execute(query)).mappings().one()


async def test_always_makes_it_the_recipients_place_for_the_next_parcels_too(
    planned_day: Services, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    services = planned_day
    await sandbox_reply(services, 1, "SAFE back door, always")
    first = await delivery_row(services, 1)
    assert first["safe_drop"] == "back door"
    (saved,) = await outbox_rows(services, kind="instructions-saved")
    assert "future deliveries" in saved["body"]
    (note,) = await outbox_rows(services, kind="driver-notes")
    assert "back door" in note["body"]
    async with services.store.read() as conn:
        standing = (
            await conn.execute(
                sa.select(recipients.c.safe_drop).where(recipients.c.id == first["recipient_id"])
            )
        ).scalar()
    assert standing == "back door"

    tomorrow = {**day_file["deliveries"][0], "order_id": "NEXT-1", "date": "2026-11-24"}
    report = await import_deliveries(services.store, clock, services.settings.day, [(1, tomorrow)])
    assert report.created == 1
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.safe_drop).where(deliveries.c.order_id == "NEXT-1")
        assert (await conn.execute(query)).scalar() == "back door"


async def test_a_one_off_place_stays_with_its_parcel(planned_day: Services) -> None:
    services = planned_day
    await sandbox_reply(services, 2, "SAFE garage")
    second = await delivery_row(services, 2)
    assert second["safe_drop"] == "garage"
    async with services.store.read() as conn:
        query = sa.select(recipients.c.safe_drop).where(recipients.c.id == second["recipient_id"])
        assert (await conn.execute(query)).scalar() is None


async def test_an_access_code_reaches_the_driver_only(planned_day: Services) -> None:
    services = planned_day
    await sandbox_reply(services, 3, "CODE 4711")
    assert (await delivery_row(services, 3))["access_code"] == "4711"
    (saved,) = await outbox_rows(services, kind="access-code-saved")
    assert "4711" not in saved["body"]
    assert "11" not in saved["body"]
    (note,) = await outbox_rows(services, kind="driver-notes")
    assert "4711" in note["body"]
    async with services.store.read() as conn:
        logged = [str(d) for d in (await conn.execute(sa.select(events.c.data))).scalars()]
    assert not any("4711" in d for d in logged)
