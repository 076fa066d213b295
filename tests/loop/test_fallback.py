"""A channel that stops working: the recipient's next channel takes over, else support hears of it, once."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.channels.base import Failure, SendError
from bot.clock import ManualClock
from bot.services import Services
from bot.store import contacts
from bot.store.tables import deliveries, escalations
from bot.usecases.inbound import sandbox_reply
from scheduler.jobs import fill_outbox
from tests.loop.conftest import outbox_rows

CHAT = "4242"  # a linked Telegram chat
EVENING = datetime(
    2026, 11, 22, 18, 5, tzinfo=UTC
)  # 19:05 in Berlin the day before: plan out, no quiet hours
BLOCKED = SendError(
    Failure.PERMANENT, "Forbidden: bot was blocked by the user", code="403", address_state="dead"
)


async def link_telegram(services: Services, delivery_id: int, now: datetime) -> tuple[int, str]:
    """Give the delivery's recipient a Telegram chat (preferred over SMS); returns (recipient, phone)."""
    async with services.store.tx() as conn:
        query = sa.select(deliveries.c.recipient_id, deliveries.c.phone).where(deliveries.c.id == delivery_id)
        recipient_id, phone = (await conn.execute(query)).one()
        await contacts.ensure(conn, recipient_id, "telegram", CHAT, now)
    return recipient_id, phone


async def states(services: Services, recipient_id: int) -> dict[str, str]:
    async with services.store.read() as conn:
        return {c.channel: c.state.value for c in await contacts.for_recipient(conn, recipient_id)}


async def test_a_blocked_chat_hands_the_message_to_sms(planned_day: Services, clock: ManualClock) -> None:
    services = planned_day
    clock.set(EVENING)
    recipient_id, phone = await link_telegram(services, 1, services.clock.now())
    services.sandbox.failing[CHAT] = BLOCKED
    await fill_outbox(services)
    await services.dispatcher().drain()

    mine = [r for r in await outbox_rows(services, kind="pre-delivery") if r["delivery_id"] == 1]
    assert [(r["channel"], r["address"], r["status"]) for r in mine] == [
        ("telegram", CHAT, "failed"),
        ("sms", phone, "sent"),
    ]
    assert "<b>" not in mine[1]["body"]  # rendered for SMS, not a copy of the Telegram text
    assert await states(services, recipient_id) == {"telegram": "dead", "sms": "active"}

    await fill_outbox(services)  # later messages go straight to SMS
    await services.dispatcher().drain()
    assert all(
        r["channel"] == "sms" for r in await outbox_rows(services, delivery_id=1) if r["id"] > mine[1]["id"]
    )


async def test_with_no_channel_left_support_hears_once(planned_day: Services, clock: ManualClock) -> None:
    services = planned_day
    clock.set(EVENING)
    recipient_id, phone = await link_telegram(services, 1, services.clock.now())
    services.sandbox.failing[CHAT] = BLOCKED
    services.sandbox.failing[phone] = SendError(
        Failure.PERMANENT, "not a mobile number", code="21614", address_state="invalid"
    )
    await fill_outbox(services)
    await services.dispatcher().drain()
    async with services.store.read() as conn:
        query = sa.select(escalations.c.kind, escalations.c.recipient_id)
        raised = [tuple(row) for row in await conn.execute(query)]
    assert raised.count(("unreachable", recipient_id)) == 1
    assert await states(services, recipient_id) == {"telegram": "dead", "sms": "invalid"}


async def test_a_stop_wins_over_messages_already_queued(planned_day: Services, clock: ManualClock) -> None:
    services = planned_day  # 07:30 in Berlin: the pre-delivery notices wait for the quiet hours to end
    await fill_outbox(services)
    await services.dispatcher().drain()
    waiting = [r for r in await outbox_rows(services, kind="pre-delivery") if r["delivery_id"] == 1]
    assert [r["status"] for r in waiting] == ["queued"]

    await sandbox_reply(services, 1, "STOP")
    clock.advance(timedelta(hours=1))
    await services.dispatcher().drain()
    (held,) = [r for r in await outbox_rows(services, kind="pre-delivery") if r["delivery_id"] == 1]
    assert (held["status"], held["error"]) == ("failed", "not sent: opted_out")
    phone = held["address"]
    to_phone = [s.kind for s in services.sandbox.sent() if s.address == phone]
    assert to_phone == ["opted-out"]  # the confirmation of the STOP, and nothing else
    others = [r["status"] for r in await outbox_rows(services, kind="pre-delivery") if r["delivery_id"] != 1]
    assert "sent" in others  # everyone else's notice went out after the quiet hours...
    assert set(others) <= {"sent", "expired"}  # ...or expired: their window had opened by then
