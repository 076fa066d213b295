"""CLI tests run `doorstep` in-process (typer's runner) against a real SQLite file in a temp folder."""

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import cli

type Doorstep = Callable[..., Result]


def runner_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Doorstep:
    """`doorstep` working in `folder` (no stray .env; relative paths land there) on folder/cli.db."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("DOORSTEP_STORE__URL", f"sqlite+aiosqlite:///{folder / 'cli.db'}")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None, **env: str) -> Result:
        return runner.invoke(cli, list(args), input=stdin, env=env or None, catch_exceptions=False)

    return run


@pytest.fixture
def doorstep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Doorstep:
    return runner_in(tmp_path, monkeypatch)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
