import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sim.sample import sample_day
from tests.cli.conftest import Doorstep, runner_in, write_json
from tests.conftest import DAY

IMPOSSIBLE: list[dict[str, Any]] = [
    {"order_id": "TOO-BIG", "size": 100_000},
    {"order_id": "NEEDS-CRANE", "skills": "crane"},
    {"order_id": "TOO-EARLY", "window_start": "05:00", "window_end": "06:00"},
]


@pytest.fixture(scope="module")
def planned_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 deliveries (and 3 impossible ones) on 8 vans, planned once by `doorstep plan` (exploration 5)."""
    folder = tmp_path_factory.mktemp("planned")
    with pytest.MonkeyPatch.context() as monkeypatch:
        doorstep = runner_in(folder, monkeypatch)
        day: dict[str, Any] = sample_day(DAY, 200, 8, seed=5)
        template = day["deliveries"][0]
        day["deliveries"] += [{**template, **change} for change in IMPOSSIBLE]
        assert doorstep("import", str(write_json(folder / "day.json", day))).exit_code == 0
        result = doorstep("plan", "--date", DAY.isoformat())
        assert result.exit_code == 0, result.stderr
        assert "200 stops, 3 unassigned" in result.stdout
    return folder


@pytest.fixture
def planned(planned_folder: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(planned_folder / "cli.db")
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture
def doorstep_planned(planned_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Doorstep:
    return runner_in(planned_folder, monkeypatch)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_every_stop_arrives_inside_its_window_and_its_promise(planned: sqlite3.Connection) -> None:
    rows = planned.execute(
        "select s.planned_arrival, s.promised_start, s.promised_end, d.window_start, d.window_end, d.status "
        "from stops s join deliveries d on d.id = s.delivery_id"
    ).fetchall()
    assert len(rows) == 200
    for row in rows:
        arrival = utc(row["planned_arrival"])
        assert utc(row["window_start"]) <= arrival <= utc(row["window_end"])
        assert utc(row["promised_start"]) <= arrival <= utc(row["promised_end"])
        assert (utc(row["promised_end"]) - utc(row["promised_start"])).total_seconds() == 3600
        assert utc(row["promised_start"]).minute % 15 == 0
        assert row["status"] == "planned"


def test_routes_respect_capacity_and_shift(planned: sqlite3.Connection) -> None:
    loads = planned.execute(
        "select r.id, dr.capacity, sum(d.size) as load, count(*) as n from stops s "
        "join routes r on r.id = s.route_id join drivers dr on dr.id = r.driver_id "
        "join deliveries d on d.id = s.delivery_id group by r.id"
    ).fetchall()
    assert 1 <= len(loads) <= 8
    assert all(row["load"] <= row["capacity"] for row in loads)
    sequences = planned.execute(
        "select route_id, group_concat(sequence) from stops group by route_id"
    ).fetchall()
    for _, joined in sequences:
        numbers = sorted(int(n) for n in joined.split(","))
        assert numbers == list(range(1, len(numbers) + 1))


def test_unassigned_jobs_are_listed_with_reasons(
    doorstep_planned: Doorstep, planned: sqlite3.Connection
) -> None:
    reasons = dict(
        planned.execute(
            "select d.order_id, u.reason from unassigned u join deliveries d on d.id = u.delivery_id"
        ).fetchall()
    )
    assert "larger than the largest vehicle capacity" in reasons["TOO-BIG"]
    assert "needs skills crane" in reasons["NEEDS-CRANE"]
    assert "cannot be reached" in reasons["TOO-EARLY"]
    statuses = planned.execute("select status from deliveries where order_id like 'TOO-%'").fetchall()
    assert {s[0] for s in statuses} == {"created"}
    listing = doorstep_planned("routes", "--date", DAY.isoformat())
    assert listing.exit_code == 0
    assert "3 unassigned" in listing.stdout
    assert "TOO-BIG: size 100000 is larger" in listing.stdout
    assert "VAN0" in listing.stdout


def test_routes_without_a_plan_says_how_to_make_one(doorstep: Doorstep, tmp_path: Path) -> None:
    assert doorstep("import", str(write_json(tmp_path / "day.json", sample_day(DAY, 2, 1)))).exit_code == 0
    result = doorstep("routes", "--date", "2030-01-01")
    assert result.exit_code == 1
    assert "doorstep plan --date 2030-01-01" in result.stderr


def test_bad_date_is_refused(doorstep: Doorstep) -> None:
    result = doorstep("plan", "--date", "tomorrow")
    assert result.exit_code == 2
    assert "not a date" in result.stderr
