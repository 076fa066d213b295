import hashlib
import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import Depends
from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts

from bot.app import App
from bot.clock import ManualClock
from bot.store import audit
from bot.store.staff import StaffUser
from bot.usecases import staff
from bot.web.console.auth import SESSION_COOKIE, require_role
from tests.console.conftest import PASSWORD, add_staff, csrf_of, sign_in


def console_routes(app: App, method: str) -> Iterator[tuple[str, RouteContext]]:
    """Every console route for this method (FastAPI keeps included routers nested: walk them), with
    path parameters filled in."""
    for route in iter_route_contexts(app.web.routes):
        if route.path and route.path.startswith("/console") and method in (route.methods or ()):
            yield re.sub(r"\{[^}]*\}", "1", route.path), route


def _roles(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        if role := getattr(sub.call, "required_role", None):
            yield role
        yield from _roles(sub)


def _rows(db_path: Path, query: str) -> list[Any]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(query).fetchall()


async def test_every_console_page_sends_visitors_without_a_session_to_sign_in(
    app: App, console: httpx.AsyncClient
) -> None:
    pages = [path for path, _ in console_routes(app, "GET") if path != "/console/login"]
    assert "/console/" in pages
    for path in pages:
        got = await console.get(path, params={"q": "1"})
        assert got.status_code == 303, path
        location = httpx.URL(got.headers["location"])
        assert (location.path, location.params["next"]) == ("/console/login", f"{path}?q=1"), path


async def test_every_console_action_is_refused_without_a_session(
    app: App, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    actions = [path for path, _ in console_routes(app, "POST") if path != "/console/login"]
    assert "/console/logout" in actions
    for path in actions:
        assert (await console.post(path, data={})).status_code in {401, 403}, path
    # A session that has ended, with its (once valid) form token: refused as signed out.
    await sign_in(console, "alice")
    token = csrf_of(await console.get("/console/"))
    await console.post("/console/logout", data={"csrf_token": token})
    console.cookies.set(SESSION_COOKIE, "x" * 43, domain="doorstep.test", path="/console")
    token = staff.csrf_token("x" * 43)
    for path in actions:
        if path != "/console/logout":
            assert (await console.post(path, data={"csrf_token": token})).status_code == 401, path


async def test_a_post_without_its_csrf_token_is_refused(
    app: App, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await add_staff(app, "bob")
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.web), base_url="http://doorstep.test")
    async with other:
        await sign_in(other, "bob")
        bobs_token = csrf_of(await other.get("/console/"))
    await sign_in(console, "alice")
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}, {"csrf_token": bobs_token}):
        refused = await console.post("/console/logout", data=data)
        assert refused.status_code == 403
        assert "Form refused" in refused.text
    assert (await console.get("/console/")).status_code == 200  # still signed in
    own = csrf_of(await console.get("/console/"))
    assert (await console.post("/console/logout", headers={"X-CSRF-Token": own})).status_code == 303


async def test_the_sign_in_form_itself_needs_its_token(console: httpx.AsyncClient, alice: StaffUser) -> None:
    got = await console.post("/console/login", data={"username": "alice", "password": PASSWORD})
    assert got.status_code == 403
    assert SESSION_COOKIE not in got.cookies


async def test_a_session_ends_after_the_idle_time(
    app: App, console: httpx.AsyncClient, clock: ManualClock, alice: StaffUser
) -> None:
    idle = app.services.settings.console.idle_minutes
    await sign_in(console, "alice")
    clock.advance(timedelta(minutes=idle - 1))
    assert (await console.get("/console/")).status_code == 200
    clock.advance(timedelta(minutes=idle - 1))  # idle counts from the last request
    assert (await console.get("/console/")).status_code == 200
    clock.advance(timedelta(minutes=idle, seconds=1))
    assert (await console.get("/console/")).status_code == 303
    assert _rows(Path(app.services.settings.store.url.split("///")[1]), "select * from staff_sessions") == []


async def test_a_session_ends_at_its_absolute_limit_however_busy(
    app: App, console: httpx.AsyncClient, clock: ManualClock, alice: StaffUser
) -> None:
    limits = app.services.settings.console
    await sign_in(console, "alice")
    step = timedelta(minutes=limits.idle_minutes - 5)
    end = clock.now() + timedelta(hours=limits.session_hours)
    while clock.now() + step < end:
        clock.advance(step)
        assert (await console.get("/console/")).status_code == 200
    clock.set(end)
    assert (await console.get("/console/")).status_code == 303


async def test_admin_pages_refuse_agents(app: App, console: httpx.AsyncClient, alice: StaffUser) -> None:
    async def secret() -> dict[str, str]:
        return {"ok": "yes"}

    app.web.add_api_route("/console/test-admin", secret, dependencies=[Depends(require_role("admin"))])
    await add_staff(app, "root", "admin")
    admin_paths = [p for p, r in console_routes(app, "GET") if "admin" in _roles(r.dependant)]
    assert "/console/test-admin" in admin_paths
    await sign_in(console, "alice")
    for path in admin_paths:
        refused = await console.get(path)
        assert refused.status_code == 403, path
        assert "for the admin role" in refused.text
    console.cookies.clear()
    await sign_in(console, "root")
    assert (await console.get("/console/test-admin")).json() == {"ok": "yes"}


