"""Issue 11's console findings, each reproduced as the tester did it: planted cookies (2), concurrent
wrong passwords (3), ids past 2^63 and days out of range (7), a Host-built redirect, a forwarded
address and a NUL search (11)."""

import asyncio
import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bench.sms_inbound import free_port, start_server, stop_server, wait_ready
from bot.app import App
from bot.clock import ManualClock
from bot.services import Services
from bot.store import audit
from bot.store.staff import StaffUser
from bot.store.tables import deliveries
from tests.console.conftest import PASSWORD, add_staff, csrf_of, sign_in

ATTACKER_NONCE = "N" * 43
BEYOND_BIGINT = 2**63


def forged_token(nonce: str) -> str:
    """What the tester sent: the form token the console derived from any `doorstep_login` value."""
    return hmac.new(nonce.encode(), b"doorstep console csrf", hashlib.sha256).hexdigest()


def plant(client: httpx.AsyncClient, name: str, value: str, path: str = "/console") -> None:
    """A cookie set by someone else (a sibling subdomain, or a plain-http answer on the way)."""
    client.cookies.set(name, value, domain="doorstep.test", path=path)


async def paused(services: Services, delivery_id: int) -> bool:
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.paused).where(deliveries.c.id == delivery_id)
        return bool((await conn.execute(query)).scalar_one())


async def audit_actions(services: Services) -> list[str]:
    async with services.store.read() as conn:
        return [e.action for e in await audit.entries(conn)]


async def test_a_planted_login_cookie_and_its_token_do_not_act_for_a_signed_in_victim(
    app: App, planned_day: Services, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    plant(console, "doorstep_login", ATTACKER_NONCE)
    refused = await console.post(
        "/console/deliveries/1/pause", data={"csrf_token": forged_token(ATTACKER_NONCE)}
    )
    assert refused.status_code == 403
    # Nor a login cookie the server did issue (to the attacker), with the token of its form.
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as attacker:
        form = await attacker.get("/console/login")
        issued = next(c for c in attacker.cookies.jar if "login" in c.name)
        plant(console, issued.name, str(issued.value), path="/console/login")
        plant(console, issued.name, str(issued.value))
        refused_too = await console.post("/console/deliveries/1/pause", data={"csrf_token": csrf_of(form)})
    assert refused_too.status_code == 403
    assert not await paused(planned_day, 1)
    assert "delivery.paused" not in await audit_actions(planned_day)
    # The victim's own form still works.
    own = csrf_of(await console.get("/console/deliveries/1"))
    assert (await console.post("/console/deliveries/1/pause", data={"csrf_token": own})).status_code == 303
    assert await paused(planned_day, 1)


async def test_a_planted_login_cookie_does_not_sign_the_victim_in_as_someone_else(
    app: App, console: httpx.AsyncClient
) -> None:
    await add_staff(app, "mallory")
    plant(console, "doorstep_login", ATTACKER_NONCE, path="/console/login")
    data = {"username": "mallory", "password": PASSWORD, "csrf_token": forged_token(ATTACKER_NONCE)}
    refused = await console.post("/console/login", data=data)
    assert refused.status_code == 403
    assert not any("session" in c.name for c in console.cookies.jar)


async def test_a_sign_in_form_posted_from_another_site_is_refused(
    app: App, console: httpx.AsyncClient
) -> None:
    await add_staff(app, "mallory")
    token = csrf_of(await console.get("/console/login"))
    data = {"username": "mallory", "password": PASSWORD, "csrf_token": token}
    for header in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                   {"Sec-Fetch-Site": "same-site"}):  # fmt: skip
        refused = await console.post("/console/login", data=data, headers=header)
        assert refused.status_code == 403, header
    same = {"Origin": "http://doorstep.test", "Sec-Fetch-Site": "same-origin"}
    assert (await console.post("/console/login", data=data, headers=same)).status_code == 303


