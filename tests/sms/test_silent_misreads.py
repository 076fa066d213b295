"""Texts from issue 12's outsider corpus, through Twilio's signed webhook on the real app, handled as a
person would: how to hand the parcel over goes to the driver in the recipient's words (never read as
a yes, or as the very place they asked us not to use), thanks are thanked, "who is this" and "has the
driver left yet" are answered, and a missing parcel after delivery is a report, not a new time."""

import hashlib

import httpx
import pytest
from markupsafe import escape

from bot.clock import ManualClock
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.usecases import progress
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.loop.test_driver_events import first_route
from tests.sms.test_fault_gaps import delivery_row, inbox_rows, open_escalations
from tests.sms.test_inbound import SMS_URL, phone_of, settings, signed, sms, twilio

__all__ = ["settings", "twilio"]


async def text_from(services: Services, twilio: httpx.AsyncClient, delivery_id: int, body: str) -> None:
    sid = "SM" + hashlib.md5(f"{delivery_id}:{body}".encode()).hexdigest()  # one message, one Twilio id
    form = sms(sid, await phone_of(services, delivery_id), body)
    answer = await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    assert answer.status_code == 200


async def set_locale(services: Services, delivery_id: int, locale: str) -> None:
    async with services.store.tx() as conn:
        await delivery_store.update(conn, delivery_id, {"locale": locale}, services.clock.now())


@pytest.mark.parametrize(
    "body",
    [
        "my wife will be in, ring twice",
        "Ja, bitte zweimal klingeln",
        "yes but please don't leave it outside",
        "please dont leave it outside, it rains",
        "please do not leave it at the door",
    ],
)
async def test_how_to_hand_it_over_goes_to_the_driver_in_the_recipients_words(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
) -> None:
    await text_from(planned_day, twilio, 1, body)

    (row,) = await inbox_rows(planned_day)
    assert row["intent"] == "SafeDrop"
    sent = {m["kind"]: m["body"] for m in await outbox_rows(planned_day)}
    assert sorted(sent) == ["driver-notes", "instructions-saved"]
    assert f"From recipient: {escape(body)}" in sent["driver-notes"]  # the driver reads their words
    after = await delivery_row(planned_day, 1)
    assert after["safe_drop"] == body  # "do not leave it at the door" is not read as "at the door"
    assert after["confirmed_at"] is None  # a note about the hand-over is not a yes
    assert await open_escalations(planned_day) == []


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("great service thanks", "Doorstep: Thank you, "),
        ("Danke!", "Doorstep: Vielen Dank, "),
        ("thank you so much 🙏", "Doorstep: Thank you, "),
    ],
)
async def test_thanks_are_thanked_and_confirm_nothing(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
    reply: str,
) -> None:
    await set_locale(planned_day, 1, "de" if body == "Danke!" else "en")
    await text_from(planned_day, twilio, 1, body)

    assert [r["intent"] for r in await inbox_rows(planned_day)] == ["Thanks"]
    (sent,) = await outbox_rows(planned_day)
    assert sent["kind"] == "thanked"
    assert sent["body"].startswith(reply)
    assert (await delivery_row(planned_day, 1))["confirmed_at"] is None
    assert await open_escalations(planned_day) == []


@pytest.mark.parametrize(
    ("body", "kind"),
    [("has the driver left yet", "status"), ("Who is this", "help"), ("wer ist das?", "help")],
)
async def test_questions_a_person_would_answer_are_answered(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
    kind: str,
) -> None:
    await text_from(planned_day, twilio, 1, body)

    assert [m["kind"] for m in await outbox_rows(planned_day)] == [kind]
    assert await open_escalations(planned_day) == []


async def deliver_first_stop(services: Services, clock: ManualClock) -> int:
    """The first van leaves and hands over its first parcel at the planned time; returns that parcel."""
    route = await first_route(services)
    delivered = route.stops[0].delivery_id
    await progress.start_route(services, route.driver_id, actor="test")
    clock.set(route.stops[0].planned_arrival)
    await progress.record_stop_event(services, delivered, progress.StopEvent.DELIVERED, actor="test")
    return delivered


