"""A finished day read back from its database: the figures `doorstep demo` prints, and an HTML report.

The delivery figures (parcels, attempts, windows told and agreed, arrival error, drivers, the cost of
telling, the lists) are `bot.domain.figures`, computed once from `bot.store.day_facts`: the console's
metrics page shows the same. What only the report adds, for `day`:
- messages: those about the day's deliveries (`deliveries.date == day`) and the delivery-less ones to
  drivers on the day's routes, by kind, channel and status.
- re-plan latency is `latency_ms` of each `plan.revised` event, else its `solve_ms`; percentiles are
  nearest-rank. Told per re-plan is its `told` (recipients given a new window).
- escalations: the day's parcels', and those about no delivery raised on the day.
"""

import html
import json
import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Table

from bot.config import MessagesSettings
from bot.domain import figures as figures_
from bot.domain import invariants
from bot.domain.figures import Attempt, DayFacts, DayFigures
from bot.store import day_facts
from bot.store.db import open_store

OSM_CREDIT = "© OpenStreetMap contributors"
_DELIVERIES = "SELECT id FROM deliveries WHERE date = :day"
_DRIVERS = "SELECT r.driver_id FROM routes r JOIN plans p ON p.id = r.plan_id WHERE p.date = :day"
_MESSAGES = f"""FROM messages WHERE (delivery_id IN ({_DELIVERIES})
    OR (delivery_id IS NULL AND driver_id IN ({_DRIVERS})))"""


@dataclass(frozen=True)
class Summary:
    """The day in figures; percentages and latencies are None when there was nothing to measure."""

    day: date
    timezone: str
    figures: DayFigures
    facts: DayFacts
    messages: Mapping[tuple[str, str], Mapping[str, int]]  # (kind, channel) -> status -> count
    replans: int
    replan_latency_p50_ms: int | None
    replan_latency_p95_ms: int | None
    moved_per_replan_mean: float | None
    moved_per_replan_max: int | None
    escalations: Mapping[str, int]
    violations: tuple[invariants.Violation, ...]  # windows changed untold, messages out of order

    @property
    def messages_total(self) -> int:
        return sum(sum(by_status.values()) for by_status in self.messages.values())

    @property
    def messages_by_status(self) -> dict[str, int]:
        found: Counter[str] = Counter()
        for by_status in self.messages.values():
            found.update(by_status)
        return dict(sorted(found.items()))


async def summarize(db_path: Path, day: date, rules: MessagesSettings | None = None) -> Summary:
    """Read a finished day, compute its figures and check its invariants (with `rules`' thresholds)."""
    rules = rules or MessagesSettings()
    store = await open_store(f"sqlite+aiosqlite:///{db_path}")
    try:
        async with store.read() as conn:
            facts = await day_facts.load(conn, day)
    finally:
        await store.close()
    with _connect(db_path) as conn:
        tz = _timezone(conn, day)
        latencies, told = _replans(conn, day)
        return Summary(
            day=day,
            timezone=tz.key,
            figures=figures_.compute(facts),
            facts=facts,
            messages=_messages(conn, day),
            replans=len(told),
            replan_latency_p50_ms=figures_.percentile(latencies, 50),
            replan_latency_p95_ms=figures_.percentile(latencies, 95),
            moved_per_replan_mean=sum(told) / len(told) if told else None,
            moved_per_replan_max=max(told, default=None),
            escalations=_escalations(conn, day, tz, set(facts.parcels)),
            violations=tuple(invariants.check(facts, *invariants.thresholds(rules))),
        )


@contextmanager
def _connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        yield conn


