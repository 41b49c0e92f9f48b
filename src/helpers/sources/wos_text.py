"""Web of Science plain-text export (``FN``/``VR`` header, two-letter tags, ``ER`` ends a record,
``EF`` ends the file), streamed one record at a time.

A tag takes the first two characters of a line and its value starts at the fourth; a line that
starts with three spaces continues the tag above (one more author, address or a wrapped title). A
record that is not closed by ``ER`` before the next ``PT`` (or the end of the file) is reported and
skipped: it may have been cut. Lines are decoded one at a time (:mod:`encodings`): no size limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from helpers.sources.common import clean_doi, parse_date
from helpers.sources.encodings import TextLines, fallback_note
from helpers.sources.pubmed_xml import Record, RecordError

FORMAT = "wos-text"
JOINED_TAGS = frozenset({"TI", "SO", "AB", "DE", "ID", "PD", "SE", "BS"})  # wrapped lines of one value
ADDRESS_RE = re.compile(r"^\[([^\]]*)\]\s*(.*)$")  # bounded: the bracket part cannot match twice


def _records(lines: Iterator[str]) -> Iterator[tuple[int, dict[str, list[str]], str | None]]:
    """(first line number, tag -> values, problem or None) of each record, in file order."""
    record: dict[str, list[str]] | None = None
    start, tag = 0, ""
    for number, line in enumerate(lines, 1):
        if line.startswith("   ") and record is not None and tag:
            value = line.strip()
            if tag in JOINED_TAGS:
                record[tag][-1] = f"{record[tag][-1]} {value}"
            else:
                record[tag].append(value)
            continue
        tag, value = line[:2], line[3:].strip()
        if tag == "PT":
            if record is not None:
                yield start, record, f"has no ER line before the next PT at line {number}"
            record, start = {}, number
        if record is None:
            continue  # header (FN, VR), EF and blank lines between records
        if tag == "ER":
            yield start, record, None
            record = None
            continue
        if tag.strip():
            record.setdefault(tag, []).append(value)
    if record is not None:
        yield start, record, "has no ER line before the end of the file (the export may be cut short)"


def _affiliations(record: dict[str, list[str]], authors: list[str]) -> list[str]:
    """One '; '-joined address string per author; addresses without an author list apply to every author."""
    per_author: dict[str, list[str]] = {a: [] for a in authors}
    unassigned = []
    for line in record.get("C1", []):
        match = ADDRESS_RE.match(line)
        if not match:
            unassigned.append(line)
            continue
        for person in match.group(1).split(";"):
            if person.strip() in per_author:
                per_author[person.strip()].append(match.group(2))
    return ["; ".join(per_author[a] + unassigned) for a in authors] if record.get("C1") else []


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(";") if part.strip()]


def parse_record(record: dict[str, list[str]], name: str, index: int) -> Record:
    """One WoS record (tag -> values) as a Record."""

    def one(tag: str) -> str | None:
        return record.get(tag, [None])[0] or None

    out = Record(source_file=name, source_index=index, format=FORMAT)
    out.title, out.abstract = one("TI"), one("AB")
    out.authors = (record.get("AF") or record.get("AU") or []) + record.get("CA", [])
    out.affiliations = _affiliations(record, out.authors)
    out.journal, out.journal_abbrev = one("SO"), one("JI") or one("J9")
    year = one("PY")
    out.year = int(year[:4]) if year and year[:4].isdigit() else None
    if out.year:
        out.date = parse_date(f"{out.year} {(one('PD') or '').title()}")[0]
    out.volume, out.issue = one("VL"), one("IS")
    start, end = one("BP"), one("EP")
    out.pages = (f"{start}-{end}" if end else start) if start else one("AR")
    out.doi, out.pmid = clean_doi(one("DI")), one("PM")
    keywords = _split(record.get("DE", [])) + _split(record.get("ID", []))
    out.keywords = list(dict.fromkeys(keywords))
    out.publication_types = _split(record.get("DT", []))
    out.language = one("LA")
    return out


def iter_wos_text(path: Path, name: str, encoding: str = "utf-8") -> Iterator[Record | RecordError]:
    """Stream the records of a Web of Science plain-text export in file order."""
    lines = TextLines(path, encoding)
    noted = encoding not in ("utf-8", "utf-8-sig")
    for index, (start, record, problem) in enumerate(_records(iter(lines)), 1):
        accession = (record.get("UT") or [""])[0]
        label = f"record {index} (line {start}{', ' + accession if accession else ''})"
        if problem:
            yield RecordError(name, index, f"{label} {problem}; it is skipped: export it again")
        else:
            yield parse_record(record, name, index)
        if lines.first_fallback and not noted:
            noted = True
            yield RecordError(name, index, fallback_note(lines.first_fallback))
