"""Promised windows: what a recipient is told, derived from the planned arrival."""

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# An arrival before the window opens is handed over inside it, after the van waited: worth half.
EARLY_WORTH = 0.5
NEAR_BEST = 0.05  # windows holding within 5 % of the best are as good: the best-centred of them is taken


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
    *,
    errors: Sequence[float] = (),
) -> tuple[datetime, datetime]:
    """A `width`-wide window on `align` boundaries that contains `arrival`.

    Centred on the arrival, then slid to stay inside the requested window as far as the
    width allows; the arrival is always inside (start <= arrival <= end).

    `errors` (sorted seconds: how much later than predicted past parcels were handed over, for
    predictions this far ahead; eta.learning) place it instead: of the starts that keep the arrival
    inside (and the requested window, where the width allows), those holding about the most of
    `arrival + error` (an early one counts EARLY_WORTH), and of these the one whose middle is nearest
    the likely hand-over (the median).
    """
    centred = _centred(arrival, requested, width, align)
    if not errors:
        return centred, centred + width

    def score(start: datetime) -> float:
        opens, closes = ((moment - arrival).total_seconds() for moment in (start, start + width))
        early = bisect.bisect_left(errors, opens)
        inside = bisect.bisect_right(errors, closes) - early
        return inside + EARLY_WORTH * early

    scores = {start: score(start) for start in _starts(arrival, requested, width, align) or [centred]}
    good = max(scores.values()) - NEAR_BEST * len(errors)
    handed = arrival + timedelta(seconds=errors[len(errors) // 2])
    start = min((s for s, held in scores.items() if held >= good), key=lambda s: abs(s + width / 2 - handed))
    return start, start + width


def _centred(
    arrival: datetime, requested: tuple[datetime, datetime], width: timedelta, align: timedelta
) -> datetime:
    start = floor_to(arrival - width / 2, align)
    start = max(start, floor_to(requested[0], align))
    start = min(start, ceil_to(requested[1], align) - width)
    start = min(start, floor_to(arrival, align))
    return max(start, ceil_to(arrival, align) - width)


def _starts(
    arrival: datetime, requested: tuple[datetime, datetime], width: timedelta, align: timedelta
) -> list[datetime]:
    """Starts on the grid whose window holds `arrival` and lies inside the requested window."""
    first, last = ceil_to(arrival, align) - width, floor_to(arrival, align)
    starts = [first + n * align for n in range((last - first) // align + 1)]
    lowest, highest = floor_to(requested[0], align), ceil_to(requested[1], align) - width
    return [start for start in starts if lowest <= start <= highest]
