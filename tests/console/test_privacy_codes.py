"""Access codes written inside other text (instructions, a message not understood) stay hidden from
agents, and the recipient's confirmation does not echo the code."""

import re

import httpx
import pytest

from bot.app import App
from bot.services import Services
from bot.store.staff import StaffUser
from bot.usecases.inbound import sandbox_reply
from bot.web.console.privacy import BLOT, hide_codes
from tests.console.conftest import add_staff, csrf_of, sign_in
from tests.loop.conftest import outbox_rows


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("SAFE back door, key code 9753 under the mat", f"SAFE back door, key code {BLOT} under the mat"),
        ("my door code is 3141", f"my door code is {BLOT}"),
        ("3141 is my door code", f"{BLOT} is my door code"),
        ("PIN 12345 for the key box", f"PIN {BLOT} for the key box"),
        ("gate: *2580# then left", f"gate: {BLOT} then left"),
        ("Tür: 4711# bitte klingeln", f"Tür: {BLOT} bitte klingeln"),
        ("Der Zugangscode lautet 8642", f"Der Zugangscode lautet {BLOT}"),
        ("Schlüsselkasten am Tor, Kombination 0815", f"Schlüsselkasten am Tor, Kombination {BLOT}"),
        ("Le digicode est 4589", f"Le digicode est {BLOT}"),
        ("Door code 1234, gate code 5678", f"Door code {BLOT}, gate code {BLOT}"),
    ],
)
def test_codes_near_a_code_word_are_blotted(text: str, shown: str) -> None:
    assert hide_codes(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "SAFE back door after 6pm",
        "back door, any time after 14:30",
        "back door, not before 1800",
        "Tür bis 1800 Uhr offen",
        "with the neighbour at no. 125, by the door",
        "door of flat 105, 3rd floor",
        "Wohnung 204, Hintertür",
        "at the gate of Hauptstraße 123",
        "ORD-20261123-0001: leave at the door",
        "gate opposite, postcode 10115",
        "where is my parcel? order 20261123",
        "ring twice 9753",
    ],
)
def test_times_house_numbers_and_order_ids_are_kept(text: str) -> None:
    assert hide_codes(text) == text


def test_the_delivery_code_is_blotted_wherever_it_is() -> None:
    assert hide_codes("ring twice 9753", "9753") == f"ring twice {BLOT}"


@pytest.fixture
async def agent(console: httpx.AsyncClient, alice: StaffUser) -> httpx.AsyncClient:
    await sign_in(console, "alice")
    return console


async def test_a_code_inside_the_instructions_is_hidden_from_agents_and_shown_on_reveal(
    app: App, planned_day: Services, agent: httpx.AsyncClient
) -> None:
    await sandbox_reply(planned_day, 1, "SAFE back door, key code 9753 under the mat")
    page = await agent.get("/console/deliveries/1")
    assert "9753" not in page.text
    assert page.text.count(f"back door, key code {BLOT} under the mat") == 3  # instructions, timeline, form

    await add_staff(app, "root", "admin")
    agent.cookies.clear()
    await sign_in(agent, "root")
    page = await agent.get("/console/deliveries/1")
    shown = await agent.post("/console/deliveries/1/reveal", data={"csrf_token": csrf_of(page)})
    assert "back door, key code 9753 under the mat" in shown.text


async def test_a_code_in_a_message_not_understood_is_hidden_on_the_timeline_and_queue(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    await sandbox_reply(planned_day, 4, "3141 is my door code")
    for path in ("/console/deliveries/4", "/console/queue"):
        page = await agent.get(path)
        assert f"{BLOT} is my door code" in page.text
        assert "3141" not in page.text


async def test_saving_the_form_with_the_hidden_place_keeps_the_code_in_the_place(
    planned_day: Services, agent: httpx.AsyncClient
) -> None:
    await sandbox_reply(planned_day, 1, "SAFE back door, key code 9753 under the mat")
    page = await agent.get("/console/deliveries/1")
    shown = re.search(r'name="safe_drop" maxlength="500" value="([^"]*)"', page.text)
    assert shown is not None
    form = {"csrf_token": csrf_of(page), "safe_drop": shown[1], "access_code": "2468"}
    saved = await agent.post("/console/deliveries/1/instructions", data=form)
    assert saved.status_code == 303
    async with planned_day.store.read() as conn:
        row = (await conn.exec_driver_sql("select safe_drop, access_code from deliveries where id = 1")).one()
    assert tuple(row) == ("back door, key code 9753 under the mat", "2468")

    edited = {**form, "safe_drop": shown[1].replace("mat", "doormat")}
    refused = await agent.post("/console/deliveries/1/instructions", data=edited)
    assert refused.status_code == 422
    assert "hidden code" in refused.text


async def test_the_code_saved_confirmation_echoes_no_digit_of_the_code(planned_day: Services) -> None:
    await sandbox_reply(planned_day, 3, "CODE 4711")
    await sandbox_reply(planned_day, 5, "Türcode 9035")
    saved = await outbox_rows(planned_day, kind="access-code-saved")
    assert [r["delivery_id"] for r in saved] == [3, 5]
    for row in saved:
        assert re.search(r"\d|\*", row["body"]) is None, row["body"]
