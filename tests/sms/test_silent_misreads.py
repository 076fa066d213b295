"""Texts that were once read as a wrong action nobody saw (issue 12's outsider corpus), through Twilio's
signed webhook on the real app: each now reaches a person, and nothing is done on a guess."""

import httpx
import pytest

from bot.clock import ManualClock
from bot.services import Services
from bot.usecases import progress
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.loop.test_driver_events import first_route
from tests.sms.test_fault_gaps import DIDNT_GET_IT, delivery_row, inbox_rows, open_escalations
from tests.sms.test_inbound import SMS_URL, phone_of, settings, signed, sms, twilio

__all__ = ["settings", "twilio"]


async def text_from(services: Services, twilio: httpx.AsyncClient, delivery_id: int, body: str) -> None:
    form = sms("SM" + "7" * 32, await phone_of(services, delivery_id), body)
    answer = await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "body",
    ["my wife will be in, ring twice", "Ja, bitte zweimal klingeln", "yes but please don't leave it outside"],
)
async def test_a_yes_with_how_to_hand_it_over_is_not_swallowed_as_a_confirmation(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
) -> None:
    before = await delivery_row(planned_day, 1)
    await text_from(planned_day, twilio, 1, body)

    (row,) = await inbox_rows(planned_day)
    assert row["intent"] == "NotUnderstood"  # a person reads it: the note is not lost behind "all set"
    assert [m["kind"] for m in await outbox_rows(planned_day)] == ["not-understood"]
    assert (await outbox_rows(planned_day))[0]["body"].startswith(DIDNT_GET_IT)
    assert await open_escalations(planned_day) == [("not_understood", 1, body)]
    assert (await delivery_row(planned_day, 1))["confirmed_at"] == before["confirmed_at"] is None


async def test_parcel_not_here_after_delivery_is_a_report_not_a_new_time(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    route = await first_route(planned_day)
    delivered = route.stops[0].delivery_id
    await progress.start_route(planned_day, route.driver_id, actor="test")
    clock.set(route.stops[0].planned_arrival)
    await progress.record_stop_event(planned_day, delivered, progress.StopEvent.DELIVERED, actor="test")

    await text_from(planned_day, twilio, delivered, "Parcel not here. Photo shows a different door")

    assert (await inbox_rows(planned_day))[-1]["intent"] == "NotReceived"
    kinds = [m["kind"] for m in await outbox_rows(planned_day, delivery_id=delivered)]
    assert "slots-offered" not in kinds
    assert ("not_received", delivered) in [(kind, d) for kind, d, _ in await open_escalations(planned_day)]
