"""Careless set-ups, through the `doorstep` command on real files: a database that is not Doorstep's,
newer than the code, read-only, corrupt or missing is refused with one line, before anything is written."""

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from bot.store.db import APPLICATION_ID
from sim.sample import sample_day, write_csv
from tests.cli.conftest import Doorstep, runner_in
from tests.conftest import DAY


@pytest.fixture
def doorstep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Doorstep:
    return runner_in(tmp_path, monkeypatch)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def day_csv(tmp_path: Path) -> Path:
    path = tmp_path / "day.csv"
    write_csv(path, sample_day(DAY, 60, 2, seed=4)["deliveries"])
    return path


def refused(result: Result, db: Path, *said: str) -> None:
    """Exit non-zero, one line on stderr naming the file and saying what is wrong, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0
    assert len(lines) == 1, result.stderr
    assert str(db) in lines[0]
    for words in said:
        assert words in lines[0]


def test_a_read_command_does_not_create_a_missing_database(doorstep: Doorstep, db: Path) -> None:
    result = doorstep("outbox")
    refused(result, db, "no such database", "DOORSTEP_STORE__URL", "doorstep import")
    assert not db.exists()


def test_import_creates_a_missing_database_and_says_so(doorstep: Doorstep, db: Path, day_csv: Path) -> None:
    result = doorstep("import", str(day_csv))
    assert result.exit_code == 0, result.stderr
    assert f"created a new Doorstep database at {db}" in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma application_id").fetchone()[0] == APPLICATION_ID
    again = doorstep("outbox")
    assert again.exit_code == 0, again.stderr
    assert "created" not in again.stderr


def test_an_empty_file_is_refused_by_read_commands_and_set_up_by_import(
    doorstep: Doorstep, db: Path, day_csv: Path
) -> None:
    db.touch()
    refused(doorstep("outbox"), db, "no Doorstep database in it yet")
    assert db.stat().st_size == 0
    result = doorstep("import", str(day_csv))
    assert result.exit_code == 0, result.stderr
    assert "created a new Doorstep database" in result.stderr


def test_a_text_file_is_not_a_database(doorstep: Doorstep, db: Path, day_csv: Path) -> None:
    db.write_text("DOORSTEP_STORE__URL=sqlite+aiosqlite:///doorstep.db\n", encoding="utf-8")
    before = db.read_bytes()
    refused(doorstep("outbox"), db, "not an SQLite database")
    refused(doorstep("import", str(day_csv)), db, "not an SQLite database")
    assert db.read_bytes() == before


def test_another_apps_database_is_refused_and_left_alone(doorstep: Doorstep, db: Path, day_csv: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("create table notes (id integer primary key, body text)")
        conn.execute("create table users (id integer primary key, name text)")
    conn.close()
    for command in (["outbox"], ["import", str(day_csv)]):
        refused(doorstep(*command), db, "not a Doorstep database", "notes, users")
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    conn.close()
    assert tables == {"notes", "users"}


def test_a_database_from_a_newer_doorstep_is_refused(doorstep: Doorstep, db: Path, day_csv: Path) -> None:
    assert doorstep("import", str(day_csv)).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("update alembic_version set version_num = '0099_from_the_future'")
    conn.close()
    refused(doorstep("outbox"), db, "newer Doorstep", "0099_from_the_future")
    refused(doorstep("import", str(day_csv)), db, "newer Doorstep")


def test_a_doorstep_database_from_before_the_marker_still_opens(
    doorstep: Doorstep, db: Path, day_csv: Path
) -> None:
    assert doorstep("import", str(day_csv)).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("pragma application_id = 0")
    conn.close()
    result = doorstep("outbox")
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` made read-only; as root (who writes through file modes) with the immutable attribute."""
    as_root = os.geteuid() == 0
    if as_root and subprocess.run(["chattr", "+i", str(path)], check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    if not as_root:
        path.chmod(0o444)
    try:
        yield
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_is_one_line(doorstep: Doorstep, db: Path, day_csv: Path) -> None:
    assert doorstep("import", str(day_csv)).exit_code == 0
    with read_only(db):
        refused(doorstep("outbox"), db, "read-only")
        refused(doorstep("import", str(day_csv)), db, "read-only")


def test_a_corrupt_page_in_the_middle_is_found_at_start(doorstep: Doorstep, db: Path, day_csv: Path) -> None:
    assert doorstep("import", str(day_csv)).exit_code == 0
    with sqlite3.connect(db) as conn:
        page_size, pages = (conn.execute(f"pragma {p}").fetchone()[0] for p in ("page_size", "page_count"))
    conn.close()
    with db.open("r+b") as handle:
        handle.seek(page_size * (pages // 2))
        handle.write(b"\xa5" * page_size)
    refused(doorstep("outbox"), db, "corrupt", "backup")


def test_the_real_command_prints_no_traceback(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(b"\x00\x01garbage" * 400)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    env["DOORSTEP_STORE__URL"] = f"sqlite+aiosqlite:///{db}"
    command = [sys.executable, "-m", "bot", "outbox"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    said = f"error: {db} is not an SQLite database (file is not a database)"
    assert done.stderr.strip().splitlines() == [said]
