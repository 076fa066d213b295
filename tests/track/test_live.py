"""The recipient's page once the van is out: the van shown only near (and its data feed agrees), and the
live stream that brings a change of the day to an open page within seconds, over a real server."""

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.services import Services
from bot.store import links
from bot.usecases import progress, tracking
from bot.usecases.on_the_road import Pulse
from bot.web import track
from eta.geo import LatLon
from tests.loop.conftest import MORNING, planned_day  # noqa: F401 - the fixture, for this module
from tests.loop.test_driver_events import first_route
from tests.telegram.emulator import loopback_server
from tests.track.test_page import notices, settings  # noqa: F401 - the fixture: messages carry links

DEPOT_NEARBY = (52.5201, 13.4051)


async def van_of(api: httpx.AsyncClient, token: str) -> tuple[dict[str, float] | None, bool]:
    """The van as the data feed gives it, and whether the page shows "the van is nearby"."""
    fed = (await api.get(f"/t/{token}/feed")).json()
    shown = "data-van>" in (await api.get(f"/t/{token}")).text  # `data-van hidden>` when not shown
    return fed["van"], shown


async def test_the_van_shows_only_near_the_stop_and_never_after_it(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    route = await first_route(planned_day)
    assert len(route.stops) >= 7
    near, far = route.stops[1], route.stops[6]
    settings_ = planned_day.settings.web
    assert (settings_.van_within_stops, settings_.van_within_minutes) == (3, 15)

    clock.set(route.stops[0].planned_arrival - timedelta(minutes=30))
    await progress.update_position(planned_day, route.driver_id, *DEPOT_NEARBY, actor="test")
    assert await van_of(api, tokens[near.delivery_id]) == (None, False)  # not out yet: never

    await progress.start_route(planned_day, route.driver_id, actor="test")
    await progress.update_position(planned_day, route.driver_id, *DEPOT_NEARBY, actor="test")
    van, shown = await van_of(api, tokens[near.delivery_id])  # one stop before it: near
    assert van is not None
    assert (van["lat"], van["lon"]) == DEPOT_NEARBY
    assert shown
    feed = (await api.get(f"/t/{tokens[far.delivery_id]}/feed")).json()
    assert feed["stops_before"] == 6
    assert feed["live"] is not None
    assert await van_of(api, tokens[far.delivery_id]) == (None, False)  # six stops and over 15 min away

    clock.advance(timedelta(minutes=11))  # no position for 11 minutes: the van may be anywhere
    assert await van_of(api, tokens[near.delivery_id]) == (None, False)

    for stop in route.stops[:2]:
        await progress.record_stop_event(
            planned_day, stop.delivery_id, progress.StopEvent.DELIVERED, actor="test"
        )
    await progress.update_position(planned_day, route.driver_id, 52.51, 13.39, actor="test")
    assert await van_of(api, tokens[near.delivery_id]) == (None, False)  # its stop is done: never after
    assert (await api.get(f"/t/{tokens[near.delivery_id]}/feed")).json()["status"] == "delivered"


def test_the_van_is_near_within_k_stops_or_t_minutes_of_a_fresh_position(planned_day: Services) -> None:  # noqa: F811
    now = planned_day.clock.now()
    van = tracking.Van(LatLon(52.5, 13.4), now - timedelta(minutes=2))
    near = functools.partial(tracking.near, planned_day.settings.web, van=van, now=now)
    assert near(stops_before=2, arrival=now + timedelta(hours=1))  # within three stops
    assert not near(stops_before=3, arrival=now + timedelta(minutes=16))
    assert near(stops_before=8, arrival=now + timedelta(minutes=15))  # within 15 minutes
    stale = tracking.Van(van.at, now - timedelta(minutes=11))
    assert not tracking.near(planned_day.settings.web, 0, now, stale, now)


@pytest.fixture
async def site(app: App) -> AsyncIterator[str]:
    async with loopback_server(app.web) as base:
        yield base


async def next_event(lines: AsyncIterator[str]) -> tuple[str, dict[str, object]]:
    """The stream's next event (its name, "message" by default, and its data), past comments."""
    name, data = "message", ""
    async for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            return name, json.loads(data)
    raise AssertionError("the stream ended")


async def test_an_open_page_hears_of_a_change_within_seconds_and_of_a_link_gone(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    site: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(track, "STILL_HERE", 0.5)  # a revoked link is noticed at the next quiet beat
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)
    route = await first_route(planned_day)
    await progress.start_route(planned_day, route.driver_id, actor="test")
    third = route.stops[2].delivery_id
    async with (
        httpx.AsyncClient(base_url=site) as client,
        client.stream("GET", f"/t/{tokens[third]}/live") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        _, first = await next_event(lines)
        assert first["stops_before"] == 2

        clock.set(route.stops[0].planned_arrival)
        await progress.record_stop_event(
            planned_day, route.stops[0].delivery_id, progress.StopEvent.DELIVERED, actor="test"
        )
        _, then = await asyncio.wait_for(next_event(lines), 3)
        assert then["stops_before"] == 1
        assert then["stops_text"] == "One stop before yours."
        assert then["window"] == first["window"]

        async with planned_day.store.tx() as conn:
            await links.revoke(conn, [third], clock.now())
        assert await asyncio.wait_for(next_event(lines), 3) == ("gone", {})


async def test_the_pulse_outlives_a_store_that_fails(caplog: pytest.LogCaptureFixture) -> None:
    answers: list[int | Exception] = [RuntimeError("database is locked"), RuntimeError("disk I/O error"), 7]

    async def newest() -> int:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    pulse = Pulse(newest, every=0.01)
    with caplog.at_level(logging.WARNING):
        assert await pulse.wait(0, 2) == 7
    assert sum("could not read the store" in r.message for r in caplog.records) == 2
    assert await pulse.wait(7, 0.05) == 7  # nothing new: the wait ends on time
    await pulse.close()


async def test_one_link_holds_at_most_four_live_streams(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    site: str,
) -> None:
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)
    path = f"/t/{tokens[1]}/live"
    async with httpx.AsyncClient(base_url=site) as client, contextlib.AsyncExitStack() as streams:
        opened = [await streams.enter_async_context(client.stream("GET", path)) for _ in range(4)]
        assert [s.status_code for s in opened] == [200] * 4
        fifth = await client.get(path)
        assert (fifth.status_code, fifth.headers["retry-after"]) == (429, "60")
        await opened[0].aclose()  # a tab closed: its place is free again
        await asyncio.sleep(0.2)
        async with client.stream("GET", path) as again:
            assert again.status_code == 200
