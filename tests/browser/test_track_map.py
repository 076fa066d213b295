"""The recipient's page once the van is out, in a phone-sized chromium, on a day in Monaco: the street map
from Doorstep's own tiles (built from the shared Monaco extract with tilemaker), the stop, and the van
only when it is near; the live stream moving the page along; no request leaving Doorstep's origin."""

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from bot.clock import ManualClock
from bot.config import Settings
from bot.services import Services
from bot.tiles import TilesError, tilemaker_version
from bot.usecases import progress
from bot.web import state
from sim.demo import MONACO
from sim.sample import sample_day
from tests.browser.conftest import Shot
from tests.browser.test_track import elsewhere, looked_at, phone
from tests.conftest import API_KEY, DAY
from tests.loop.conftest import MORNING
from tests.loop.test_driver_events import first_route
from tests.shared_data import require_shared
from tests.track.test_page import PUBLIC, notices

__all__ = ["phone"]


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    try:
        tilemaker_version()
    except TilesError as missing:
        pytest.skip(str(missing))
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        web={
            "api_key": API_KEY,
            "public_url": PUBLIC,
            "map_pbf": require_shared("osm", "monaco.osm.pbf"),
            "map_glyphs": require_shared("map-assets", "fonts"),
            "map_cache_dir": tmp_path / "tiles",
        },
        eta={"exploration": 1},
        sandbox={"path": db_path.with_name("sandbox.db")},
        _env_file=None,
    )


@pytest.fixture
def day_file() -> dict[str, Any]:
    return sample_day(DAY, 30, 2, seed=11, city=MONACO)


async def test_the_map_shows_the_stop_and_the_van_only_near_from_doorstep_s_own_tiles(
    planned_day: Services,
    clock: ManualClock,
    phone: tuple[Page, list[str]],
    site: str,
    shot: Shot,
    app: Any,
) -> None:
    page, requested = phone
    errors: list[str] = []  # what the page's scripts report, and any request that failed
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    assert await state.of(app.web).tiles.wait() is not None, state.of(app.web).tiles.failed
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)
    route = await first_route(planned_day)
    near, far = route.stops[1], route.stops[5]
    await progress.start_route(planned_day, route.driver_id, actor="test")
    first = planned_day.clock.now()
    depot = (MONACO.lat, MONACO.lon)
    await progress.update_position(planned_day, route.driver_id, *depot, actor="test")

    await page.goto(f"/t/{tokens[far.delivery_id]}")
    await page.wait_for_selector("#map[data-ready]")
    assert await page.is_hidden("[data-van]")  # five stops away: no van
    await looked_at(page, shot, "map-van-far")

    await page.goto(f"/t/{tokens[near.delivery_id]}")
    await page.wait_for_selector("#map[data-ready]")
    assert await page.is_visible("[data-van]")
    assert await page.is_visible("text=© OpenStreetMap contributors")
    await looked_at(page, shot, "map-van-near")
    assert errors == []

    ranges = [r for r in requested if "/map/streets.pmtiles" in r]
    assert ranges, requested
    assert any("/map/fonts/" in r for r in requested)  # street names, from Doorstep's glyphs
    assert elsewhere(requested, site) == []

    # The van delivers the first stop and comes to this one; then this one: the page follows by itself.
    clock.set(max(first, route.stops[0].planned_arrival))
    await progress.record_stop_event(
        planned_day, route.stops[0].delivery_id, progress.StopEvent.DELIVERED, actor="test"
    )
    await expect(page.locator("[data-stops]")).to_have_text("Yours is the next stop.")
    await looked_at(page, shot, "map-next-stop")
    await progress.record_stop_event(
        planned_day, near.delivery_id, progress.StopEvent.DELIVERED, actor="test"
    )
    await page.wait_for_selector("form[action$='/rating']")  # reloaded: delivered, rate it
    assert await page.locator("#map").count() == 0  # no map, no van once the stop is done
    await looked_at(page, shot, "map-delivered")
    assert errors == []
