from typing import Any

import httpx
import pytest

from tests.conftest import DAY

CREATED = "cannot go from created to delivered; allowed from created: cancelled, planned, rescheduled"
PLANNED = (
    "cannot go from planned to arrived; "
    "allowed from planned: cancelled, created, out_for_delivery, planned, rescheduled"
)
DELIVERED = "cannot go from delivered to arrived; allowed from delivered: none (final state)"


async def seed(api: httpx.AsyncClient, day: dict[str, Any], *, planned: bool = True) -> int:
    """Post the day (and plan it); the id of the first delivery on the first route."""
    for key in ("depots", "drivers", "deliveries"):
        response = await api.post(f"/api/{key}", json=day[key])
        assert response.status_code == 200, response.text
    if not planned:
        first: int = (await api.get("/api/deliveries")).json()[0]["id"]
        return first
    made = await api.post("/api/plans", json={"date": DAY.isoformat()})
    assert made.status_code == 201, made.text
    stop: int = made.json()["routes"][0]["stops"][0]["delivery_id"]
    return stop


async def report(api: httpx.AsyncClient, delivery_id: int, event: str, **extra: str) -> httpx.Response:
    return await api.post(f"/api/deliveries/{delivery_id}/events", json={"type": event, **extra})


async def walk(api: httpx.AsyncClient, delivery_id: int, *events: str) -> None:
    for event in events:
        response = await report(api, delivery_id, event)
        assert response.status_code == 200, response.text


async def cancel(api: httpx.AsyncClient, delivery_id: int, reason: str = "moved away") -> httpx.Response:
    return await api.post(f"/api/deliveries/{delivery_id}/cancel", json={"reason": reason})


async def detail(api: httpx.AsyncClient, delivery_id: int) -> dict[str, Any]:
    response = await api.get(f"/api/deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def kinds(found: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in found["events"]]


async def test_parcel_goes_out_arrives_and_is_delivered(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    delivery_id = await seed(api, day_file)

    answers = [
        await report(api, delivery_id, "out_for_delivery"),
        await report(api, delivery_id, "arrived"),
        await report(api, delivery_id, "delivered", note="left with neighbour"),
    ]

    assert [(a.status_code, a.json()["status"]) for a in answers] == [
        (200, "out_for_delivery"),
        (200, "arrived"),
        (200, "delivered"),
    ]
    found = await detail(api, delivery_id)
    assert kinds(found)[-3:] == ["delivery.out_for_delivery", "delivery.arrived", "delivery.delivered"]
    assert found["events"][-1]["data"] == {"note": "left with neighbour"}


@pytest.mark.parametrize(
    ("planned", "before", "event", "message"),
    [
        (False, [], "delivered", CREATED),
        (True, [], "arrived", PLANNED),
        (True, ["out_for_delivery", "delivered"], "arrived", DELIVERED),
    ],
    ids=["delivered before planning", "arrived before leaving", "arrived after delivered"],
)
async def test_invalid_transition_is_refused_and_changes_nothing(
    api: httpx.AsyncClient,
    day_file: dict[str, Any],
    planned: bool,
    before: list[str],
    event: str,
    message: str,
) -> None:
    delivery_id = await seed(api, day_file, planned=planned)
    await walk(api, delivery_id, *before)
    unchanged = await detail(api, delivery_id)

    response = await report(api, delivery_id, event)

    assert response.status_code == 409
    error = {"error": "conflict", "message": message, "errors": [{"path": "status", "message": message}]}
    assert response.json() == error
    assert await detail(api, delivery_id) == unchanged


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"type": "failed"}, "reason"),
        ({"type": "delivered", "reason": "not_home"}, "reason"),
        ({"type": "failed", "reason": "dog"}, "body.reason"),
        ({"type": "teleported"}, "body.type"),
        ({"type": "arrived", "eta": "soon"}, "body.eta"),
        ({"type": "arrived", "note": "x" * 1001}, "body.note"),
    ],
    ids=[
        "failed without reason",
        "reason on success",
        "unknown reason",
        "unknown type",
        "unknown field",
        "note too long",
    ],
)
async def test_malformed_stop_event_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, day_file: dict[str, Any], body: dict[str, str], path: str
) -> None:
    delivery_id = await seed(api, day_file)
    await walk(api, delivery_id, "out_for_delivery")
    unchanged = await detail(api, delivery_id)

    response = await api.post(f"/api/deliveries/{delivery_id}/events", json=body)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [path]
    assert await detail(api, delivery_id) == unchanged


