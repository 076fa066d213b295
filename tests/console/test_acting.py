"""Staff acting for a recipient, and the escalation queue: the real ASGI app over httpx on a planned day."""

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bot.app import App
from bot.clock import ManualClock
from bot.console.timeline import timeline
from bot.services import Services
from bot.store import audit, contacts, events, promises
from bot.store.staff import StaffUser
from bot.store.tables import deliveries, escalations, messages
from bot.usecases.inbound import sandbox_reply
from bot.web import state as web_state
from bot.web.console.privacy import View
from scheduler.jobs import fill_outbox
from tests.console.conftest import add_staff, csrf_of, sign_in
from tests.loop.conftest import outbox_rows
from tests.loop.test_reschedule import pick_morning_delivery, stops_by_delivery

SLOT_INPUT = r'name="slot" value="([^"]+)"'
QUIET_OVER = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)  # 08:05 in Berlin: non-urgent notices may go


@pytest.fixture
async def agent(console: httpx.AsyncClient, alice: StaffUser) -> httpx.AsyncClient:
    await sign_in(console, "alice")
    return console


async def token(client: httpx.AsyncClient) -> str:
    return csrf_of(await client.get("/console/queue"))


async def post(client: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    return await client.post(path, data={"csrf_token": await token(client), **data})


async def delivery(services: Services, delivery_id: int) -> sa.RowMapping:
    async with services.store.read() as conn:
        query = sa.select(deliveries).where(deliveries.c.id == delivery_id)
        return (await conn.execute(query)).mappings().one()


async def staff_events(services: Services, delivery_id: int) -> list[tuple[str, str]]:
    async with services.store.read() as conn:
        found = await events.for_delivery(conn, delivery_id)
    return [(e.kind, e.actor) for e in found if e.actor.startswith("staff:")]


async def audited(services: Services) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with services.store.read() as conn:
        found = reversed(await audit.entries(conn))
    staff_actions = [e for e in found if not e.action.startswith(("sign", "user"))]
    return [(e.action, e.delivery_id, dict(e.detail)) for e in staff_actions]


async def link_telegram(services: Services, delivery_id: int, chat: str = "777001") -> None:
    async with services.store.tx() as conn:
        recipient_id = (await delivery(services, delivery_id))["recipient_id"]
        await contacts.link(conn, recipient_id, "telegram", chat, services.clock.now())


async def test_a_reply_goes_where_they_last_wrote_and_a_double_submit_sends_once(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    await link_telegram(planned_day, 1)  # preferred: Telegram...
    await sandbox_reply(planned_day, 1, "is it coming today?", channel="sms")  # ...but they wrote by SMS
    form = {"text": "Yes <b>today</b>, between 10 and 11.", "nonce": "form-nonce-0001"}
    first = await post(agent, "/console/deliveries/1/reply", **form)
    again = await post(agent, "/console/deliveries/1/reply", **form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == "/console/deliveries/1"
    (sent,) = await outbox_rows(planned_day, kind="staff-reply")
    assert (sent["channel"], sent["delivery_id"]) == ("sms", 1)
    assert "Yes <b>today</b>, between 10 and 11." in sent["body"]  # SMS is plain text
    page = await agent.get("/console/queue")
    assert "That reply was sent already." in page.text
    assert await staff_events(planned_day, 1) == [("staff.replied", "staff:alice")]
    assert await audited(planned_day) == [("staff.replied", 1, {"channel": "sms", "length": 36})]

    await post(agent, "/console/deliveries/2/reply", text="Hello", nonce="form-nonce-0002")
    await link_telegram(planned_day, 3)
    await post(agent, "/console/deliveries/3/reply", text="Hello", nonce="form-nonce-0003")
    by_delivery = {r["delivery_id"]: r["channel"] for r in await outbox_rows(planned_day, kind="staff-reply")}
    assert by_delivery == {1: "sms", 2: "sms", 3: "telegram"}  # not written: the preferred channel


async def test_an_empty_reply_or_one_to_an_opted_out_recipient_is_refused_and_nothing_sent(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    empty = await post(agent, "/console/deliveries/1/reply", text="   ", nonce="form-nonce-0001")
    assert empty.status_code == 422
    assert "Write a message first" in empty.text
    too_long = await post(agent, "/console/deliveries/1/reply", text="x" * 1001, nonce="form-nonce-0002")
    assert too_long.status_code == 422
    assert "x" * 1001 in too_long.text  # what was typed stays in the form
    await sandbox_reply(planned_day, 2, "STOP")
    opted_out = await post(agent, "/console/deliveries/2/reply", text="Sorry!", nonce="form-nonce-0003")
    assert opted_out.status_code == 409
    assert "opted out of sms" in opted_out.text
    assert await outbox_rows(planned_day, kind="staff-reply") == []
    assert await audited(planned_day) == []


async def test_pause_holds_automated_notices_and_resume_sends_what_is_still_true(
    planned_day: Services, clock: ManualClock, agent: httpx.AsyncClient
) -> None:
    stops = await stops_by_delivery(planned_day)
    one, two = sorted(stops, key=lambda d: stops[d].promised_start)[-2:]  # promised late: still true later
    assert (await post(agent, f"/console/deliveries/{one}/pause")).status_code == 303
    await fill_outbox(planned_day)  # the morning: every planned recipient's pre-delivery is due
    told = {r["delivery_id"] for r in await outbox_rows(planned_day, kind="pre-delivery")}
    assert two in told
    assert one not in told
    assert (await delivery(planned_day, one))["paused"]

    # A notice queued before the pause is held, and the dispatcher leaves it.
    assert (await post(agent, f"/console/deliveries/{two}/pause")).status_code == 303
    clock.set(QUIET_OVER)
    await planned_day.dispatcher().drain()
    (held,) = await outbox_rows(planned_day, kind="pre-delivery", delivery_id=two)
    assert held["status"] == "held"

    for delivery_id in (one, two):
        assert (await post(agent, f"/console/deliveries/{delivery_id}/resume")).status_code == 303
    await fill_outbox(planned_day)
    await planned_day.dispatcher().drain()
    sent = {r["delivery_id"]: r["status"] for r in await outbox_rows(planned_day, kind="pre-delivery")}
    assert (sent[one], sent[two]) == ("sent", "sent")
    assert await staff_events(planned_day, two) == [
        ("delivery.paused", "staff:alice"),
        ("delivery.resumed", "staff:alice"),
    ]
    actions = [a for a, d, _ in await audited(planned_day) if d == two]
    assert actions == ["delivery.paused", "delivery.resumed"]
    twice = await post(agent, f"/console/deliveries/{two}/resume")
    assert twice.status_code == 409
    assert "not paused" in twice.text


async def test_reschedule_on_their_behalf_moves_the_promise_tells_them_and_notes_the_driver(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    chosen = await pick_morning_delivery(planned_day)
    async with planned_day.store.read() as conn:
        before = (await promises.current(conn, [chosen]))[chosen]
    page = await agent.get(f"/console/deliveries/{chosen}/slots")
    assert page.status_code == 200
    offered = re.findall(SLOT_INPUT, page.text)
    assert 1 <= len(offered) <= planned_day.settings.messages.max_slots
    shown = {"version": str(before.version)}
    assert f'name="version" value="{before.version}"' in page.text

    made_up = await post(agent, f"/console/deliveries/{chosen}/reschedule", slot="2026-11-23T03:17Z|x")
    assert made_up.status_code == 422
    off_grid = "2026-11-23T13:07:00+00:00|2026-11-23T14:07:00+00:00"
    refused = await post(agent, f"/console/deliveries/{chosen}/reschedule", slot=off_grid, **shown)
    assert refused.status_code == 409
    assert "no longer possible" in refused.text
    assert await outbox_rows(planned_day, kind="rescheduled") == []

    moved = await post(agent, f"/console/deliveries/{chosen}/reschedule", slot=offered[0], **shown)
    assert moved.status_code == 303
    async with planned_day.store.read() as conn:
        after = (await promises.current(conn, [chosen]))[chosen]
    start, end = (datetime.fromisoformat(t) for t in offered[0].split("|"))
    assert after.version == before.version + 1
    assert start <= after.start < after.end <= end
    (told,) = await outbox_rows(planned_day, kind="rescheduled")
    assert told["delivery_id"] == chosen
    assert await outbox_rows(planned_day, kind="driver-notes"), "the driver hears of the change"
    assert await staff_events(planned_day, chosen) == [("delivery.rescheduled", "staff:alice")]
    assert [a for a, _, _ in await audited(planned_day)] == ["delivery.rescheduled"]


async def test_instructions_reach_the_driver_and_no_code_is_kept_in_logs(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    saved = await post(agent, "/console/deliveries/4/instructions", safe_drop="garage", access_code="4711#")
    assert saved.status_code == 303
    row = await delivery(planned_day, 4)
    assert (row["safe_drop"], row["access_code"]) == ("garage", "4711#")
    (note,) = await outbox_rows(planned_day, kind="driver-notes")
    assert "garage" in note["body"]
    assert "4711#" in note["body"]
    recipient_kinds = {r["kind"] for r in await outbox_rows(planned_day, delivery_id=4)}
    assert recipient_kinds == set()  # the recipient is not messaged
    assert await staff_events(planned_day, 4) == [("delivery.instructions", "staff:alice")]
    assert "4711" not in repr(await audited(planned_day))
    async with planned_day.store.read() as conn:
        assert "4711" not in repr(await events.for_delivery(conn, 4))

    bad = await post(agent, "/console/deliveries/4/instructions", safe_drop="porch", access_code="no way!")
    assert bad.status_code == 422
    assert "access code is 2-12" in bad.text
    assert (await delivery(planned_day, 4))["safe_drop"] == "garage"  # nothing changed
    nothing = await post(agent, "/console/deliveries/4/instructions")
    assert nothing.status_code == 422


async def test_the_queue_lists_an_escalation_assign_to_me_then_resolve_or_answer(
    app: App, planned_day: Services, agent: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sandbox_reply(planned_day, 5, "I want to talk to a person")
    await sandbox_reply(planned_day, 6, "I want to talk to a person")
    async with planned_day.store.read() as conn:
        rows = (await conn.execute(sa.select(escalations).order_by(escalations.c.id))).mappings().all()
    first, second = (r["id"] for r in rows)
    page = await agent.get("/console/queue")
    assert f'id="escalation-{first}"' in page.text
    assert 'href="/console/deliveries/5"' in page.text

    assert (await post(agent, f"/console/escalations/{first}/assign")).status_code == 303
    page = await agent.get("/console/queue")
    assert "It is yours now." in page.text
    mine = page.text.split(f'id="escalation-{first}"')[1].split("</tr>")[0]
    assert '<td class="assignee">alice</td>' in mine
    resolved = await post(agent, f"/console/escalations/{first}/resolve", note="called them back")
    assert resolved.status_code == 303
    again = await post(agent, f"/console/escalations/{first}/resolve")
    assert again.status_code == 409
    assert "resolved already" in again.text

    form = {"text": "Calling you now", "nonce": "n-0000001"}
    answered = await post(agent, f"/console/escalations/{second}/answer", **form)
    assert answered.status_code == 303
    twice = await post(agent, f"/console/escalations/{second}/answer", **form)
    assert twice.status_code == 303  # the same form again: "sent already", nothing new
    (reply,) = await outbox_rows(planned_day, kind="staff-reply")
    assert reply["delivery_id"] == 6
    async with planned_day.store.read() as conn:
        rows = (await conn.execute(sa.select(escalations).order_by(escalations.c.id))).mappings().all()
    assert [(r["status"], r["resolved_by"], r["assigned_to"]) for r in rows] == [
        ("resolved", alice.id, alice.id),
        ("resolved", alice.id, None),
    ]
    assert "escalation-" not in (await agent.get("/console/queue")).text
    assert [(a, d) for a, d, _ in await audited(planned_day)] == [
        ("escalation.assigned", 5),
        ("escalation.resolved", 5),
        ("staff.replied", 6),
        ("escalation.resolved", 6),
    ]
    assert await staff_events(planned_day, 5) == [
        ("escalation.assigned", "staff:alice"),
        ("escalation.resolved", "staff:alice"),
    ]


async def test_an_action_without_its_csrf_token_is_refused_and_changes_nothing(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    await sandbox_reply(planned_day, 5, "I want to talk to a person")
    attempts = {
        "/console/deliveries/1/reply": {"text": "hi", "nonce": "form-nonce-0001"},
        "/console/deliveries/1/pause": {},
        "/console/deliveries/1/instructions": {"safe_drop": "porch"},
        "/console/escalations/1/assign": {},
        "/console/escalations/1/resolve": {},
    }
    for path, data in attempts.items():
        refused = await agent.post(path, data=data)
        assert refused.status_code == 403, path
        assert "Form refused" in refused.text
    row = await delivery(planned_day, 1)
    assert (row["paused"], row["safe_drop"]) == (False, None)
    assert await outbox_rows(planned_day, kind="staff-reply") == []
    assert await audited(planned_day) == []
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(escalations.c.status))).scalars().all() == ["open"]


async def test_no_page_or_form_of_acting_shows_an_access_code(
    app: App, planned_day: Services, console: httpx.AsyncClient
) -> None:
    await sandbox_reply(planned_day, 7, "CODE 90817")
    await sandbox_reply(planned_day, 7, "I want to talk to a person")
    for role in ("agent", "admin"):  # admins reveal codes on the delivery page only (audited there)
        await add_staff(app, role, role)
        console.cookies.clear()
        await sign_in(console, role)
        pages = [
            await console.get("/console/queue"),
            await console.get("/console/deliveries/7/slots"),
            await post(console, "/console/deliveries/7/reply", text="", nonce="form-nonce-0001"),
            await post(console, "/console/deliveries/7/instructions", access_code="bad code!"),
        ]
        assert [p.status_code for p in pages] == [200, 200, 422, 422]
        assert "An access code is set (hidden)" in pages[2].text
        for page in pages:
            assert "90817" not in page.text, page.request.url


async def test_the_partial_renders_every_form_with_its_token_and_escapes_what_it_shows(
    app: App, planned_day: Services
) -> None:
    async with planned_day.store.tx() as conn:
        hostile = deliveries.update().values(safe_drop='"><script>x</script>', paused=True)
        await conn.execute(hostile.where(deliveries.c.id == 8))
        found = await timeline(conn, 8)
    assert found is not None
    html = (
        web_state.of(app.web)
        .console_templates.get_template("delivery_actions.html")
        .render(delivery=found.header, csrf_token="t0ken", view=View(code=found.header.access_code))
    )
    forms = html.count("<form ")
    assert forms == 4  # reply, resume (paused), revoke links, instructions; rescheduling starts from a link
    assert html.count('name="csrf_token" value="t0ken"') == forms
    assert 'action="/console/deliveries/8/resume"' in html
    assert 'href="/console/deliveries/8/slots"' in html
    assert 'action="/console/deliveries/8/revoke-links"' in html
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;" in html
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(messages))).scalar() == 0
