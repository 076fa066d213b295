"""Horizontal bar charts laid out for inline SVG: one row per bar, its label on the left, its value as
text beside the bar (so the chart reads without colour, and a screen reader reads the text)."""

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_WIDTH = 150
BAR_SPACE = 300
ROW = 24
BAR = 16
WIDTH = LABEL_WIDTH + BAR_SPACE + 90


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    text: str  # the value as shown beside the bar (a dash for none)
    width: float
    y: int  # the row's top

    @property
    def text_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    bars: tuple[Bar, ...]
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW


def bar_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | None]],
    *,
    unit: str = "",
    top: float | None = None,
    digits: int = 0,
) -> Chart:
    """`rows` of (label, value or None); bars scale to `top` (default: the largest value)."""
    scale = top if top is not None else max((v for _, v in rows if v is not None), default=0)
    bars = tuple(
        Bar(label, _text(value, unit, digits), _width(value, scale), n * ROW)
        for n, (label, value) in enumerate(rows)
    )
    return Chart(chart_id, title, bars)


def _width(value: float | None, scale: float) -> float:
    if value is None or scale <= 0:
        return 0
    return round(max(value, 0) / scale * BAR_SPACE, 1)


def _text(value: float | None, unit: str, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"
