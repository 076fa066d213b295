import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

HUB = {"code": "HUB", "name": "Berlin hub", "address": "Am Hub 1", "lat": 52.52, "lon": 13.405}


def driver(code: str, /, **changes: object) -> dict[str, Any]:
    return {"code": code, "name": f"Driver {code}", "depot": "HUB", "capacity": 40, **changes}


async def post_ok(api: httpx.AsyncClient, path: str, body: object) -> list[dict[str, Any]]:
    response = await api.post(path, json=body)
    assert response.status_code == 200, response.text
    created: list[dict[str, Any]] = response.json()
    return created


async def listed(api: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get(path)).json()
    return items


def driver_events(db_path: Path, driver_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(kind, data) of a driver's events, read straight from the SQLite file."""
    with closing(sqlite3.connect(db_path)) as db:
        query = "SELECT kind, data FROM events WHERE driver_id = ? ORDER BY id"
        return [(kind, json.loads(data)) for kind, data in db.execute(query, (driver_id,))]


def error_paths(response: httpx.Response) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


async def test_posted_depots_are_listed(api: httpx.AsyncClient) -> None:
    created = await post_ok(api, "/api/depots", [HUB, {**HUB, "code": "WEST", "lon": 13.2}])

    assert [d["code"] for d in created] == ["HUB", "WEST"]
    assert created[0]["timezone"] == "Europe/Berlin"
    assert await listed(api, "/api/depots") == created


async def test_posting_a_depot_again_updates_it_in_place(api: httpx.AsyncClient) -> None:
    [first] = await post_ok(api, "/api/depots", [HUB])

    [again] = await post_ok(api, "/api/depots", [{**HUB, "name": "Berlin north hub"}])

    assert again == {**first, "name": "Berlin north hub"}
    assert await listed(api, "/api/depots") == [again]


async def test_depot_with_unknown_time_zone_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/depots", json=[HUB, {**HUB, "code": "X", "timezone": "Berlin"}])

    assert response.status_code == 422
    assert error_paths(response) == ["body[1].timezone"]
    assert await listed(api, "/api/depots") == []


async def test_posted_drivers_belong_to_their_depot(api: httpx.AsyncClient) -> None:
    [hub] = await post_ok(api, "/api/depots", [HUB])

    created = await post_ok(api, "/api/drivers", [driver("VAN01", shift_start="07:30"), driver("VAN02")])

    assert [(d["code"], d["depot_id"]) for d in created] == [("VAN01", hub["id"]), ("VAN02", hub["id"])]
    assert created[0]["shift_start"] == "07:30:00"
    assert created[1]["shift_start"] == "08:00:00"
    assert await listed(api, "/api/drivers") == created


async def test_posting_a_driver_again_updates_it_without_a_duplicate(api: httpx.AsyncClient) -> None:
    await post_ok(api, "/api/depots", [HUB])
    [first] = await post_ok(api, "/api/drivers", [driver("VAN01")])

    [again] = await post_ok(api, "/api/drivers", [driver("VAN01", capacity=60, phone="+49 151 23456789")])

    assert again == {**first, "capacity": 60, "phone": "+4915123456789"}
    assert await listed(api, "/api/drivers") == [again]


async def test_driver_is_found_by_id(api: httpx.AsyncClient) -> None:
    await post_ok(api, "/api/depots", [HUB])
    [van] = await post_ok(api, "/api/drivers", [driver("VAN01")])

    response = await api.get(f"/api/drivers/{van['id']}")

    assert response.status_code == 200
    assert response.json() == van


async def test_unknown_driver_id_is_named_in_the_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/drivers/4711")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "4711" in response.json()["message"]


async def test_driver_of_an_unknown_depot_is_refused_with_the_whole_batch(api: httpx.AsyncClient) -> None:
    await post_ok(api, "/api/depots", [HUB])

    response = await api.post("/api/drivers", json=[driver("VAN01"), driver("VAN02", depot="NOPE")])

    assert response.status_code == 422
    assert "'NOPE'" in response.json()["message"]
    assert await listed(api, "/api/drivers") == []


async def test_unknown_depot_error_points_at_the_body_item(api: httpx.AsyncClient) -> None:
    await post_ok(api, "/api/depots", [HUB])

    response = await api.post("/api/drivers", json=[driver("VAN01"), driver("VAN02", depot="NOPE")])

    assert error_paths(response) == ["body[1].depot"]


@pytest.mark.parametrize(
    ("changes", "paths"),
    [
        ({"capacity": "many", "shift_start": "25:00"}, ["body[0].capacity", "body[0].shift_start"]),
        ({"capacity": 0}, ["body[0].capacity"]),
        ({"phone": "12"}, ["body[0].phone"]),
        ({"code": "VAN 01"}, ["body[0].code"]),
        ({"start": {"lat": 52.5}}, ["body[0].start.lon"]),
        ({"vehicle": "cargo bike"}, ["body[0].vehicle"]),
    ],
    ids=["wrong types", "zero capacity", "bad phone", "space in code", "half a point", "unknown field"],
)
async def test_invalid_driver_is_refused_with_field_paths(
    api: httpx.AsyncClient, changes: dict[str, object], paths: list[str]
) -> None:
    await post_ok(api, "/api/depots", [HUB])

    response = await api.post("/api/drivers", json=[driver("VAN01", **changes)])

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert error_paths(response) == paths
    assert await listed(api, "/api/drivers") == []


async def test_position_update_is_logged(api: httpx.AsyncClient, db_path: Path) -> None:
    await post_ok(api, "/api/depots", [HUB])
    [van] = await post_ok(api, "/api/drivers", [driver("VAN01")])

    response = await api.post(f"/api/drivers/{van['id']}/position", json={"lat": 52.51, "lon": 13.39})

    assert response.status_code == 204
    assert response.content == b""
    assert driver_events(db_path, van["id"])[-1] == ("driver.position", {"lat": 52.51, "lon": 13.39})


async def test_position_of_an_unknown_driver_is_404(api: httpx.AsyncClient, db_path: Path) -> None:
    response = await api.post("/api/drivers/4711/position", json={"lat": 52.51, "lon": 13.39})

    assert response.status_code == 404
    assert "4711" in response.json()["message"]
    assert driver_events(db_path, 4711) == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"lat": 91, "lon": 13.39}, "body.lat"),
        ({"lat": 52.51, "lon": -180.5}, "body.lon"),
        ({"lat": "north", "lon": 13.39}, "body.lat"),
        ({"lat": 52.51}, "body.lon"),
    ],
    ids=["lat above 90", "lon below -180", "lat not a number", "lon missing"],
)
async def test_invalid_position_is_refused(
    api: httpx.AsyncClient, db_path: Path, body: dict[str, object], path: str
) -> None:
    await post_ok(api, "/api/depots", [HUB])
    [van] = await post_ok(api, "/api/drivers", [driver("VAN01")])

    response = await api.post(f"/api/drivers/{van['id']}/position", json=body)

    assert response.status_code == 422
    assert error_paths(response) == [path]
    assert [kind for kind, _ in driver_events(db_path, van["id"])] == ["driver.created"]
