"""The console's read side on a planned day, built through the real use cases on a real SQLite file."""

from datetime import timedelta

from bot.clock import ManualClock
from bot.console.board import Board, BoardFilter, BoardStop, StopClass, board
from bot.console.metrics import metrics, metrics_range
from bot.console.queue import UNANSWERED, queue
from bot.console.search import Matched, search
from bot.console.timeline import Source, timeline
from bot.domain.deliveries import FailReason, StopEvent
from bot.domain.messages import NewMessage
from bot.notify.kinds import Kind
from bot.services import Services
from bot.store import inbox, outbox
from bot.usecases import progress
from bot.usecases.inbound import receive, sandbox_reply
from scheduler.jobs import fill_outbox
from tests.conftest import DAY

SLA = 30


async def read_board(services: Services, filters: BoardFilter | None = None) -> Board:
    async with services.store.read() as conn:
        return await board(conn, DAY, services.clock.now(), filters or BoardFilter())


def stops_of(b: Board) -> dict[int, BoardStop]:
    return {s.delivery_id: s for r in b.routes for s in r.stops}


async def test_a_stop_past_its_window_is_late_and_one_near_its_end_is_at_risk(
    planned_day: Services, clock: ManualClock
) -> None:
    first = min(stops_of(await read_board(planned_day)).values(), key=lambda s: s.promised_end)
    clock.set(first.promised_end - timedelta(minutes=5))
    assert stops_of(await read_board(planned_day))[first.delivery_id].state is StopClass.AT_RISK

    clock.set(first.promised_end + timedelta(minutes=1))
    late = stops_of(await read_board(planned_day))[first.delivery_id]
    assert late.state is StopClass.LATE
    assert late.eta == clock.now()  # not there yet: it cannot come before now


async def test_delivered_late_is_late_failed_is_a_problem_and_counters_add_up(
    planned_day: Services, clock: ManualClock
) -> None:
    route = max((await read_board(planned_day)).routes, key=lambda r: r.total)
    one, two = route.stops[0], route.stops[1]
    await progress.start_route(planned_day, route.driver_id, actor="test")
    clock.set(one.promised_end + timedelta(minutes=3))
    await progress.record_stop_event(planned_day, one.delivery_id, StopEvent.DELIVERED, actor="test")
    await progress.record_stop_event(
        planned_day, two.delivery_id, StopEvent.FAILED, reason=FailReason.NOT_HOME, actor="test"
    )

    b = await read_board(planned_day)
    stops = stops_of(b)
    assert stops[one.delivery_id].state is StopClass.LATE
    assert stops[two.delivery_id].state is StopClass.FAILED
    assert stops[two.delivery_id].open_escalations == 1  # support hears of a failed attempt
    shown = next(r for r in b.routes if r.driver_id == route.driver_id)
    assert (shown.done, shown.total) == (2, route.total)
    c = b.counters
    assert c.stops == sum(r.total for r in b.routes)
    assert c.on_time + c.at_risk + c.late + c.done + c.failed == c.stops
    assert c.failed == 1
    assert c.escalated == sum(s.open_escalations > 0 for s in stops.values())  # the late one too, maybe

    problems = stops_of(await read_board(planned_day, BoardFilter(problems_only=True)))
    assert {one.delivery_id, two.delivery_id} <= problems.keys()
    assert all(s.problem for s in problems.values())
    found = await read_board(planned_day, BoardFilter(text=one.order_id.lower()))
    assert [s.delivery_id for r in found.routes for s in r.stops] == [one.delivery_id]
    mine = await read_board(
        planned_day, BoardFilter(driver_id=route.driver_id, states=frozenset({StopClass.FAILED}))
    )
    assert [s.delivery_id for r in mine.routes for s in r.stops] == [two.delivery_id]


async def test_search_by_a_phone_as_read_out_an_order_id_prefix_or_a_name(planned_day: Services) -> None:
    target = next(iter(stops_of(await read_board(planned_day)).values()))
    async with planned_day.store.read() as conn:
        header = await timeline(conn, target.delivery_id)
        assert header is not None
        phone = header.header.phone  # +49151xxxxxxxx
        spoken = f"0{phone[3:6]} {phone[6:9]}"  # "0151 234"
        by_phone = await search(conn, spoken, limit=50)
        by_order = await search(conn, target.order_id[:-1], limit=50)
        by_name = await search(conn, target.name.split()[-1].upper(), limit=50)
        by_full = await search(conn, "+49 " + phone[3:], limit=5)
    assert target.delivery_id in {h.delivery_id for h in by_phone}
    assert all(h.phone.startswith("+49" + phone[3:6] + phone[6:9]) for h in by_phone)
    assert target.delivery_id in {h.delivery_id for h in by_order}
    assert all(h.matched is Matched.ORDER_PREFIX for h in by_order)
    assert target.delivery_id in {h.delivery_id for h in by_name}
    assert by_full[0].delivery_id == target.delivery_id
    assert by_full[0].matched is Matched.PHONE


