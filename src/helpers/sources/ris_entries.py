"""RIS exports (PubMed, Embase, Scopus, Ovid and reference managers), split and read entry by entry.

The file is split into entries here (``TY`` starts one, ``ER`` ends it) so that an entry without its
``ER`` (the next ``TY`` comes first, or the file ends) costs only that entry: it is reported with
its first line and the others are read. Each entry's tags are mapped onto the record model with the
variants the databases write: the title in ``TI`` or ``T1``; the journal in ``JF``, ``T2`` (Scopus)
or ``JO``; the abstract in ``AB`` or ``N2`` (Embase); the date in ``PY``, ``Y1`` (``2023//``) or
``DA``; the PMID in ``AN`` or ``ID`` of a MEDLINE database, or in a PubMed or Ovid MEDLINE ``UR``.
Affiliations (``AD``) are not tied to authors in RIS, so every author gets all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from helpers.sources.common import DOI_RE, PMCID_RE, clean_doi, first
from helpers.sources.pubmed_xml import Record, RecordError

FORMAT = "ris"
TAG_RE = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")  # bounded: two characters, two spaces, a hyphen
PUBMED_URL_RE = re.compile(r"pubmed\.ncbi\.nlm\.nih\.gov/(\d{1,9})|ncbi\.nlm\.nih\.gov/pubmed/(\d{1,9})")
OVID_MEDLINE_RE = re.compile(r"[?&]D=(?:medl|prem|mesz|mesx|medc|medp)\w{0,8}&.{0,200}?AN=(\d{6,9})")  # bounded
NOTE_PMID_RE = re.compile(r"(?:PMID|PubMed ID)\s{0,3}:?\s{0,3}(\d{6,9})")  # bounded; Scopus: 'PubMed ID: 1'
MEDLINE_DB = ("pubmed", "medline")


def split_entries(text: str) -> Iterator[tuple[int, list[tuple[str, str]], str | None]]:
    """(first line number, [(tag, value)], problem or None) of each entry, in file order."""
    entry: list[tuple[str, str]] | None = None
    start = 0
    for number, line in enumerate(text.split("\n"), 1):
        match = TAG_RE.match(line)
        if not match:
            if entry and line.strip():  # a wrapped value (some exporters wrap long abstracts)
                tag, value = entry[-1]
                entry[-1] = (tag, f"{value} {line.strip()}")
            continue
        tag, value = match.group(1), line[match.end() :].strip()
        if tag == "TY":
            if entry is not None:
                yield start, entry, f"has no ER line before the next TY at line {number}"
            entry, start = [], number
        if entry is None:
            continue  # lines outside entries: export headers
        if tag == "ER":
            yield start, entry, None
            entry = None
            continue
        entry.append((tag, value))
    if entry is not None:
        yield start, entry, "has no ER line before the end of the file (the export may be cut short)"


def _date(values: dict[str, list[str]]) -> tuple[int | None, str | None]:
    """(year, ISO partial date) from PY / Y1 / DA, written 2023, 2023//, 2023/03/05/ or 2023/03/05."""
    for tag in ("DA", "PY", "Y1"):
        for value in values.get(tag, []):
            parts = [p.strip() for p in value.split("/")]
            if not (parts[0][:4].isdigit() and len(parts[0]) >= 4):
                continue
            date = parts[0][:4]
            if len(parts) > 1 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
                date += f"-{int(parts[1]):02d}"
                if len(parts) > 2 and parts[2].isdigit() and 1 <= int(parts[2]) <= 31:
                    date += f"-{int(parts[2]):02d}"
            return int(date[:4]), date
    return None, None


def _pmid(values: dict[str, list[str]]) -> str | None:
    database = " ".join(values.get("DB", []) + values.get("DP", [])).lower()
    if any(db in database for db in MEDLINE_DB):
        for tag in ("AN", "ID"):
            found = next((v for v in values.get(tag, []) if v.isdigit() and 6 <= len(v) <= 9), None)
            if found:
                return found
    for url in values.get("UR", []) + values.get("L2", []):
        match = PUBMED_URL_RE.search(url) or OVID_MEDLINE_RE.search(url)
        if match:
            return next(g for g in match.groups() if g)
    return first(NOTE_PMID_RE, " ".join(values.get("N1", [])))


def _doi(values: dict[str, list[str]]) -> str | None:
    for tag in ("DO", "DI"):
        if values.get(tag):
            return clean_doi(values[tag][0])
    for tag in ("UR", "L2", "L3", "M3", "N1"):
        found = first(DOI_RE, " ".join(values.get(tag, [])))
        if found:
            return clean_doi(found)
    return None


def _pages(values: dict[str, list[str]]) -> str | None:
    start, end = (values.get("SP") or [None])[0], (values.get("EP") or [None])[0]
    if start and end and end != start:
        return f"{start}-{end}"
    return start or end


def parse_entry(pairs: list[tuple[str, str]], name: str, index: int) -> Record:
    """One RIS entry's (tag, value) pairs as a Record."""
    values: dict[str, list[str]] = {}
    for tag, value in pairs:
        if value:
            values.setdefault(tag, []).append(value)

    def one(*tags: str) -> str | None:
        return next((values[t][0] for t in tags if values.get(t)), None)

    record = Record(source_file=name, source_index=index, format=FORMAT)
    record.title, record.abstract = one("TI", "T1", "CT", "BT"), one("AB", "N2")
    record.authors = values.get("AU") or values.get("A1") or []
    if values.get("AD"):
        record.affiliations = ["; ".join(values["AD"])] * len(record.authors)
    record.journal = one("JF", "T2", "JO", "JA")
    record.journal_abbrev = one("JA", "J2", "J1") or (one("JO") if record.journal != one("JO") else None)
    record.year, record.date = _date(values)
    record.volume, record.issue, record.pages = one("VL"), one("IS", "CP"), _pages(values)
    record.doi, record.pmid = _doi(values), _pmid(values)
    record.pmcid = first(PMCID_RE, " ".join(values.get("C2", []) + values.get("N1", []) + values.get("UR", [])))
    record.keywords = values.get("KW", [])
    record.publication_types = values.get("M3") or values.get("TY", [])
    record.language = one("LA")
    return record


def iter_ris(text: str, name: str) -> Iterator[Record | RecordError]:
    """The records of an RIS export's text, in file order; an entry without ER becomes a RecordError."""
    for index, (start, pairs, problem) in enumerate(split_entries(text), 1):
        if problem:
            title = next((v for t, v in pairs if t in ("TI", "T1")), "")
            named = f"record {index} (line {start}: 'TY  - {pairs[0][1]}'" + (f", {title[:60]!r})" if title else ")")
            yield RecordError(name, index, f"{named} {problem}; it is skipped: export it again")
            continue
        yield parse_entry(pairs, name, index)
