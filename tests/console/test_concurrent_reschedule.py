"""Two staff move one delivery at once: the first change applies and is told, the other is refused
with who changed it and the window it has now (optimistic concurrency on the promise version)."""

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.services import Services
from bot.store import events, promises
from bot.usecases.inbound import sandbox_reply
from tests.console.conftest import add_staff, csrf_of, sign_in
from tests.loop.conftest import outbox_rows
from tests.loop.test_reschedule import pick_morning_delivery

SLOT_INPUT = re.compile(r'name="slot" value="([^"]+)"')
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
async def staff(app: App) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two browsers, alice's and bob's, each signed in."""
    clients = []
    for name in ("alice", "bob"):
        await add_staff(app, name)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.web), base_url="http://doorstep.test"
        )
        await sign_in(client, name)
        clients.append(client)
    yield clients
    for client in clients:
        await client.aclose()


async def slots_form(client: httpx.AsyncClient, delivery_id: int) -> tuple[dict[str, str], list[str]]:
    page = await client.get(f"/console/deliveries/{delivery_id}/slots")
    assert page.status_code == 200
    version = VERSION_INPUT.search(page.text)
    form = {"csrf_token": csrf_of(page), **({"version": version[1]} if version else {})}
    return form, SLOT_INPUT.findall(page.text)


async def test_two_staff_moving_one_delivery_at_once_apply_one_change_and_tell_the_other(
    planned_day: Services, staff: list[httpx.AsyncClient]
) -> None:
    alice, bob = staff
    chosen = await pick_morning_delivery(planned_day)
    async with planned_day.store.read() as conn:
        before = (await promises.current(conn, [chosen]))[chosen]
    (alice_form, offered), (bob_form, _) = [await slots_form(c, chosen) for c in staff]
    assert len(offered) >= 2

    path = f"/console/deliveries/{chosen}/reschedule"
    moved, refused = await asyncio.gather(
        alice.post(path, data={**alice_form, "slot": offered[0]}),
        bob.post(path, data={**bob_form, "slot": offered[1]}),
    )
    assert (moved.status_code, refused.status_code) == (303, 409)
    async with planned_day.store.read() as conn:
        after = (await promises.current(conn, [chosen]))[chosen]
        moves = await events.of_kind(conn, "delivery.rescheduled", [chosen])
    assert after.version == before.version + 1
    assert [e.actor for e in moves] == ["staff:alice"]
    assert [r["delivery_id"] for r in await outbox_rows(planned_day, kind="rescheduled")] == [chosen]
    assert "Changed by alice meanwhile" in refused.text
    assert "the window is now" in refused.text
    assert f'name="version" value="{after.version}"' in refused.text  # the form to pick again


async def test_a_form_shown_before_the_recipient_moved_it_is_refused(
    planned_day: Services, staff: list[httpx.AsyncClient]
) -> None:
    alice = staff[0]
    chosen = await pick_morning_delivery(planned_day)
    form, offered = await slots_form(alice, chosen)
    await sandbox_reply(planned_day, chosen, "2")  # the recipient asks for times...
    await sandbox_reply(planned_day, chosen, "1")  # ...and takes the first
    late = await alice.post(f"/console/deliveries/{chosen}/reschedule", data={**form, "slot": offered[-1]})
    assert late.status_code == 409
    assert "Changed by the recipient meanwhile" in late.text
    staff_moves = [
        r for r in await outbox_rows(planned_day, kind="rescheduled") if r["idem_key"].startswith("staff")
    ]
    assert staff_moves == []


async def test_a_reschedule_without_the_version_shown_is_refused(
    planned_day: Services, staff: list[httpx.AsyncClient]
) -> None:
    alice = staff[0]
    chosen = await pick_morning_delivery(planned_day)
    form, offered = await slots_form(alice, chosen)
    form.pop("version", None)
    stale = await alice.post(f"/console/deliveries/{chosen}/reschedule", data={**form, "slot": offered[0]})
    assert stale.status_code == 422
    assert await outbox_rows(planned_day, kind="rescheduled") == []
