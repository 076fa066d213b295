import pytest

from bot.notify.segments import count_segments, encoding_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),
        ("€" + "a" * 159, ("GSM-7", 2)),
        ("a" * 152 + "€" + "a" * 100, ("GSM-7", 2)),  # 153 septets: the escape pair moves to part 2
        ("a" * 152 + "€" + "a" * 152, ("GSM-7", 3)),
        ("ä" * 160, ("GSM-7", 1)),
        ("Grüße aus Köln, Straße 5 é É ñ à ß Ä Ö Ü", ("GSM-7", 1)),
        ("ą", ("UCS-2", 1)),
        ("ą" + "a" * 69, ("UCS-2", 1)),
        ("ą" + "a" * 70, ("UCS-2", 2)),
        ("ą" * 134, ("UCS-2", 2)),
        ("ą" * 135, ("UCS-2", 3)),
        ("📦", ("UCS-2", 1)),
        ("📦" + "a" * 68, ("UCS-2", 1)),
        ("📦" + "a" * 69, ("UCS-2", 2)),
        ("a" * 66 + "📦" + "a" * 66, ("UCS-2", 3)),  # 134 units, but a surrogate pair is never split
    ],
    ids=lambda v: repr(v)[:24] if isinstance(v, str) else None,
)
def test_count_segments(text: str, expected: tuple[str, int]) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize("char", ["–", "„", "“", "’", "ç", "ł", "ë", "•", "\u200b"])
def test_characters_outside_gsm7_force_ucs2(char: str) -> None:
    assert encoding_of(f"Hello {char}") == "UCS-2"


@pytest.mark.parametrize("char", ["^", "{", "}", "\\", "[", "~", "]", "|", "€"])
def test_extension_characters_take_two_septets(char: str) -> None:
    assert count_segments(char * 80) == ("GSM-7", 1)
    assert count_segments(char * 81) == ("GSM-7", 2)
