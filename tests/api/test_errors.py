from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from tests.conftest import API_KEY

TOO_BIG = 2**63  # one past SQLite's largest INTEGER


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """Like `api`, but a crash comes back as the 500 response a user would get."""
    transport = httpx.ASGITransport(app=app.web, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://doorstep.test", headers={"X-API-Key": API_KEY}
    ) as c:
        yield c


def is_error_body(response: httpx.Response) -> bool:
    return response.headers.get("content-type") == "application/json" and set(response.json()) == {
        "error",
        "message",
        "errors",
    }


async def test_invalid_json_is_answered_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/depots", content=b"[{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert is_error_body(response)
    assert response.json()["errors"][0]["message"] == "JSON decode error"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/parcels", 404), ("DELETE", "/api/drivers", 405)],
    ids=["unknown route", "wrong method"],
)
async def test_unknown_route_or_method_is_answered_in_the_error_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)

    assert response.status_code == status
    assert is_error_body(response)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/deliveries/{TOO_BIG}", None),
        ("POST", f"/api/deliveries/{TOO_BIG}/cancel", {"reason": "moved away"}),
        ("POST", f"/api/deliveries/{TOO_BIG}/events", {"type": "arrived"}),
        ("GET", f"/api/drivers/{TOO_BIG}", None),
        ("POST", f"/api/drivers/{TOO_BIG}/position", {"lat": 52.5, "lon": 13.4}),
        ("GET", f"/api/deliveries?offset={TOO_BIG}", None),
    ],
    ids=["delivery", "cancel", "stop event", "driver", "position", "offset"],
)
async def test_number_too_big_for_the_database_is_refused_not_crashed(
    client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    response = await client.request(method, path, json=body)

    assert response.status_code in {404, 422}
    assert is_error_body(response)
