"""SMS segment counting: GSM 03.38 (7-bit default alphabet) or UCS-2, as carriers bill it."""

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 basic character set (one septet each); ESC (0x1B) is left out.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: ESC + one septet, so two septets each.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# (single-part limit, per-part limit once the text needs a concatenation header)
_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def encoding_of(text: str) -> Encoding:
    """GSM-7 if every character is in the basic set or the extension table, else UCS-2."""
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def count_segments(text: str) -> tuple[Encoding, int]:
    """The encoding a carrier will use for `text` and how many SMS segments it takes (at least 1)."""
    encoding = encoding_of(text)
    units = [_units(c, encoding) for c in text]
    single, per_part = _LIMITS[encoding]
    if sum(units) <= single:
        return encoding, 1
    return encoding, _pack(units, per_part)


def _units(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair outside the BMP


def _pack(units: list[int], per_part: int) -> int:
    """Parts needed when no character (escape pair or surrogate pair) is split across two parts."""
    parts, used = 1, 0
    for size in units:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts
