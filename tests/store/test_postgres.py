"""The same store code on PostgreSQL (asyncpg), when DOORSTEP_TEST_POSTGRES_URL names a database it may reset.

Example: DOORSTEP_TEST_POSTGRES_URL=postgresql+asyncpg://u:pw@127.0.0.1/doorstep_test ./dev test tests/store
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.store.tables import metadata
from tests.conftest import API_KEY, DAY

URL = os.environ.get("DOORSTEP_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="set DOORSTEP_TEST_POSTGRES_URL to run the store on PostgreSQL"
)


async def _reset(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        await conn.execute(sa.text("DROP FUNCTION IF EXISTS events_append_only() CASCADE"))
    await engine.dispose()


@pytest.fixture
async def pg_api(clock: ManualClock, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    assert URL
    await _reset(URL)
    settings = Settings(
        store={"url": URL},
        web={"api_key": API_KEY},
        eta={"exploration": 1},
        sandbox={"path": tmp_path / "sandbox.db"},
        _env_file=None,
    )
    app = await build_app(settings, clock)
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"X-API-Key": API_KEY}
    ) as c:
        yield c
    await app.services.close()


async def test_a_day_is_imported_planned_and_delivered_on_postgres(
    pg_api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    for section in ("depots", "drivers"):
        assert (await pg_api.post(f"/api/{section}", json=day_file[section])).status_code == 200
    assert (await pg_api.post("/api/deliveries", json=day_file["deliveries"])).json()["created"] == 40
    again = await pg_api.post("/api/deliveries", json=day_file["deliveries"])
    assert again.json()["unchanged"] == 40

    plan = await pg_api.post("/api/plans", json={"date": DAY.isoformat()})
    assert plan.status_code == 201, plan.text
    stop = plan.json()["routes"][0]["stops"][0]
    for event in ("out_for_delivery", "arrived", "delivered"):
        moved = await pg_api.post(f"/api/deliveries/{stop['delivery_id']}/events", json={"type": event})
        assert moved.status_code == 200, moved.text
    refused = await pg_api.post(f"/api/deliveries/{stop['delivery_id']}/cancel", json={"reason": "late"})
    assert refused.status_code == 409

    found = await pg_api.get("/api/deliveries", params={"q": "100%_"})
    assert found.json() == []
    detail = (await pg_api.get(f"/api/deliveries/{stop['delivery_id']}")).json()
    assert [e["kind"] for e in detail["events"]][-3:] == [
        "delivery.out_for_delivery",
        "delivery.arrived",
        "delivery.delivered",
    ]
    assert detail["window_start"].endswith("Z") or detail["window_start"].endswith("+00:00")


async def test_events_are_append_only_on_postgres(pg_api: httpx.AsyncClient) -> None:
    assert URL
    engine = create_async_engine(URL)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("insert into events (at, kind, actor, data) values (now(), 'test.kept', 'test', '{}')")
        )
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(sa.text("delete from events"))
    await engine.dispose()
