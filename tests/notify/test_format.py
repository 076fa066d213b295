from datetime import UTC, date, datetime

import pytest

from bot.notify import format as fmt
from bot.notify.kinds import Channel
from tests.notify.samples import ZONE, at

MONDAY = date(2026, 11, 23)


def test_window_per_channel() -> None:
    start, end = datetime(2026, 11, 23, 13, tzinfo=UTC), datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert fmt.window(start, end, ZONE, Channel.SMS) == "14:00-15:00"
    assert fmt.window(start, end, "Europe/Berlin", Channel.TELEGRAM) == "14:00–15:00"


def test_clock_is_local_time_across_daylight_saving() -> None:
    assert fmt.clock(datetime(2026, 7, 1, 12, 20, tzinfo=UTC), ZONE) == "14:20"
    assert fmt.clock(datetime(2026, 11, 23, 13, 20, tzinfo=UTC), "Europe/Berlin") == "14:20"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        fmt.clock(datetime(2026, 11, 23, 14, 20), ZONE)  # noqa: DTZ001 (the point of the test)


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (MONDAY, "en", "Mon 23 Nov"),
        (MONDAY, "de", "Mo. 23. Nov."),
        (MONDAY, "de-AT", "Mo. 23. Nov."),
        (date(2026, 1, 1), "de", "Do. 1. Jan."),
        (date(2026, 1, 1), "de-AT", "Do. 1. Jän."),
        (date(2026, 3, 7), "de", "Sa. 7. März"),
        (date(2026, 9, 27), "de", "So. 27. Sept."),
        (date(2026, 9, 27), "en-GB", "Sun 27 Sep"),
        (date(2026, 9, 27), "fr", "dim. 27 sept."),
        (date(2026, 8, 23), "fr-CH", "dim. 23 août"),
        (date(2026, 9, 27), "pt", "Sun 27 Sep"),  # no such language here: English
    ],
)
def test_day(value: date, locale: str, expected: str) -> None:
    assert fmt.day(value, locale) == expected


def test_an_sms_date_keeps_to_gsm_7_letters() -> None:
    assert fmt.day(date(2026, 8, 23), "fr", Channel.SMS) == "dim. 23 aout"  # "û" would make it UCS-2
    assert fmt.day(date(2026, 2, 3), "fr", Channel.SMS) == "mar. 3 févr."  # "é" is GSM-7
    assert fmt.day(date(2026, 1, 1), "de-AT", Channel.SMS) == "Do. 1. Jän."


@pytest.mark.parametrize(
    ("locale", "chain"),
    [
        ("de-AT", ("de-AT", "de", "en")),
        ("de_at", ("de-AT", "de", "en")),
        ("zh-Hant", ("zh-hant", "zh", "en")),
        ("DE", ("de", "en")),
        ("en", ("en",)),
        ("", ("en",)),
        ("../../etc", ("en",)),
    ],
)
def test_locale_chain(locale: str, chain: tuple[str, ...]) -> None:
    assert fmt.locale_chain(locale) == chain


def test_slots_are_numbered_choices() -> None:
    windows = [(at(MONDAY, 14), at(MONDAY, 16)), (at(date(2026, 11, 24), 8), at(date(2026, 11, 24), 10))]
    assert fmt.slots(windows, ZONE, "en", Channel.SMS) == [
        {
            "n": 1,
            "day": "Mon 23 Nov",
            "window": "14:00-16:00",
            "label": "1) Mon 23 Nov 14:00-16:00",
            "start": "2026-11-23T13:00:00+00:00",
            "end": "2026-11-23T15:00:00+00:00",
        },
        {
            "n": 2,
            "day": "Tue 24 Nov",
            "window": "08:00-10:00",
            "label": "2) Tue 24 Nov 08:00-10:00",
            "start": "2026-11-24T07:00:00+00:00",
            "end": "2026-11-24T09:00:00+00:00",
        },
    ]
    assert [s["label"] for s in fmt.slots(windows, ZONE, "de", Channel.TELEGRAM)] == [
        "Mo. 23. Nov., 14:00–16:00",
        "Di. 24. Nov., 08:00–10:00",
    ]
