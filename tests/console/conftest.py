"""Console tests: the real ASGI app over httpx on a real SQLite file, staff made through the use case;
the read side on a planned day built through the real use cases (tests/loop's fixture)."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.services import Services
from bot.store.staff import Role, StaffUser
from bot.usecases import staff
from bot.usecases.inbound import sandbox_reply
from tests.loop.conftest import planned_day

__all__ = ["planned_day"]

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def add_staff(app: App, username: str, role: Role = "agent", password: str = PASSWORD) -> StaffUser:
    return await staff.add_user(app.services, username, password, role, actor="test")


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_INPUT.search(page.text)
    assert found, f"no csrf_token input in {page.request.url}"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_url: str | None = None
) -> httpx.Response:
    form = await client.get("/console/login")
    data = {"username": username, "password": password, "csrf_token": csrf_of(form)}
    if next_url is not None:
        data["next"] = next_url
    return await client.post("/console/login", data=data)


@pytest.fixture
async def console(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client: keeps cookies, does not follow redirects."""
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


@pytest.fixture
async def alice(app: App) -> StaffUser:
    return await add_staff(app, "alice", "agent")


@dataclass(frozen=True)
class Chatty:
    """The planned day after a few conversations (answers sent through the sandbox)."""

    services: Services
    asked: int  # a delivery whose recipient asked where the parcel is
    coded: int  # a delivery whose recipient gave an access code
    code: str


ACCESS_CODE = "93817264"


@pytest.fixture
async def chatty_day(planned_day: Services, clock: ManualClock) -> Chatty:
    await sandbox_reply(planned_day, 1, "where is my parcel?")
    clock.advance(timedelta(minutes=3))
    await sandbox_reply(planned_day, 3, f"CODE {ACCESS_CODE}")
    clock.advance(timedelta(minutes=3))
    await sandbox_reply(planned_day, 3, f"xyzzy {ACCESS_CODE} plugh")  # the code again, not understood
    await planned_day.dispatcher().drain()
    return Chatty(planned_day, asked=1, coded=3, code=ACCESS_CODE)
