"""Is the promise kept? The demo day (sim/demo.py: the whole system on a virtual clock, simulated people
and traffic the planner does not know) for several seeds, read with the figures everyone reads
(bot.domain.figures) and checked with the invariants (bot.domain.invariants).

Per seed, one line; then the days pooled: shares weighted by what each day measured them over (parcels
with an agreed window, parcels attempted), the arrival-error p90 over every delivered parcel, updates
per recipient over every parcel, violations summed.

    python -m bench.promise                      # 5 seeds, 120 deliveries, 4 vans, Monaco's roads if there
    python -m bench.promise --seeds 1,2 --deliveries 40 --drivers 2 --no-roads
    python -m bench.promise --seeds 1-20         # a day swings by ~5 points with its seed: judge on 20

Last line: promise days=N in_agreed_pct=A in_first_pct=F first_attempt_pct=S updates_per_recipient=U
untold_changes=K out_of_order=O eta_p90_min=E
"""

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from bot.clock import SystemClock
from bot.config import MessagesSettings
from bot.domain.figures import DayFigures, percentile
from sim.demo import DemoOptions, monaco_extract, run_demo
from sim.report import Summary


def weighted(values: Sequence[tuple[float | None, int]]) -> float | None:
    """The mean of shares, each weighted by the count it was measured over."""
    measured = [(v, n) for v, n in values if v is not None and n]
    total = sum(n for _, n in measured)
    return sum(v * n for v, n in measured) / total if total else None


def line(name: str, summaries: Sequence[Summary]) -> str:
    days = [s.figures for s in summaries]
    untold = sum(v.kind == "untold" for s in summaries for v in s.violations)
    disorder = sum(v.kind == "order" for s in summaries for v in s.violations)
    updates = sum((f.window_updates_per_recipient or 0) * f.parcels for f in days)
    errors = [abs(e) for f in days for e in f.errors_min]
    return (
        f"{name} days={len(days)} "
        f"in_agreed_pct={_pct(weighted([(f.in_agreed_pct, f.with_agreed) for f in days]))} "
        f"in_first_pct={_pct(weighted([(f.in_first_pct, f.with_agreed) for f in days]))} "
        f"first_attempt_pct={_pct(weighted([(f.first_attempt_pct, f.attempted) for f in days]))} "
        f"updates_per_recipient={updates / max(sum(f.parcels for f in days), 1):.2f} "
        f"untold_changes={untold} out_of_order={disorder} "
        f"eta_p90_min={_num(percentile(errors, 90))}"
    )


def detail(seed: int, f: DayFigures, seconds: float) -> str:
    late = ", ".join(f"{p.order_id} {p.detail}" for p in f.late_list[:5])
    return (
        f"  seed {seed}: {f.parcels} parcels, {f.delivered} delivered ({f.with_agreed} with an agreed "
        "window), "
        f"in last told {_pct(f.in_last_pct)}%, error median {_num(f.error_median_min)} min, "
        f"worst late {_num(f.worst_late_min)} min; {seconds:.0f} s"
        + (f"; late: {late}{' …' if len(f.late_list) > 5 else ''}" if late else "")
    )


def _pct(value: float | None) -> str:
    return "nan" if value is None else f"{value:.1f}"


def _num(value: float | None) -> str:
    return "nan" if value is None else f"{value:.1f}"


async def run(
    seeds: Sequence[int], deliveries: int, drivers: int, roads: Path | None, day: date, history: int
) -> None:
    print(f"promise: {len(seeds)} demo days after {history} earlier days each, {deliveries} deliveries, "
          f"{drivers} vans, 60-minute windows, "
          f"{'roads of ' + roads.name if roads else 'straight lines'}; thresholds {MessagesSettings()
          .moved_threshold_minutes} / {MessagesSettings().delay_threshold_minutes} min")  # fmt: skip
    summaries: list[Summary] = []
    with tempfile.TemporaryDirectory(prefix="doorstep-promise-") as scratch:
        for seed in seeds:
            started = time.perf_counter()
            folder = Path(scratch) / f"seed-{seed}"
            for back in range(history, 0, -1):  # earlier days of the same fleet, in the same database
                earlier = day - timedelta(days=2 * back)  # every other day: a day's run spans two dates
                await run_demo(DemoOptions(folder, earlier, deliveries, drivers, seed + 1000 * back, roads))
            result = await run_demo(DemoOptions(folder, day, deliveries, drivers, seed, roads))
            summaries.append(result.summary)
            print(line(f"seed={seed}", [result.summary]))
            print(detail(seed, result.summary.figures, time.perf_counter() - started))
            for violation in result.summary.violations[:5]:
                print(f"  ! {violation.order_id} {violation.kind}: {violation.detail}")
    print(line("promise", summaries))


def seed_list(text: str) -> list[int]:
    """ "1,3,7" or "1-20" (or both: "1-5,9")."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="1-5", help="demo seeds: 1,3,7 or 1-20 (default 1-5)")
    parser.add_argument("--deliveries", type=int, default=120)
    parser.add_argument("--drivers", type=int, default=4)
    parser.add_argument("--no-roads", action="store_true", help="straight lines even with the Monaco extract")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="earlier days run first into each seed's database (to learn from)",
    )
    args = parser.parse_args()
    seeds = seed_list(args.seeds)
    roads = None if args.no_roads else monaco_extract()
    day = SystemClock().now().date() + timedelta(days=1)
    asyncio.run(run(seeds, args.deliveries, args.drivers, roads, day, args.history))


if __name__ == "__main__":
    main()