def _ts(text: str) -> datetime:
    """SQLAlchemy keeps UTC on SQLite as naive text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _timezone(conn: sqlite3.Connection, day: date) -> ZoneInfo:
    row = conn.execute(
        "SELECT timezone FROM deliveries WHERE date = :day GROUP BY timezone ORDER BY count(*) DESC LIMIT 1",
        {"day": day.isoformat()},
    ).fetchone()
    return ZoneInfo(row[0] if row else "UTC")


def _replans(conn: sqlite3.Connection, day: date) -> tuple[list[int], list[int]]:
    rows = conn.execute(
        """SELECT e.data FROM events e JOIN plans p ON p.id = e.plan_id
        WHERE e.kind = 'plan.revised' AND p.date = :day ORDER BY e.at, e.id""",
        {"day": day.isoformat()},
    )
    data = [json.loads(r["data"]) for r in rows]
    latencies = [int(ms) for x in data if (ms := _first(x.get("latency_ms"), x.get("solve_ms"))) is not None]
    return latencies, [int(x.get("told") or 0) for x in data]


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _messages(conn: sqlite3.Connection, day: date) -> dict[tuple[str, str], dict[str, int]]:
    rows = conn.execute(
        f"SELECT kind, channel, status, count(*) AS n {_MESSAGES} GROUP BY kind, channel, status",
        {"day": day.isoformat()},
    )
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in rows:
        found[r["kind"], r["channel"]][r["status"]] = r["n"]
    return dict(sorted(found.items()))


def _escalations(conn: sqlite3.Connection, day: date, tz: ZoneInfo, parcels: set[int]) -> dict[str, int]:
    """The day's parcels' escalations, and those about no delivery raised on the day."""
    rows = conn.execute("SELECT kind, created_at, delivery_id FROM escalations ORDER BY kind")
    kinds = Counter(
        r["kind"]
        for r in rows
        if r["delivery_id"] in parcels
        or (r["delivery_id"] is None and _ts(r["created_at"]).astimezone(tz).date() == day)
    )
    return dict(kinds)


# The figures, once, for both the terminal table and the HTML page.


def figures(summary: Summary) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(label, value)]) in reading order."""
    s, f = summary, summary.figures
    return [
        ("Deliveries", [
            ("parcels", str(f.parcels)),
            ("delivered", str(f.delivered)),
            ("failed (not delivered on the day)", str(f.failed)),
            ("first-attempt success", _fmt_pct(f.first_attempt_pct)),
            *[(f"failed attempts · {reason}", str(n)) for reason, n in sorted(f.failed_attempts.items())],
            ("rescheduled by the recipient", str(f.rescheduled)),
        ]),
        ("Promises", [
            ("inside the agreed window", _fmt_pct(f.in_agreed_pct)),
            ("inside the first window told", _fmt_pct(f.in_first_pct)),
            ("inside the last window told", _fmt_pct(f.in_last_pct)),
            ("delivered with an agreed window", f"{f.with_agreed} of {f.delivered}"),
            ("arrival error, median", _fmt_minutes(f.error_median_min)),
            ("arrival error, p90 (early or late)", _fmt_size(f.error_p90_min)),
            ("worst early", _fmt_minutes(f.worst_early_min)),
            ("worst late", _fmt_minutes(f.worst_late_min)),
        ]),
        ("Telling", [
            ("messages per delivered parcel", _fmt(f.messages_per_delivered, 2)),
            ("SMS segments per delivered parcel", _fmt(f.segments_per_delivered, 2)),
            ("window updates per recipient", _fmt(f.window_updates_per_recipient, 2)),
            ("opted out", f"{f.opted_out} ({_fmt_pct(f.opt_out_pct)})"),
            ("first staff answer, median", _fmt_size(f.first_staff_answer_median_min)),
            ("messages", str(s.messages_total)),
            *[(status, str(n)) for status, n in s.messages_by_status.items()],
        ]),
        ("Re-plans", [
            ("re-plans", str(s.replans)),
            ("latency p50 / p95", f"{_fmt(s.replan_latency_p50_ms)} / {_fmt(s.replan_latency_p95_ms)} ms"),
            ("told per re-plan, mean / max", f"{_fmt(s.moved_per_replan_mean)} / "
                                             f"{_fmt(s.moved_per_replan_max)}"),
        ]),
        ("Invariants", [
            ("windows changed untold", str(sum(v.kind == "untold" for v in s.violations))),
            ("messages out of order", str(sum(v.kind == "order" for v in s.violations))),
        ]),
        ("Support", [
            ("escalations", str(sum(s.escalations.values()))),
            *[(f"escalations · {kind}", str(n)) for kind, n in sorted(s.escalations.items())],
        ]),
    ]  # fmt: skip


def driver_rows(summary: Summary) -> list[tuple[str, ...]]:
    """(driver, stops, on time, failed, km, hours, idle) per driver."""
    return [
        (d.name, str(d.stops), str(d.on_time), str(d.failures), f"{d.km:.1f}", f"{d.hours:.1f}",
         f"{d.idle_min:.0f} min")
        for d in summary.figures.drivers
    ]  # fmt: skip


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def _fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _fmt_minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f} min"


