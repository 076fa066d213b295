import hashlib
import sqlite3
from pathlib import Path

from sim.sample import sample_day
from tests.cli.conftest import Doorstep, write_json
from tests.conftest import DAY


def test_driver_code_prints_a_one_time_code_and_keeps_only_its_hash(
    doorstep: Doorstep, tmp_path: Path
) -> None:
    assert doorstep("import", str(write_json(tmp_path / "day.json", sample_day(DAY, 4, 1)))).exit_code == 0
    result = doorstep("driver-code", "VAN01")
    assert result.exit_code == 0, result.stderr
    code = result.stdout.strip().rsplit(" ", 1)[-1]
    assert result.stdout.startswith("VAN01 (Driver 1): ")
    assert f"/driver {code}" in result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        (stored,) = conn.execute("select link_code_hash from drivers where code = 'VAN01'").fetchone()
    assert stored == hashlib.sha256(code.encode()).hexdigest()


def test_driver_code_for_an_unknown_driver_says_so(doorstep: Doorstep, tmp_path: Path) -> None:
    assert doorstep("import", str(write_json(tmp_path / "day.json", sample_day(DAY, 4, 1)))).exit_code == 0
    result = doorstep("driver-code", "NOPE")
    assert result.exit_code == 1
    assert "no driver 'NOPE'" in result.stderr