async def test_passwords_are_stored_as_argon2id_hashes(app: App, db_path: Path, alice: StaffUser) -> None:
    [(stored,)] = _rows(db_path, "select password_hash from staff_users where username = 'alice'")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


async def test_a_weaker_hash_is_upgraded_at_sign_in(
    app: App, console: httpx.AsyncClient, db_path: Path, alice: StaffUser
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with sqlite3.connect(db_path) as conn:
        conn.execute("update staff_users set password_hash = ? where username = 'alice'", (weak,))
    assert (await sign_in(console, "alice")).status_code == 303
    [(stored,)] = _rows(db_path, "select password_hash from staff_users where username = 'alice'")
    assert stored != weak
    assert not PasswordHasher().check_needs_rehash(stored)


async def test_only_the_hash_of_a_session_token_is_stored(
    console: httpx.AsyncClient, db_path: Path, alice: StaffUser
) -> None:
    signed_in = await sign_in(console, "alice")
    token = signed_in.cookies[SESSION_COOKIE]
    assert len(token) >= 43  # 32 random bytes, base64url
    [(stored,)] = _rows(db_path, "select token_hash from staff_sessions")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    with sqlite3.connect(db_path) as conn:
        assert token not in "\n".join(conn.iterdump())


async def test_the_session_cookie_is_httponly_lax_and_scoped_to_the_console(
    app: App, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    cookie = (await sign_in(console, "alice")).headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # http://: a browser would drop a Secure cookie
    app.services.settings.web.public_url = "https://doorstep.example"
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="https://doorstep.example") as https:
        assert "; secure" in (await sign_in(https, "alice")).headers["set-cookie"].lower()


async def test_sign_in_out_and_failures_are_audited_without_secrets(
    app: App, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice", "not the password")
    await sign_in(console, "nobody", "not the password")
    await sign_in(console, "alice")
    token = csrf_of(await console.get("/console/"))
    await console.post("/console/logout", data={"csrf_token": token})
    async with app.services.store.read() as conn:
        log = list(reversed(await audit.entries(conn)))
    actions = [(e.action, e.user_id, e.detail.get("reason")) for e in log if e.action != "user_added"]
    assert actions == [
        ("sign_in_failed", alice.id, "wrong password"),
        ("sign_in_failed", None, "unknown user"),
        ("sign_in", alice.id, None),
        ("sign_out", alice.id, None),
    ]
    assert all(e.detail.get("ip") == "127.0.0.1" for e in log if e.action.startswith("sign_"))
    assert "not the password" not in repr(log)
    assert PASSWORD not in repr(log)


async def test_wrong_passwords_throttle_the_username_even_with_the_right_one(
    app: App, console: httpx.AsyncClient, clock: ManualClock, alice: StaffUser
) -> None:
    limits = app.services.settings.console
    for _ in range(limits.login_attempts_per_window):
        wrong = await sign_in(console, "alice", "guess-guess-guess")
        assert wrong.status_code == 200
        assert "Wrong username or password." in wrong.text
    throttled = await sign_in(console, "alice")
    assert throttled.status_code == 429
    assert f"Try again in {limits.login_window_minutes} minutes" in throttled.text
    assert SESSION_COOKIE not in throttled.cookies
    clock.advance(timedelta(minutes=limits.login_window_minutes, seconds=1))
    assert (await sign_in(console, "alice")).status_code == 303


async def test_wrong_passwords_from_one_address_throttle_every_username(
    app: App, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    for n in range(app.services.settings.console.login_attempts_per_window):
        await sign_in(console, f"guess{n}", "guess-guess-guess")
    assert (await sign_in(console, "alice")).status_code == 429
    async with app.services.store.read() as conn:
        assert [e.user_id for e in await audit.entries(conn, action="sign_in_throttled")] == [alice.id]


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/console/?day=2026-11-23", "/console/?day=2026-11-23"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/\\evil.example", "/console/"),
        ("/api/deliveries", "/console/"),
    ],
)
async def test_after_sign_in_only_console_paths_are_followed(
    console: httpx.AsyncClient, alice: StaffUser, asked: str, lands: str
) -> None:
    assert (await sign_in(console, "alice", next_url=asked)).headers["location"] == lands


async def test_a_disabled_user_is_signed_out_and_cannot_sign_in(
    app: App, console: httpx.AsyncClient, alice: StaffUser
) -> None:
    await sign_in(console, "alice")
    await staff.disable_user(app.services, "alice", actor="test")
    assert (await console.get("/console/")).status_code == 303
    refused = await sign_in(console, "alice")
    assert refused.status_code == 200
    assert "Wrong username or password." in refused.text


async def test_the_sign_in_page_escapes_what_was_typed(console: httpx.AsyncClient) -> None:
    page = await sign_in(console, "<script>alert(1)</script>", "whatever-whatever")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