def _fmt_size(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} min"


def _message_rows(summary: Summary) -> list[tuple[str, str, int, str]]:
    """(kind, channel, total, "sent 3, expired 1")."""
    return [
        (kind, channel, sum(by.values()), ", ".join(f"{st} {n}" for st, n in sorted(by.items())))
        for (kind, channel), by in summary.messages.items()
    ]


def render_table(summary: Summary) -> Table:
    """The summary for the terminal: one table, a section per topic, messages by kind and channel last."""
    table = Table(title=f"Doorstep · {summary.day:%a %d %b %Y} ({summary.timezone})", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for section, rows in figures(summary):
        table.add_row(f"[bold]{section}[/bold]", "")
        for label, value in rows:
            table.add_row(f"  {escape(label)}", escape(value))
        table.add_section()
    table.add_row("[bold]Messages by kind · channel[/bold]", "")
    for kind, channel, total, statuses in _message_rows(summary):
        table.add_row(f"  {escape(kind)} · {escape(channel)}", escape(f"{total} ({statuses})"))
    return table


# The HTML report: the figures, then three charts drawn as inline SVG (the page needs no network).

_EARLY, _LATE, _OK, _FAIL, _WINDOW = "#4c78a8", "#e8833a", "#2e7d32", "#c62828", "#d6e4f5"
_PALETTE = ("#4c78a8", "#e8833a", "#54a24b", "#b279a2", "#eeca3b", "#72b7b2", "#ff9da6", "#9d755d",
            "#e45756", "#79706e", "#bab0ac", "#1f5f8b")  # fmt: skip
_CSS = """
body{margin:0;background:#fafafa;color:#1d1d1f}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1000px;margin:0 auto;padding:32px 24px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:36px 0 8px}
.sub,figcaption,footer{color:#6e6e73;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:12px;margin-top:20px}
.card,figure{background:#fff;border:1px solid #e3e3e6;border-radius:8px;padding:12px 16px;margin:0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:3px 6px;text-align:left;border-bottom:1px solid #f0f0f2}td.n{text-align:right}
caption{text-align:left;font-weight:600;padding-bottom:4px}
svg{display:block;width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#444}
.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px}
footer{margin-top:40px}
"""


@dataclass(frozen=True, slots=True)
class _Mark:
    at: datetime
    delivered: bool
    window: tuple[datetime, datetime] | None
    title: str


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    tz: ZoneInfo
    facts: DayFacts


def write_html(summary: Summary, db_path: Path, path: Path, *, osm: bool = False) -> Path:
    """Write one self-contained HTML file about the day in `db_path` and return its path."""
    d = _Day(summary.day, ZoneInfo(summary.timezone), summary.facts)
    with _connect(db_path) as conn:
        lanes = _lanes(conn, d)
        hours = _hourly(conn, d)
    body = [
        f"<h1>Doorstep · {summary.day:%A %d %B %Y}</h1>",
        f'<p class="sub">Simulated day from {_e(db_path.name)}; times in {_e(summary.timezone)}.</p>',
        _html_figures(summary),
        "<h2>Drivers</h2>",
        _html_drivers(summary),
        "<h2>Arrival against the agreed window</h2>",
        _figure(_svg_histogram(summary.figures.errors_min), _histogram_caption(summary)),
        "<h2>Each van's day</h2>",
        _figure(_svg_timeline(lanes, d.tz), _timeline_caption()),
        "<h2>Failed, late and escalated parcels</h2>",
        _html_lists(summary),
        "<h2>Messages sent per hour</h2>",
        _figure(*_svg_messages(hours, d)),
        "<h2>Messages by kind and channel</h2>",
        _html_messages(summary),
        f"<footer>Doorstep demo report{' · ' + _e(OSM_CREDIT) if osm else ''}</footer>",
    ]
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Doorstep · {summary.day.isoformat()}</title><style>{_CSS}</style></head>"
        f"<body><main>\n{'\n'.join(body)}\n</main></body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def _html_figures(summary: Summary) -> str:
    cards = []
    for section, rows in figures(summary):
        cells = "".join(f'<tr><td>{_e(k)}</td><td class="n">{_e(v)}</td></tr>' for k, v in rows)
        cards.append(f'<div class="card"><table><caption>{_e(section)}</caption>{cells}</table></div>')
    return f'<section class="cards">{"".join(cards)}</section>'


def _html_drivers(summary: Summary) -> str:
    columns = ("driver", "stops", "on time", "failed", "km (straight lines)", "hours", "idle")
    head = "".join(f"<th>{_e(h)}</th>" for h in columns)
    rows = "".join(
        "<tr>"
        + "".join(f'<td class="n">{_e(v)}</td>' if n else f"<td>{_e(v)}</td>" for n, v in enumerate(r))
        + "</tr>"
        for r in driver_rows(summary)
    )
    return f'<div class="card"><table><tr>{head}</tr>{rows}</table></div>'


def _html_lists(summary: Summary) -> str:
    f = summary.figures
    cards = []
    for title, items in (("failed", f.failed_list), ("late", f.late_list), ("escalated", f.escalated_list)):
        rows = "".join(f"<tr><td>{_e(p.order_id)}</td><td>{_e(p.detail)}</td></tr>" for p in items)
        cards.append(
            f'<div class="card"><table><caption>{_e(title)} ({len(items)})</caption>{rows}</table></div>'
        )
    return f'<section class="cards">{"".join(cards)}</section>'


def _html_messages(summary: Summary) -> str:
    rows = "".join(
        f'<tr><td>{_e(kind)}</td><td>{_e(channel)}</td><td class="n">{total}</td><td>{_e(statuses)}</td></tr>'
        for kind, channel, total, statuses in _message_rows(summary)
    )
    head = "<tr><th>kind</th><th>channel</th><th>total</th><th>by status</th></tr>"
    return f'<div class="card"><table>{head}{rows}</table></div>'


def _lanes(conn: sqlite3.Connection, d: _Day) -> list[tuple[str, list[_Mark]]]:
    """One lane per van on the day's routes (and per van that made an attempt), in driver-code order."""
    drivers = conn.execute("SELECT id, code, name FROM drivers ORDER BY code").fetchall()
    on_day = {r[0] for r in conn.execute(_DRIVERS, {"day": d.day.isoformat()})}
    marks: dict[int | None, list[_Mark]] = defaultdict(list)
    for attempt in d.facts.today:
        marks[attempt.driver_id].append(_mark(d, attempt))
    lanes = [
        (f"{r['name']} ({r['code']})", marks[r["id"]]) for r in drivers if r["id"] in on_day | marks.keys()
    ]
    return lanes + ([("no van", marks[None])] if marks.get(None) else [])


def _mark(d: _Day, attempt: Attempt) -> _Mark:
    agreed = d.facts.agreed(attempt.delivery_id, attempt.at)
    window = (agreed.start.astimezone(d.tz), agreed.end.astimezone(d.tz)) if agreed else None
    at = attempt.at.astimezone(d.tz)
    order_id = d.facts.parcels[attempt.delivery_id].order_id
    title = f"{order_id} · {'delivered' if attempt.delivered else 'failed'} {at:%H:%M}"
    if window:
        title += f" · agreed {window[0]:%H:%M}–{window[1]:%H:%M}"
    return _Mark(at, attempt.delivered, window, title)


def _hourly(conn: sqlite3.Connection, d: _Day) -> dict[datetime, Counter[str]]:
    rows = conn.execute(
        f"SELECT kind, sent_at {_MESSAGES} AND sent_at IS NOT NULL", {"day": d.day.isoformat()}
    )
    hours: dict[datetime, Counter[str]] = defaultdict(Counter)
    for r in rows:
        hours[_ts(r["sent_at"]).astimezone(d.tz).replace(minute=0, second=0, microsecond=0)][r["kind"]] += 1
    return hours


def _svg(width: int, height: int, parts: Sequence[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(label)}">{"".join(parts)}</svg>'
    )


def _ticks(top: int) -> tuple[int, range]:
    """A rounded axis maximum and at most six ticks from zero, in steps of 1, 2 or 5 times ten to a power."""
    step = next(m * 10**p for p in range(12) for m in (1, 2, 5) if math.ceil(top / (m * 10**p)) <= 5)
    high = max(math.ceil(top / step), 1) * step
    return high, range(0, high + 1, step)


def _y_axis(top: int, left: int, width: float, height: float) -> tuple[int, list[str]]:
    high, ticks = _ticks(top)
    parts = []
    for tick in ticks:
        y = 10 + height - height * tick / high
        parts.append(
            f'<line x1="{left}" x2="{left + width:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ececef"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    return high, parts


def _svg_histogram(errors: Sequence[float]) -> str:
    if not errors:
        return '<p class="sub">No delivered parcel had an agreed window to measure against.</p>'
    bins = Counter(math.floor(e / 5) for e in errors)
    lo, hi = min(bins), max(bins)
    width, height, left = 640, 250, 40
    plot_w, plot_h, bar = width - left - 12, height - 60, (width - left - 12) / (hi - lo + 1)
    high, parts = _y_axis(max(bins.values()), left, plot_w, plot_h)
    for i, k in enumerate(range(lo, hi + 1)):
        n, x = bins.get(k, 0), left + i * bar
        h = plot_h * n / high
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{10 + plot_h - h:.1f}" width="{max(bar - 2, 1):.1f}" height="{h:.1f}" '
            f'fill="{_EARLY if k < 0 else _LATE}"><title>{k * 5} to {k * 5 + 5} min: {n}</title></rect>'
        )
    step = next((m for m in (5, 10, 15, 30, 60, 120) if (hi - lo + 1) * 5 / m <= 14), 240)
    for i in range(hi - lo + 2):
        if (edge := (lo + i) * 5) % step == 0:
            x = left + i * bar
            parts.append(f'<text x="{x:.1f}" y="{plot_h + 26}" text-anchor="middle">{edge}</text>')
    if lo <= 0 <= hi + 1:
        x = left - lo * bar
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="6" y2="{plot_h + 12}" '
            'stroke="#333" stroke-dasharray="4 3"/>'
        )
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                 "minutes from the middle of the agreed window (early &lt; 0 &lt; late)</text>")  # fmt: skip
    return _svg(width, height, parts, "ETA error histogram, bins of 5 minutes")


