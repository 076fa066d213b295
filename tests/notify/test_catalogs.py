"""The catalogs (bot/locales): every text written in code is translated in every shipped language, with
the same placeholders, and no catalog keeps a text the code no longer has."""

import re
from collections.abc import Mapping
from typing import Any

import pytest

from bot.handlers import telegram_customer, telegram_driver
from bot.notify import buttons, catalog, phrases
from bot.notify.segments import encoding_of
from bot.usecases import tracking
from bot.web import track

TABLES: list[Mapping[Any, str]] = [
    phrases.STATUS,
    phrases.PLACE,
    {"handed_over": phrases.HANDED_OVER},
    phrases.FAILED,
    phrases.REFUSAL,
    buttons.LABELS,
    buttons.DRIVER_LABELS,
    buttons.REASON_LABELS,
    telegram_customer.SAY,
    telegram_driver.SAY,
    track.SAY,
    track.SAID,
    track.REFUSED,
    tracking.SHOWN,
]
IN_CODE = {text for table in TABLES for text in table.values() if text}
TRANSLATED = [language for language in catalog.languages() if language != catalog.SOURCE]


def test_german_and_french_are_shipped() -> None:
    assert {"de", "fr"} <= set(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_in_code_is_translated_with_its_placeholders(language: str) -> None:
    messages = catalog.messages(language)
    assert sorted(IN_CODE - set(messages)) == []
    for text in IN_CODE:
        assert set(re.findall(r"\{\w+\}", messages[text])) == set(re.findall(r"\{\w+\}", text)), text


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_catalog_keeps_a_text_the_code_no_longer_has(language: str) -> None:
    assert sorted(set(catalog.messages(language)) - IN_CODE) == []


def test_a_regional_locale_reads_its_language_and_an_unknown_one_english() -> None:
    assert phrases.pick(phrases.REFUSAL, "de-AT")["taken"] == "diese Zeit ist nicht mehr frei"
    assert phrases.pick(phrases.REFUSAL, "pt-BR")["taken"] == "that time is no longer available"
    assert catalog.translate("de", "") == ""


@pytest.mark.parametrize("language", catalog.languages())
def test_the_phrases_that_go_into_sms_stay_in_gsm_7(language: str) -> None:
    """A status, a place or a reason in an SMS must not switch it to UCS-2 (70 characters a segment)."""
    sms_tables: list[Mapping[Any, str]] = [phrases.STATUS, phrases.PLACE, phrases.FAILED, phrases.REFUSAL]
    for table in sms_tables:
        for text in phrases.pick(table, language).values():
            assert encoding_of(text) == "GSM-7", text
    assert encoding_of(catalog.translate(language, phrases.HANDED_OVER)) == "GSM-7"
