"""Read a table of counts to pool (any CSV with an events and a total column, optionally a group column).

Every problem is an IngestError of one line naming the file, the row (the CSV line, header = 1)
and the column: a missing column, an empty file, a count that is not a whole number, events
above the total.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from helpers.core.errors import IngestError
from helpers.core.paths import display_path


@dataclass(frozen=True)
class CountRow:
    """One study's counts, the CSV line it came from and its group (None without a group column)."""

    line: int
    events: int
    total: int
    group: str | None


def _whole(value: str, where: str, column: str) -> int:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        raise IngestError(f"{where}, column '{column}': {text!r} is not a number; write a whole count") from None
    if number != int(number) or number < 0:
        raise IngestError(f"{where}, column '{column}': {text!r} is not a whole count >= 0")
    return int(number)


def _row(record: dict, line: int, name: str, events: str, total: str, by: str | None) -> CountRow:
    where = f"{name}, line {line}"
    k = _whole(record[events] or "", where, events)
    n = _whole(record[total] or "", where, total)
    if n == 0:
        raise IngestError(f"{where}, column '{total}': the total is 0; a study needs at least one patient")
    if k > n:
        raise IngestError(f"{where}, column '{events}': {k} events exceed the total {n}")
    return CountRow(line, k, n, (record[by] or "").strip() if by is not None else None)


def read_counts(path: Path | str, events: str, total: str, by: str | None = None) -> list[CountRow]:
    """The rows of a CSV as counts; raises IngestError on the first bad row or a missing column."""
    path = Path(path)
    name = display_path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if not header:
                raise IngestError(f"{name}: the file is empty; give a CSV with a header row and one row per study")
            reader.fieldnames = header
            missing = [c for c in (events, total, by) if c is not None and c not in header]
            if missing:
                raise IngestError(
                    f"{name}, line 1 (header): no column {', '.join(repr(c) for c in missing)}; "
                    f"columns are {', '.join(header)}"
                )
            rows = [
                _row(record, reader.line_num, name, events, total, by)
                for record in reader
                if any((v or "").strip() for v in record.values() if isinstance(v, str))
            ]
    except FileNotFoundError:
        raise IngestError(f"{name}: file not found; check the path") from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not UTF-8 ({exc.reason}); save the table as UTF-8 CSV") from None
    except csv.Error as exc:
        raise IngestError(f"{name}: CSV syntax error ({exc}); check the quoting") from None
    if not rows:
        raise IngestError(f"{name}: no study rows under the header; add one row per study")
    return rows
