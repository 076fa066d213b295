"""CSV files as spreadsheets and people write them: quoted fields come back exactly as written."""

import csv
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sim.sample import sample_day
from tests.cli.conftest import Doorstep
from tests.conftest import DAY

HEADER = "order_id,name,phone,address,lat,lon,date,window_start,window_end,service_minutes,size,notes"
TRICKY = {
    "name": 'Anna "Nan" Müller, Jr.',
    "address": "Hinterhaus, 3. OG\nKastanienallee 12, Berlin",
    "notes": 'Ring "twice", then wait at the back door;\tor call',
}


def stored(db: Path, *columns: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        query = f"select order_id, {', '.join(columns)} from deliveries order by order_id"
        return [tuple(row) for row in conn.execute(query)]


def tricky_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sample_day(DAY, 3, 1, seed=5)["deliveries"]
    rows[1].update(TRICKY)
    return rows


def test_doubled_quotes_and_a_quoted_comma_are_stored_as_written(doorstep: Doorstep, tmp_path: Path) -> None:
    line = '"Ring ""twice"", then wait at the back door"'
    path = tmp_path / "day.csv"
    row = f'ORD-1,Anna,+4915123456789,"Kastanienallee 12, Berlin",52.54,13.41,{DAY},14:00,16:00,5,1,{line}'
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    result = doorstep("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert stored(tmp_path / "cli.db", "address", "notes", "size") == [
        ("ORD-1", "Kastanienallee 12, Berlin", 'Ring "twice", then wait at the back door', 1)
    ]


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(",", "utf-8"), (",", "utf-8-sig"), (";", "utf-8-sig"), ("\t", "utf-8"), (";", "utf-8")],
    ids=["comma", "comma-bom", "semicolon-bom", "tab", "semicolon"],
)
def test_quotes_commas_and_line_breaks_inside_fields_round_trip(
    doorstep: Doorstep, tmp_path: Path, delimiter: str, encoding: str
) -> None:
    rows = tricky_rows()
    path = tmp_path / "day.csv"
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    result = doorstep("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "3 created" in result.stdout
    expected = [(r["order_id"], r["name"], r["address"], r["notes"], r["size"]) for r in rows]
    assert stored(tmp_path / "cli.db", "name", "address", "notes", "size") == expected


def test_a_row_with_more_fields_than_the_header_names_its_line_and_stores_nothing(
    doorstep: Doorstep, tmp_path: Path
) -> None:
    good = f"ORD-1,Anna,+4915123456789,Allee 12,52.54,13.41,{DAY},14:00,16:00,5,1,"
    shifted = f"ORD-2,Ben,+4915123456780,Allee 12, Berlin,52.54,13.41,{DAY},14:00,16:00,5,1,"  # unquoted ,
    path = tmp_path / "day.csv"
    path.write_text(f"{HEADER}\n{good}\n{shifted}\n", encoding="utf-8")
    result = doorstep("import", str(path))
    assert result.exit_code == 2
    assert "line 3: 13 fields where the header has 12" in result.stderr
    assert not (tmp_path / "cli.db").exists() or stored(tmp_path / "cli.db", "name") == []


def test_a_row_with_fewer_fields_than_the_header_names_its_line(doorstep: Doorstep, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    row = f'ORD-1,Anna,+4915123456789,"Allee 12\nBerlin",52.54,13.41,{DAY},14:00,16:00,5,1,x'
    path.write_text(f"{HEADER}\n{row}\nORD-2,Ben,+4915123456780\n", encoding="utf-8")
    result = doorstep("import", str(path))
    assert result.exit_code == 2
    assert "line 4: 3 fields where the header has 12" in result.stderr


def test_the_delimiter_can_be_named_when_the_header_does_not_tell(doorstep: Doorstep, tmp_path: Path) -> None:
    rows = tricky_rows()
    path = tmp_path / "day.txt"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=":")
        writer.writeheader()
        writer.writerows(rows)
    unknown = doorstep("import", str(path))
    assert unknown.exit_code == 2
    assert "lacks column(s)" in unknown.stderr
    result = doorstep("import", str(path), "--delimiter", ":")
    assert result.exit_code == 0, result.stderr
    assert stored(tmp_path / "cli.db", "notes")[1] == (rows[1]["order_id"], TRICKY["notes"])


def test_a_file_that_is_not_utf8_is_a_clear_error(doorstep: Doorstep, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_bytes(f"{HEADER}\nORD-1,J\xfcrgen".encode("latin-1"))
    result = doorstep("import", str(path))
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_a_stray_quote_after_a_quoted_field_names_its_line(doorstep: Doorstep, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    row = f'ORD-1,Anna,+4915123456789,Allee 12,52.54,13.41,{DAY},14:00,16:00,5,1,"Ring "twice" please"'
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    result = doorstep("import", str(path))
    assert result.exit_code == 2
    assert "line 2: ',' expected after '\"'" in result.stderr
