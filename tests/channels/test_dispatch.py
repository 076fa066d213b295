from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.channels.base import Failure, SendError
from bot.channels.dispatch import CHECK_DELAY, Dispatcher, quiet_until
from bot.channels.sandbox import SandboxTransport
from bot.clock import ManualClock
from bot.store.db import Store
from bot.store.tables import messages
from tests.channels.conftest import MINUTE, enqueue, make_dispatcher, message, statuses


async def row(store: Store, key: str) -> sa.RowMapping:
    async with store.read() as conn:
        return (await conn.execute(sa.select(messages).where(messages.c.idem_key == key))).mappings().one()


async def test_a_due_message_is_sent_once_and_its_provider_id_kept(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    await enqueue(store, clock.now(), message("d1:pre:1", clock.now()))
    await dispatcher.drain()
    await dispatcher.drain()

    (sent,) = sandbox.sent()
    stored = await row(store, "d1:pre:1")
    assert (sent.body, stored["status"], stored["attempts"]) == ("hello d1:pre:1", "sent", 1)
    assert stored["provider_ref"] == f"sbx-{sent.seq}"
    assert stored["sent_at"] == clock.now()


async def test_the_same_change_enqueued_twice_is_one_message(store: Store, clock: ManualClock) -> None:
    first = await enqueue(store, clock.now(), message("d1:pre:1", clock.now()))
    again = await enqueue(
        store, clock.now(), message("d1:pre:1", clock.now()), message("d1:pre:2", clock.now())
    )
    assert (first, again) == (1, 1)
    assert await statuses(store) == {"queued": 2}


async def test_nothing_goes_out_before_it_is_due(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    await enqueue(store, clock.now(), message("later", clock.now() + 10 * MINUTE))
    await dispatcher.drain()
    assert sandbox.sent() == []
    clock.advance(10 * MINUTE)
    await dispatcher.drain()
    assert [s.body for s in sandbox.sent()] == ["hello later"]


async def test_a_message_past_its_validity_expires_instead_of_going_out_late(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    await enqueue(store, clock.now(), message("nearby", clock.now(), valid_until=clock.now() + 5 * MINUTE))
    clock.advance(6 * MINUTE)  # the dispatcher was down
    await dispatcher.drain()
    assert sandbox.sent() == []
    assert (await row(store, "nearby"))["status"] == "expired"


async def test_quiet_hours_hold_routine_messages_but_not_urgent_ones(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    clock.set(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    await enqueue(
        store, clock.now(), message("routine", clock.now()), message("urgent", clock.now(), urgent=True)
    )
    await dispatcher.drain()
    assert [s.body for s in sandbox.sent()] == ["hello urgent"]
    held = await row(store, "routine")
    assert held["next_attempt_at"] == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    await dispatcher.drain()
    assert [s.body for s in sandbox.sent()] == ["hello urgent", "hello routine"]


def test_quiet_hours_span_midnight_in_the_recipients_zone() -> None:
    start, end = time(21), time(8)
    evening = datetime(2026, 7, 1, 19, 30, tzinfo=UTC)  # 21:30 in Berlin (summer)
    assert quiet_until(evening, "Europe/Berlin", start, end) == datetime(2026, 7, 2, 6, 0, tzinfo=UTC)
    assert quiet_until(evening, "America/New_York", start, end) is None  # 15:30 there
    early = datetime(2026, 7, 2, 4, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert quiet_until(early, "Europe/Berlin", start, end) == datetime(2026, 7, 2, 6, 0, tzinfo=UTC)


async def test_a_retryable_error_backs_off_then_sends(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    busy = message("busy", clock.now())
    sandbox.failing[busy.address] = SendError(
        Failure.RETRYABLE, "Too Many Requests", retry_after=30, code="20429"
    )
    await enqueue(store, clock.now(), busy)
    await dispatcher.drain()
    waiting = await row(store, "busy")
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    assert waiting["next_attempt_at"] == clock.now() + timedelta(seconds=30)
    assert "20429" in waiting["error"]
    del sandbox.failing[busy.address]
    clock.advance(timedelta(seconds=30))
    await dispatcher.drain()
    assert [(s.body, s.address) for s in sandbox.sent()] == [("hello busy", busy.address)]
    assert (await row(store, "busy"))["attempts"] == 2


async def test_retries_stop_after_the_last_attempt(
    store: Store, clock: ManualClock, sandbox: SandboxTransport
) -> None:
    dispatcher = make_dispatcher(store, clock, sandbox, max_attempts=3)
    flaky = message("flaky", clock.now(), urgent=True)  # hourly retries run into quiet hours otherwise
    sandbox.failing[flaky.address] = SendError(Failure.RETRYABLE, "connection refused")
    await enqueue(store, clock.now(), flaky)
    for _ in range(5):
        await dispatcher.drain()
        clock.advance(timedelta(hours=1))
    final = await row(store, "flaky")
    assert (final["status"], final["attempts"]) == ("failed", 3)


async def test_a_permanent_error_ends_the_message_without_retries(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    gone = message("gone", clock.now())
    sandbox.failing[gone.address] = SendError(Failure.PERMANENT, "unsubscribed recipient", code="21610")
    await enqueue(store, clock.now(), gone)
    await dispatcher.drain()
    clock.advance(timedelta(hours=1))
    await dispatcher.drain()
    final = await row(store, "gone")
    assert (final["status"], final["attempts"], final["error"]) == (
        "failed",
        1,
        "21610: unsubscribed recipient",
    )


async def test_an_ambiguous_send_is_checked_with_the_provider_not_resent(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    await enqueue(
        store, clock.now(), message("lost-answer", clock.now()), message("never-arrived", clock.now())
    )
    await dispatcher.drain()
    # The provider got "lost-answer" but our process never heard back; "never-arrived" did not reach it.
    async with store.tx() as conn:
        await conn.execute(
            messages.update().values(
                status="checking", next_attempt_at=clock.now() + CHECK_DELAY, provider_ref=None
            )
        )
    sandbox._db.execute("delete from sent where body = 'hello never-arrived'")
    clock.advance(CHECK_DELAY)
    await dispatcher.drain()
    assert sorted(s.body for s in sandbox.sent()) == ["hello lost-answer", "hello never-arrived"]
    assert (await row(store, "lost-answer"))["status"] == "sent"
    assert (await row(store, "lost-answer"))["error"] == "confirmed by provider lookup"


async def test_an_ambiguous_send_stays_unknown_when_the_provider_cannot_tell(
    store: Store, clock: ManualClock, tmp_path: Path
) -> None:
    blind = SandboxTransport(tmp_path / "blind.db", reconcile=False)
    dispatcher = make_dispatcher(store, clock, blind)
    timeout = message("timeout", clock.now())
    blind.failing[timeout.address] = SendError(Failure.AMBIGUOUS, "read timeout after the request was sent")
    await enqueue(store, clock.now(), timeout)
    await dispatcher.drain()
    assert (await row(store, "timeout"))["status"] == "checking"
    del blind.failing[timeout.address]
    clock.advance(CHECK_DELAY)
    await dispatcher.drain()
    final = await row(store, "timeout")
    assert final["status"] == "unknown"
    assert "not resent" in final["error"]
    assert blind.sent() == []
    await blind.close()


async def test_one_recipient_gets_messages_no_faster_than_the_gap(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, dispatcher: Dispatcher
) -> None:
    same = message("a", clock.now()).address
    await enqueue(store, clock.now(), *(message(k, clock.now(), address=same) for k in "abc"))
    await enqueue(store, clock.now(), message("other", clock.now()))
    await dispatcher.drain()
    assert sorted(s.body for s in sandbox.sent()) == ["hello a", "hello other"]
    for _ in range(2):
        clock.advance(timedelta(seconds=1))
        await dispatcher.drain()
    assert [s.body for s in sandbox.sent() if s.address == same] == ["hello a", "hello b", "hello c"]
    assert await statuses(store) == {"sent": 4}
