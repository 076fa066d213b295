"""The console's pages over httpx against the ASGI app, on a planned day with a few conversations."""

import re
from datetime import timedelta
from pathlib import Path

import httpx

from bench import console as console_bench
from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.console.board import BoardFilter, board
from bot.console.timeline import timeline
from bot.store import audit
from bot.store.db import open_store
from bot.store.staff import StaffUser
from bot.usecases.inbound import sandbox_reply
from bot.web.console.privacy import HIDDEN_CODE, mask_phone
from tests.conftest import DAY
from tests.console.conftest import Chatty, add_staff, csrf_of, sign_in

STOP_ROW = re.compile(r'<tr class="stop" data-delivery="(\d+)" data-state="(\w+)">')


async def phone_of(chatty: Chatty, delivery_id: int) -> str:
    async with chatty.services.store.read() as conn:
        found = await timeline(conn, delivery_id)
    assert found is not None
    return found.header.phone


async def test_the_board_shows_every_stop_of_the_day_with_its_class(
    console: httpx.AsyncClient, chatty_day: Chatty, clock: ManualClock, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    page = await console.get("/console/")
    assert page.status_code == 200
    async with chatty_day.services.store.read() as conn:
        every = [s for r in (await board(conn, DAY, clock.now())).routes for s in r.stops]
    assert dict(STOP_ROW.findall(page.text)) == {str(s.delivery_id): s.state.value for s in every}
    assert len(every) == 40
    assert '<meta http-equiv="refresh" content="30">' in page.text
    assert 'href="/console/queue"' in page.text

    first = min(every, key=lambda s: s.promised_end)
    clock.set(first.promised_end + timedelta(minutes=1))
    await sign_in(console, "alice")  # the session idled out meanwhile
    late = await console.get("/console/")
    assert dict(STOP_ROW.findall(late.text))[str(first.delivery_id)] == "late"
    assert '<span class="badge late">late</span>' in late.text  # a text label, not only a colour

    problems = dict(STOP_ROW.findall((await console.get("/console/", params={"problems": "1"})).text))
    async with chatty_day.services.store.read() as conn:
        expected = await board(conn, DAY, clock.now(), BoardFilter(problems_only=True))
    assert problems.keys() == {str(s.delivery_id) for r in expected.routes for s in r.stops}
    assert str(first.delivery_id) in problems
    only_late = await console.get("/console/", params={"state": "late", "live": "0"})
    assert set(dict(STOP_ROW.findall(only_late.text)).values()) == {"late"}
    assert "http-equiv" not in only_late.text


async def test_the_board_of_another_day_and_a_bad_date(
    console: httpx.AsyncClient, planned_day: object, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    empty = await console.get("/console/", params={"date": "2026-12-01"})
    assert 'id="no-plan"' in empty.text
    bad = await console.get("/console/", params={"date": "1 Dec"})
    assert bad.status_code == 400
    assert "is not a date" in bad.text


async def test_a_script_sent_by_a_recipient_renders_as_text(
    console: httpx.AsyncClient, chatty_day: Chatty, alice: StaffUser
) -> None:
    await sandbox_reply(chatty_day.services, chatty_day.asked, "<script>alert(1)</script>")
    await sign_in(console, "alice")
    page = await console.get(f"/console/deliveries/{chatty_day.asked}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script" not in page.text


async def test_the_timeline_shows_messages_both_ways_and_a_reschedule_as_old_to_new(
    console: httpx.AsyncClient, chatty_day: Chatty, clock: ManualClock, alice: StaffUser
) -> None:
    await sandbox_reply(chatty_day.services, 5, "2")
    clock.advance(timedelta(minutes=2))
    await sandbox_reply(chatty_day.services, 5, "1")
    await sign_in(console, "alice")
    asked = await console.get(f"/console/deliveries/{chatty_day.asked}")
    assert "where is my parcel?" in asked.text
    assert "Recipient wrote" in asked.text
    assert "To recipient: status" in asked.text
    assert "via sms" in asked.text
    moved = await console.get("/console/deliveries/5")
    assert "Window changed" in moved.text
    assert "→" in moved.text
    assert "Rescheduled" in moved.text


async def test_an_agent_sees_a_masked_phone_and_never_the_access_code(
    console: httpx.AsyncClient, chatty_day: Chatty, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    page = await console.get(f"/console/deliveries/{chatty_day.coded}")
    phone = await phone_of(chatty_day, chatty_day.coded)
    assert chatty_day.code not in page.text
    assert HIDDEN_CODE in page.text  # the recipient's code message and the driver's note
    assert "on file, hidden" in page.text
    assert phone not in page.text
    assert mask_phone(phone) in page.text
    assert 'id="reveal"' not in page.text
    refused = await console.post(
        f"/console/deliveries/{chatty_day.coded}/reveal", data={"csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 403
    assert chatty_day.code not in refused.text


async def test_an_admin_reveal_shows_phone_and_code_once_and_is_audited(
    app: App, console: httpx.AsyncClient, chatty_day: Chatty
) -> None:
    root = await add_staff(app, "root", "admin")
    await sign_in(console, "root")
    url = f"/console/deliveries/{chatty_day.coded}"
    page = await console.get(url)
    assert chatty_day.code not in page.text  # masked by default
    assert 'id="reveal"' in page.text
    assert (await console.post(url + "/reveal", data={})).status_code == 403  # no form token
    shown = await console.post(url + "/reveal", data={"csrf_token": csrf_of(page)})
    assert shown.status_code == 200
    assert chatty_day.code in shown.text
    assert await phone_of(chatty_day, chatty_day.coded) in shown.text
    assert chatty_day.code not in (await console.get(url)).text  # for that view only
    async with app.services.store.read() as conn:
        [entry] = await audit.entries(conn, action="reveal")
    assert (entry.user_id, entry.delivery_id) == (root.id, chatty_day.coded)


async def test_search_by_a_phone_fragment_finds_the_delivery(
    console: httpx.AsyncClient, chatty_day: Chatty, alice: StaffUser
) -> None:
    phone = await phone_of(chatty_day, chatty_day.asked)
    await sign_in(console, "alice")
    spoken = f"0{phone[3:6]} {phone[6:10]}"  # "0151 2345", as read out
    page = await console.get("/console/search", params={"q": spoken})
    assert f'href="/console/deliveries/{chatty_day.asked}"' in page.text
    assert phone not in page.text
    assert 'name="q"' in page.text
    assert f'value="{spoken}"' in page.text
    nothing = await console.get("/console/search", params={"q": "no such name"})
    assert 'id="no-hits"' in nothing.text


async def test_an_unknown_delivery_is_an_html_404(console: httpx.AsyncClient, alice: StaffUser) -> None:
    await sign_in(console, "alice")
    page = await console.get("/console/deliveries/999999")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No such delivery" in page.text


async def test_the_metrics_page_draws_accessible_charts(
    console: httpx.AsyncClient, chatty_day: Chatty, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    page = await console.get("/console/metrics", params={"date": DAY.isoformat()})
    assert page.status_code == 200
    assert page.text.count('<svg role="img"') >= 5
    assert "<title>Delivered inside the agreed window" in page.text
    assert "Messages per parcel by channel" in page.text
    assert "sms sent" in page.text
    assert "<script" not in page.text


def test_phones_are_masked_to_their_start_and_last_two_digits() -> None:
    assert mask_phone("+491512345678") == "+49 151 ••• ••78"
    assert mask_phone("12345") == "•••••"


async def test_a_big_day_opens_on_what_needs_someone_with_every_stop_a_click_away(tmp_path: Path) -> None:
    """Over 300 stops unfiltered: a route shows its next stop and the first stops needing someone."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'big.db'}")
    try:
        await console_bench.fill(store, deliveries=400, routes=4, messages=2000, seed=3)
    finally:
        await store.close()
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{tmp_path / 'big.db'}"},
        sandbox={"path": tmp_path / "s.db"},
        _env_file=None,
    )
    app = await build_app(settings, ManualClock(console_bench.NOW))
    try:
        await add_staff(app, "alice")
        transport = httpx.ASGITransport(app=app.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
            await sign_in(client, "alice")
            page = await client.get(f"/console/?date={console_bench.DAY}")
            assert 'id="compact"' in page.text
            assert 0 < page.text.count('class="stop"') <= 4 * 6
            route = re.search(r'driver=(\d+)">All (\d+) stops', page.text)
            assert route is not None
            every = await client.get(f"/console/?date={console_bench.DAY}&driver={route[1]}")
            assert 'id="compact"' not in every.text
            assert every.text.count('class="stop"') == int(route[2])
    finally:
        await app.services.close()
