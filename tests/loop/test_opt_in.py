"""Back in after an opt-out (RELIABILITY.md fault 8): START, YES or UNSTOP clears the opt-out for that
number, and what fell due while they were out is not replayed; from then on they hear the current state."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.domain.contacts import ContactState
from bot.domain.routes import RouteView
from bot.services import Services
from bot.store import contacts, plans
from bot.store.tables import events
from bot.usecases import progress
from bot.usecases.inbound import sandbox_reply
from scheduler.jobs import fill_outbox
from tests.conftest import DAY
from tests.loop.conftest import outbox_rows

QUIET_ENDS = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Berlin: the held notices fall due


async def late_stop(services: Services) -> tuple[int, RouteView]:
    """A delivery promised from 10:00 Berlin or later, so its pre-delivery notice is still valid by time
    when the recipient comes back: only its having fallen due during the opt-out makes it stale."""
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        for route in await plans.route_views(conn, header.id):
            for stop in route.stops:
                if stop.promised_start >= QUIET_ENDS + timedelta(hours=2):
                    return stop.delivery_id, route
    raise AssertionError("the sample day has no stop promised after 10:00")


async def tick_and_send(services: Services) -> None:
    await fill_outbox(services)
    await services.dispatcher().drain()


def kinds_to(services: Services, phone: str) -> list[str]:
    return [sent.kind for sent in services.sandbox.sent() if sent.address == phone]


@pytest.mark.parametrize("word", ["START", "Yes", " unstop "])
async def test_back_in_after_stop_gets_the_current_state_not_what_fell_due_while_out(
    planned_day: Services, clock: ManualClock, word: str
) -> None:
    services = planned_day  # 07:30 in Berlin: pre-delivery notices wait for the quiet hours to end
    delivery_id, route = await late_stop(services)
    await tick_and_send(services)
    await sandbox_reply(services, delivery_id, "STOP")
    clock.set(QUIET_ENDS)
    await services.dispatcher().drain()  # the pre-delivery notice falls due while they are out
    await progress.start_route(services, route.driver_id, actor="test")
    clock.advance(timedelta(minutes=5))
    await tick_and_send(services)  # the van is out: nothing goes to them
    (pre,) = await outbox_rows(services, kind="pre-delivery", delivery_id=delivery_id)
    phone = pre["address"]
    assert (pre["status"], pre["error"]) == ("failed", "not sent: opted_out")
    assert kinds_to(services, phone) == ["opted-out"]

    back = clock.advance(timedelta(minutes=5))
    await sandbox_reply(services, delivery_id, word)
    await tick_and_send(services)
    clock.advance(timedelta(minutes=1))
    await tick_and_send(services)  # a later tick brings nothing old back either

    assert kinds_to(services, phone) == ["opted-out", "opted-in", "out-for-delivery"]
    assert await outbox_rows(services, kind="pre-delivery", delivery_id=delivery_id) == [pre]
    (told,) = await outbox_rows(services, kind="out-for-delivery", delivery_id=delivery_id)
    assert (told["address"], told["status"], told["created_at"]) == (phone, "sent", back)
    async with services.store.read() as conn:
        reached = await contacts.by_address(conn, "sms", phone)
        query = sa.select(events.c.kind).where(events.c.delivery_id == delivery_id)
        said = list((await conn.execute(query)).scalars())
    assert [c.state for c in reached] == [ContactState.ACTIVE]
    assert said.count("recipient.opted_in") == 1
