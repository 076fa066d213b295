"""The recipient's page in a phone-sized chromium (390x844): the link from the SMS, the window and the
status, another time taken (and the SMS that confirms it), instructions that reach the driver, and a
forged link that shows nothing. Every request the page makes stays on Doorstep's origin."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, Page, expect

from bot.clock import ManualClock
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store.tables import deliveries
from bot.usecases import proof
from tests.browser.conftest import Shot
from tests.loop.conftest import MORNING, outbox_rows
from tests.sms.test_silent_misreads import deliver_first_stop
from tests.track.images import png
from tests.track.test_page import LINK, notices
from tests.track.test_page import settings as track_settings

__all__ = ["settings"]
settings = track_settings  # a public URL: the messages link to the page


AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"  # package.json


@pytest.fixture
async def phone(browser: Browser, site: str) -> AsyncIterator[tuple[Page, list[str]]]:
    """A phone-sized page, and every URL it requests; the page's CSP holds."""
    context = await browser.new_context(base_url=site, viewport={"width": 390, "height": 844})
    requested: list[str] = []
    page = await context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    try:
        yield page, requested
    finally:
        await context.close()


async def serious_violations(page: Page) -> list[str]:
    """What axe-core (the engine of @axe-core/playwright) finds serious or critical on the page."""
    if not AXE.exists():
        pytest.skip(f"{AXE} not found: `npm ci` installs it (./dev test does)")
    if not await page.evaluate("() => 'axe' in window"):
        await page.evaluate(AXE.read_text("utf-8"))  # through the browser's debugger, past the page's CSP
    found = await page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


async def test_a_recipient_opens_the_link_takes_another_time_and_tells_the_driver(
    planned_day: Services,
    clock: ManualClock,
    phone: tuple[Page, list[str]],
    site: str,
    shot: Shot,
) -> None:
    page, requested = phone
    await notices(planned_day, clock)
    (sms,) = [s for s in planned_day.sandbox.sent() if s.kind == "pre-delivery" and "/t/" in s.body][:1]
    token = LINK.search(sms.body)
    assert token is not None
    mine = [r for r in await outbox_rows(planned_day, kind="pre-delivery") if token[1] in r["body"]]
    delivery_id = mine[0]["delivery_id"]

    await page.goto(f"/t/{token[1]}")
    before = await page.text_content("[data-window]")
    assert before
    assert await page.is_visible("[data-status]")
    await shot(page, "opened")
    assert await serious_violations(page) == []

    await page.click("a[href$='/times']")
    await shot(page, "times")
    assert await serious_violations(page) == []
    await page.locator("ul.times button").first.click()
    await page.wait_for_selector("[role=status]")
    after = await page.text_content("[data-window]")
    assert after != before
    await shot(page, "moved")
    assert await serious_violations(page) == []
    await planned_day.dispatcher().drain()
    told = [s for s in planned_day.sandbox.sent() if s.kind == "rescheduled" and s.address == sms.address]
    assert len(told) == 1
    assert after is not None
    assert after.split(", ")[-1].replace("–", "-") in told[0].body  # the SMS says the window the page shows

    await page.fill("#place", "Behind the blue gate, please")
    await page.click("form[action$='/instructions'] button")
    await page.wait_for_selector("[data-instructions]")
    await shot(page, "instructed")
    notes = await outbox_rows(planned_day, kind="driver-notes")
    assert any(
        "Behind the blue gate" in n["body"]
        for n in notes
        if delivery_id in n["payload"].get("deliveries", [])
    )

    await page.goto("/t/" + "A" * 22)
    assert await page.is_visible("text=This link does not work")
    async with planned_day.store.read() as conn:
        found = await delivery_store.get(conn, delivery_id)
    assert found is not None
    assert found.order_id not in await page.content()
    await shot(page, "forged")
    assert await serious_violations(page) == []

    assert requested
    assert all(url.startswith(site) for url in requested), [u for u in requested if not u.startswith(site)]


async def test_after_delivery_the_recipient_sees_the_photo_and_rates(
    planned_day: Services,
    clock: ManualClock,
    phone: tuple[Page, list[str]],
    site: str,
    shot: Shot,
) -> None:
    page, requested = phone
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)
    delivered = await deliver_first_stop(planned_day, clock)
    await proof.add_photo(planned_day, delivered, png(320, 200), actor="driver-app")

    await page.goto(f"/t/{tokens[delivered]}")
    photo = page.locator("img[data-photo]")
    await expect(photo).to_be_visible()
    assert await photo.evaluate("image => image.complete && image.naturalWidth") == 320  # it loaded
    await shot(page, "delivered-photo")
    assert await serious_violations(page) == []

    await page.check("input[name=stars][value='5']")
    await page.fill("#comment", "Right where I asked, thanks!")
    await page.click("form[action$='/rating'] button")
    rated = re.compile(r"\b5 \w+ 5\b")  # in their language
    await expect(page.locator("[data-rating]")).to_contain_text(rated)
    await shot(page, "rated")
    assert await serious_violations(page) == []
    async with planned_day.store.read() as conn:
        query = sa.select(deliveries.c.rating, deliveries.c.rating_comment).where(
            deliveries.c.id == delivered
        )
        assert tuple((await conn.execute(query)).one()) == (5, "Right where I asked, thanks!")
    assert all(url.startswith(site) for url in requested), [u for u in requested if not u.startswith(site)]
