"""Bibliographic export formats read with the field's libraries: PubMed MEDLINE text
(Biopython), RIS (rispy) and BibTeX (bibtexparser 2)."""

from __future__ import annotations

import re

import bibtexparser
import rispy
from Bio import Medline

from helpers.core.patterns import linear
from helpers.sources.common import DOI_RE, NCT_RE, PMCID_RE, clean_doi, first, parse_date

# Patterns over export text run on RE2 (linear time, see helpers.core.patterns); the ones left on
# re do bounded work per position (no unbounded repetition).
MEDLINE_PMID_LINE_RE = linear(r"^PMID- ?\d+", re.M)
BIBTEX_ENTRY_RE = linear(r"^\s*@(article|inproceedings|misc|book|incollection|online)\s*\{", re.M | re.I)
BIBTEX_AND_RE = linear(r"\s+and\s+")


def matches_medline(text: str) -> bool:
    """Whether the text is a MEDLINE export (a line starting with a `PMID-` tag)."""
    return bool(MEDLINE_PMID_LINE_RE.search(text))


def matches_ris(text: str) -> bool:
    """Whether the text is an RIS export (a line starting with a `TY  - ` tag)."""
    return bool(re.search(r"^TY  - ", text, re.M))


def matches_bibtex(text: str) -> bool:
    """Whether the text holds a BibTeX entry of a bibliographic type (@article, @book, ...)."""
    return bool(BIBTEX_ENTRY_RE.search(text))


# Tags Biopython reads into one text: a second such line in a record would be joined to the first
# (two titles read as one title), so it is refused with the record and line named.
_MEDLINE_SINGLE_TAGS = frozenset({"PMID", "TI", "AB", "DP", "TA", "JT", "VI", "PG", "PMC"})


def _medline_records(text: str) -> list[list[str]]:
    """The lines of each record: a record ends at an empty line, and every `PMID-` line starts one, so two
    records whose empty line was lost are not merged (Biopython would join their PMIDs and titles)."""
    records: list[list[str]] = [[]]
    tags: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        tag = line[:4].rstrip() if line and line[:6] != "      " else None
        if (not line or tag == "PMID") and records[-1]:
            records.append([])
            tags = set()
        if not line:
            continue
        if tag in _MEDLINE_SINGLE_TAGS and tag in tags:
            raise ValueError(
                f"record {len(records)} has a second {tag} line (line {number}); a record holds one {tag}, "
                "so fix or re-export that record"
            )
        tags.add(tag)
        records[-1].append(line + "\n")
    return [r for r in records if r]


def parse_medline(text: str) -> list[dict]:
    """One dict of Document fields per MEDLINE record."""
    out = []
    for rec in (r for lines in _medline_records(text) for r in Medline.parse(lines)):
        date, year = parse_date(rec.get("DP", ""))
        lid = rec.get("LID", [])
        ids = list(rec.get("AID", [])) + ([lid] if isinstance(lid, str) else list(lid))
        doi = next((clean_doi(a.split(" ")[0]) for a in ids if a.endswith("[doi]")), None)
        out.append(
            {
                "title": rec.get("TI"),
                "authors": rec.get("FAU") or rec.get("AU") or [],
                "authors_complete": True if rec.get("AU") else None,
                "journal": rec.get("TA") or rec.get("JT"),
                "date": date,
                "year": year,
                "volume": rec.get("VI"),
                "pages": rec.get("PG"),
                "doi": doi,
                "pmid": rec.get("PMID"),
                "pmcid": first(PMCID_RE, rec.get("PMC", "")),
                "article_type": (rec.get("PT") or [None])[0],
                "abstract": rec.get("AB"),
                "keywords": rec.get("OT", []),
                "conflict_of_interest": " ".join(rec["COIS"]) if rec.get("COIS") else None,  # a list of lines
                "nct_ids": sorted(set(NCT_RE.findall(" ".join(rec.get("SI", [])) + " " + rec.get("AB", "")))),
            }
        )
    return out


def parse_ris(text: str) -> list[dict]:
    """One dict of Document fields per RIS record (a PMID only when the database is PubMed)."""
    out = []
    for rec in rispy.loads(text):
        date, year = parse_date(str(rec.get("year") or rec.get("date") or rec.get("publication_year") or ""))
        notes = " ".join(rec.get("notes", []) if isinstance(rec.get("notes"), list) else [str(rec.get("notes", ""))])
        out.append(
            {
                "title": rec.get("primary_title") or rec.get("title"),
                "authors": rec.get("authors") or rec.get("first_authors") or [],
                "authors_complete": True if rec.get("authors") else None,
                "journal": rec.get("journal_name") or rec.get("secondary_title") or rec.get("alternate_title1"),
                "date": date,
                "year": year,
                "volume": rec.get("volume"),
                "pages": "-".join(p for p in (rec.get("start_page"), rec.get("end_page")) if p) or None,
                "doi": clean_doi(rec.get("doi")),
                "pmid": (
                    first(re.compile(r"(\d{6,9})"), str(rec.get("accession_number", "")))
                    if "pubmed" in str(rec.get("name_of_database", "")).lower()
                    else None
                ),
                "abstract": rec.get("abstract"),
                "keywords": rec.get("keywords", []),
                "nct_ids": sorted(set(NCT_RE.findall(notes + " " + str(rec.get("abstract", ""))))),
            }
        )
    return out


def parse_bibtex(text: str) -> list[dict]:
    """One dict of Document fields per BibTeX entry."""
    library = bibtexparser.parse_string(text)
    out = []
    for entry in library.entries:
        f = {k.lower(): v.value for k, v in entry.fields_dict.items()}
        date, year = parse_date(str(f.get("year", "")))
        authors = [a.strip() for a in BIBTEX_AND_RE.split(f.get("author", "")) if a.strip()]
        out.append(
            {
                "title": re.sub(r"[{}]", "", f["title"]) if f.get("title") else None,
                "authors": authors,
                "authors_complete": True if authors else None,
                "journal": f.get("journal"),
                "date": date,
                "year": year,
                "volume": f.get("volume"),
                "pages": f.get("pages"),
                "doi": clean_doi(f.get("doi") or first(DOI_RE, f.get("url", ""))),
                "pmid": f.get("pmid"),
                "pmcid": f.get("pmcid"),
                "abstract": f.get("abstract"),
                "keywords": [k.strip() for k in re.split(r"[;,]", f.get("keywords", "")) if k.strip()],
                "nct_ids": sorted(set(NCT_RE.findall(f.get("abstract", "")))),
            }
        )
    return out
