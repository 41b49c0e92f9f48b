"""Citation records as publishers export them: `AUTHOR=… TITLE=… JOURNAL=… VOLUME=… YEAR=… DOI=… ABSTRACT=…`
(one field per line or all on one line)."""

from __future__ import annotations

import re

from helpers.sources.common import NCT_RE, clean_doi, parse_date, split_keywords

KEYS = ("AUTHOR", "TITLE", "JOURNAL", "VOLUME", "YEAR", "URL", "DOI", "ISSN", "ABSTRACT", "KEYWORDS", "PAGES", "NUMBER")
FIELD_RE = re.compile(r"(?:^|\s)(" + "|".join(KEYS) + r")=")


def matches(text: str) -> bool:
    """Whether the text looks like a citation record: TITLE= plus two of AUTHOR=, JOURNAL=, DOI=, YEAR=."""
    found = set(FIELD_RE.findall(text[:20000]))
    return "TITLE" in found and len(found & {"AUTHOR", "JOURNAL", "DOI", "YEAR"}) >= 2


def parse_records(text: str) -> list[dict]:
    """One dict of Document fields per record (a new record starts at each AUTHOR= after a TITLE=)."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    pieces = FIELD_RE.split(text)
    for key, value in zip(pieces[1::2], pieces[2::2], strict=True):
        if key in current:
            records.append(current)
            current = {}
        current[key] = " ".join(value.split())
    if current:
        records.append(current)
    return [_fields(r) for r in records if "TITLE" in r]


def _fields(r: dict[str, str]) -> dict:
    # Publishers print "Surname Given"; store "Surname, Given" so the order is unambiguous.
    authors = [_surname_first(a) for a in r.get("AUTHOR", "").split(",") if a.strip()]
    date, year = parse_date(r.get("YEAR", ""))
    return {
        "title": r.get("TITLE") or None,
        "authors": authors,
        "authors_complete": True if authors else None,
        "journal": r.get("JOURNAL") or None,
        "volume": r.get("VOLUME") or None,
        "pages": r.get("PAGES") or None,
        "date": date,
        "year": year,
        "doi": clean_doi(r.get("DOI")),
        "abstract": r.get("ABSTRACT") or None,
        "keywords": split_keywords(r["KEYWORDS"]) if r.get("KEYWORDS") else [],
        "nct_ids": sorted(set(NCT_RE.findall(r.get("ABSTRACT", "")))),
    }


def _surname_first(name: str) -> str:
    parts = name.split()
    return f"{parts[0]}, {' '.join(parts[1:])}" if len(parts) > 1 else parts[0]