def _histogram_caption(summary: Summary) -> str:
    f = summary.figures
    return (
        f"{len(f.errors_min)} delivered parcels with an agreed window · "
        f"<b>{_fmt_pct(f.in_agreed_pct)}</b> inside it · "
        f"median {_fmt_minutes(f.error_median_min)} · bins of 5 minutes, "
        f'<span class="key" style="background:{_EARLY}"></span>early '
        f'<span class="key" style="background:{_LATE}"></span>late'
    )


def _svg_timeline(lanes: Sequence[tuple[str, Sequence[_Mark]]], tz: ZoneInfo) -> str:
    times = [t.timestamp() for _, marks in lanes for m in marks for t in _moments(m)]
    if not times:
        return '<p class="sub">No stop was attempted.</p>'
    t0 = datetime.fromtimestamp(min(times), tz).replace(minute=0, second=0, microsecond=0).timestamp()
    t1 = t0 + 3600 * max(math.ceil((max(times) - t0) / 3600), 1)
    width, left, top, lane = 960, 180, 26, 26
    height = top + lane * len(lanes) + 8

    def x(ts: float) -> float:
        return left + (width - left - 16) * (ts - t0) / (t1 - t0)

    parts = [
        f'<rect x="0" y="{top + i * lane}" width="{width}" height="{lane}" fill="#f7f7f9"/>'
        for i in range(0, len(lanes), 2)
    ]
    parts.extend(_hour_grid(t0, t1, tz, x, height))
    for i, (label, marks) in enumerate(lanes):
        parts.extend(_lane(label, marks, x, top + i * lane + lane / 2))
    return _svg(width, height, parts, "Timeline of each van's stops")


