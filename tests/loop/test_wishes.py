"""Acceptance: a time asked for in words ("later today after 3") offers only times that fit it."""

import re
from datetime import time
from zoneinfo import ZoneInfo

from bot.notify import phrases
from bot.services import Services
from bot.store import deliveries, promises
from bot.usecases.inbound import sandbox_reply
from tests.loop.conftest import outbox_rows
from tests.loop.test_reschedule import pick_morning_delivery, stops_by_delivery


async def test_a_time_in_words_offers_only_the_times_that_fit_then_one_is_taken(
    planned_day: Services,
) -> None:
    services = planned_day
    chosen = await pick_morning_delivery(services)
    await sandbox_reply(services, chosen, "Sorry, I'm at work - not home until 3, could you come after that?")

    (offer,) = await outbox_rows(services, kind="slots-offered")
    assert offer["delivery_id"] == chosen
    offered = [line for line in offer["body"].splitlines() if line[:1].isdigit()]
    assert offered, offer["body"]
    assert all(re.search(r"(\d\d):\d\d", line)[1] >= "15" for line in offered), offer["body"]  # type: ignore[index]

    await sandbox_reply(services, chosen, "1")
    (done,) = await outbox_rows(services, kind="rescheduled")
    async with services.store.read() as conn:
        delivery = await deliveries.get(conn, chosen)
        promise = (await promises.current(conn, [chosen]))[chosen]
    assert delivery is not None  # the requested window the route must keep, and the promise inside it
    zone = ZoneInfo(done["timezone"])
    assert delivery.window_start.astimezone(zone).time() >= time(15)
    assert delivery.window_start <= promise.start
    assert promise.end <= delivery.window_end


async def test_a_wish_the_current_window_already_meets_is_confirmed_and_nothing_moves(
    planned_day: Services,
) -> None:
    services = planned_day
    chosen = await pick_morning_delivery(services)
    stop = (await stops_by_delivery(services))[chosen]
    zone = ZoneInfo("Europe/Berlin")
    start = stop.promised_start.astimezone(zone)
    hour = start.hour - 1  # "after 7:00" alone would be read as the evening: say which
    said = f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"
    await sandbox_reply(services, chosen, f"any time after {said} is fine")

    assert await outbox_rows(services, kind="slots-offered") == []
    (confirmed,) = await outbox_rows(services, kind="confirmed")
    assert confirmed["delivery_id"] == chosen
    async with services.store.read() as conn:
        assert (await promises.current(conn, [chosen]))[chosen].start == stop.promised_start


async def test_a_wish_nothing_fits_is_refused_with_the_times_there_are(planned_day: Services) -> None:
    services = planned_day
    chosen = await pick_morning_delivery(services)
    await sandbox_reply(services, chosen, "only after 9pm please")  # after every shift ends

    refused, offer = (
        await outbox_rows(services, kind="change-refused"),
        await outbox_rows(services, kind="slots-offered"),
    )
    assert len(refused) == 1
    assert phrases.pick(phrases.REFUSAL, refused[0]["locale"])["wish"] in refused[0]["body"]
    assert len(offer) == 1
