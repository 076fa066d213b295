"""Browser tests: Playwright (its bundled driver) drives Debian's chromium against the real app, served
by uvicorn on a free loopback port over a temp SQLite file. Playwright never downloads a browser here.

Screenshots of each page go to tests/browser/screenshots/ (git-ignored), or DOORSTEP_SCREENSHOTS.
"""

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from bot.app import App
from tests.console.conftest import chatty_day, planned_day
from tests.telegram.emulator import loopback_server

__all__ = ["chatty_day", "planned_day"]  # a realistic day for the page tests: planned, with conversations

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("DOORSTEP_SCREENSHOTS") or Path(__file__).with_name("screenshots"))

type Shot = Callable[[Page, str], Awaitable[Path]]


def chromium_unavailable() -> str | None:
    if CHROMIUM.exists():
        return None
    return f"{CHROMIUM} not found: `apt-get install chromium` (./dev test does it when run as root)"


async def sign_in(page: Page, username: str, password: str) -> None:
    """Fill in and send the sign-in form the page shows."""
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#sign-in button[type=submit]")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if reason := chromium_unavailable():
        if os.environ.get("CI") == "true" and os.geteuid() == 0 and shutil.which("apt-get"):
            pytest.fail(f"{reason} (CI runs as root with apt-get, so .ci/debian.sh should have)")
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def site(app: App) -> AsyncIterator[str]:
    """The base URL of the real app, served by uvicorn on loopback."""
    async with loopback_server(app.web) as base:
        yield base


@pytest.fixture
async def page(browser: Browser, site: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=site, viewport={"width": 1100, "height": 700})
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """`await shot(page, "signed-in")` saves screenshots/<test>-<n>-signed-in.png."""
    taken: list[Path] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{len(taken) + 1}-{name}.png"
        await page.screenshot(path=path, full_page=True)
        taken.append(path)
        return path

    return take
