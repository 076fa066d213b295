"""A plausible delivery day around a city centre: depot, drivers and deliveries, reproducible by seed.

python -m sim.sample --deliveries 200 --drivers 8 --date 2026-11-23 --out day.json
"""

import argparse
import csv
import json
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hannah",
    "Ilya",
    "Jonas",
    "Katja",
    "Leon",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uwe",
    "Vera",
    "Wim",
    "Yara",
    "Zoe",
]
LAST = [
    "Becker",
    "Schmidt",
    "Yilmaz",
    "Nowak",
    "Fischer",
    "Weber",
    "Wagner",
    "Kowalski",
    "Hoffmann",
    "Klein",
    "Wolf",
    "Schulz",
    "Ivanova",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Lehmann",
    "Köhler",
]
STREETS = [
    "Torstraße",
    "Invalidenstraße",
    "Schönhauser Allee",
    "Kastanienallee",
    "Bernauer Straße",
    "Brunnenstraße",
    "Danziger Straße",
    "Prenzlauer Allee",
    "Greifswalder Straße",
    "Karl-Marx-Allee",
    "Oranienstraße",
    "Skalitzer Straße",
    "Gneisenaustraße",
    "Bergmannstraße",
    "Potsdamer Straße",
    "Kantstraße",
    "Wilmersdorfer Straße",
    "Sonnenallee",
    "Hermannstraße",
    "Frankfurter Allee",
]
SLOTS = [
    ("08:00", "10:00"),
    ("09:00", "12:00"),
    ("10:00", "12:00"),
    ("12:00", "14:00"),
    ("13:00", "16:00"),
    ("14:00", "16:00"),
    ("16:00", "18:00"),
    ("08:00", "18:00"),
    ("08:00", "18:00"),
    ("09:00", "17:00"),
]


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    radius_deg: float
    timezone: str


BERLIN = City("Berlin", 52.5200, 13.4050, 0.06, "Europe/Berlin")


def sample_day(
    day: date, deliveries: int, drivers: int, *, seed: int = 7, city: City = BERLIN
) -> dict[str, Any]:
    """A JSON-ready day file: {"depots": [...], "drivers": [...], "deliveries": [...]}."""
    rng = random.Random(seed)
    depot = {
        "code": "HUB",
        "name": f"{city.name} hub",
        "address": "Am Hub 1",
        "lat": city.lat,
        "lon": city.lon,
        "timezone": city.timezone,
    }
    capacity = max(20, -(-deliveries * 3 * 12 // 10 // max(drivers, 1)))  # room for the day plus 20 %
    fleet = [_driver(n, capacity) for n in range(1, drivers + 1)]
    rows = [_delivery(rng, n, day, city) for n in range(1, deliveries + 1)]
    return {"depots": [depot], "drivers": fleet, "deliveries": rows}


def _driver(n: int, capacity: int) -> dict[str, Any]:
    return {
        "code": f"VAN{n:02d}",
        "name": f"Driver {n}",
        "depot": "HUB",
        "capacity": capacity,
        "shift_start": "07:30",
        "shift_end": "19:00",
    }


def _delivery(rng: random.Random, n: int, day: date, city: City) -> dict[str, Any]:
    start, end = rng.choice(SLOTS)
    return {
        "order_id": f"ORD-{day:%Y%m%d}-{n:04d}",
        "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "phone": f"+49151{rng.randrange(10_000_000, 99_999_999)}",
        "address": f"{rng.choice(STREETS)} {rng.randrange(1, 180)}, {city.name}",
        "lat": round(city.lat + rng.uniform(-1, 1) * city.radius_deg * 0.6, 6),
        "lon": round(city.lon + rng.uniform(-1, 1) * city.radius_deg, 6),
        "date": day.isoformat(),
        "window_start": start,
        "window_end": end,
        "service_minutes": rng.choice([2, 3, 3, 4, 5]),
        "size": rng.choice([1, 1, 1, 2, 2, 3, 5]),
        "locale": rng.choice(["de", "de", "en"]),
        "notes": rng.choice(
            ["", "", "", "Hinterhaus, 2. OG", "Bitte klingeln bei Nachbarn", "Dog in the yard"]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--deliveries", type=int, default=120)
    parser.add_argument("--drivers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help=".json: the whole day; .csv: deliveries only")
    args = parser.parse_args()
    day = sample_day(args.date, args.deliveries, args.drivers, seed=args.seed)
    if args.out.suffix == ".csv":
        write_csv(args.out, day["deliveries"])
    else:
        args.out.write_text(json.dumps(day, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