async def test_failed_stop_records_its_reason(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    delivery_id = await seed(api, day_file)
    await walk(api, delivery_id, "out_for_delivery", "arrived")

    response = await report(api, delivery_id, "failed", reason="not_home")

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    last = (await detail(api, delivery_id))["events"][-1]
    assert (last["kind"], last["data"]) == ("delivery.failed", {"reason": "not_home"})


async def test_event_for_an_unknown_delivery_is_404(api: httpx.AsyncClient) -> None:
    response = await report(api, 4711, "arrived")

    assert response.status_code == 404
    assert "4711" in response.json()["message"]


async def test_planned_delivery_can_be_cancelled(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    delivery_id = await seed(api, day_file)

    response = await cancel(api, delivery_id, "customer moved away")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    last = (await detail(api, delivery_id))["events"][-1]
    assert (last["kind"], last["data"]) == ("delivery.cancelled", {"reason": "customer moved away"})


@pytest.mark.parametrize(
    ("before", "status"),
    [(["out_for_delivery"], "out_for_delivery"), (["out_for_delivery", "delivered"], "delivered")],
    ids=["on its way", "delivered"],
)
async def test_parcel_that_left_the_depot_cannot_be_cancelled(
    api: httpx.AsyncClient, day_file: dict[str, Any], before: list[str], status: str
) -> None:
    delivery_id = await seed(api, day_file)
    await walk(api, delivery_id, *before)
    unchanged = await detail(api, delivery_id)

    response = await cancel(api, delivery_id)

    assert response.status_code == 409
    assert response.json()["message"].startswith(f"cannot go from {status} to cancelled")
    assert await detail(api, delivery_id) == unchanged


@pytest.mark.parametrize(
    ("body", "path"),
    [({"reason": ""}, "body.reason"), ({}, "body.reason"), (None, "body")],
    ids=["empty reason", "no reason", "no body"],
)
async def test_cancel_needs_a_reason(
    api: httpx.AsyncClient, day_file: dict[str, Any], body: dict[str, str] | None, path: str
) -> None:
    delivery_id = await seed(api, day_file)
    unchanged = await detail(api, delivery_id)

    response = await api.post(f"/api/deliveries/{delivery_id}/cancel", json=body)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [path]
    assert await detail(api, delivery_id) == unchanged


async def test_cancelling_an_unknown_delivery_is_404(api: httpx.AsyncClient) -> None:
    response = await cancel(api, 4711)

    assert response.status_code == 404
    assert "4711" in response.json()["message"]


async def test_cancelled_delivery_is_left_out_of_the_next_plan(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    delivery_id = await seed(api, day_file)
    await cancel(api, delivery_id)

    replanned = (await api.post("/api/plans", json={"date": DAY.isoformat()})).json()

    planned_ids = {stop["delivery_id"] for route in replanned["routes"] for stop in route["stops"]}
    assert replanned["version"] == 2
    assert len(planned_ids) == 39
    assert delivery_id not in planned_ids
    assert (await detail(api, delivery_id))["status"] == "cancelled"


async def test_day_under_way_cannot_be_planned_again(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    delivery_id = await seed(api, day_file)
    await walk(api, delivery_id, "out_for_delivery")
    active = (await api.get(f"/api/plans/{DAY.isoformat()}")).json()

    response = await api.post("/api/plans", json={"date": DAY.isoformat()})

    assert response.status_code == 409
    order_id = (await detail(api, delivery_id))["order_id"]
    assert "already under way" in response.json()["message"]
    assert f"{order_id}: out_for_delivery" in response.json()["message"]
    assert (await api.get(f"/api/plans/{DAY.isoformat()}")).json() == active


async def test_import_cannot_change_a_parcel_on_its_way(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    delivery_id = await seed(api, day_file)
    await walk(api, delivery_id, "out_for_delivery")
    unchanged = await detail(api, delivery_id)
    row = next(r for r in day_file["deliveries"] if r["order_id"] == unchanged["order_id"])

    response = await api.post("/api/deliveries", json=[{**row, "window_end": "23:00"}])

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == (
        "order is already out_for_delivery; it can no longer be changed by import"
    )
    assert await detail(api, delivery_id) == unchanged
