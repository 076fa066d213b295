"""Plan quality: the Solomon VRPTW instances solved through our VROOM boundary (``eta/problem.py``).

Same convention as VROOM's own benchmarks (vroom-scripts ``benchmarks/VRPTW``): Euclidean distances
x1000 rounded, travel time = distance, time windows and service times x1000. The gap is measured
against ``bks_distance_only`` in ``vrptw/bks.csv`` (best known distance, any number of vehicles).

    python -m bench.plan_quality --instances C101,R101 --exploration 5 --threads 2
"""

import argparse
import csv
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from eta.geo import LatLon
from eta.matrix import Matrix
from eta.model import JobSpec, VehicleSpec
from eta.problem import Indexed, solve

SCALE = 1000
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# build() places vans and jobs by matrix index and never reads their LatLon.
NOWHERE = LatLon(0.0, 0.0)
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Customer:
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True, slots=True)
class Instance:
    """A Solomon instance; ``customers[0]`` is the depot, whose due date is the horizon."""

    name: str
    vehicles: int
    capacity: int
    customers: tuple[Customer, ...]


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    vehicles: int
    distance: float
    unassigned: int
    bks: float | None
    solve_s: float

    @property
    def gap_pct(self) -> float | None:
        return None if self.bks is None else (self.distance - self.bks) / self.bks * 100


def default_data_dir() -> Path:
    configured = os.environ.get("DOORSTEP_SHARED_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "data"


def vrptw_dir(data: Path) -> Path:
    """``DIR/vrptw`` (DIR is the shared data root), or DIR itself when it already is the vrptw folder."""
    folder = data / "vrptw" if (data / "vrptw").is_dir() else data
    if not (folder / "solomon").is_dir():
        raise SystemExit(
            f"plan_quality: no Solomon instances in {folder / 'solomon'}; "
            "pass --data DIR or set DOORSTEP_SHARED_DATA to the folder holding vrptw/"
        )
    return folder


def parse(path: Path) -> Instance:
    lines = path.read_text().splitlines()
    rows = [line.split() for line in lines]
    numeric = [row for row in rows if row and all(NUMBER.match(token) for token in row)]
    vehicles, capacity = (int(token) for token in next(row for row in numeric if len(row) == 2))
    customers = tuple(_customer(row) for row in numeric if len(row) == 7)
    return Instance(lines[0].strip() or path.stem, vehicles, capacity, customers)


def _customer(row: list[str]) -> Customer:
    x, y, demand, ready, due, service = (float(token) for token in row[1:])
    return Customer(x, y, int(demand), ready, due, service)


def euclidean(instance: Instance) -> Matrix:
    points = np.array([(c.x, c.y) for c in instance.customers], dtype=np.float64)
    delta = points[:, None, :] - points[None, :, :]
    scaled = np.rint(np.hypot(delta[..., 0], delta[..., 1]) * SCALE).astype(np.uint32)
    return Matrix(durations=scaled, distances=scaled.copy())


def at(units: float) -> datetime:
    return EPOCH + timedelta(seconds=round(units * SCALE))


def indexed(instance: Instance) -> Indexed:
    depot = instance.customers[0]
    vans = [
        (VehicleSpec(n, NOWHERE, NOWHERE, at(depot.ready), at(depot.due), instance.capacity), 0, 0)
        for n in range(1, instance.vehicles + 1)
    ]
    jobs = [
        (JobSpec(n, NOWHERE, at(c.ready), at(c.due), round(c.service * SCALE), c.demand), n)
        for n, c in enumerate(instance.customers[1:], 1)
    ]
    return Indexed(vehicles=vans, jobs=jobs)


def run(instance: Instance, bks: float | None, *, exploration: int, threads: int) -> Result:
    problem, matrix = indexed(instance), euclidean(instance)
    started = time.perf_counter()
    raw = solve(problem, matrix, EPOCH, exploration=exploration, threads=threads)
    elapsed = time.perf_counter() - started
    distance = sum(route.distance_m for route in raw.routes) / SCALE
    used = sum(1 for route in raw.routes if route.stops)
    return Result(instance.name, used, distance, len(raw.unassigned), bks, elapsed)


def read_bks(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Some Homberger rows have only a hierarchical (fewest vehicles first) BKS.
    return {
        row["instance"].upper(): float(row["bks_distance_only"]) for row in rows if row["bks_distance_only"]
    }


def pick(folder: Path, names: str | None) -> list[Path]:
    available = {path.stem.upper(): path for path in sorted(folder.glob("*.txt"))}
    if names is None:
        return list(available.values())
    wanted = [name.strip().upper() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise SystemExit(f"plan_quality: unknown instance(s) {', '.join(unknown)} in {folder}")
    return [available[name] for name in wanted]


COLUMNS = (
    ("instance", "<9"),
    ("vehicles", ">8"),
    ("distance", ">10"),
    ("bks", ">10"),
    ("gap %", ">7"),
    ("unassigned", ">10"),
    ("time s", ">7"),
)


def line(cells: Sequence[str]) -> str:
    return " ".join(f"{cell:{align}}" for cell, (_, align) in zip(cells, COLUMNS, strict=True))


def row(result: Result) -> str:
    bks = "-" if result.bks is None else f"{result.bks:.2f}"
    gap = "-" if result.gap_pct is None else f"{result.gap_pct:.2f}"
    numbers = [str(result.vehicles), f"{result.distance:.2f}", bks, gap, str(result.unassigned)]
    return line([result.name, *numbers, f"{result.solve_s:.2f}"])


def summary(results: Sequence[Result]) -> str:
    gaps = [r.gap_pct for r in results if r.gap_pct is not None]
    mean_gap = sum(gaps) / len(gaps) if gaps else float("nan")
    mean_time = sum(r.solve_s for r in results) / len(results) if results else float("nan")
    return f"plan_quality instances={len(results)} mean_gap_pct={mean_gap:.2f} mean_time_s={mean_time:.2f}"


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", help="comma-separated names, e.g. C101,R101 (default: all)")
    parser.add_argument("--exploration", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=None, help="shared data dir holding vrptw/")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    folder = vrptw_dir(args.data or default_data_dir())
    bks = read_bks(folder / "bks.csv")
    paths = pick(folder / "solomon", args.instances)
    print(line([name for name, _ in COLUMNS]), flush=True)
    results: list[Result] = []
    for path in paths:
        instance = parse(path)
        results.append(
            run(instance, bks.get(path.stem.upper()), exploration=args.exploration, threads=args.threads)
        )
        print(row(results[-1]), flush=True)
    print(summary(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
