"""Acceptance: plan 30 real Monaco addresses on real roads (embedded OSRM), through the ops API.

Road data © OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright).
"""

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_app
from bot.clock import ManualClock
from bot.config import Settings
from tests.conftest import API_KEY, DAY
from tests.shared_data import require_shared

ADDRESSES = json.loads((Path(__file__).parents[1] / "fixtures" / "monaco_addresses.json").read_text("utf-8"))


@pytest.fixture
async def monaco_api(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    pbf = require_shared("osm", "monaco.osm.pbf")
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{tmp_path / 'monaco.db'}"},
        web={"api_key": API_KEY},
        sandbox={"path": tmp_path / "sandbox.db"},
        eta={
            "matrix": "osrm",
            "osm_pbf": pbf,
            "osrm_cache_dir": tmp_path_factory.getbasetemp() / "osrm-plan",
        },
        _env_file=None,
    )
    app = await build_app(settings, clock)
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"X-API-Key": API_KEY}
    ) as c:
        yield c
    await app.services.close()


def deliveries() -> list[dict[str, Any]]:
    slots = [("09:00", "12:00"), ("10:00", "13:00"), ("13:00", "17:00"), ("09:00", "17:00")]
    return [
        {
            "order_id": f"MC-{n:02d}",
            "name": place["name"],
            "phone": f"+37799{n:06d}",
            "address": place["address"],
            "lat": place["lat"],
            "lon": place["lon"],
            "date": DAY.isoformat(),
            "window_start": slots[n % 4][0],
            "window_end": slots[n % 4][1],
            "service_minutes": 4,
            "size": 1,
            "depot": "MC",
            "locale": "fr",
        }
        for n, place in enumerate(ADDRESSES["addresses"])
    ]


async def test_thirty_monaco_addresses_are_planned_on_real_roads(monaco_api: httpx.AsyncClient) -> None:
    depot = {
        "code": "MC",
        "name": "Fontvieille hub",
        "lat": 43.7285,
        "lon": 7.4150,
        "timezone": "Europe/Monaco",
    }
    vans = [{"code": f"MC{n}", "name": f"Van {n}", "depot": "MC", "capacity": 20} for n in (1, 2)]
    assert (await monaco_api.post("/api/depots", json=[depot])).status_code == 200
    assert (await monaco_api.post("/api/drivers", json=vans)).status_code == 200
    imported = await monaco_api.post("/api/deliveries", json=deliveries())
    assert imported.json()["created"] == 30, imported.text

    response = await monaco_api.post("/api/plans", json={"date": DAY.isoformat()})
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["matrix"] == "osrm"
    assert plan["unassigned"] == []
    stops = [stop for route in plan["routes"] for stop in route["stops"]]
    assert len(stops) == 30
    for stop in stops:
        arrival = datetime.fromisoformat(stop["planned_arrival"])
        assert (
            datetime.fromisoformat(stop["window_start"])
            <= arrival
            <= datetime.fromisoformat(stop["window_end"])
        )
        assert (
            datetime.fromisoformat(stop["promised_start"])
            <= arrival
            <= datetime.fromisoformat(stop["promised_end"])
        )
    # Monaco is about 2 km across: a van's day of 15 stops drives a few km to a few tens of km.
    assert all(1_000 < route["distance_m"] < 60_000 for route in plan["routes"])
