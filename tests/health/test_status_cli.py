"""`doorstep status` beside a running `doorstep serve`: the database, then the server's loops and the
webhooks it refused, as its /readyz tells them."""

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bench.sms_inbound import wait_ready
from bot.cli import cli
from tests.health.test_outages import running

PUBLIC = "https://doorstep.example.com"


@pytest.mark.slow
async def test_status_shows_the_servers_loops_and_the_webhooks_it_refused(tmp_path: Path) -> None:
    db = tmp_path / "doorstep.db"
    twilio = {"DOORSTEP_TWILIO__AUTH_TOKEN": "status-test-token", "DOORSTEP_WEB__PUBLIC_URL": PUBLIC}
    with running(tmp_path, db, **twilio) as (server, base):
        await wait_ready(base, server)
        async with httpx.AsyncClient(base_url=base) as web:
            forged = await web.post("/webhooks/twilio/sms", data={"MessageSid": "SMx", "Body": "hi"})
            assert forged.status_code == 403
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
        env["DOORSTEP_STORE__URL"] = f"sqlite+aiosqlite:///{db}"
        shown = await asyncio.to_thread(CliRunner().invoke, cli, ["status", "--url", base], env=env)

    lines = shown.output.splitlines()
    assert shown.exit_code == 0, shown.output
    assert lines[0].startswith("database  ok (")
    assert f"server    {base}: ready" in lines
    for loop in ("dispatcher", "answerer", "scheduler"):
        assert any(line.split()[:2] == [loop, "ok:"] for line in lines), shown.output
    refused = "  refused webhooks  telegram 0, twilio 1 (bad signature or secret, since the server started)"
    assert refused in lines
