import csv
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sim.sample import sample_day, write_csv
from tests.cli.conftest import Doorstep, read_csv, write_json
from tests.conftest import DAY

# Three broken rows among fifty, at CSV lines 8, 21 and 40 (the header is line 1).
BROKEN = {
    6: {"phone": "call me"},
    19: {"lat": "123.4"},
    38: {"window_start": "17:00", "window_end": "15:00"},
}


@pytest.fixture
def fifty(tmp_path: Path) -> Path:
    rows: list[dict[str, Any]] = sample_day(DAY, 50, 2, seed=3)["deliveries"]
    for index, change in BROKEN.items():
        rows[index].update(change)
    path = tmp_path / "deliveries.csv"
    write_csv(path, rows)
    return path


def count_deliveries(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from deliveries").fetchone()[0])


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_line(
    doorstep: Doorstep, fifty: Path
) -> None:
    result = doorstep("import", str(fifty))
    assert result.exit_code == 1
    assert "line 8: phone: 'call me' is not a phone number" in result.stderr
    assert "line 21: lat: 123.4 is out of range" in result.stderr
    assert "line 40: window_end: must be after window_start" in result.stderr
    assert "3 invalid row(s); nothing imported" in result.stderr
    assert count_deliveries(fifty.parent / "cli.db") == 0


def test_skip_invalid_imports_the_rest_and_writes_the_rejects(doorstep: Doorstep, fifty: Path) -> None:
    result = doorstep("import", str(fifty), "--skip-invalid")
    assert result.exit_code == 0, result.stderr
    assert "47 created" in result.stdout
    rejects = read_csv(fifty.with_name("deliveries.rejects.csv"))
    assert [r["line"] for r in rejects] == ["8", "21", "40"]
    assert rejects[0]["phone"] == "call me"
    assert "phone:" in rejects[0]["errors"]
    assert count_deliveries(fifty.parent / "cli.db") == 47


def test_importing_the_same_file_twice_changes_nothing(doorstep: Doorstep, fifty: Path) -> None:
    doorstep("import", str(fifty), "--skip-invalid")
    again = doorstep("import", str(fifty), "--skip-invalid", "--rejects", "again.csv")
    assert again.exit_code == 0
    assert "0 created, 0 updated, 47 unchanged" in again.stdout
    assert count_deliveries(fifty.parent / "cli.db") == 47
    assert len(read_csv(fifty.parent / "again.csv")) == 3


def test_a_changed_row_is_updated_in_place(doorstep: Doorstep, fifty: Path, tmp_path: Path) -> None:
    doorstep("import", str(fifty), "--skip-invalid")
    rows = read_csv(fifty)
    rows[0]["address"] = "Neue Adresse 5, Berlin"
    changed = tmp_path / "changed.csv"
    write_csv(changed, [rows[0]])
    result = doorstep("import", str(changed))
    assert "0 created, 1 updated" in result.stdout
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        address = conn.execute("select address from deliveries where order_id = ?", (rows[0]["order_id"],))
        assert address.fetchone()[0] == "Neue Adresse 5, Berlin"


def test_semicolon_csv_from_a_spreadsheet_is_read(doorstep: Doorstep, tmp_path: Path) -> None:
    rows = sample_day(DAY, 3, 1)["deliveries"]
    path = tmp_path / "excel.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    result = doorstep("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "3 created" in result.stdout


def test_missing_columns_are_named(doorstep: Doorstep, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("order_id,name,phone\nA,B,+4915123456789\n", encoding="utf-8")
    result = doorstep("import", str(path))
    assert result.exit_code == 2
    assert "lacks column(s) address, lat, lon, date" in result.stderr


def test_json_day_file_brings_its_depot_and_drivers(doorstep: Doorstep, tmp_path: Path) -> None:
    path = write_json(tmp_path / "day.json", sample_day(DAY, 10, 2))
    result = doorstep("import", str(path))
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("select count(*) from drivers").fetchone()[0] == 2


def test_json_rejects_keep_the_json_shape(doorstep: Doorstep, tmp_path: Path) -> None:
    day = sample_day(DAY, 4, 1)
    day["deliveries"][1]["size"] = 0
    path = write_json(tmp_path / "day.json", day)
    result = doorstep("import", str(path), "--skip-invalid")
    assert result.exit_code == 0
    assert "1 rejected" in result.stdout
    rejects = (tmp_path / "day.rejects.json").read_text(encoding="utf-8")
    assert '"item": 2' in rejects


def test_a_driver_with_an_unknown_depot_stops_the_import(doorstep: Doorstep, tmp_path: Path) -> None:
    day = sample_day(DAY, 4, 1)
    day["drivers"][0]["depot"] = "ELSEWHERE"
    result = doorstep("import", str(write_json(tmp_path / "day.json", day)))
    assert result.exit_code == 1
    assert "unknown depot 'ELSEWHERE'" in result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("select count(*) from depots").fetchone()[0] == 0


def test_unreadable_files_get_a_clear_error(doorstep: Doorstep, tmp_path: Path) -> None:
    assert "no such file" in doorstep("import", "missing.csv").stderr
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert "not valid JSON" in doorstep("import", "broken.json").stderr


def test_wrong_setting_stops_the_command_naming_the_key(doorstep: Doorstep, fifty: Path) -> None:
    result = doorstep("import", str(fifty), DOORSTEP_DAY__PHONE_REGION="XX")
    assert result.exit_code == 2
    assert "DOORSTEP_DAY__PHONE_REGION" in result.stderr
