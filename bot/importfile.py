"""Reading delivery files (CSV or JSON) into numbered rows, and writing the rejected ones back out."""

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot.domain.intake import OPTIONAL, REQUIRED, RowError
from bot.usecases.fleet import FleetIn


class ImportFileError(ValueError):
    """The file itself cannot be read as deliveries (not a row problem)."""


@dataclass(frozen=True)
class DayFile:
    """Numbered delivery rows, and the depots and drivers a JSON file may carry with them."""

    rows: list[tuple[int, Mapping[str, object]]]
    fleet: FleetIn | None = None


CSV_DELIMITERS = (",", ";", "\t", "|")  # found from the header line; --delimiter names any other
_KNOWN = frozenset((*REQUIRED, *OPTIONAL))
_HINT = " (a separator other than , ; tab |: name it with --delimiter)"
_BAD_ROW = "a field holding {d!r}, a quote or a line break must be in double quotes, a quote inside doubled"


class _Rfc4180(csv.Dialect):
    """CSV as RFC 4180 and spreadsheets write it: fields in double quotes, a quote inside doubled.
    Strict: a stray quote after a quoted field is an error, not text glued onto it."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


def read_day_file(path: Path, delimiter: str | None = None) -> DayFile:
    """Rows numbered as a person finds them: CSV by line (header = line 1), JSON by item (from 1).

    `delimiter`: a CSV's field separator ("tab" or one character); by default the one of
    CSV_DELIMITERS that splits the header line into known column names."""
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        return _json_file(path)
    return DayFile(_csv_rows(path, _csv_text(path), delimiter))


def _csv_text(path: Path) -> str:
    try:
        # newline="": line breaks inside quoted fields are kept as they are
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None


def _csv_rows(path: Path, text: str, delimiter: str | None) -> list[tuple[int, Mapping[str, object]]]:
    reader = csv.reader(io.StringIO(text, newline=""), _Rfc4180, delimiter=_delimiter(text, delimiter))
    try:
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise ImportFileError(f"{path}: header line lacks column(s) {', '.join(missing)}{_HINT}")
        rows: list[tuple[int, list[str]]] = []
        line = reader.line_num + 1
        for record in reader:
            if any(field.strip() for field in record):  # a blank line, or a spreadsheet's empty row
                rows.append((line, record))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"{path}: line {reader.line_num}: {exc}") from None
    _check_widths(path, len(header), rows, reader.dialect.delimiter)
    return [(line, dict(zip(header, record, strict=True))) for line, record in rows]


def _check_widths(path: Path, width: int, rows: list[tuple[int, list[str]]], delimiter: str) -> None:
    """A row that is wider or narrower than the header would put its values under the wrong columns."""
    said = "line {}: {} fields where the header has {}"
    bad = [said.format(n, len(record), width) for n, record in rows if len(record) != width]
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ImportFileError(f"{path}: {shown} ({_BAD_ROW.format(d=delimiter)})")


def _delimiter(text: str, named: str | None) -> str:
    if named is not None:
        return _named(named)
    first = text.splitlines()[0] if text else ""
    scores = {d: len(_KNOWN.intersection(_header_names(first, d))) for d in CSV_DELIMITERS}
    best = max(scores, key=lambda d: scores[d])  # ties (no known name at all): a comma
    return best if scores[best] else ","


def _named(named: str) -> str:
    delimiter = "\t" if named.lower() == "tab" else named
    if len(delimiter) != 1 or delimiter.isalnum() or delimiter in '"\r\n ':
        raise ImportFileError(
            f"--delimiter takes 'tab' or a character other than a letter or quote: {named!r}"
        )
    return delimiter


def _header_names(line: str, delimiter: str) -> list[str]:
    try:
        return [name.strip() for name in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


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
