"""The metrics page at /console/metrics: a day's figures and the seven days up to it, as SVG bar charts."""

from collections import Counter
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.console import metrics as reading
from bot.domain.figures import BIN_MINUTES
from bot.domain.figures import DayFigures as Metrics
from bot.web.console import days
from bot.web.console.charts import Chart, bar_chart
from bot.web.console.templates import render
from bot.web.deps import ServicesDep

router = APIRouter()

DAYS = 7
ARRIVAL = "Arrival error (delivered minus the agreed window's middle)"


def _daily(
    chart_id: str, title: str, week: Sequence[Metrics], field: str, unit: str, top: float | None
) -> Chart:
    rows = [(m.day.strftime("%a %d %b"), getattr(m, field)) for m in week]
    return bar_chart(chart_id, title, rows, unit=unit, top=top, digits=0 if unit == "%" else 1)


def per_delivery(week: Sequence[Metrics]) -> list[tuple[str, float | None]]:
    """Messages per parcel by channel and direction over these days (weighted by their parcels)."""
    total = sum(m.parcels for m in week)
    sent, received = Counter[str](), Counter[str]()
    for m in week:
        sent.update({ch: n * m.parcels for ch, n in m.sent_per_parcel.items()})
        received.update({ch: n * m.parcels for ch, n in m.received_per_parcel.items()})
    rows: list[tuple[str, float | None]] = []
    for channel in sorted(sent.keys() | received.keys()):
        rows.append((f"{channel} sent", sent[channel] / total))
        rows.append((f"{channel} received", received[channel] / total))
    return rows


def merged_bins(week: Sequence[Metrics]) -> tuple[tuple[int, int], ...]:
    counts: Counter[int] = Counter()
    for m in week:
        counts.update(dict(m.error_bins))
    if not counts:
        return ()
    return tuple((edge, counts[edge]) for edge in range(min(counts), max(counts) + 1, BIN_MINUTES))


def eta_chart(chart_id: str, title: str, bins: Sequence[tuple[int, int]]) -> Chart:
    rows = [(f"{edge:+d} to {edge + BIN_MINUTES:+d} min", float(n)) for edge, n in bins]
    return bar_chart(chart_id, title, rows)


def charts(day: Metrics, week: Sequence[Metrics]) -> list[Chart]:
    span = f"{week[0].day:%d %b}–{week[-1].day:%d %b}"
    return [
        _daily("inside", f"Delivered inside the agreed window, {span}", week, "in_agreed_pct", "%", 100),
        _daily("first", f"First-attempt success, {span}", week, "first_attempt_pct", "%", 100),
        _daily("resched", f"Rescheduled by the recipient, {span}", week, "reschedule_pct", "%", 100),
        _daily("updates", f"Window updates per recipient, {span}", week,
               "window_updates_per_recipient", "", None),
        _daily("answer", f"Median time to first staff answer (min), {span}", week,
               "first_staff_answer_median_min", " min", None),
        bar_chart("msgs-day", f"Messages per parcel by channel, {day.day:%a %d %b}",
                  per_delivery([day]), digits=2),
        bar_chart("msgs-week", f"Messages per parcel by channel, {span}", per_delivery(week), digits=2),
        eta_chart("eta-day", f"{ARRIVAL}, {day.day:%a %d %b}", day.error_bins),
        eta_chart("eta-week", f"{ARRIVAL}, {span}", merged_bins(week)),
    ]  # fmt: skip


@router.get("/metrics")
async def metrics(request: Request, services: ServicesDep, date: str | None = None) -> HTMLResponse:
    async with services.store.read() as conn:
        chosen = await days.choose(conn, services, date, planned=True)
        week = await reading.metrics_range(conn, chosen.day, DAYS)
    day = week[-1]
    return render(request, "metrics.html", day=day, week=week, chosen=chosen, charts=charts(day, week))