def _moments(mark: _Mark) -> tuple[datetime, ...]:
    return (mark.at, *mark.window) if mark.window else (mark.at,)


def _hour_grid(t0: float, t1: float, tz: ZoneInfo, x: Callable[[float], float], height: int) -> list[str]:
    step = 3600 * math.ceil((t1 - t0) / 3600 / 14)
    parts = []
    for ts in range(int(t0), int(t1) + 1, step):
        parts.append(f'<line x1="{x(ts):.1f}" x2="{x(ts):.1f}" y1="20" y2="{height - 6}" stroke="#e0e0e4"/>')
        label = f"{datetime.fromtimestamp(ts, tz):%H:%M}"
        parts.append(f'<text x="{x(ts):.1f}" y="14" text-anchor="middle">{label}</text>')
    return parts


def _lane(label: str, marks: Sequence[_Mark], x: Callable[[float], float], mid: float) -> list[str]:
    parts = []
    short = label if len(label) <= 26 else label[:25] + "…"
    parts.append(
        f'<text x="172" y="{mid + 4:.1f}" text-anchor="end">{_e(short)}<title>{_e(label)}</title></text>'
    )
    for m in marks:
        if m.window:
            a, b = x(m.window[0].timestamp()), x(m.window[1].timestamp())
            parts.append(f'<rect x="{a:.1f}" y="{mid - 7:.1f}" width="{b - a:.1f}" height="14" rx="3" '
                         f'fill="{_WINDOW}" fill-opacity="0.6"/>')  # fmt: skip
    for m in marks:
        cx, tip = x(m.at.timestamp()), f"<title>{_e(m.title)}</title>"
        if m.delivered:
            parts.append(f'<circle cx="{cx:.1f}" cy="{mid:.1f}" r="4.5" fill="{_OK}">{tip}</circle>')
        else:
            points = (
                f"{cx:.1f},{mid - 6:.1f} {cx + 6:.1f},{mid:.1f} {cx:.1f},{mid + 6:.1f} {cx - 6:.1f},{mid:.1f}"
            )
            parts.append(f'<polygon points="{points}" fill="{_FAIL}">{tip}</polygon>')
    return parts


