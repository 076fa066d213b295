"""Translations of the texts written in code (phrases, buttons, the bots' direct answers): gettext catalogs.

English is the source language: a text in code is its own message id, and
bot/locales/<language>/LC_MESSAGES/doorstep.po holds each other language (Babel reads the .po file
itself, so there is no compiled .mo to keep in step). Adding a language is adding its catalog and its
template folders (bot/templates/<channel>/<language>/). A text a catalog lacks is shown in English;
tests/notify/test_catalogs.py makes sure no shipped catalog lacks one.
"""

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.notify.format import locale_chain

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "doorstep"
SOURCE = "en"


def translate(locale: str, text: str) -> str:
    """`text` (English) in the most specific language we have for `locale` ("de-AT" -> de; unknown -> en)."""
    for tag in locale_chain(locale):
        if tag == SOURCE or not text:
            return text
        if found := messages(tag).get(text):
            return found
    return text


def languages() -> tuple[str, ...]:
    """English and every language with a catalog."""
    return (SOURCE, *sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


@cache
def messages(language: str) -> Mapping[str, str]:
    """The translated texts of one language's catalog (none when it has no catalog), fuzzy ones left out."""
    found = read(language)
    if found is None:
        return {}
    return {
        m.id: m.string
        for m in found
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def read(language: str) -> Catalog | None:
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return None
    with path.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)
