"""PubMed MEDLINE text (``PMID- ...`` records), streamed one record at a time.

A record ends at an empty line, and every ``PMID-`` line starts one (so two records whose empty
line was lost are not merged). Lines are read and decoded one at a time (:mod:`encodings`), so no
file is held whole and there is no size limit. The tags of a record are read in order rather than
with Biopython's dict so that each affiliation (``AD``) stays with the author before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from helpers.sources.common import PMCID_RE, clean_doi, first, parse_date
from helpers.sources.encodings import TextLines, fallback_note
from helpers.sources.pubmed_xml import Record, RecordError

FORMAT = "medline"
SINGLE_TAGS = frozenset({"PMID", "TI", "AB", "DP", "TA", "JT", "VI", "IP", "PG", "PMC"})


def _records(lines: Iterator[str]) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """(first line number, [(tag, value)]) of each record; continuation lines join their tag's value."""
    record: list[tuple[str, str]] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if line.startswith("      ") and record:
            tag, value = record[-1]
            record[-1] = (tag, f"{value} {line.strip()}")
            continue
        tag = line[:4].rstrip()
        if (not line.strip() or tag == "PMID") and record:
            yield start, record
            record = []
        if not line.strip():
            continue
        if not record:
            start = number
        record.append((tag, line[6:].strip() if line[4:6] == "- " else line.strip()))
    if record:
        yield start, record


def _authors(pairs: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Authors in file order (full name when given) and one '; '-joined affiliation string per author."""
    authors: list[str] = []
    affiliations: list[list[str]] = []
    full_pending = False  # the last author came from FAU: an AU that follows is the same person
    for tag, value in pairs:
        if tag == "FAU" or tag == "CN" or (tag == "AU" and not full_pending):
            authors.append(value)
            affiliations.append([])
            full_pending = tag == "FAU"
        elif tag == "AU":
            full_pending = False
        elif tag == "AD" and affiliations:
            affiliations[-1].append(value)
    return authors, ["; ".join(a) for a in affiliations]


def parse_record(pairs: list[tuple[str, str]], name: str, index: int) -> Record:
    """One MEDLINE record's (tag, value) pairs as a Record; ValueError for a record that cannot be one."""
    seen: set[str] = set()
    values: dict[str, list[str]] = {}
    for tag, value in pairs:
        if tag in SINGLE_TAGS and tag in seen:
            raise ValueError(f"it has a second {tag} line; a record holds one {tag}: fix or re-export it")
        seen.add(tag)
        values.setdefault(tag, []).append(value)
    if not any(t in values for t in ("PMID", "TI", "AB")):
        raise ValueError("it has no PMID, TI or AB line: not a MEDLINE record")

    def one(tag: str) -> str | None:
        return values.get(tag, [None])[0] or None

    record = Record(source_file=name, source_index=index, format=FORMAT)
    record.pmid, record.title, record.abstract = one("PMID"), one("TI") or one("TT"), one("AB")
    record.authors, record.affiliations = _authors(pairs)
    record.journal, record.journal_abbrev = one("JT"), one("TA")
    record.date, record.year = parse_date(one("DP") or "")
    record.volume, record.issue, record.pages = one("VI"), one("IP"), one("PG")
    ids = values.get("LID", []) + values.get("AID", [])
    record.doi = next((clean_doi(i.rsplit(" ", 1)[0]) for i in ids if i.endswith("[doi]")), None)
    record.pmcid = first(PMCID_RE, one("PMC") or "")
    record.keywords = [k.lstrip("*") for k in values.get("OT", [])]
    record.mesh = [m.split("/")[0].lstrip("*") for m in values.get("MH", [])]
    record.publication_types = values.get("PT", [])
    record.language = one("LA")
    return record


def iter_medline(path: Path, name: str, encoding: str = "utf-8") -> Iterator[Record | RecordError]:
    """Stream the records of a MEDLINE text file in file order."""
    lines = TextLines(path, encoding)
    noted = encoding not in ("utf-8", "utf-8-sig")  # a file read as cp1252 from the start is noted by detect
    for index, (start, pairs) in enumerate(_records(iter(lines)), 1):
        try:
            yield parse_record(pairs, name, index)
        except ValueError as exc:
            yield RecordError(name, index, f"record {index} (line {start}): {exc}")
        if lines.first_fallback and not noted:
            noted = True
            yield RecordError(name, index, fallback_note(lines.first_fallback))
