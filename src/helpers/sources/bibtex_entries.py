"""BibTeX / BibLaTeX exports (Zotero, JabRef, publishers), split and read entry by entry with bibtexparser 2.

The text is split where a line starts with ``@type{`` (or ``@type(``), and each piece is parsed on
its own, with the file's ``@string`` macros before it, so an entry with a broken brace costs only
that entry: it is reported with its key and line and the others are read. LaTeX accents are decoded
(``M{\\"u}ller`` -> ``Müller``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser import middlewares

from helpers.core.patterns import linear
from helpers.sources.common import DOI_RE, PMCID_RE, clean_doi, first, parse_date
from helpers.sources.pubmed_xml import Record, RecordError

FORMAT = "bibtex"
ENTRY_START_RE = re.compile(r"^\s{0,40}@\s{0,4}([A-Za-z]{1,40})\s{0,4}[{(]\s{0,40}([^,\s]{0,200})")  # bounded
AND_RE = linear(r"\s+and\s+")
NOT_ENTRIES = frozenset({"string", "comment", "preamble"})
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def split_entries(text: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    """(@string blocks, [(first line number, key, entry text)]) of a BibTeX file."""
    strings: list[str] = []
    entries: list[tuple[int, str, str]] = []
    kind, key, start, lines = None, "", 0, []

    def close() -> None:
        if kind == "string":
            strings.append("\n".join(lines))
        elif kind is not None and kind not in NOT_ENTRIES:
            entries.append((start, key, "\n".join(lines)))

    for number, line in enumerate(text.split("\n"), 1):
        match = ENTRY_START_RE.match(line)
        if match:
            close()
            kind, key, start, lines = match.group(1).lower(), match.group(2), number, []
        lines.append(line)
    close()
    return strings, entries


def _clean(value: str | None) -> str | None:
    """A field value without protective braces and with collapsed spaces."""
    if value is None:
        return None
    text = " ".join(value.replace("{", "").replace("}", "").split())
    return text or None


def _date(fields: dict[str, str]) -> tuple[str | None, int | None]:
    if fields.get("date"):  # BibLaTeX: 2024-03-05
        date, year = parse_date(fields["date"])
        if year:
            return date, year
    year = (fields.get("year") or "").strip()[:4]
    if not year.isdigit():
        return None, None
    month = (fields.get("month") or "").strip().lower()[:3]
    if month in MONTHS:
        return f"{year}-{MONTHS.index(month) + 1:02d}", int(year)
    if month.isdigit() and 1 <= int(month) <= 12:
        return f"{year}-{int(month):02d}", int(year)
    return year, int(year)


def parse_fields(fields: dict[str, str], entry_type: str, name: str, index: int) -> Record:
    """One entry's fields (lower-case names, decoded values) as a Record."""
    record = Record(source_file=name, source_index=index, format=FORMAT)
    record.title, record.abstract = _clean(fields.get("title")), _clean(fields.get("abstract"))
    record.authors = [a for a in (_clean(x) for x in AND_RE.split(fields.get("author", ""))) if a]
    if fields.get("affiliation") or fields.get("affiliations"):
        affiliation = _clean(fields.get("affiliation") or fields.get("affiliations")) or ""
        record.affiliations = [affiliation] * len(record.authors)
    record.journal = _clean(fields.get("journal") or fields.get("journaltitle"))
    record.journal_abbrev = _clean(fields.get("shortjournal") or fields.get("journal-iso"))
    record.date, record.year = _date(fields)
    record.volume, record.issue = _clean(fields.get("volume")), _clean(fields.get("number") or fields.get("issue"))
    record.pages = (_clean(fields.get("pages")) or "").replace("--", "-").replace("–", "-") or None
    record.doi = clean_doi(_clean(fields.get("doi")) or first(DOI_RE, fields.get("url", "")))
    eprint = (fields.get("eprinttype") or "").lower() == "pubmed" and _clean(fields.get("eprint"))
    record.pmid = _clean(fields.get("pmid")) or (eprint or None)
    record.pmcid = _clean(fields.get("pmcid")) or first(PMCID_RE, fields.get("note", ""))
    record.keywords = [k.strip() for k in re.split(r"[;,]", fields.get("keywords", "")) if k.strip()]
    record.mesh = [m.strip() for m in re.split(r"[;]", fields.get("mesh", "")) if m.strip()]
    record.publication_types = [entry_type]
    record.language = _clean(fields.get("language") or fields.get("langid"))
    return record


def _parse_one(strings: str, entry: str) -> tuple[str, dict[str, str]]:
    """(entry type, fields) of one entry text; ValueError when bibtexparser cannot read it."""
    parse_log = logging.getLogger("bibtexparser")
    level = parse_log.level
    parse_log.setLevel(logging.CRITICAL)  # its own message is replaced by the record error below
    try:
        library = bibtexparser.parse_string(
            f"{strings}\n{entry}" if strings else entry,
            append_middleware=[middlewares.LatexDecodingMiddleware()],
        )
    finally:
        parse_log.setLevel(level)
    if library.failed_blocks or len(library.entries) != 1:
        failed = library.failed_blocks[0] if library.failed_blocks else None
        why = str(getattr(failed, "error", "") or "").strip()
        raise ValueError(why or "its braces or quotes do not balance, or it ends early")
    parsed = library.entries[0]
    return parsed.entry_type.lower(), {k.lower(): str(v.value) for k, v in parsed.fields_dict.items()}


def iter_bibtex(text: str, name: str) -> Iterator[Record | RecordError]:
    """The records of a BibTeX export's text, in file order; an entry that cannot be read becomes a RecordError."""
    strings, entries = split_entries(text)
    macros = "\n".join(strings)
    for index, (start, key, entry) in enumerate(entries, 1):
        try:
            entry_type, fields = _parse_one(macros, entry)
        except ValueError as exc:
            yield RecordError(
                name, index, f"record {index} (line {start}, key {key!r}) cannot be read ({exc}); fix its braces"
            )
            continue
        yield parse_fields(fields, entry_type, name, index)
