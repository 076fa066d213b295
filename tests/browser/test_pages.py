"""The console's read pages in chromium, on a planned day with a few conversations."""

import re

from playwright.async_api import Page, expect

from bot.app import App
from bot.console.timeline import timeline
from bot.web.console.privacy import HIDDEN_CODE, mask_phone
from tests.browser.conftest import Shot, sign_in
from tests.console.conftest import PASSWORD, Chatty, add_staff


async def test_an_agent_finds_a_delivery_by_phone_and_reads_its_timeline(
    app: App, page: Page, shot: Shot, chatty_day: Chatty
) -> None:
    await add_staff(app, "alice", "agent")
    await page.goto("/console/")
    await sign_in(page, "alice", PASSWORD)
    await expect(page.locator("h1")).to_have_text("Board for Monday 23 November 2026")
    await expect(page.locator("tr.stop")).to_have_count(40)
    await shot(page, "board")

    async with app.services.store.read() as conn:
        found = await timeline(conn, chatty_day.asked)
    assert found is not None
    phone = found.header.phone
    await page.fill("#search", f"0{phone[3:6]} {phone[6:]}")
    await page.press("#search", "Enter")
    await expect(page).to_have_url(re.compile(r"/console/search\?q="))
    hit = page.locator(f'tr.hit[data-delivery="{chatty_day.asked}"]')
    await expect(hit).to_contain_text(mask_phone(phone))
    await shot(page, "search")

    await hit.locator("a").click()
    await expect(page).to_have_url(re.compile(rf"/console/deliveries/{chatty_day.asked}$"))
    inbound = page.locator("li.entry.inbound")
    await expect(inbound.first).to_contain_text("where is my parcel?")
    answer = page.locator('li.entry.outbound[data-kind="status"]')
    await expect(answer).to_contain_text("via sms")
    await expect(answer).to_contain_text("sent")
    await expect(page.locator("#phone")).to_have_text(mask_phone(phone))
    await shot(page, "delivery")


async def test_an_agent_cannot_see_an_access_code(
    app: App, page: Page, shot: Shot, chatty_day: Chatty
) -> None:
    await add_staff(app, "alice", "agent")
    await page.goto(f"/console/deliveries/{chatty_day.coded}")
    await sign_in(page, "alice", PASSWORD)
    await expect(page.locator("#access-code")).to_have_text("on file, hidden")
    await expect(page.locator("#timeline")).to_contain_text(HIDDEN_CODE)
    assert chatty_day.code not in await page.content()
    await expect(page.locator("#reveal")).to_have_count(0)
    await shot(page, "delivery-agent")


async def test_an_admin_reveals_the_code(app: App, page: Page, shot: Shot, chatty_day: Chatty) -> None:
    await add_staff(app, "root", "admin")
    await page.goto(f"/console/deliveries/{chatty_day.coded}")
    await sign_in(page, "root", PASSWORD)
    await expect(page.locator("#access-code")).to_have_text("on file, hidden")
    await page.click("#reveal button")
    await expect(page.locator("#access-code")).to_contain_text(chatty_day.code)
    await shot(page, "delivery-revealed")


async def test_the_metrics_page(app: App, page: Page, shot: Shot, chatty_day: Chatty) -> None:
    await add_staff(app, "alice", "agent")
    await page.goto("/console/metrics?date=2026-11-23")
    await sign_in(page, "alice", PASSWORD)
    await expect(page.locator("h1")).to_have_text("Metrics for Monday 23 November 2026")
    await expect(page.locator("#chart-msgs-day svg")).to_be_visible()
    await shot(page, "metrics")
