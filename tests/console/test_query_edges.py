"""Cases the console's reads must keep however their SQL is shaped: an emptied route, a reply by address."""

from datetime import timedelta

from bot.clock import ManualClock
from bot.console.board import board
from bot.console.queue import UNANSWERED, queue
from bot.domain.messages import NewMessage
from bot.domain.routes import NewRoute
from bot.notify.kinds import Kind
from bot.services import Services
from bot.store import inbox, outbox, plans
from tests.conftest import DAY

SLA = 30
STRANGER = "+491700000000"


async def test_a_route_emptied_by_a_replan_still_shows_with_no_stops(
    planned_day: Services, clock: ManualClock
) -> None:
    async with planned_day.store.tx() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        route = (await plans.route_views(conn, header.id))[0]
        emptied = NewRoute(route.driver_id, route.start_at, route.end_at, 0, 0, stops=())
        await plans.rewrite_route(conn, header.id, emptied)
    async with planned_day.store.read() as conn:
        b = await board(conn, DAY, clock.now())
    shown = next(r for r in b.routes if r.driver_id == route.driver_id)
    assert (shown.stops, shown.done, shown.total, shown.next_eta) == ((), 0, 0, None)
    assert b.counters.stops == sum(r.total for r in b.routes)


async def test_a_staff_reply_to_a_strangers_address_answers_them(
    planned_day: Services, clock: ManualClock
) -> None:
    async with planned_day.store.tx() as conn:  # came in, never handled, about no delivery
        await inbox.store(conn, "sms", "lost-1", STRANGER, "hello?", {}, clock.now())
    clock.advance(timedelta(minutes=SLA + 1))
    async with planned_day.store.read() as conn:
        waiting = [(i.reason, i.address) for i in await queue(conn, clock.now(), SLA)]
    assert waiting == [(UNANSWERED, STRANGER)]

    async with planned_day.store.tx() as conn:
        await outbox.enqueue(conn, [reply_to(STRANGER, "telegram", clock)], clock.now())
    async with planned_day.store.read() as conn:
        assert len(await queue(conn, clock.now(), SLA)) == 1  # the same address on another channel
    async with planned_day.store.tx() as conn:
        await outbox.enqueue(conn, [reply_to(STRANGER, "sms", clock)], clock.now())
    async with planned_day.store.read() as conn:
        assert await queue(conn, clock.now(), SLA) == []


def reply_to(address: str, channel: str, clock: ManualClock) -> NewMessage:
    return NewMessage(
        idem_key=f"staff:{channel}:{address}", kind=Kind.STAFF_REPLY.value, channel=channel, address=address,
        locale="en", timezone="Europe/Berlin", body="Hello, this is Doorstep support.", due_at=clock.now(),
        urgent=True,
    )  # fmt: skip
