"""Inbound messages stored together in one transaction, and answered off the request path."""

import asyncio

import sqlalchemy as sa

from bot.services import Services
from bot.store.tables import inbox
from bot.usecases.inbound import Answerer, Arrived, GroupCommit
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.sms.test_inbound import phone_of


def arrived(sid: str, phone: str, body: str = "1") -> Arrived:
    return Arrived("sms", sid, phone, body, {"MessageSid": sid})


async def stored(services: Services) -> list[tuple[str, str]]:
    async with services.store.read() as conn:
        rows = await conn.execute(sa.select(inbox.c.provider_ref, inbox.c.status).order_by(inbox.c.id))
        return [(r.provider_ref, r.status) for r in rows]


async def all_done(services: Services, seconds: float = 60) -> None:
    """Wait until every stored message has been answered; the store has no event to wait on, so it is
    read every 20 ms."""
    async with asyncio.timeout(seconds):
        for _ in iter(int, 1):  # until done or timed out
            if all(status == "done" for _, status in await stored(services)):
                return
            await asyncio.sleep(0.02)


async def test_messages_arriving_together_are_stored_once_each(planned_day: Services) -> None:  # noqa: F811
    phone = await phone_of(planned_day, 1)
    writer = GroupCommit(planned_day)
    sids = [f"SM{n:032x}" for n in range(40)]
    ids = await asyncio.gather(*(writer.store(arrived(s, phone)) for s in [*sids, *sids[:10]]))
    new, again = ids[:40], ids[40:]
    assert None not in new
    assert len(set(new)) == 40
    assert again == [None] * 10  # a provider's retry stores nothing
    assert [ref for ref, _ in await stored(planned_day)] == sids


async def test_a_message_the_database_refuses_fails_alone_not_the_others_in_its_commit(
    planned_day: Services,  # noqa: F811
) -> None:
    writer = GroupCommit(planned_day)
    good, bad = arrived("SM" + "1" * 32, "+4915100000001"), arrived("SM" + "2" * 32, None)  # type: ignore[arg-type]
    results = await asyncio.gather(writer.store(good), writer.store(bad), return_exceptions=True)
    assert isinstance(results[0], int)
    assert isinstance(results[1], Exception)  # its webhook answers 500; the provider retries it
    assert await stored(planned_day) == [("SM" + "1" * 32, "received")]


async def test_the_answerer_answers_what_is_stored_oldest_first_and_stops(
    planned_day: Services,  # noqa: F811
) -> None:
    phone = await phone_of(planned_day, 1)
    writer = GroupCommit(planned_day)
    answerer, stop = Answerer(planned_day, webhooks=writer, idle_seconds=0.05), asyncio.Event()
    running = asyncio.create_task(answerer.run(stop))
    await writer.store(arrived("SM" + "a" * 32, phone, "STATUS"))
    answerer.nudge()
    await all_done(planned_day, seconds=10)
    assert len(await outbox_rows(planned_day, kind="status")) == 1
    stop.set()
    await asyncio.wait_for(running, 5)


async def test_during_a_burst_answers_give_way_to_webhooks_but_never_stop(
    planned_day: Services,  # noqa: F811
) -> None:
    phone = await phone_of(planned_day, 1)
    writer = GroupCommit(planned_day)
    answerer, stop = Answerer(planned_day, webhooks=writer, idle_seconds=0.05), asyncio.Event()
    running = asyncio.create_task(answerer.run(stop))

    async def burst() -> None:  # a webhook every 10 ms for 2 s: never quiet long enough to answer freely
        for n in range(200):
            await writer.store(arrived(f"SM{n:032x}", phone, "STATUS"))
            answerer.nudge()
            await asyncio.sleep(0.01)

    await burst()
    during = sum(status == "done" for _, status in await stored(planned_day))
    assert 1 <= during <= 20  # a trickle (at least one a second), not the 200 waiting
    await all_done(planned_day)
    stop.set()
    await asyncio.wait_for(running, 5)
