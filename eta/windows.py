"""Promised windows: what a recipient is told, derived from the planned arrival."""

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    return moment - (moment - _EPOCH) % step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    floored = floor_to(moment, step)
    return floored if floored == moment else floored + step


def promised_window(
    arrival: datetime,
    requested: tuple[datetime, datetime],
    width: timedelta = timedelta(minutes=60),
    align: timedelta = timedelta(minutes=15),
) -> tuple[datetime, datetime]:
    """A `width`-wide window on `align` boundaries that contains `arrival`.

    Centred on the arrival, then slid to stay inside the requested window as far as the
    width allows; the arrival is always inside (start <= arrival <= end).
    """
    start = floor_to(arrival - width / 2, align)
    start = max(start, floor_to(requested[0], align))
    start = min(start, ceil_to(requested[1], align) - width)
    start = min(start, floor_to(arrival, align))
    start = max(start, ceil_to(arrival, align) - width)
    return start, start + width
