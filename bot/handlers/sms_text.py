"""Reading a text message (SMS, or the sandbox standing in for it) as an intent.

This is the keyword layer: numbered choices, the carriers' STOP/START/HELP families, and short
keywords in English and German. Free-text understanding ("tomorrow after 5") builds on it.
"""

import re
from collections.abc import Mapping
from typing import Any

from bot.domain import intents
from bot.domain.intents import Intent, SafeDropPlace

# Carriers and Twilio treat these as opt-out / opt-in only as a single word (any case, trimmed).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO", "HILFE"})

_CONFIRM = re.compile(
    r"^(yes|y|ok|okay|ja|passt|confirm|confirmed|bestätigen|bestätigt|👍)"
    r"([ ,!.]+(thanks|thank you|thx|danke|danke schön|great|super|perfect|perfekt|👍))?[.! ]*$",
    re.I,
)
_CHANGE = re.compile(
    r"^(change|reschedule|other time|another time|ändern|andere zeit|verschieben)[.!]*$", re.I
)
_STATUS = re.compile(r"^(status|where|where is it|wo|wo ist mein paket)\??$", re.I)
_PERSON = re.compile(r"^(person|human|agent|call me|mensch|mitarbeiter|rückruf)[.!]*$", re.I)
_NOT_RECEIVED = re.compile(
    r"(not received|never (arrived|came|got)|didn'?t get|nicht (erhalten|angekommen))", re.I
)
_SAFE = re.compile(r"^(safe|ablage|leave)\s*[:\-]?\s*(?P<text>.+)$", re.I | re.S)
_CODE = re.compile(r"^(code|tor|gate|türcode)\s*[:\-]?\s*(?P<code>[0-9A-Za-z#*]{2,12})$", re.I)
# In a safe-drop reply, these make it the recipient's standing preference (every delivery, not just this one).
_ALWAYS = re.compile(r"[,;]?\s*\b(always|every ?time|from now on|immer|jedes ?mal|künftig)\b[.!]*", re.I)
_PRESETS: tuple[tuple[SafeDropPlace, re.Pattern[str]], ...] = (
    (SafeDropPlace.FRONT_DOOR, re.compile(r"front door|haustür|vordertür|eingangstür", re.I)),
    (SafeDropPlace.BACK_DOOR, re.compile(r"back door|hintertür|rear door", re.I)),
    (SafeDropPlace.GARAGE, re.compile(r"garage", re.I)),
    (SafeDropPlace.RECEPTION, re.compile(r"reception|front desk|rezeption|empfang|pförtner", re.I)),
    (SafeDropPlace.MAILBOX, re.compile(r"mailbox|letterbox|post ?box|briefkasten", re.I)),
    (SafeDropPlace.NEIGHBOUR, re.compile(r"neighbou?r|nachbar", re.I)),
)


def parse(text: str, asked: Mapping[str, Any] | None = None) -> Intent:
    """The intent of `text`, reading a bare number against the question last `asked`, if any."""
    body = text.strip()
    word = body.upper().rstrip(".!")
    if word in STOP_WORDS:
        return intents.OptOut()
    if word in HELP_WORDS:
        return intents.Help()
    if body.isdigit():
        return _number(int(body), asked or {})
    if (asked or {}).get("question") == "comment" and body and not _NOT_RECEIVED.search(body):
        return intents.Comment(body[:1000])
    return _keywords(body) or intents.NotUnderstood(text)


def _number(n: int, asked: Mapping[str, Any]) -> Intent:
    question = asked.get("question")
    if question == "slot":
        return intents.Reschedule(slot=n)
    if question == "rating" and 1 <= n <= 5:
        return intents.Rate(n)
    menu: dict[int, Intent] = {1: intents.Confirm(), 2: intents.AskSlots(), 3: intents.AskInstructions()}
    return menu.get(n, intents.NotUnderstood(str(n)))


def _keywords(body: str) -> Intent | None:
    simple: tuple[tuple[re.Pattern[str], Intent], ...] = (
        (_CONFIRM, intents.Confirm()),
        (_CHANGE, intents.AskSlots()),
        (_STATUS, intents.Status()),
        (_PERSON, intents.Person()),
    )
    for pattern, intent in simple:
        if pattern.match(body):
            return intent
    if _NOT_RECEIVED.search(body):
        return intents.NotReceived()
    if code := _CODE.match(body):
        return intents.AccessCode(code["code"])
    if safe := _SAFE.match(body):
        return safe_drop(safe["text"].strip())
    return None


def safe_drop(text: str) -> intents.SafeDrop:
    """A preset when the words name one, the rest kept as the detail (a neighbour's name or number).

    "always" (immer, from now on...) makes it the standing preference and is not part of the detail.
    """
    standing = bool(_ALWAYS.search(text))
    detail = _ALWAYS.sub("", text).strip(" ,;.") if standing else text
    for place, pattern in _PRESETS:
        if pattern.search(detail):
            return intents.SafeDrop(place, detail, standing=standing)
    return intents.SafeDrop(SafeDropPlace.OTHER, detail, standing=standing)
