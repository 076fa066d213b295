"""Acting for a recipient in chromium, against the real server on a planned day with a few conversations:
answer, pause and resume, reschedule, and work the escalation queue. Each check on the page is also
checked in the store."""

import re
from datetime import datetime

import sqlalchemy as sa
from playwright.async_api import Page, Route, expect

from bot.app import App
from bot.domain.deliveries import Delivery
from bot.domain.promises import Promise
from bot.services import Services
from bot.store import deliveries, escalations, promises
from bot.store.staff import StaffUser
from bot.store.tables import escalations as escalation_rows
from bot.web.console.privacy import BLOT
from bot.web.console.templates import window
from tests.browser.conftest import Shot, sign_in
from tests.console.conftest import PASSWORD, Chatty, add_staff
from tests.loop.conftest import outbox_rows
from tests.loop.test_reschedule import pick_morning_delivery

ANSWER = "It arrives between 10 and 11 today; the driver will ring twice."


async def open_as_agent(app: App, page: Page, path: str) -> StaffUser:
    """Sign in as the agent alice on the way to `path`, and land there."""
    alice = await add_staff(app, "alice", "agent")
    await page.goto(path)
    await sign_in(page, "alice", PASSWORD)
    await expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))
    return alice


async def stored(services: Services, delivery_id: int) -> Delivery:
    async with services.store.read() as conn:
        found = await deliveries.get(conn, delivery_id)
    assert found is not None
    return found


async def promise_of(services: Services, delivery_id: int) -> Promise:
    async with services.store.read() as conn:
        return (await promises.current(conn, [delivery_id]))[delivery_id]


async def test_an_answer_goes_once_however_often_its_form_is_sent(
    app: App, page: Page, shot: Shot, chatty_day: Chatty
) -> None:
    delivery_id = chatty_day.asked
    await open_as_agent(app, page, f"/console/deliveries/{delivery_id}")
    staff_replies = page.locator('li.entry.outbound[data-kind="staff-reply"]')
    await expect(staff_replies).to_have_count(0)
    await shot(page, "delivery-before")

    # The form reaches the server twice (a retried request): the second finds the first's message.
    flashes: list[str] = []

    async def sent_twice(route: Route) -> None:
        first = await route.fetch(max_redirects=0)
        second = await route.fetch(max_redirects=0)
        flashes.extend(r.headers.get("set-cookie", "") for r in (first, second))
        await route.fulfill(response=first)

    await page.route(f"**/console/deliveries/{delivery_id}/reply", sent_twice)
    await page.fill("#reply-text", ANSWER)
    await page.click("#reply-send")
    await expect(page).to_have_url(re.compile(rf"/console/deliveries/{delivery_id}$"))
    await expect(page.locator("#flash")).to_have_text("Reply queued on SMS.")
    assert "sent%20already" in flashes[1], flashes
    await page.unroute(f"**/console/deliveries/{delivery_id}/reply")
    await expect(staff_replies).to_have_count(1)
    await expect(staff_replies).to_contain_text("To recipient: staff reply via sms")
    await expect(staff_replies).to_contain_text(ANSWER)
    await shot(page, "delivery-after")

    # Back to the form and send again: it comes back empty (a new form), so nothing more goes.
    await page.go_back()
    await expect(page.locator("#reply-text")).to_have_value("")
    await page.click("#reply-send")  # the browser refuses an empty required field
    await expect(page.locator("#flash")).to_have_count(0)
    await page.reload()
    await expect(staff_replies).to_have_count(1)

    (sent,) = await outbox_rows(chatty_day.services, kind="staff-reply", delivery_id=delivery_id)
    assert sent["channel"] == "sms"
    assert ANSWER in sent["body"]


async def test_pausing_and_resuming_automated_messages(
    app: App, page: Page, shot: Shot, chatty_day: Chatty
) -> None:
    services, delivery_id = chatty_day.services, chatty_day.asked
    await open_as_agent(app, page, f"/console/deliveries/{delivery_id}")
    await expect(page.locator("#paused-state")).to_contain_text("Running")

    await page.click("#pause")
    await expect(page.locator("#flash")).to_contain_text("Automated messages paused")
    await expect(page.locator("#paused-state")).to_contain_text("Paused")
    await expect(page.locator("#paused")).to_have_text("automated messages paused")
    assert (await stored(services, delivery_id)).paused
    await shot(page, "delivery-paused")

    await page.click("#resume")
    await expect(page.locator("#flash")).to_contain_text("Automated messages resumed")
    await expect(page.locator("#paused-state")).to_contain_text("Running")
    await expect(page.locator("#paused")).to_have_count(0)
    assert not (await stored(services, delivery_id)).paused
    await shot(page, "delivery-resumed")


