import re

from playwright.async_api import Page, expect

from bot.app import App
from bot.store.staff import StaffUser
from tests.browser.conftest import Shot, sign_in
from tests.console.conftest import PASSWORD, add_staff

WRONG = "not-the-password"


async def test_the_right_password_lands_on_the_console_and_shows_who_is_signed_in(
    app: App, page: Page, shot: Shot
) -> None:
    await add_staff(app, "alice", "admin")
    await page.goto("/console/")
    await expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2F$"))
    await shot(page, "sign-in")
    await sign_in(page, "alice", PASSWORD)
    await expect(page).to_have_url(re.compile(r"/console/$"))
    await expect(page.locator("#who")).to_have_text("alice")
    await expect(page.locator("h1")).to_contain_text("Board for")
    await shot(page, "home")


async def test_a_wrong_password_shows_an_error(app: App, page: Page, shot: Shot) -> None:
    await add_staff(app, "alice")
    await page.goto("/console/login")
    await sign_in(page, "alice", WRONG)
    await expect(page.locator("#error")).to_have_text("Wrong username or password.")
    await expect(page.locator("#username")).to_have_value("alice")
    await shot(page, "wrong-password")


async def test_after_too_many_wrong_passwords_even_the_right_one_is_throttled(
    app: App, page: Page, shot: Shot
) -> None:
    await add_staff(app, "alice")
    await page.goto("/console/login")
    for _ in range(app.services.settings.console.login_attempts_per_window):
        await sign_in(page, "alice", WRONG)
        await expect(page.locator("#error")).to_have_text("Wrong username or password.")
    await sign_in(page, "alice", PASSWORD)
    await expect(page.locator("#error")).to_contain_text("Too many failed sign-ins. Try again in 15 minutes.")
    await shot(page, "throttled")


async def test_signing_out_ends_the_session_for_the_old_cookie_too(app: App, page: Page, shot: Shot) -> None:
    await add_staff(app, "alice")
    await page.goto("/console/login")
    await sign_in(page, "alice", PASSWORD)
    await expect(page.locator("#who")).to_have_text("alice")
    [old] = [c for c in await page.context.cookies() if c.get("name") == "doorstep_session"]
    assert "value" in old
    await page.click("#sign-out")
    await expect(page).to_have_url(re.compile(r"/console/login$"))
    await shot(page, "signed-out")
    # A copy of the cookie, kept from before:
    await page.context.add_cookies([{"name": old["name"], "value": old["value"], "url": page.url}])
    home = page.url.removesuffix("login")
    assert [c.get("value") for c in await page.context.cookies(home)] == [old.get("value")]
    await page.goto("/console/")
    await expect(page).to_have_url(re.compile(r"/console/login\?"))
    await expect(page.locator("#who")).to_have_count(0)


async def test_a_form_without_its_csrf_token_is_refused(app: App, page: Page, shot: Shot) -> None:
    await add_staff(app, "alice")
    await page.goto("/console/login")
    await sign_in(page, "alice", PASSWORD)
    await expect(page.locator("#who")).to_have_text("alice")
    await page.evaluate("document.querySelector('header form input[name=csrf_token]').remove()")
    await page.click("#sign-out")
    await expect(page.locator("h1")).to_have_text("Form refused")
    await shot(page, "csrf-refused")
    await page.goto("/console/")
    await expect(page.locator("#who")).to_have_text("alice")  # the refused form changed nothing


async def test_the_sign_in_form_without_its_token_is_refused(app: App, page: Page) -> None:
    alice: StaffUser = await add_staff(app, "alice")
    await page.goto("/console/login")
    await page.evaluate("document.querySelector('#sign-in input[name=csrf_token]').remove()")
    await sign_in(page, alice.username, PASSWORD)
    await expect(page.locator("h1")).to_have_text("Form refused")
