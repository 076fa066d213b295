import httpx
import pytest

# Every operation of the ops API, with a body that would be valid, so only the key can be wrong.
ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/api/deliveries", None),
    ("POST", "/api/deliveries", []),
    ("GET", "/api/deliveries/1", None),
    ("POST", "/api/deliveries/1/cancel", {"reason": "customer called"}),
    ("POST", "/api/deliveries/1/events", {"type": "arrived"}),
    ("POST", "/api/deliveries/1/photo", None),
    ("GET", "/api/depots", None),
    ("POST", "/api/depots", [{"code": "HUB", "name": "Hub", "lat": 52.5, "lon": 13.4}]),
    ("GET", "/api/drivers", None),
    ("POST", "/api/drivers", []),
    ("GET", "/api/drivers/1", None),
    ("POST", "/api/drivers/1/position", {"lat": 52.5, "lon": 13.4}),
    ("POST", "/api/drivers/1/start", None),
    ("POST", "/api/drivers/1/telegram-code", None),
    ("POST", "/api/sandbox/replies", {"delivery_id": 1, "text": "1"}),
    ("POST", "/api/plans", {"date": "2026-11-23"}),
    ("GET", "/api/plans/2026-11-23", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]


def _template(path: str) -> str:
    """/api/drivers/1/position -> /api/drivers/{}/position, to compare with OpenAPI paths."""
    return "/".join("{}" if part[:1].isdigit() else part for part in path.split("/"))


def _openapi_template(path: str) -> str:
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
async def test_request_without_api_key_is_refused(
    api: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    del api.headers["X-API-Key"]

    response = await api.request(method, path, json=body)

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "missing X-API-Key header", "errors": []}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
async def test_request_with_wrong_api_key_is_refused(
    api: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    response = await api.request(method, path, json=body, headers={"X-API-Key": "not-the-key"})

    assert response.status_code == 401
    assert response.json()["message"] == "wrong API key"


async def test_refused_write_stores_nothing(api: httpx.AsyncClient) -> None:
    depot = {"code": "HUB", "name": "Hub", "lat": 52.5, "lon": 13.4}

    refused = await api.post("/api/depots", json=[depot], headers={"X-API-Key": "not-the-key"})

    assert refused.status_code == 401
    assert (await api.get("/api/depots")).json() == []


async def test_key_is_checked_before_the_input(api: httpx.AsyncClient) -> None:
    del api.headers["X-API-Key"]

    response = await api.get("/api/deliveries/abc", params={"limit": 5000})

    assert response.status_code == 401


async def test_docs_and_schema_are_public(api: httpx.AsyncClient) -> None:
    del api.headers["X-API-Key"]

    docs = await api.get("/docs")
    schema = await api.get("/openapi.json")

    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert schema.status_code == 200
    assert "X-API-Key" in str(schema.json()["components"]["securitySchemes"])


async def test_schema_lists_exactly_the_tested_operations(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    documented = {(m.upper(), _openapi_template(p)) for p, ops in paths.items() for m in ops}

    assert documented == {(method, _template(path)) for method, path, _ in ROUTES}
