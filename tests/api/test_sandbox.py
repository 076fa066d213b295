from typing import Any

import httpx

from tests.conftest import DAY


async def planned(api: httpx.AsyncClient, day: dict[str, Any]) -> list[dict[str, Any]]:
    for section in ("depots", "drivers", "deliveries"):
        assert (await api.post(f"/api/{section}", json=day[section])).status_code == 200
    plan = await api.post("/api/plans", json={"date": DAY.isoformat()})
    return [stop for route in plan.json()["routes"] for stop in route["stops"]]


async def test_a_simulated_recipient_is_answered_like_a_real_one(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    stop = (await planned(api, day_file))[-1]

    asked = await api.post("/api/sandbox/replies", json={"order_id": stop["order_id"], "text": "2"})
    assert asked.status_code == 202, asked.text
    (offer,) = asked.json()["replies"]
    assert "1) " in offer

    took = await api.post("/api/sandbox/replies", json={"delivery_id": stop["delivery_id"], "text": "1"})
    (done,) = took.json()["replies"]
    detail = (await api.get(f"/api/deliveries/{stop['delivery_id']}")).json()
    assert any(e["kind"] == "delivery.rescheduled" for e in detail["events"])
    assert done != offer


async def test_a_sandbox_reply_needs_exactly_one_known_delivery(api: httpx.AsyncClient) -> None:
    both = await api.post("/api/sandbox/replies", json={"delivery_id": 1, "order_id": "A", "text": "1"})
    assert both.status_code == 422
    assert "exactly one" in both.json()["errors"][0]["message"]
    unknown = await api.post("/api/sandbox/replies", json={"order_id": "NOPE", "text": "1"})
    assert unknown.status_code == 404
    assert "NOPE" in unknown.json()["message"]
