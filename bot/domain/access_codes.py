"""Access codes written inside free text ("SAFE back door, key code 9753 under the mat"), found so that
what agents see can blot them out. Words in the templates' languages (en, de) and a few neighbours'."""

import re

BLOT = "••••"
_CODE_WORD = re.compile(
    r"\b(?:(?!(?:post|zip|bar|qr|promo|rabatt|gutschein)codes?\b)\w*codes?|pins?|passwor[dt]|keypads?|keys?"
    r"|key ?(?:box|safe)|lock ?box|locks?|lockers?|padlock|combination|combo|doors?|gates?|entry|entrance"
    r"|access|buzzer|intercom"
    r"|t(?:ü|ue)r\w*|\w+t(?:ü|ue)r|(?:garten|hof|garagen|haus)?tor|zugang\w*|eingang\w*|klingel\w*"
    r"|\w*schloss|schl(?:ü|ue)ssel\w*|kombination|pforte"
    r"|porte|portail|interphone|c[óo]digo|puerta|portal|codice|porta|portone|cancello|citofono|deur\w*|poort)\b",
    re.IGNORECASE,
)
# 3-12 digits (# and * allowed), not part of a word, an id (ORD-2026-0001), a decimal or a time (14:30).
_NUMBER = re.compile(r"(?<![\w.,/+])(?<!\w-)[#*]*\d[\d#*]{2,11}(?![\w/]|[.,:]\d)")
_TIME_OR_PLACE_BEFORE = re.compile(
    r"(?:\b(?:after|before|until|till|from|between|around|ab|bis|nach|vor|um|gegen|zwischen|seit"
    r"|no|nr|hausnummer|flat|apt|apartment|wohnung|whg|haus|house|room|zimmer|floor|etage|stock|building"
    r"|block|unit|suite|street|road|avenue|lane|order|bestellung|sendung|tracking|plz|zip|post ?code"
    r"|postleitzahl)|\w*(?:stra(?:ß|ss)e|str|weg|allee|platz|gasse))\W{0,3}$",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"\s?(?:am|pm|a\.m|p\.m|h|hrs?|uhr|o'?clock|min\w*|st|nd|rd|th|km|kg|eur\w*)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[!?\n;]|\.\s")
_BEFORE, _AFTER = 40, 25  # characters around a number searched for a code word, within its clause


def hide_codes(text: str, code: str | None = None) -> str:
    """`text` with the access codes in it blotted out: `code` (the delivery's own) wherever it is, and
    any number next to a word for a code, door, gate or key that is not a time, a house or an order number."""
    if code:
        text = text.replace(code, BLOT)
    return _NUMBER.sub(lambda m: BLOT if _is_code(text, m) else m[0], text)


def _is_code(text: str, number: re.Match[str]) -> bool:
    if sum(c.isdigit() for c in number[0]) < 3:
        return False
    before = text[max(0, number.start() - _BEFORE) : number.start()]
    after = text[number.end() : number.end() + _AFTER]
    if _TIME_OR_PLACE_BEFORE.search(before) or _UNIT_AFTER.match(after):
        return False
    return bool(
        _CODE_WORD.search(_CLAUSE_END.split(before)[-1]) or _CODE_WORD.search(_CLAUSE_END.split(after)[0])
    )