async def test_parcel_not_here_after_delivery_is_a_report_not_a_new_time(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    delivered = await deliver_first_stop(planned_day, clock)

    await text_from(planned_day, twilio, delivered, "Parcel not here. Photo shows a different door")

    assert (await inbox_rows(planned_day))[-1]["intent"] == "NotReceived"
    kinds = [m["kind"] for m in await outbox_rows(planned_day, delivery_id=delivered)]
    assert "slots-offered" not in kinds
    assert ("not_received", delivered) in [(kind, d) for kind, d, _ in await open_escalations(planned_day)]


@pytest.mark.parametrize(
    ("comment", "to_a_person"),
    [
        ("Chönd Sie em Fahrer säge, er söll s Tor zue mache?", True),  # a question: "?"
        ("Why was the box open?", True),
        ("Lovely driver", False),
    ],
)
async def test_a_comment_after_a_good_rating_that_asks_for_something_reaches_a_person(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    clock: ManualClock,
    comment: str,
    to_a_person: bool,
) -> None:
    delivered = await deliver_first_stop(planned_day, clock)
    await text_from(planned_day, twilio, delivered, "5")

    await text_from(planned_day, twilio, delivered, comment)

    assert (await inbox_rows(planned_day))[-1]["intent"] == "Comment"
    assert (await delivery_row(planned_day, delivered))["rating_comment"] == comment
    expected = [("person", delivered, f"5/5, then: {comment}")] if to_a_person else []
    assert await open_escalations(planned_day) == expected


@pytest.mark.parametrize(
    ("body", "kinds", "code", "instructions"),
    [
        ("yes fine, the code is 4711", ["access-code-saved", "confirmed", "driver-notes"], "4711", None),
        (
            "2, and leave it with the neighbour",
            ["driver-notes", "instructions-saved", "slots-offered"],
            None,
            "and leave it with the neighbour",
        ),
        (
            "Passt, bitte immer in die Garage",
            ["confirmed", "driver-notes", "instructions-saved"],
            None,
            "bitte in die Garage",  # the part that says where; "always" makes it their standing wish
        ),
    ],
)
async def test_a_message_that_does_two_things_does_both(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
    kinds: list[str],
    code: str | None,
    instructions: str | None,
) -> None:
    await text_from(planned_day, twilio, 1, body)

    assert [r["intent"] for r in await inbox_rows(planned_day)] == ["Several"]
    assert sorted(m["kind"] for m in await outbox_rows(planned_day)) == kinds
    after = await delivery_row(planned_day, 1)
    assert after["access_code"] == code
    assert after["safe_drop"] == instructions
    assert (after["confirmed_at"] is not None) == ("confirmed" in kinds)
    assert await open_escalations(planned_day) == []


@pytest.mark.parametrize("body", ["stop texting me", "Bitte keine SMS mehr", "Take me off your list"])
async def test_asking_in_words_to_stop_stops_the_messages(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
) -> None:
    await text_from(planned_day, twilio, 1, body)

    assert [r["intent"] for r in await inbox_rows(planned_day)] == ["OptOut"]
    assert [m["kind"] for m in await outbox_rows(planned_day)] == ["opted-out"]


async def test_stop_texting_me_at_night_is_a_complaint_not_an_opt_out(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
) -> None:
    await text_from(planned_day, twilio, 1, "Hör auf mir nachts zu schreiben")

    assert [r["intent"] for r in await inbox_rows(planned_day)] == ["NotUnderstood"]
    assert [kind for kind, _, _ in await open_escalations(planned_day)] == ["not_understood"]


@pytest.mark.parametrize(
    "body", ["That's not my house in the photo", "wrong door, I'm number 15 not 51", "where is it??"]
)
async def test_after_delivery_a_wrong_door_or_where_is_it_is_a_missing_parcel(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    clock: ManualClock,
    body: str,
) -> None:
    delivered = await deliver_first_stop(planned_day, clock)

    await text_from(planned_day, twilio, delivered, body)

    assert (await inbox_rows(planned_day))[-1]["intent"] == "NotReceived"
    assert ("not_received", delivered) in [(kind, d) for kind, d, _ in await open_escalations(planned_day)]


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("I bin erscht am Samschtig dahoim", "Reschedule"),  # a yes with a day: that day, or times offered
        ("Was ist Doorstep? Kenn ich nicht", "Help"),  # our name, not a doorstep to leave it on
        (
            "delivered where?? ive been home ALL day and no one knocked, nothing with the neighbours either",
            "NotUnderstood",  # what happened, not where to leave it: a person reads it
        ),
        ("Wurde beim falschen Nachbarn abgegeben, den kenn ich nicht mal", "NotUnderstood"),
    ],
)
async def test_what_only_looks_like_a_yes_or_an_instruction_is_neither(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
    intent: str,
) -> None:
    await text_from(planned_day, twilio, 1, body)

    assert [r["intent"] for r in await inbox_rows(planned_day)] == [intent]
    after = await delivery_row(planned_day, 1)
    assert after["confirmed_at"] is None
    assert after["safe_drop"] is None
    assert [m["kind"] for m in await outbox_rows(planned_day)] != ["confirmed"]


async def test_stop_texting_me_just_leave_it_at_the_door_does_both(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
) -> None:
    body = "stop texting me about this order, just leave it at the door"
    await text_from(planned_day, twilio, 1, body)

    assert [r["intent"] for r in await inbox_rows(planned_day)] == ["Several"]
    sent = {m["kind"]: m["body"] for m in await outbox_rows(planned_day)}
    assert sorted(sent) == ["driver-notes", "instructions-saved", "opted-out"]
    assert "From recipient: just leave it at the door" in sent["driver-notes"]
    assert (await delivery_row(planned_day, 1))["safe_drop"] == "just leave it at the door"
    assert await open_escalations(planned_day) == []


@pytest.mark.parametrize(
    ("body", "kind", "starts"),
    [
        ("OUI", "confirmed", "Doorstep: Merci "),
        ("oui merci", "confirmed", "Doorstep: Merci "),
        ("2", "slots-offered", "Doorstep: "),
        ("ARRÊT", "opted-out", "Doorstep: Votre désabonnement"),
        ("Arret", "opted-out", "Doorstep: Votre désabonnement"),
    ],
)
async def test_a_french_recipient_is_understood_and_answered_in_french(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
    kind: str,
    starts: str,
) -> None:
    await set_locale(planned_day, 1, "fr")
    await text_from(planned_day, twilio, 1, body)

    (sent,) = await outbox_rows(planned_day)
    assert sent["kind"] == kind
    assert sent["body"].startswith(starts)
    if kind == "slots-offered":
        assert "répondez avec le numéro" in sent["body"]


async def test_a_question_beside_a_yes_reaches_a_person_with_its_words(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
) -> None:
    await text_from(planned_day, twilio, 1, "Yes that's fine. Do I need to sign for it?")

    assert (await delivery_row(planned_day, 1))["confirmed_at"] is not None
    kinds = [m["kind"] for m in await outbox_rows(planned_day, delivery_id=1)]
    assert kinds == ["confirmed", "person-requested"]  # the yes is taken, the question is not dropped
    assert await open_escalations(planned_day) == [("person", 1, "asked: Do I need to sign for it?")]
