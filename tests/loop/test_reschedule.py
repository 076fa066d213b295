"""Acceptance: a reschedule through the inbound path re-plans, and everyone hears what changed for them."""

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.domain.routes import StopView
from bot.notify.compose import To
from bot.notify.kinds import Channel
from bot.services import Services
from bot.store import plans, promises
from bot.store.tables import deliveries, escalations
from bot.usecases.inbound import sandbox_reply
from tests.conftest import DAY
from tests.loop.conftest import outbox_rows


async def stops_by_delivery(services: Services) -> dict[int, StopView]:
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        return {s.delivery_id: s for r in await plans.route_views(conn, header.id) for s in r.stops}


async def pick_morning_delivery(services: Services) -> int:
    """A delivery promised for the morning, so there are later times the same day to move it to."""
    stops = await stops_by_delivery(services)
    return min(stops.values(), key=lambda s: (s.promised_start, s.delivery_id)).delivery_id


async def test_reschedule_to_an_offered_slot_replans_and_tells_exactly_who_changed(
    planned_day: Services,
) -> None:
    services = planned_day
    chosen = await pick_morning_delivery(services)
    before = await stops_by_delivery(services)
    async with services.store.read() as conn:
        promised_before = await promises.current(conn, before)

    await sandbox_reply(services, chosen, "2")
    (offer,) = await outbox_rows(services, kind="slots-offered")
    assert offer["delivery_id"] == chosen
    assert "\n1) " in offer["body"] or offer["body"].split("\n")[1].startswith("1)")

    await sandbox_reply(services, chosen, "1")
    (done,) = await outbox_rows(services, kind="rescheduled")
    after = await stops_by_delivery(services)
    async with services.store.read() as conn:
        promised_after = await promises.current(conn, after)
    new = promised_after[chosen]
    assert new.version == promised_before[chosen].version + 1
    assert new.start > promised_before[chosen].start
    assert services.composer.window(_to(done), new.start, new.end) in done["body"]

    moved = {d for d in promised_after if d != chosen and promised_after[d] != promised_before[d]}
    told = {row["delivery_id"] for row in await outbox_rows(services, kind="window-updated")}
    threshold = timedelta(minutes=services.settings.messages.moved_threshold_minutes)
    assert told == {d for d in moved if abs(promised_after[d].start - promised_before[d].start) > threshold}
    notes = await outbox_rows(services, kind="driver-notes")
    assert notes, "the driver of the changed route hears about it"
    assert all(str(after[chosen].sequence) in n["body"] or "Removed" in n["body"] for n in notes)


def _to(row: sa.RowMapping) -> To:
    """The reply's reader, rebuilt to format windows the way the reply did."""
    return To(Channel(row["channel"]), row["address"], row["locale"], row["timezone"], "")


async def test_a_choice_that_is_no_longer_feasible_is_refused_with_fresh_options(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    services.settings.messages.conversation_minutes = 24 * 60  # they answer hours later
    stops = await stops_by_delivery(services)
    chosen = max(stops.values(), key=lambda s: (s.promised_start, s.delivery_id)).delivery_id  # due late
    await sandbox_reply(services, chosen, "2")
    (offer,) = await outbox_rows(services, kind="slots-offered")
    clock.advance(timedelta(hours=3))  # the first offered time has begun by now

    await sandbox_reply(services, chosen, "1")

    (refused,) = await outbox_rows(services, kind="change-refused")
    assert refused["delivery_id"] == chosen
    assert "no longer available" in refused["body"] or "nicht mehr frei" in refused["body"]
    fresh = await outbox_rows(services, kind="slots-offered")
    assert len(fresh) == 2
    assert fresh[1]["body"] != offer["body"]
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.status).where(deliveries.c.id == chosen)
        status = (await conn.execute(query)).scalar()
        promise = (await promises.current(conn, [chosen]))[chosen]
    assert status == "planned"
    assert (promise.start, promise.end) == (stops[chosen].promised_start, stops[chosen].promised_end)


async def test_unknown_text_gets_an_answer_and_goes_to_support(planned_day: Services) -> None:
    services = planned_day
    chosen = await pick_morning_delivery(services)
    await sandbox_reply(services, chosen, "the dog ate my last parcel, is this one chewable??")
    assert [r["delivery_id"] for r in await outbox_rows(services, kind="not-understood")] == [chosen]
    async with services.store.read() as conn:
        kinds = (await conn.execute(sa.select(escalations.c.kind))).scalars().all()
    assert kinds == ["not_understood"]
