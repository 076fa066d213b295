"""The recipient's page in a phone-sized chromium (390x844): the link from the SMS, the window and the
status, another time taken (and the SMS that confirms it), instructions that reach the driver, and a
forged link that shows nothing. Every request the page makes stays on Doorstep's origin."""

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, Page, expect

from bot.clock import ManualClock
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store import links
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


def elsewhere(requested: list[str], site: str) -> list[str]:
    """The requests the page made to anyone but Doorstep (there must be none)."""
    return [url for url in requested if not url.startswith(site + "/")]


async def looked_at(page: Page, shot: Shot, state: str) -> None:
    """A screenshot of the page in this state, and axe-core's check of it (no serious or critical
    violation)."""
    await shot(page, state)
    assert await serious_violations(page) == [], state


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
    await looked_at(page, shot, "opened")

    await page.click("a[href$='/times']")
    await looked_at(page, shot, "times")
    await page.locator("ul.times button").first.click()
    await page.wait_for_selector("[role=status]")
    after = await page.text_content("[data-window]")
    assert after != before
    await looked_at(page, shot, "moved")
    await planned_day.dispatcher().drain()
    told = [s for s in planned_day.sandbox.sent() if s.kind == "rescheduled" and s.address == sms.address]
    assert len(told) == 1
    assert after is not None
    assert after.split(", ")[-1].replace("–", "-") in told[0].body  # the SMS says the window the page shows

    await page.fill("#place", "Behind the blue gate, please")
    await page.click("form[action$='/instructions'] button")
    await page.wait_for_selector("[data-instructions]")
    await looked_at(page, shot, "instructed")
    notes = await outbox_rows(planned_day, kind="driver-notes")
    assert any(
        "Behind the blue gate" in n["body"]
        for n in notes
        if delivery_id in n["payload"].get("deliveries", [])
    )

    assert requested
    assert elsewhere(requested, site) == []


async def test_a_foreign_a_forged_a_revoked_and_an_expired_link_show_nothing_of_the_parcel(
    planned_day: Services,
    clock: ManualClock,
    phone: tuple[Page, list[str]],
    site: str,
    shot: Shot,
) -> None:
    page, requested = phone
    tokens = await notices(planned_day, clock)
    delivery_id, other = sorted(tokens)[:2]
    token = tokens[delivery_id]
    async with planned_day.store.read() as conn:
        found = await delivery_store.get(conn, delivery_id)
    assert found is not None
    await page.goto(f"/t/{tokens[other]}")  # another parcel's link: its page, nothing of this one
    assert found.order_id not in await page.content()
    await looked_at(page, shot, "foreign")

    for how in ("forged", "revoked", "expired"):
        if how == "forged":
            await page.goto("/t/" + "A" * 22)
        elif how == "revoked":
            async with planned_day.store.tx() as conn:
                await links.revoke(conn, [delivery_id], clock.now())
            await page.goto(f"/t/{token}")
        else:  # the other parcel, delivered longer ago than DOORSTEP_WEB__LINK_DAYS
            done = sa.update(deliveries).where(deliveries.c.id == other).values(status="delivered")
            async with planned_day.store.tx() as conn:
                await conn.execute(done)
            clock.advance(timedelta(days=planned_day.settings.web.link_days + 2))
            await page.goto(f"/t/{tokens[other]}")
            async with planned_day.store.read() as conn:
                found = await delivery_store.get(conn, other)
            assert found is not None
        assert await page.is_visible("text=This link does not work"), how
        content = await page.content()
        assert found.order_id not in content, how
        assert found.name.split()[0] not in content, how
        await looked_at(page, shot, how)
    assert elsewhere(requested, site) == []


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
    await looked_at(page, shot, "delivered-photo")

    await page.check("input[name=stars][value='5']")
    await page.fill("#comment", "Right where I asked, thanks!")
    await page.click("form[action$='/rating'] button")
    rated = re.compile(r"\b5 \w+ 5\b")  # in their language
    await expect(page.locator("[data-rating]")).to_contain_text(rated)
    await looked_at(page, shot, "rated")
    async with planned_day.store.read() as conn:
        query = sa.select(deliveries.c.rating, deliveries.c.rating_comment).where(
            deliveries.c.id == delivered
        )
        assert tuple((await conn.execute(query)).one()) == (5, "Right where I asked, thanks!")
    assert elsewhere(requested, site) == []
