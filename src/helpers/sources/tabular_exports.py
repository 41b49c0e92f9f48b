"""Tabular literature exports, streamed row by row: PubMed's CSV, Scopus CSV and Web of Science tab-delimited.

Each format is recognised by its header (the columns its export always writes) and mapped onto the
library's :class:`Record`. Rows are read with the csv module one at a time, so there is no size
limit; a row that cannot be read becomes a :class:`RecordError` naming its line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from helpers.sources.pubmed_xml import Record, RecordError

csv.field_size_limit(1 << 26)  # abstracts and author lists can exceed the default 128 KB cell

# format -> (delimiter, columns that identify it, column -> Record field)
FORMATS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "pubmed-csv": (
        ",",
        ("PMID", "Title", "Authors", "Citation", "Journal/Book"),
        {"PMID": "pmid", "Title": "title", "Authors": "authors", "Journal/Book": "journal",
         "Publication Year": "year", "PMCID": "pmcid", "DOI": "doi"},
    ),
    "scopus-csv": (
        ",",
        ("Authors", "Title", "Year", "Source title"),
        {"Authors": "authors", "Title": "title", "Year": "year", "Source title": "journal", "Volume": "volume",
         "Issue": "issue", "Page start": "page_start", "Page end": "page_end", "DOI": "doi", "Abstract": "abstract",
         "Author Keywords": "keywords", "PubMed ID": "pmid", "Document Type": "publication_types",
         "Language of Original Document": "language"},
    ),
    "wos-tab": (
        "\t",
        ("PT", "AU", "TI", "SO"),
        {"AU": "authors", "TI": "title", "SO": "journal", "PY": "year", "VL": "volume", "IS": "issue",
         "BP": "page_start", "EP": "page_end", "DI": "doi", "AB": "abstract", "DE": "keywords", "PM": "pmid",
         "DT": "publication_types", "LA": "language"},
    ),
}  # fmt: skip
LIST_SPLIT = {"authors": r"\s*[;]\s*", "keywords": r"\s*[;]\s*", "publication_types": r"\s*[;]\s*"}


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return [c.strip() for c in next(csv.reader([first], delimiter=delimiter), [])]


def detect_tabular(path: Path) -> str | None:
    """The tabular export format of a file, from its header, or None."""
    header = set(_header(path))
    for name, (_, required, _) in FORMATS.items():
        if set(required) <= header:
            return name
    return None


def _value(field: str, raw: str) -> object:
    text = raw.strip()
    if not text:
        return [] if field in LIST_SPLIT else None
    if field in LIST_SPLIT:
        return [part for part in re.split(LIST_SPLIT[field], text) if part]
    if field == "year":
        return int(text[:4]) if text[:4].isdigit() else None
    return text


def _record(row: dict[str, str], mapping: dict[str, str], name: str, index: int, fmt: str) -> Record:
    values: dict[str, object] = {}
    for column, field in mapping.items():
        if column in row and row[column] is not None:
            values[field] = _value(field, row[column])
    start, end = values.pop("page_start", None), values.pop("page_end", None)
    if start:
        values["pages"] = f"{start}-{end}" if end else start
    if fmt == "pubmed-csv" and isinstance(values.get("authors"), list):
        values["authors"] = [a.rstrip(".") for author in values["authors"] for a in author.split(", ") if a]
    return Record(source_file=name, source_index=index, format=fmt, **values)


def iter_tabular(path: Path, fmt: str, name: str) -> Iterator[Record | RecordError]:
    """Stream the records of a tabular export of format ``fmt``."""
    delimiter, _, mapping = FORMATS[fmt]
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE if fmt == "wos-tab" else 0)
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        index = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                index += 1
                yield RecordError(name, index, f"line {reader.line_num}: {exc}; the row is skipped")
                continue
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            index += 1
            yield _record(row, mapping, name, index, fmt)
