"""Reading delivery files (CSV or JSON) into numbered rows, and writing the rejected ones back out."""

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot.domain.intake import REQUIRED, RowError
from bot.usecases.fleet import FleetIn


class ImportFileError(ValueError):
    """The file itself cannot be read as deliveries (not a row problem)."""


@dataclass(frozen=True)
class DayFile:
    """Numbered delivery rows, and the depots and drivers a JSON file may carry with them."""

    rows: list[tuple[int, Mapping[str, object]]]
    fleet: FleetIn | None = None


def read_day_file(path: Path) -> DayFile:
    """Rows numbered as a person finds them: CSV by line (header = line 1), JSON by item (from 1)."""
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        return _json_file(path)
    return DayFile(list(_csv_rows(path)))


def _csv_rows(path: Path) -> Iterator[tuple[int, Mapping[str, object]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        reader = csv.DictReader(handle, dialect=_sniff(sample))
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            raise ImportFileError(f"{path}: header line lacks column(s) {', '.join(missing)}")
        line = reader.line_num + 1
        for row in reader:
            yield line, {key: value for key, value in row.items() if key is not None}
            line = reader.line_num + 1


def _sniff(sample: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _json_file(path: Path) -> DayFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: not valid JSON ({exc})") from None
    items = data.get("deliveries", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportFileError(f"{path}: expected a list of deliveries or an object with a 'deliveries' list")
    bad = [n for n, item in enumerate(items, 1) if not isinstance(item, dict)]
    if bad:
        raise ImportFileError(f"{path}: item(s) {', '.join(map(str, bad))} are not objects")
    return DayFile(list(enumerate(items, 1)), _fleet(path, data) if isinstance(data, dict) else None)


def _fleet(path: Path, data: dict[str, object]) -> FleetIn | None:
    sections = {key: data[key] for key in ("depots", "drivers") if key in data}
    if not sections:
        return None
    try:
        return FleetIn.model_validate(sections)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ImportFileError(f"{path}: {problems}") from None


def row_labeller(path: Path) -> Callable[[int], str]:
    """How a person finds a row of this file: CSV by line, JSON by item."""
    where = "item" if path.suffix.lower() == ".json" else "line"
    return lambda number: f"{where} {number}"


def describe(path: Path, error: RowError) -> str:
    problems = "; ".join(f"{e.field}: {e.reason}" for e in error.errors)
    return f"{row_labeller(path)(error.row)}: {problems}"


def write_rejects(source: Path, target: Path, rejected: list[RowError]) -> None:
    """Rejected rows in the source's own format, each with its row number and the reasons."""
    if source.suffix.lower() == ".json":
        payload = [{"item": r.row, "errors": _reasons(r), "row": dict(r.raw)} for r in rejected]
        target.write_text(
            json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        return
    columns = list(dict.fromkeys(["line", "errors", *(k for r in rejected for k in r.raw)]))
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for r in rejected:
            writer.writerow({**r.raw, "line": r.row, "errors": "; ".join(_reasons(r))})


def _reasons(error: RowError) -> list[str]:
    return [f"{e.field}: {e.reason}" for e in error.errors]


def rejects_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.rejects{source.suffix or '.csv'}")
