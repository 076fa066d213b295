"""The metrics page at /console/metrics: a day's figures and the seven days up to it, as SVG bar charts."""

from collections import Counter
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.console import metrics as reading
from bot.console.metrics import BIN_MINUTES, Metrics
from bot.web.console import days
from bot.web.console.charts import Chart, bar_chart
from bot.web.console.templates import render
from bot.web.deps import ServicesDep

router = APIRouter()

DAYS = 7


def _daily(
    chart_id: str, title: str, week: Sequence[Metrics], field: str, unit: str, top: float | None
) -> Chart:
    rows = [(m.day.strftime("%a %d %b"), getattr(m, field)) for m in week]
    return bar_chart(chart_id, title, rows, unit=unit, top=top, digits=0 if unit == "%" else 1)


def per_delivery(week: Sequence[Metrics]) -> list[tuple[str, float | None]]:
    """Messages per delivery by channel and direction over these days (weighted by their deliveries)."""
    total = sum(m.deliveries for m in week)
    sent, received = Counter[str](), Counter[str]()
    for m in week:
        sent.update({ch: n * m.deliveries for ch, n in m.outbound_per_delivery.items()})
        received.update({ch: n * m.deliveries for ch, n in m.inbound_per_delivery.items()})
    rows: list[tuple[str, float | None]] = []
    for channel in sorted(sent.keys() | received.keys()):
        rows.append((f"{channel} sent", sent[channel] / total))
        rows.append((f"{channel} received", received[channel] / total))
    return rows


def merged_bins(week: Sequence[Metrics]) -> tuple[tuple[int, int], ...]:
    counts: Counter[int] = Counter()
    for m in week:
        counts.update(dict(m.eta_error_bins))
    if not counts:
        return ()
    return tuple((edge, counts[edge]) for edge in range(min(counts), max(counts) + 1, BIN_MINUTES))


def eta_chart(chart_id: str, title: str, bins: Sequence[tuple[int, int]]) -> Chart:
    rows = [(f"{edge:+d} to {edge + BIN_MINUTES:+d} min", float(n)) for edge, n in bins]
    return bar_chart(chart_id, title, rows)


def charts(day: Metrics, week: Sequence[Metrics]) -> list[Chart]:
    span = f"{week[0].day:%d %b}–{week[-1].day:%d %b}"
    return [
        _daily("inside", f"Delivered inside the promised window, {span}", week,
               "inside_promise_pct", "%", 100),
        _daily("first", f"First-attempt success, {span}", week, "first_attempt_success_pct", "%", 100),
        _daily("resched", f"Reschedule rate, {span}", week, "reschedule_rate_pct", "%", 100),
        _daily("answer", f"Median time to first staff answer (min), {span}", week,
               "first_staff_answer_median_min", " min", None),
        bar_chart("msgs-day", f"Messages per delivery by channel, {day.day:%a %d %b}",
                  per_delivery([day]), digits=2),
        bar_chart("msgs-week", f"Messages per delivery by channel, {span}", per_delivery(week), digits=2),
        eta_chart("eta-day", f"ETA error (delivered minus the window's middle), {day.day:%a %d %b}",
                  day.eta_error_bins),
        eta_chart("eta-week", f"ETA error (delivered minus the window's middle), {span}", merged_bins(week)),
    ]  # fmt: skip


@router.get("/metrics")
async def metrics(request: Request, services: ServicesDep, date: str | None = None) -> HTMLResponse:
    async with services.store.read() as conn:
        chosen = await days.choose(conn, services, date, planned=True)
        week = await reading.metrics_range(conn, chosen.day, DAYS, zone=chosen.zone)
    day = week[-1]
    return render(request, "metrics.html", day=day, week=week, chosen=chosen, charts=charts(day, week))
