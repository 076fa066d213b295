"""A stored reply whose answering keeps failing: the server starts anyway, the other replies are
answered, and that one is parked where people look (the console's queue, `doorstep status`, /readyz)."""

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.app import App
from bot.cli import cli
from bot.services import Services
from bot.store import inbox, outbox
from bot.store.tables import inbox as inbox_table
from bot.web import state as web_state
from tests.console.conftest import add_staff, sign_in
from tests.loop.conftest import planned_day  # noqa: F401 - the fixture, for this module
from tests.sms.test_inbound import phone_of


async def stored_reply(services: Services, sid: str, phone: str) -> int:
    """A reply stored by its webhook, the process gone before it was answered."""
    async with services.store.tx() as conn:
        inbox_id = await inbox.store(conn, "sms", sid, phone, "1", {"MessageSid": sid}, services.clock.now())
    assert inbox_id is not None
    return inbox_id


def damage_conversation(db_path: Path, phone: str) -> None:
    """The question last asked on this number, unreadable (written by hand or by an older version)."""
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "insert into conversations (channel, address, state, expires_at) values (?, ?, ?, ?)",
            ("sms", phone, "{not json", "2099-01-01 00:00:00.000000"),
        )


async def inbox_states(services: Services) -> dict[int, tuple[str, int]]:
    query = sa.select(inbox_table.c.id, inbox_table.c.status, inbox_table.c.attempts)
    async with services.store.read() as conn:
        return {row.id: (row.status, row.attempts) for row in await conn.execute(query)}


async def until_parked(app: App, inbox_id: int) -> None:
    answerer = web_state.of(app.web).answerer
    assert answerer is not None, "the app's background work runs"
    async with asyncio.timeout(20):
        while (await inbox_states(app.services))[inbox_id][0] != "poison":
            answerer.nudge()  # its next pass now, not in 5 s
            await asyncio.sleep(0.05)


async def test_a_reply_that_cannot_be_answered_is_parked_and_holds_up_neither_the_start_nor_the_others(
    app: App,
    planned_day: Services,  # noqa: F811
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    phones = [await phone_of(planned_day, n) for n in (1, 2, 3)]
    ids = [await stored_reply(planned_day, f"SM{n:032x}", phone) for n, phone in enumerate(phones)]
    damage_conversation(db_path, phones[1])

    await app.start_background()  # it raised here, and `doorstep serve` never started
    try:
        await until_parked(app, ids[1])
        found = await inbox_states(planned_day)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.web), base_url="http://t") as web:
            ready = (await web.get("/readyz")).json()
            await add_staff(app, "alice")
            await sign_in(web, "alice")
            queue = (await web.get("/console/queue")).text
    finally:
        await app.stop()

    assert found[ids[0]] == ("done", 0)
    assert found[ids[2]] == ("done", 0)
    assert found[ids[1]] == ("poison", 3)
    async with planned_day.store.read() as conn:
        assert await outbox.replies_to(conn, ids[0])  # the others got their answers
        assert await outbox.replies_to(conn, ids[2])
    assert ready["parked"] == {"inbox": 1, "outbox": 0}
    assert "Parked after failing again and again, or unreadable: 1 inbound, 0 outbound" in queue

    monkeypatch.chdir(tmp_path)
    env = {"DOORSTEP_STORE__URL": f"sqlite+aiosqlite:///{db_path}"}
    shown = await asyncio.to_thread(CliRunner().invoke, cli, ["status", "--no-server"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "parked    1 inbound, 0 outbound" in shown.output
    assert f"inbox #{ids[1]} sms poison" in shown.output
    assert "3 tries: JSONDecodeError" in shown.output