def _timeline_caption() -> str:
    return (
        f'<span class="key" style="background:{_OK};border-radius:50%"></span>delivered '
        f'<span class="key" style="background:{_FAIL}"></span>failed '
        f'<span class="key" style="background:{_WINDOW}"></span>the agreed window '
        "· local time of day; hover a mark for the order"
    )


def _svg_messages(hours: Mapping[datetime, Counter[str]], d: _Day) -> tuple[str, str]:
    if not hours:
        return '<p class="sub">No message was sent.</p>', ""
    kinds = [k for k, _ in sum(hours.values(), Counter[str]()).most_common()]
    colour = {k: _PALETTE[i % len(_PALETTE)] for i, k in enumerate(kinds)}
    slots = _slots(hours, d)
    width, height, left = 960, 240, 40
    plot_w, plot_h = width - left - 12, height - 40
    high, parts = _y_axis(max(sum(c.values()) for _, c in slots), left, plot_w, plot_h)
    bar = min(plot_w / len(slots), 56)
    every = math.ceil(len(slots) / 16)
    for i, (label, counts) in enumerate(slots):
        parts.extend(_stack(counts, kinds, colour, left + i * bar, bar, plot_h, high, label))
        if i % every == 0 or not label[0].isdigit():
            x = left + (i + 0.5) * bar
            parts.append(f'<text x="{x:.1f}" y="{plot_h + 28}" text-anchor="middle">{label}</text>')
    legend = " ".join(f'<span class="key" style="background:{colour[k]}"></span>{_e(k)}' for k in kinds)
    return _svg(width, height, parts, "Messages sent per hour, stacked by kind"), legend


def _slots(hours: Mapping[datetime, Counter[str]], d: _Day) -> list[tuple[str, Counter[str]]]:
    """Each hour of the day from the first message to the last; those before and after, one bar each."""
    before = sum((c for h, c in hours.items() if h.date() < d.day), Counter[str]())
    after = sum((c for h, c in hours.items() if h.date() > d.day), Counter[str]())
    on_day = [h.timestamp() for h in hours if h.date() == d.day]
    slots = [("earlier", before)] if before else []
    if on_day:
        for ts in range(int(min(on_day)), int(max(on_day)) + 1, 3600):
            hour = datetime.fromtimestamp(ts, d.tz)
            slots.append((f"{hour:%H:%M}", hours.get(hour, Counter())))
    return slots + ([("later", after)] if after else [])


def _stack(
    counts: Counter[str], kinds: Sequence[str], colour: Mapping[str, str],
    x: float, bar: float, plot_h: float, high: int, slot: str,
) -> list[str]:  # fmt: skip
    parts, base = [], 10 + plot_h
    for kind in kinds:
        if n := counts.get(kind, 0):
            h = plot_h * n / high
            base -= h
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{base:.1f}" width="{max(bar - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{colour[kind]}"><title>{slot} {_e(kind)}: {n}</title></rect>'
            )
    return parts
