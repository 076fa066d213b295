"""Issue 11's API findings: bodies read (and of any size) before the key was checked (5), plan days of
any year and a NUL search (11)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.web import limits
from tests.conftest import API_KEY

MIB = 1024 * 1024


class Streamed:
    """A request body sent in chunks, counting how many the server pulled."""

    def __init__(self, chunks: int, size: int = MIB) -> None:
        self.chunks, self.size, self.read = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.read += 1
            yield b"[" + b" " * (self.size - 2) + b"]"


@pytest.fixture
async def anonymous(app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app.web), base_url="http://doorstep.test"
    ) as c:
        yield c


@pytest.mark.parametrize("key", [None, "wrong-key"])
async def test_a_large_body_without_the_key_is_refused_before_it_is_read(
    anonymous: httpx.AsyncClient, key: str | None
) -> None:
    body = Streamed(chunks=29)  # the tester's 29 MB, as a client that keeps sending
    headers = {"Content-Type": "application/json"} | ({"X-API-Key": key} if key else {})
    got = await anonymous.post("/api/deliveries", content=body, headers=headers)
    assert got.status_code == 401
    assert got.json()["error"] == "unauthorized"
    assert body.read <= 1  # the transport may hand over the first chunk; the server reads none


async def test_an_authenticated_body_over_the_limit_is_413_by_its_content_length(
    api: httpx.AsyncClient,
) -> None:
    limit = limits.limit_for("/api/deliveries")
    body = Streamed(chunks=limit // MIB + 2)
    headers = {"Content-Type": "application/json", "Content-Length": str(body.chunks * MIB)}
    got = await api.post("/api/deliveries", content=body, headers=headers)
    assert got.status_code == 413
    assert got.json()["error"] == "too_large"
    assert body.read <= 1


async def test_a_chunked_body_without_a_length_is_counted_as_it_comes(api: httpx.AsyncClient) -> None:
    limit = limits.limit_for("/api/deliveries")
    body = Streamed(chunks=limit // MIB * 3)
    got = await api.post("/api/deliveries", content=body, headers={"Content-Type": "application/json"})
    assert got.status_code == 413
    assert got.json()["error"] == "too_large"
    assert body.read <= limit // MIB + 2  # stopped just past the limit, not at the end


async def test_a_body_under_the_limit_still_works(api: httpx.AsyncClient) -> None:
    got = await api.post(
        "/api/deliveries", content=Streamed(chunks=1, size=64), headers={"Content-Type": "application/json"}
    )
    assert got.status_code == 200
    assert got.json()["created"] == 0


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/webhooks/twilio/sms", 200_000),
        ("/webhooks/twilio/status", 200_000),
        ("/webhooks/telegram", 2 * MIB),
        ("/console/login", 200_000),
        ("/api/drivers", 2 * MIB),
    ],
)
async def test_every_route_has_a_body_limit(anonymous: httpx.AsyncClient, path: str, size: int) -> None:
    assert limits.limit_for(path) < size
    got = await anonymous.post(path, content=b"x" * size, headers={"X-API-Key": API_KEY})
    assert got.status_code == 413, path


async def test_a_chunked_console_form_is_counted_too(anonymous: httpx.AsyncClient) -> None:
    body = Streamed(chunks=8, size=16 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    got = await anonymous.post("/console/login", content=body, headers=form)
    assert got.status_code == 413
    assert body.read < body.chunks


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2025-11-21", "2028-11-23"])
async def test_a_plan_for_a_day_far_from_today_is_refused_clearly(api: httpx.AsyncClient, day: str) -> None:
    got = await api.post("/api/plans", json={"date": day})
    assert got.status_code == 422
    [error] = got.json()["errors"]
    assert error["path"] == "body.date"
    assert "between 2025-11-22 and 2027-11-22" in error["message"]  # the clock's today is 2026-11-22


async def test_a_plan_for_a_day_inside_the_range_is_made(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/plans", json={"date": "2026-11-23"})).status_code == 201


async def test_a_delivery_search_for_nul_is_refused(
    api: httpx.AsyncClient, day_file: dict[str, object]
) -> None:
    assert (await api.post("/api/deliveries", json=day_file["deliveries"])).status_code == 200
    got = await api.get("/api/deliveries", params={"q": "\x00"})
    assert got.status_code == 422
    assert got.json()["errors"][0]["path"] == "query.q"
