"""Fallback for pages of any other layout: identifiers (DOI, PMID, PMCID, NCT), an `Abstract`
section and `Keywords:` line when present, and the title, authors, journal and year the page prints
in a citation line, a "Cite" block, labelled lines or its header
(:mod:`helpers.sources.page_citation`). Nothing is guessed: what no rule finds stays None. Each
field names how it was found (``field_sources``), and the page's text is kept (``body``)."""

from __future__ import annotations

import re

from helpers.core.patterns import linear
from helpers.sources.common import (
    DOI_RE,
    NCT_RE,
    PMCID_RE,
    PMID_RE,
    clean_doi,
    content_lines,
    dedupe_paragraphs,
    first,
    section_after,
    split_keywords,
)
from helpers.sources.page_citation import find_citation

# Patterns over page text run on RE2 (linear time, see helpers.core.patterns).
KEYWORDS_LINE_RE = linear(r"^keywords?\s*:", re.I)
TITLE_LINE_RE = linear(r"^title\s*:\s*(.+)$", re.I)


def parse(text: str) -> dict:
    """Fields the page prints (see the module docstring), with ``field_sources`` and ``body``."""
    lines = content_lines(text)
    kw = next((ln for ln in lines if KEYWORDS_LINE_RE.match(ln)), None)
    title = next((m.group(1).strip() for ln in lines[:20] if (m := TITLE_LINE_RE.match(ln))), None)
    abstract = [p for p in dedupe_paragraphs(section_after(lines, "Abstract")) if p != ":"]
    fields: dict = {
        "title": title,
        "doi": clean_doi(first(DOI_RE, text)),
        "pmid": first(PMID_RE, text),
        "pmcid": first(PMCID_RE, text),
        "nct_ids": sorted(set(NCT_RE.findall(text))),
        "abstract": "\n\n".join(abstract) or None,
        "keywords": split_keywords(kw) if kw else [],
    }
    sources = {
        k: "labelled_line" if k == "title" else "identifier" for k in ("title", "doi", "pmid", "pmcid") if fields[k]
    }
    found = find_citation(text, identifiers=False)
    for key, value in found.fields.items():
        if fields.get(key) in (None, "", []) and value not in (None, "", []):
            fields[key], sources[key] = value, found.methods[key]
    if fields.get("authors") and fields.get("authors_complete") is None:
        fields["authors_complete"] = True
    fields["field_sources"] = sources
    fields["body"] = found.body
    return fields


def has_content(fields: dict) -> bool:
    """Whether a parsed record holds a title, authors, an identifier or an abstract worth keeping."""
    return any(fields.get(k) for k in ("title", "authors", "doi", "pmid", "pmcid", "nct_ids", "abstract"))
