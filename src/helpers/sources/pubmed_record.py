"""PubMed mirror records: a title line, `- PMID: …` / `- PMCID: …` / `- DOI: …` bullets,
the title again, Abstract, Keywords, conflict-of-interest statement, empty PubMed section
headings (Figures, References, MeSH terms, LinkOut …)."""

from __future__ import annotations

import re

from helpers.core.patterns import linear
from helpers.sources.common import (
    NCT_RE,
    clean_doi,
    content_lines,
    dedupe_paragraphs,
    is_heading,
    parse_date,
    section_after,
    split_keywords,
)
from helpers.sources.ncbi_page import parse_figures, parse_references

# Patterns over page text run on RE2 (linear time, see helpers.core.patterns).
BULLET_RE = linear(r"^-\s*([A-Za-z][A-Za-z ]{1,30}):\s*(.+)$")
ID_BULLET_LINE_RE = linear(r"^-\s*(PMID|PMCID|DOI):\s*\S+", re.M)
AUTHOR_SEPARATOR_RE = linear(r"[;,]\s*")


def matches(text: str) -> bool:
    """Whether the text is a mirror record (a `- PMID:`, `- PMCID:` or `- DOI:` bullet line)."""
    return bool(ID_BULLET_LINE_RE.search(text))


def parse(text: str) -> dict:
    """Parse a mirror record into Document fields."""
    lines = content_lines(text)
    bullets = {m.group(1).strip().lower(): m.group(2).strip() for ln in lines if (m := BULLET_RE.match(ln))}
    fields: dict = {
        "pmid": _digits(bullets.get("pmid")),
        "pmcid": bullets.get("pmcid"),
        "doi": clean_doi(bullets.get("doi")),
        "journal": bullets.get("journal") or bullets.get("source"),
        "article_type": bullets.get("publication type") or bullets.get("type"),
    }
    if "authors" in bullets:
        fields["authors"] = [a.strip() for a in AUTHOR_SEPARATOR_RE.split(bullets["authors"]) if a.strip()]
        fields["authors_complete"] = True
    date_src = bullets.get("published") or bullets.get("date") or bullets.get("year")
    if date_src:
        fields["date"], fields["year"] = parse_date(date_src)
    title = next((ln for ln in lines if not BULLET_RE.match(ln) and not is_heading(ln)), None)
    fields["title"] = title
    abstract = dedupe_paragraphs(section_after(lines, "Abstract"))
    fields["abstract"] = "\n\n".join(p for p in abstract if not p.lower().startswith("keywords")) or None
    kw = next((ln for ln in lines if ln.lower().startswith("keywords")), None)
    fields["keywords"] = split_keywords(kw) if kw else []
    fields["conflict_of_interest"] = " ".join(section_after(lines, "Conflict of interest statement")) or None
    fields["figures"] = parse_figures(section_after(lines, "Figures"))
    fields["references"] = parse_references(text)
    fields["nct_ids"] = sorted(set(NCT_RE.findall(text)))
    return fields


def _digits(value: str | None) -> str | None:
    m = re.search(r"\d+", value or "")
    return m.group(0) if m else None
