"""A channel is a plug-in: registered in one place (bot/channels/registry.py), it sends, receives and
takes over from a channel that stops working, with nothing else in Doorstep touched.

The "pigeon" channel here is what a new channel brings: an adapter (a Transport), a template folder
(the SMS texts, marked, in a folder of its own), a webhook, and one `register` call.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Request

from bot.app import App, build_app
from bot.channels import registry
from bot.channels.base import Failure, Outgoing, Receipt, SendError
from bot.clock import ManualClock
from bot.config import Settings
from bot.notify.render import TEMPLATES_DIR
from bot.services import Services
from bot.store import contacts
from bot.store.tables import deliveries
from bot.usecases import inbound
from bot.web.deps import ServicesDep
from scheduler.jobs import fill_outbox
from tests.loop.conftest import outbox_rows
from tests.loop.test_fallback import EVENING

NAME = "pigeon"
LOFT = "loft-17"  # the recipient's address on it


class PigeonTransport:
    """The adapter: keeps what it carried; an address in `gone` is one the provider says is dead."""

    def __init__(self) -> None:
        self.carried: list[Outgoing] = []
        self.gone: set[str] = set()

    async def send(self, message: Outgoing) -> Receipt:
        if message.address in self.gone:
            raise SendError(Failure.PERMANENT, "no such loft", address_state="dead")
        self.carried.append(message)
        return Receipt(f"pigeon-{message.id}")

    async def lookup(self, message: Outgoing, since: datetime) -> Receipt | None:
        return next((Receipt(f"pigeon-{m.id}") for m in self.carried if m.id == message.id), None)

    async def close(self) -> None:
        pass


router = APIRouter()


@router.post("/webhooks/pigeon")
async def arrived(request: Request, services: ServicesDep) -> dict[str, Any]:
    """The webhook: what a pigeon brings in goes down the one inbound path."""
    note = await request.json()
    inbox_id = await inbound.receive(services, NAME, note["id"], note["from"], note["text"], note)
    return {"inbox_id": inbox_id}


@pytest.fixture
def pigeon_priority() -> int:
    return 3  # after Telegram (1) and SMS (2): it takes over when they stop working


@pytest.fixture
def pigeon() -> PigeonTransport:
    return PigeonTransport()


@pytest.fixture
def pigeon_templates(tmp_path: Path) -> Path:
    """The channel's own template folder: the SMS texts, each marked as the pigeon's."""
    folder = tmp_path / "templates"
    for source in (TEMPLATES_DIR / "sms").rglob("*.j2"):
        target = folder / NAME / source.relative_to(TEMPLATES_DIR / "sms")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("[pigeon] " + source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture
def registered(pigeon: PigeonTransport, pigeon_priority: int, pigeon_templates: Path) -> Iterator[None]:
    """The one place the channel is added."""
    registry.register(
        registry.ChannelSpec(
            NAME,
            "Pigeon post",
            priority=pigeon_priority,
            rules=registry.SMS_RULES,
            per_second=lambda _: 5.0,
            transport=lambda _settings, _clock: pigeon,
            webhook="tests.loop.test_channel_plugin:router",
            templates=pigeon_templates,
        )
    )
    yield
    registry.unregister(NAME)


@pytest.fixture
async def app(registered: None, settings: Settings, clock: ManualClock) -> AsyncIterator[App]:
    built = await build_app(settings, clock)
    yield built
    await built.services.close()


async def give_loft(services: Services, delivery_id: int) -> tuple[int, str]:
    """The recipient of `delivery_id` gets a pigeon address; returns (recipient, phone)."""
    async with services.store.tx() as conn:
        query = sa.select(deliveries.c.recipient_id, deliveries.c.phone).where(deliveries.c.id == delivery_id)
        recipient_id, phone = (await conn.execute(query)).one()
        await contacts.ensure(conn, recipient_id, NAME, LOFT, services.clock.now())
    return recipient_id, phone


@pytest.mark.parametrize("pigeon_priority", [0])  # the recipient's first channel
async def test_a_registered_channel_sends_and_answers(
    planned_day: Services, clock: ManualClock, pigeon: PigeonTransport, api: httpx.AsyncClient
) -> None:
    services = planned_day
    clock.set(EVENING)
    await give_loft(services, 1)
    await fill_outbox(services)
    await services.dispatcher().drain()
    (notice,) = [m for m in pigeon.carried if m.kind == "pre-delivery"]
    assert notice.address == LOFT
    assert notice.body.startswith("[pigeon] ")  # from its own templates
    assert "1 to confirm" in notice.body  # numbered choices, as its rules say (no buttons)

    for _ in range(2):  # the provider delivers the same note twice: one answer
        said = await api.post("/webhooks/pigeon", json={"id": "note-1", "from": LOFT, "text": "YES"})
        assert said.status_code == 200
    await services.dispatcher().drain()
    answers = [m for m in pigeon.carried if m.kind == "confirmed"]
    assert [m.address for m in answers] == [LOFT]
    assert answers[0].body.startswith("[pigeon] ")
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.confirmed_at).where(deliveries.c.id == 1)
        assert (await conn.execute(query)).scalar_one() is not None


async def test_the_registered_channel_takes_over_when_sms_stops_working(
    planned_day: Services, clock: ManualClock, pigeon: PigeonTransport
) -> None:
    services = planned_day
    clock.set(EVENING)
    _, phone = await give_loft(services, 1)
    services.sandbox.failing[phone] = SendError(
        Failure.PERMANENT, "not a mobile number", code="21614", address_state="invalid"
    )
    await fill_outbox(services)
    await services.dispatcher().drain()
    mine = [r for r in await outbox_rows(services, kind="pre-delivery") if r["delivery_id"] == 1]
    assert [(r["channel"], r["status"]) for r in mine] == [("sms", "failed"), (NAME, "sent")]
    (carried,) = [m for m in pigeon.carried if m.kind == "pre-delivery"]
    assert carried.body.startswith("[pigeon] ")  # rendered again for it, not the SMS text


async def test_a_channel_nobody_registered_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown channel 'owl'"):
        registry.get("owl")
    with pytest.raises(ValueError, match="registered already"):
        registry.register(registry.get("sms"))
