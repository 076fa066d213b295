from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import DAY


async def seed(api: httpx.AsyncClient, day: dict[str, Any]) -> None:
    """Depots, drivers and deliveries of the day file, as an operator would post them."""
    for key in ("depots", "drivers", "deliveries"):
        response = await api.post(f"/api/{key}", json=day[key])
        assert response.status_code == 200, response.text


async def plan(api: httpx.AsyncClient, day: str = DAY.isoformat()) -> dict[str, Any]:
    response = await api.post("/api/plans", json={"date": day})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def get_json(api: httpx.AsyncClient, path: str) -> Any:
    response = await api.get(path, params={"limit": 1000} if path == "/api/deliveries" else None)
    assert response.status_code == 200, response.text
    return response.json()


def stops(made: dict[str, Any]) -> list[dict[str, Any]]:
    return [stop for route in made["routes"] for stop in route["stops"]]


def times(stop: dict[str, Any], *keys: str) -> list[datetime]:
    return [datetime.fromisoformat(stop[key]) for key in keys]


async def test_plan_puts_every_delivery_on_a_route(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    await seed(api, day_file)

    made = await plan(api)

    assert (made["date"], made["version"], made["unassigned"]) == (DAY.isoformat(), 1, [])
    delivered = sorted(stop["order_id"] for stop in stops(made))
    assert delivered == sorted(row["order_id"] for row in day_file["deliveries"])
    for route in made["routes"]:
        assert [s["sequence"] for s in route["stops"]] == list(range(1, len(route["stops"]) + 1))
        assert route["start_at"] < route["end_at"]


async def test_every_stop_is_promised_an_aligned_hour_inside_its_window(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await seed(api, day_file)

    made = await plan(api)

    for stop in stops(made):
        arrival, start, end, promised_start, promised_end = times(
            stop, "planned_arrival", "window_start", "window_end", "promised_start", "promised_end"
        )
        assert start <= arrival <= end, stop["order_id"]
        assert promised_start <= arrival <= promised_end, stop["order_id"]
        assert start <= promised_start < promised_end <= end, stop["order_id"]
        assert promised_end - promised_start == timedelta(minutes=60)
        assert (promised_start.minute % 15, promised_start.second) == (0, 0)


async def test_planned_deliveries_show_their_stop(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    await seed(api, day_file)

    made = await plan(api)

    assert {d["status"] for d in await get_json(api, "/api/deliveries")} == {"planned"}
    stop = stops(made)[0]
    found = await get_json(api, f"/api/deliveries/{stop['delivery_id']}")
    assert found["stop"] == {**stop, "status": "planned"}
    assert found["events"][-1]["kind"] == "delivery.planned"
    assert found["events"][-1]["plan_id"] == made["id"]


async def test_stored_plan_is_the_one_made(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    await seed(api, day_file)
    made = await plan(api)

    assert await get_json(api, f"/api/plans/{DAY.isoformat()}") == made


async def test_day_without_a_plan_is_404(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    await seed(api, day_file)
    await plan(api)

    response = await api.get("/api/plans/2026-11-24")

    assert response.status_code == 404
    assert "2026-11-24" in response.json()["message"]


async def test_day_without_deliveries_gets_an_empty_plan(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await seed(api, day_file)

    made = await plan(api, "2026-11-24")

    assert (made["routes"], made["unassigned"]) == ([], [])
    assert {d["status"] for d in await get_json(api, "/api/deliveries")} == {"created"}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"date": "2026-13-01"}, "body.date"),
        ({"date": "23.11.2026"}, "body.date"),
        ({}, "body.date"),
        ({"date": "2026-11-23", "drivers": 2}, "body.drivers"),
    ],
    ids=["month 13", "german date", "no date", "unknown field"],
)
async def test_invalid_plan_request_is_refused(
    api: httpx.AsyncClient, day_file: dict[str, Any], body: dict[str, object], path: str
) -> None:
    await seed(api, day_file)

    response = await api.post("/api/plans", json=body)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [path]
    assert (await api.get(f"/api/plans/{DAY.isoformat()}")).status_code == 404


async def test_plan_of_a_day_that_is_not_a_date_is_422(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/plans/23.11.2026")

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["path.day"]


async def test_parcel_too_big_for_any_van_is_left_unassigned(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    rows = day_file["deliveries"]
    rows[0] = {**rows[0], "size": 500}
    await seed(api, day_file)

    made = await plan(api)

    [left] = made["unassigned"]
    assert left["order_id"] == rows[0]["order_id"]
    assert "capacity" in left["reason"]
    assert len(stops(made)) == 39
    found = await get_json(api, f"/api/deliveries/{left['delivery_id']}")
    assert (found["status"], found["stop"]) == ("created", None)
    assert found["events"][-1]["kind"] == "delivery.unassigned"


async def test_planning_again_makes_the_next_version_active(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await seed(api, day_file)
    first = await plan(api)

    second = await plan(api)

    assert (second["version"], first["version"]) == (2, 1)
    assert second["id"] != first["id"]
    assert await get_json(api, f"/api/plans/{DAY.isoformat()}") == second
    stop = stops(second)[0]
    assert (await get_json(api, f"/api/deliveries/{stop['delivery_id']}"))["stop"] == stop


async def test_a_planned_delivery_moved_by_import_loses_its_stale_stop(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await seed(api, day_file)
    await plan(api)
    row = {**day_file["deliveries"][0], "window_start": "16:00", "window_end": "18:00"}
    assert (await api.post("/api/deliveries", json=[row])).json()["updated"] == 1

    (found,) = await get_json(api, f"/api/deliveries?q={row['order_id']}")
    shown = await get_json(api, f"/api/deliveries/{found['id']}")

    assert shown["status"] == "created"
    assert shown["stop"] is None
    assert "window_start" in shown["events"][-1]["data"]["changed"]
