"""Button presses that are stale, replayed or forged (RELIABILITY.md fault 19), through the real inbound
path: stored update -> aiogram dispatcher -> use case -> outbox -> recording Bot session."""

import pytest
import sqlalchemy as sa
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.handlers import telegram as tg
from bot.notify.buttons import Act, Pick
from bot.services import Services
from bot.store.tables import promises as ledger
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.telegram.recording import RecordingSession
from tests.telegram.test_customer import _morning_delivery, deliver, linked, press, row_of, telegram

__all__ = ["telegram"]  # fixtures used here


async def versions(services: Services, delivery_id: int) -> list[int]:
    async with services.store.read() as conn:
        query = sa.select(ledger.c.version).where(ledger.c.delivery_id == delivery_id)
        return sorted((await conn.execute(query)).scalars())


async def test_the_same_time_picked_twice_is_one_change(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    services = planned_day
    target = await _morning_delivery(services)
    await linked(services, telegram, target)
    await deliver(services, telegram, press(Act(what="time", d=target).pack(), update_id=2))
    offer = recording_session.sent(SendMessage)[-1]
    assert offer.reply_markup is not None
    chosen = Pick.unpack(offer.reply_markup.inline_keyboard[0][0].callback_data or "")  # type: ignore[union-attr]
    before = await versions(services, target)

    await deliver(services, telegram, press(chosen.pack(), update_id=3))
    await deliver(services, telegram, press(chosen.pack(), update_id=4))  # the same button again

    assert await versions(services, target) == [*before, before[-1] + 1]
    told = [r["kind"] for r in await outbox_rows(services, delivery_id=target)]
    assert told.count("rescheduled") == 1


@pytest.mark.parametrize(
    "data",
    [
        "a:ok:1" + ":x" * 40,  # longer than Telegram's 64 bytes: not one we made
        "a:ok:99999",  # no such delivery
        "p:1:nonsense",  # a pick without a readable time
        "zz:1",  # no such button
    ],
)
async def test_forged_or_oversized_button_data_expires_and_changes_nothing(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    data: str,
) -> None:
    services = planned_day
    await linked(services, telegram, 1)
    before = await row_of(services, 1)
    await deliver(services, telegram, press(data, update_id=9))
    (answer,) = recording_session.sent(AnswerCallbackQuery)
    assert (answer.text, answer.show_alert) == ("This option has expired.", True)
    assert await row_of(services, 1) == before
    assert [r["kind"] for r in await outbox_rows(services)] == ["linked"]
