from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import UndefinedError

from bot.channels import registry
from bot.config import MessagesSettings
from bot.notify.compose import Composer
from bot.notify.kinds import KINDS, Audience, Channel, Kind
from bot.notify.render import Renderer, make_environment
from tests.notify.samples import LONGEST, REALISTIC, changed_stops, route_stops, sample_fields
from tests.notify.test_golden import GOLDEN, SMS_SEGMENTS

HOSTILE = "<b>Eve</b> & {{7*7}}"
HOSTILE_HTML = "&lt;b&gt;Eve&lt;/b&gt; &amp; {{7*7}}"
SCRIPT = "<script>alert(1)</script> & {{ 7*7 }}"


def test_missing_fields_are_named(renderer: Renderer) -> None:
    fields = sample_fields(Channel.SMS, "en", Kind.PRE_DELIVERY)
    del fields["track_url"], fields["brand"]
    with pytest.raises(ValueError, match=r"pre-delivery fields: missing: brand, track_url$"):
        renderer.render(Channel.SMS, "en", Kind.PRE_DELIVERY, fields)


def test_extra_fields_are_named(renderer: Renderer) -> None:
    fields = sample_fields(Channel.SMS, "en", Kind.HELP) | {"track_url": "x", "day": "y"}
    with pytest.raises(ValueError, match=r"help fields: unexpected: day, track_url$"):
        renderer.render(Channel.SMS, "en", Kind.HELP, fields)


def test_missing_and_extra_together(renderer: Renderer) -> None:
    fields = {"brand": "Doorstep", "name": "Ann", "order_id": "1", "when": "now"}
    with pytest.raises(ValueError, match=r"missing: minutes, stops_away, time; unexpected: when"):
        renderer.render(Channel.TELEGRAM, "en", Kind.NEARBY, fields)


@pytest.mark.parametrize("kind", [k for k in Kind if KINDS[k].audience is Audience.DRIVER])
def test_driver_kinds_go_out_by_telegram_only(renderer: Renderer, kind: Kind) -> None:
    fields = sample_fields(Channel.TELEGRAM, "en", kind)
    with pytest.raises(ValueError, match=f"{kind.value} is for drivers and cannot go out by sms"):
        renderer.render(Channel.SMS, "en", kind, fields)


@pytest.mark.parametrize(
    ("locale", "used"),
    [
        ("de-AT", "de"),
        ("de_AT", "de"),
        ("DE", "de"),
        ("en-GB", "en"),
        ("fr-CA", "fr"),
        ("it", "en"),
        ("", "en"),
        ("../sms", "en"),
    ],
)
def test_locale_falls_back_to_language_then_english(renderer: Renderer, locale: str, used: str) -> None:
    rendered = renderer.render(Channel.SMS, locale, Kind.HELP, sample_fields(Channel.SMS, used, Kind.HELP))
    assert (rendered.locale, rendered.text) == (used, GOLDEN[Channel.SMS, used, Kind.HELP])


def test_a_regional_template_wins_over_the_language(tmp_path: Path) -> None:
    for locale, word in (("de", "Hallo"), ("de-AT", "Servus")):
        (tmp_path / "sms" / locale).mkdir(parents=True)
        (tmp_path / "sms" / locale / "help.j2").write_text(f"{word} {{{{ name }}}}\n")
    renderer = Renderer(make_environment(tmp_path))
    fields = {"brand": "Doorstep", "name": "Anna", "order_id": "1"}
    assert renderer.render(Channel.SMS, "de-AT", Kind.HELP, fields).text == "Servus Anna"
    assert renderer.render(Channel.SMS, "de-CH", Kind.HELP, fields).text == "Hallo Anna"


def test_templates_are_strict(tmp_path: Path) -> None:
    (tmp_path / "sms" / "en").mkdir(parents=True)
    (tmp_path / "sms" / "en" / "help.j2").write_text("{{ brand }} {{ typo }}\n")
    renderer = Renderer(make_environment(tmp_path))
    with pytest.raises(UndefinedError, match="typo"):
        renderer.render(Channel.SMS, "en", Kind.HELP, {"brand": "D", "name": "A", "order_id": "1"})


def test_recipient_text_is_escaped_for_telegram(renderer: Renderer) -> None:
    fields = sample_fields(Channel.TELEGRAM, "en", Kind.INSTRUCTIONS_SAVED) | {
        "name": HOSTILE,
        "instructions": SCRIPT,
    }
    text = renderer.render(Channel.TELEGRAM, "en", Kind.INSTRUCTIONS_SAVED, fields).text
    assert text.startswith(f"Thanks, {HOSTILE_HTML}! ")
    assert "<blockquote>&lt;script&gt;alert(1)&lt;/script&gt; &amp; {{ 7*7 }}</blockquote>" in text
    assert "49" not in text


