"""Fallback for any other text: identifiers found anywhere (DOI, PMID, PMCID, NCT), an
`Abstract` section and `Keywords:` line when present. Nothing else is guessed."""

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

# Patterns over page text run on RE2 (linear time, see helpers.core.patterns).
KEYWORDS_LINE_RE = linear(r"^keywords?\s*:", re.I)
TITLE_LINE_RE = linear(r"^title\s*:\s*(.+)$", re.I)


def parse(text: str) -> dict:
    """Identifiers and clearly labelled blocks only."""
    lines = content_lines(text)
    kw = next((ln for ln in lines if KEYWORDS_LINE_RE.match(ln)), None)
    title = next((m.group(1).strip() for ln in lines[:20] if (m := TITLE_LINE_RE.match(ln))), None)
    return {
        "title": title,
        "doi": clean_doi(first(DOI_RE, text)),
        "pmid": first(PMID_RE, text),
        "pmcid": first(PMCID_RE, text),
        "nct_ids": sorted(set(NCT_RE.findall(text))),
        "abstract": "\n\n".join(dedupe_paragraphs(section_after(lines, "Abstract"))) or None,
        "keywords": split_keywords(kw) if kw else [],
    }


def has_content(fields: dict) -> bool:
    """Whether a parsed record holds a title, an identifier or an abstract worth keeping."""
    return any(fields.get(k) for k in ("title", "doi", "pmid", "pmcid", "nct_ids", "abstract"))
