"""Paper pages written or saved as Markdown: `# Title`, metadata lines (`**Journal:** …`,
`- DOI: …`), `## Abstract`, `## Keywords` / `Keywords: …`, `## References`."""

from __future__ import annotations

import re

from helpers.core.patterns import linear
from helpers.sources.common import (
    DOI_RE,
    NCT_RE,
    PMCID_RE,
    PMID_RE,
    clean_doi,
    first,
    parse_date,
    split_keywords,
    unique_in_order,
)

# Patterns over page text run on RE2 (linear time, see helpers.core.patterns); the ones left on
# re do bounded work per position (no unbounded repetition).
META_RE = linear(r"^\s*(?:[-*]\s*)?\*{0,2}([A-Za-z][A-Za-z ]{1,25}?)\*{0,2}\s*:\s*\*{0,2}\s*(.+?)\s*$")
HEADING_RE = linear(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SUBHEADING_OR_LABEL_RE = linear(r"^#{2,3} \S|^\*\*[^*]+\*\*", re.M)
IMAGE_RE = linear(r"!\[([^\]]*)\]\([^)]*\)")
LINK_RE = linear(r"\[([^\]]*)\]\([^)]*\)")
LIST_MARK_RE = linear(r"^\s*(?:\d+\.|[-*])\s*")


def matches(text: str) -> bool:
    """Whether the text is a Markdown page: a `# Title` plus a subheading or a bold metadata label."""
    return bool(re.search(r"^# \S", text, re.M)) and bool(SUBHEADING_OR_LABEL_RE.search(text))


def _strip_md(s: str) -> str:
    s = IMAGE_RE.sub(r"\1", s)
    s = LINK_RE.sub(r"\1", s)
    return re.sub(r"[*_`]{1,3}", "", s).strip()


def parse(text: str) -> dict:
    """Parse a Markdown paper page into Document fields."""
    sections: dict[str, list[str]] = {"": []}
    title = None
    current = ""
    for ln in text.split("\n"):
        h = HEADING_RE.match(ln)
        if h:
            if len(h.group(1)) == 1 and title is None:
                title = _strip_md(h.group(2))
                current = ""
            else:
                current = _strip_md(h.group(2)).lower()
                sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(ln)
    meta = {}
    for ln in sections[""]:
        m = META_RE.match(ln)
        if m:
            meta[m.group(1).strip().lower()] = _strip_md(m.group(2))
    date, year = parse_date(meta.get("published") or meta.get("date") or meta.get("year") or "")
    abstract = _paragraphs(sections.get("abstract", []))
    kw_text = meta.get("keywords") or " ".join(sections.get("keywords", []))
    author_text = meta.get("authors", meta.get("author", ""))
    authors = [a.strip() for a in _split_authors(author_text) if a.strip()]
    refs_lines = [ln for ln in sections.get("references", []) if ln.strip()]
    return {
        "title": title,
        "authors": authors,
        "authors_complete": True if authors else None,
        "journal": meta.get("journal"),
        "date": date,
        "year": year,
        "doi": clean_doi(meta.get("doi") or first(DOI_RE, "\n".join(sections[""]))),
        "pmid": first(re.compile(r"(\d{6,9})"), meta.get("pmid", "")) or first(PMID_RE, "\n".join(sections[""])),
        "pmcid": first(PMCID_RE, meta.get("pmcid", "") or "\n".join(sections[""])),
        "article_type": meta.get("type") or meta.get("article type"),
        "abstract": "\n\n".join(abstract) or None,
        "keywords": split_keywords(kw_text) if kw_text.strip() else [],
        "conflict_of_interest": " ".join(_paragraphs(sections.get("conflict of interest", []))) or None,
        "references": [
            {
                "index": i,
                "text": _strip_md(LIST_MARK_RE.sub("", ln)),
                "doi": clean_doi(first(DOI_RE, ln)),
                "pmid": first(PMID_RE, ln),
                "pmcid": first(PMCID_RE, ln),
            }
            for i, ln in enumerate(refs_lines, start=1)
        ],
        "nct_ids": sorted(set(NCT_RE.findall(text))),
    }


def _split_authors(text: str) -> list[str]:
    """Split at ';' and at ',' outside parentheses, in one pass: what ``re.split(";|,(?![^()]*[)])", text)``
    gives (that lookahead reads on to the next parenthesis from every comma: quadratic time)."""
    cuts = []
    closing = False  # whether the next parenthesis to the right is ')'
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch in "()":
            closing = ch == ")"
        elif ch == ";" or (ch == "," and not closing):
            cuts.append(i)
    starts = [0, *(i + 1 for i in reversed(cuts))]
    ends = [*reversed(cuts), len(text)]
    return [text[a:b] for a, b in zip(starts, ends, strict=True)]


def _paragraphs(lines: list[str]) -> list[str]:
    paras, buf = [], []
    for ln in lines + [""]:
        if ln.strip():
            buf.append(_strip_md(ln))
        elif buf:
            paras.append(" ".join(buf))
            buf = []
    return unique_in_order(paras)
