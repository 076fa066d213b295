from datetime import UTC, datetime, timedelta

import pytest

from eta.windows import promised_window

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_window_is_centred_on_the_arrival_and_aligned() -> None:
    assert promised_window(at(67), (at(0), at(600))) == (at(30), at(90))


def test_window_slides_inside_the_requested_window() -> None:
    assert promised_window(at(5), (at(0), at(120))) == (at(0), at(60))
    assert promised_window(at(118), (at(0), at(120))) == (at(60), at(120))


def test_narrow_request_still_contains_the_arrival() -> None:
    start, end = promised_window(at(20), (at(10), at(40)))
    assert start <= at(20) <= end
    assert end - start == HOUR


@pytest.mark.parametrize("width", [30, 60, 90, 120])
@pytest.mark.parametrize("offset", range(0, 600, 7))
def test_always_contains_arrival_has_the_width_and_sits_on_15_minutes(width: int, offset: int) -> None:
    requested = (at(offset // 3), at(offset // 3 + 45 + offset % 200))
    arrival = min(max(at(offset), requested[0]), requested[1])
    start, end = promised_window(arrival, requested, timedelta(minutes=width))
    assert start <= arrival <= end
    assert end - start == timedelta(minutes=width)
    assert start.minute % 15 == 0
    assert start.second == 0