def test_staff_text_is_escaped_for_telegram(renderer: Renderer) -> None:
    fields = sample_fields(Channel.TELEGRAM, "en", Kind.STAFF_REPLY) | {"text": HOSTILE, "brand": "A&B"}
    text = renderer.render(Channel.TELEGRAM, "en", Kind.STAFF_REPLY, fields).text
    assert text == f"<b>A&amp;B support:</b>\n{HOSTILE_HTML}"


def test_driver_stop_text_is_escaped_for_telegram(renderer: Renderer) -> None:
    stops = route_stops(LONGEST.day, Channel.TELEGRAM, "en")
    stops[0] = stops[0] | {"name": HOSTILE, "notes": HOSTILE, "instructions": SCRIPT, "access_code": "<1&2>"}
    fields = sample_fields(Channel.TELEGRAM, "en", Kind.DRIVER_ROUTE) | {"stops": stops}
    text = renderer.render(Channel.TELEGRAM, "en", Kind.DRIVER_ROUTE, fields).text
    assert f"\n{HOSTILE_HTML}\n📦 From shipper: {HOSTILE_HTML}\n📝 From recipient: &lt;script&gt;" in text
    assert "🔑 Access code: <code>&lt;1&amp;2&gt;</code>" in text
    assert "49" not in text


@pytest.mark.parametrize("kind", [Kind.DRIVER_STOP, Kind.DRIVER_NOTES])
def test_shipper_notes_are_escaped_on_the_card_and_in_notes(renderer: Renderer, kind: Kind) -> None:
    fields = sample_fields(Channel.TELEGRAM, "en", kind)
    if kind is Kind.DRIVER_STOP:
        fields["stop"] = route_stops(LONGEST.day, Channel.TELEGRAM, "en")[1] | {"notes": SCRIPT}
    else:
        fields["stops"] = [changed_stops(LONGEST.day, Channel.TELEGRAM, "en")[0] | {"notes": SCRIPT}]
    text = renderer.render(Channel.TELEGRAM, "en", kind, fields).text
    assert "📦 From shipper: &lt;script&gt;alert(1)&lt;/script&gt; &amp; {{ 7*7 }}" in text
    assert "<script>" not in text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            "Jonas, 1 stop has changed:\n"
            "\n"
            "<b>2 · Torstraße 88, 10119 Berlin</b> (Christopher Lee)\n"
            "🔁 Sent again: please read it and press Got it\n"
            "🕒 Window: <b>14:00–15:00</b>\n"
            "📝 From recipient: Please leave it at the back door\n"
            "🔑 Access code: <code>B-2207</code>\n"
            "📦 From shipper: Dog in the yard",
        ),
        (
            "de",
            "Jonas, 1 Stopp hat sich geändert:\n"
            "\n"
            "<b>2 · Torstraße 88, 10119 Berlin</b> (Christopher Lee)\n"
            "🔁 Erneut gesendet: bitte lesen und „Verstanden“ drücken\n"
            "🕒 Zeitfenster: <b>14:00–15:00</b>\n"
            "📝 Vom Empfänger: Bitte an der Hintertür abstellen\n"
            "🔑 Zugangscode: <code>B-2207</code>\n"
            "📦 Vom Versender: Hund im Hof",
        ),
    ],
)
def test_a_note_sent_again_shows_the_whole_stop(renderer: Renderer, locale: str, expected: str) -> None:
    again = changed_stops(REALISTIC.day, Channel.TELEGRAM, locale)[0] | {"changed": ["again"]}
    fields = sample_fields(Channel.TELEGRAM, locale, Kind.DRIVER_NOTES) | {"stops": [again]}
    assert renderer.render(Channel.TELEGRAM, locale, Kind.DRIVER_NOTES, fields).text == expected


def test_removed_instructions_say_whose(renderer: Renderer) -> None:
    gone = changed_stops(REALISTIC.day, Channel.TELEGRAM, "en")[0] | {
        "instructions": "",
        "notes": "",
        "changed": ["instructions"],
    }
    fields = sample_fields(Channel.TELEGRAM, "en", Kind.DRIVER_NOTES) | {"stops": [gone]}
    text = renderer.render(Channel.TELEGRAM, "en", Kind.DRIVER_NOTES, fields).text
    assert text.endswith("(Christopher Lee)\n📝 Recipient's instructions removed")