async def test_a_planted_flash_cookie_puts_no_text_on_console_pages(
    console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    plant(console, "doorstep_flash", "Security%20notice%3A%20call%20%2B1%20555%200100%20now")
    page = await console.get("/console/")
    assert page.status_code == 200
    assert "Security notice" not in page.text
    assert 'id="flash"' not in page.text


async def test_a_flash_from_an_action_is_shown_once(
    planned_day: Services, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    own = csrf_of(await console.get("/console/deliveries/1"))
    await console.post("/console/deliveries/1/pause", data={"csrf_token": own})
    assert "Automated messages paused" in (await console.get("/console/deliveries/1")).text
    assert "Automated messages paused" not in (await console.get("/console/deliveries/1")).text


async def test_over_https_the_cookies_are_host_prefixed_and_secure(
    app: App, planned_day: Services, alice: StaffUser
) -> None:
    app.services.settings.web.public_url = "https://doorstep.example"
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="https://doorstep.example") as https:
        form = await https.get("/console/login")
        assert form.headers["set-cookie"].startswith("__Host-")
        signed_in = await https.post(
            "/console/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(form)}
        )
        assert signed_in.status_code == 303
        cookie = signed_in.headers.get_list("set-cookie")[0].lower()
        assert cookie.startswith("__host-doorstep_session=")
        assert "; secure" in cookie
        assert "path=/;" in cookie
        assert "domain" not in cookie
        own = csrf_of(await https.get("/console/deliveries/1"))
        acted = await https.post("/console/deliveries/1/pause", data={"csrf_token": own})
        assert acted.status_code == 303
        assert acted.headers["set-cookie"].startswith("__Host-")
        assert "Automated messages paused" in (await https.get("/console/deliveries/1")).text


async def test_forty_concurrent_wrong_passwords_are_checked_no_more_than_the_limit(
    app: App, console: httpx.AsyncClient, clock: ManualClock, alice: StaffUser
) -> None:
    limits = app.services.settings.console
    token = csrf_of(await console.get("/console/login"))
    wrong = {"username": "alice", "password": "guess-guess-guess", "csrf_token": token}
    answers = await asyncio.gather(*[console.post("/console/login", data=wrong) for _ in range(40)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) <= limits.login_attempts_per_window
    assert statuses.count(429) >= 40 - limits.login_attempts_per_window
    assert (await audit_actions(app.services)).count("sign_in_failed") <= limits.login_attempts_per_window
    assert (await sign_in(console, "alice")).status_code == 429  # the right one too, for now
    clock.advance(timedelta(minutes=limits.login_window_minutes, seconds=1))
    assert (await sign_in(console, "alice")).status_code == 303


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/console/deliveries/{BEYOND_BIGINT}"),
        ("GET", f"/console/deliveries/{BEYOND_BIGINT * 10**6}"),
        ("POST", f"/console/deliveries/{BEYOND_BIGINT}/reschedule"),
        ("POST", f"/console/escalations/{BEYOND_BIGINT}/assign"),
        ("POST", f"/console/deliveries/{BEYOND_BIGINT}/pause"),
        ("GET", f"/console/deliveries/{BEYOND_BIGINT}/slots"),
    ],
)
async def test_ids_past_the_largest_row_id_are_not_found(
    console: httpx.AsyncClient, alice: StaffUser, method: str, path: str
) -> None:
    await sign_in(console, "alice")
    token = csrf_of(await console.get("/console/"))
    slot = "2026-11-23T10:00:00+01:00|2026-11-23T12:00:00+01:00"
    data = {"csrf_token": token, "slot": slot} if method == "POST" else None
    got = await console.request(method, path, data=data)
    assert got.status_code == 404
    assert "Not found" in got.text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("page", ["/console/metrics", "/console/"])
async def test_a_day_far_from_today_is_a_clear_400(
    console: httpx.AsyncClient, alice: StaffUser, page: str, day: str
) -> None:
    await sign_in(console, "alice")
    got = await console.get(page, params={"date": day})
    assert got.status_code == 400
    assert f"“{day}” is too far from today" in got.text


async def test_the_trailing_slash_redirect_does_not_take_the_host_header(
    console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    got = await console.get("/console", headers={"Host": "evil.example"})
    assert got.status_code in {307, 308}
    assert got.headers["location"] == "/console/"
    with_query = await console.get("/console/search/?q=1", headers={"Host": "evil.example"})
    assert with_query.headers["location"] == "/console/search?q=1"
    assert (await console.get("//evil.example/")).status_code == 404  # no protocol-relative bounce


async def test_a_search_for_nul_matches_nothing(
    planned_day: Services, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    for query in ("\x00", "\x00\x00", " \x00 "):
        page = await console.get("/console/search", params={"q": query})
        assert page.status_code == 200
        assert 'class="hit"' not in page.text, repr(query)
    some = await console.get("/console/search", params={"q": "a"})
    assert 'class="hit"' in some.text  # the search itself still finds names


async def test_a_loopback_client_cannot_dodge_the_address_limit_with_x_forwarded_for(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, server)
        async with httpx.AsyncClient(base_url=base) as client:
            token = csrf_of(await client.get("/console/login"))
            answers = []
            for n in range(6):
                data = {"username": f"guess{n}", "password": "guess-guess-guess", "csrf_token": token}
                spoofed = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
                answers.append((await client.post("/console/login", data=data, headers=spoofed)).status_code)
    finally:
        stop_server(server)
    assert answers == [200] * 5 + [429]