async def test_the_timeline_shows_a_reschedule_as_old_to_new_window_in_order(
    planned_day: Services, clock: ManualClock
) -> None:
    chosen = min(stops_of(await read_board(planned_day)).values(), key=lambda s: s.promised_start)
    await sandbox_reply(planned_day, chosen.delivery_id, "2")
    clock.advance(timedelta(minutes=2))
    await sandbox_reply(planned_day, chosen.delivery_id, "1")

    async with planned_day.store.read() as conn:
        found = await timeline(conn, chosen.delivery_id)
    assert found is not None
    entries = list(found.entries)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    told = [e for e in entries if e.source is Source.PROMISE]
    assert told[0].old_window is None
    assert told[-1].old_window == (chosen.promised_start, chosen.promised_end)
    assert told[-1].new_window == found.header.promise
    said = [e.text for e in entries if e.source is Source.INBOUND]
    assert said == ["2", "1"]
    kinds = [e.kind for e in entries]
    texts = [e.text for e in entries]
    assert texts.index("2") < kinds.index("slots-offered") < texts.index("1") < kinds.index("rescheduled")
    assert texts.index("1") < entries.index(told[-1])  # the answer, then the promise it made
    assert "delivery.rescheduled" in kinds


async def test_queue_oldest_first_with_a_reply_waiting_past_the_sla(
    planned_day: Services, clock: ManualClock
) -> None:
    first, second = list(stops_of(await read_board(planned_day)).values())[:2]
    await sandbox_reply(planned_day, first.delivery_id, "person")
    clock.advance(timedelta(minutes=10))
    await sandbox_reply(planned_day, second.delivery_id, "asdf qwer")
    clock.advance(timedelta(minutes=5))
    async with planned_day.store.tx() as conn:  # came in, never handled (a crash)
        await inbox.store(conn, "sms", "lost-1", "+491700000000", "hello?", {}, clock.now())
    clock.advance(timedelta(minutes=SLA))

    async with planned_day.store.read() as conn:
        items = await queue(conn, clock.now(), SLA)
    assert [(i.reason, i.delivery_id) for i in items] == [
        ("person", first.delivery_id), ("not_understood", second.delivery_id), (UNANSWERED, None),
    ]  # fmt: skip
    assert [i.overdue for i in items] == [True, True, True]
    assert items[2].detail == "hello?"

    async with planned_day.store.tx() as conn:  # support answers the first
        await outbox.enqueue(conn, [staff_reply(first.delivery_id, clock)], clock.now())
    async with planned_day.store.read() as conn:
        items = await queue(conn, clock.now(), SLA)
        day = await metrics(conn, DAY)
    assert [i.overdue for i in items] == [False, True, True]  # answered, still open until resolved
    assert day.first_staff_answer_median_min == 45


async def test_an_unknown_sender_waits_in_the_queue_once(planned_day: Services, clock: ManualClock) -> None:
    await receive(planned_day, "sms", "in-1", "+491700000001", "who is this", {})
    clock.advance(timedelta(minutes=SLA + 1))
    async with planned_day.store.read() as conn:
        items = await queue(conn, clock.now(), SLA)
    assert [(i.reason, i.overdue) for i in items] == [("not_understood", True)]  # not listed twice


async def test_metrics_of_a_day_and_the_week_before(planned_day: Services, clock: ManualClock) -> None:
    route = max((await read_board(planned_day)).routes, key=lambda r: r.total)
    await fill_outbox(planned_day)  # the pre-delivery notices: everyone is told their window...
    clock.advance(timedelta(minutes=30))  # ...once quiet hours end (08:00 in Berlin)
    await planned_day.dispatcher().drain()
    await progress.start_route(planned_day, route.driver_id, actor="test")
    one, two = route.stops[0], route.stops[1]
    clock.set(one.promised_start + timedelta(minutes=10))
    await progress.record_stop_event(planned_day, one.delivery_id, StopEvent.DELIVERED, actor="test")
    await progress.record_stop_event(
        planned_day, two.delivery_id, StopEvent.FAILED, reason=FailReason.NOT_HOME, actor="test"
    )
    async with planned_day.store.read() as conn:
        day = await metrics(conn, DAY)
        week = await metrics_range(conn, DAY)
    assert (day.parcels, day.delivered, day.with_agreed) == (40, 1, 1)
    assert (day.in_agreed_pct, day.in_first_pct, day.in_last_pct) == (100, 100, 100)
    assert day.first_attempt_pct == 50
    assert day.failed_attempts == {"not_home": 1}
    assert day.first_staff_answer_median_min is None  # nobody on the team has answered yet
    assert sum(n for _, n in day.error_bins) == 1
    assert day.sent_per_parcel.keys() <= {"sms", "telegram"}
    assert [m.day for m in week] == [DAY - timedelta(days=n) for n in range(6, -1, -1)]
    assert week[-1] == day
    assert (week[0].parcels, week[0].in_agreed_pct) == (0, None)


def staff_reply(delivery_id: int, clock: ManualClock) -> NewMessage:
    return NewMessage(
        idem_key=f"staff:{delivery_id}:1", kind=Kind.STAFF_REPLY.value, channel="sms", address="+49151",
        locale="en", timezone="Europe/Berlin", body="Hello, this is Doorstep support.", due_at=clock.now(),
        urgent=True, delivery_id=delivery_id,
    )  # fmt: skip