def test_names_are_literal_in_sms(renderer: Renderer) -> None:
    fields = sample_fields(Channel.SMS, "en", Kind.STATUS) | {"name": HOSTILE}
    text = renderer.render(Channel.SMS, "en", Kind.STATUS, fields).text
    assert text == f"Doorstep: Hi {HOSTILE}, order DS-104233 is out for delivery: Mon 23 Nov 14:00-15:00."


def test_staff_text_is_literal_in_sms(renderer: Renderer) -> None:
    fields = sample_fields(Channel.SMS, "en", Kind.STAFF_REPLY) | {"text": SCRIPT}
    rendered = renderer.render(Channel.SMS, "en", Kind.STAFF_REPLY, fields)
    assert (rendered.text, rendered.encoding) == (f"Doorstep support: {SCRIPT}", "GSM-7")


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("kind", [k for k in Kind if Channel.SMS in registry.names(KINDS[k].audience)])
def test_sms_fits_its_segments_with_the_longest_values(renderer: Renderer, locale: str, kind: Kind) -> None:
    rendered = renderer.render(Channel.SMS, locale, kind, sample_fields(Channel.SMS, locale, kind, LONGEST))
    assert rendered.encoding == "GSM-7"
    assert rendered.segments == SMS_SEGMENTS.get(kind, 1)


@pytest.mark.parametrize(("stops_away", "words"), [(0, "you're the next stop!"), (1, "1 stop away.")])
def test_nearby_counts_stops(renderer: Renderer, stops_away: int, words: str) -> None:
    fields = sample_fields(Channel.SMS, "en", Kind.NEARBY) | {"stops_away": stops_away}
    assert words in renderer.render(Channel.SMS, "en", Kind.NEARBY, fields).text


def test_failed_without_slots_promises_a_new_time(renderer: Renderer) -> None:
    fields = sample_fields(Channel.SMS, "en", Kind.FAILED) | {"slots": []}
    rendered = renderer.render(Channel.SMS, "en", Kind.FAILED, fields)
    assert rendered.text.endswith("nobody was home.\nWe'll text you a new time soon.")
    assert rendered.segments == 1


def test_a_long_route_needs_more_than_one_telegram_message(renderer: Renderer) -> None:
    stops = route_stops(LONGEST.day, Channel.TELEGRAM, "en") * 20
    fields = sample_fields(Channel.TELEGRAM, "en", Kind.DRIVER_ROUTE) | {"stops": stops}
    rendered = renderer.render(Channel.TELEGRAM, "en", Kind.DRIVER_ROUTE, fields)
    assert 4096 < len(rendered.text) <= 8192
    assert rendered.segments == 2


def test_a_driver_note_shows_a_code_only_where_it_changed(renderer: Renderer) -> None:
    """The driver's chat is their stop card: a new code is shown there, and only for the stop it is for."""
    stops = changed_stops(LONGEST.day, Channel.TELEGRAM, "en")
    stops[1] = {**stops[1], "access_code": "9999"}  # known, but not what changed on this stop
    fields = {**sample_fields(Channel.TELEGRAM, "en", Kind.DRIVER_NOTES), "stops": stops}
    text = renderer.render(Channel.TELEGRAM, "en", Kind.DRIVER_NOTES, fields).text
    assert "<code>B-2207</code>" in text
    assert "9999" not in text


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
@pytest.mark.parametrize("kind", [Kind.PRE_DELIVERY, Kind.OUT_FOR_DELIVERY])
def test_without_a_link_the_message_just_ends(renderer: Renderer, channel: Channel, kind: Kind) -> None:
    fields = {**sample_fields(channel, "en", kind), "track_url": ""}
    text = renderer.render(channel, "en", kind, fields).text
    assert "href" not in text
    assert text == text.rstrip()
    assert text.endswith(".")


def test_the_link_is_the_tracking_page_else_the_bots_deep_link(renderer: Renderer) -> None:
    parcel = SimpleNamespace(tracking_token="Ab3dE9xYz0-_")
    plain = Composer(renderer, MessagesSettings())
    assert plain.track_url(parcel) == ""  # type: ignore[arg-type]
    bot = Composer(renderer, MessagesSettings(), telegram_username="doorstep_bot")
    assert bot.track_url(parcel) == "https://t.me/doorstep_bot?start=Ab3dE9xYz0-_"  # type: ignore[arg-type]
    page = Composer(renderer, MessagesSettings(track_url="https://t.example/{token}"), "doorstep_bot")
    assert page.track_url(parcel) == "https://t.example/Ab3dE9xYz0-_"  # type: ignore[arg-type]