async def test_rescheduling_on_their_behalf_shows_the_new_window_and_tells_them(
    app: App, page: Page, shot: Shot, chatty_day: Chatty
) -> None:
    services = chatty_day.services
    delivery_id = await pick_morning_delivery(services)
    before = await promise_of(services, delivery_id)
    await open_as_agent(app, page, f"/console/deliveries/{delivery_id}")
    zone = (await stored(services, delivery_id)).timezone
    await expect(page.locator("#promise")).to_have_text(window((before.start, before.end), zone))
    await shot(page, "delivery-before")

    await page.click("#find-slots")
    await expect(page).to_have_url(re.compile(rf"/console/deliveries/{delivery_id}/slots$"))
    offered = page.locator("#slots input[name=slot]")
    assert await offered.count() >= 2
    await offered.last.check()  # not the time already ticked
    slot = await offered.last.get_attribute("value") or ""
    slot_start, slot_end = (datetime.fromisoformat(t) for t in slot.split("|"))
    await shot(page, "slots")
    await page.click("#reschedule")

    await expect(page).to_have_url(re.compile(rf"/console/deliveries/{delivery_id}$"))
    after = await promise_of(services, delivery_id)
    assert after.version == before.version + 1
    assert slot_start <= after.start < after.end <= slot_end  # the new promise, inside the time picked
    old, new = window((before.start, before.end), zone), window((after.start, after.end), zone)
    assert old != new
    await expect(page.locator("#flash")).to_have_text(f"Moved to {new}; the recipient is told.")
    await expect(page.locator("#promise")).to_have_text(new)
    changed = page.locator("li.entry.promise").last
    await expect(changed).to_contain_text("Window changed")
    await expect(changed.locator("p.text")).to_have_text(f"{old} → {new}")
    await expect(page.locator('li.entry.outbound[data-kind="rescheduled"]')).to_have_count(1)
    await shot(page, "delivery-after")

    (told,) = await outbox_rows(services, kind="rescheduled", delivery_id=delivery_id)
    assert told["kind"] == "rescheduled"


async def test_the_queue_assign_to_me_then_resolve(
    app: App, page: Page, shot: Shot, chatty_day: Chatty
) -> None:
    services = chatty_day.services
    async with services.store.read() as conn:
        query = sa.select(escalation_rows.c.id).where(
            escalation_rows.c.delivery_id == chatty_day.coded, escalation_rows.c.status == "open"
        )
        (escalation_id,) = (await conn.execute(query)).scalars().all()  # the reply not understood
    alice = await open_as_agent(app, page, "/console/queue")
    row = page.locator(f"#escalation-{escalation_id}")
    await expect(row).to_contain_text("not understood")
    await expect(row.locator("td.assignee")).to_have_text("—")
    await expect(row).to_contain_text(f"xyzzy {BLOT} plugh")  # the reply quoted the access code
    assert chatty_day.code not in await page.content()
    await shot(page, "queue")

    await row.get_by_role("button", name="Assign to me").click()
    await expect(page.locator("#flash")).to_have_text("It is yours now.")
    await expect(row.locator("td.assignee")).to_have_text("alice")
    await expect(row.get_by_role("button", name="Assign to me")).to_have_count(0)
    await shot(page, "queue-assigned")

    await row.get_by_role("textbox", name="Note").fill("called them, code noted")
    await row.get_by_role("button", name="Resolve", exact=True).click()
    await expect(page.locator("#flash")).to_have_text("Resolved.")
    await expect(row).to_have_count(0)
    await shot(page, "queue-resolved")

    async with services.store.read() as conn:
        resolved = await escalations.get(conn, escalation_id)
    assert resolved is not None
    assert (resolved.status, resolved.assigned_to) == ("resolved", alice.id)
