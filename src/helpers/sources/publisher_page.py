"""Journal landing pages (publisher sites such as J Rheum Dis, Frontiers, MDPI) saved as text.

Typical blocks: journal line, `Published online January 20, 2025` or a citation line
(`J Rheum Dis. 2025 Jul 1;32(3):154-165`), copyright, a correspondence block, licence text,
the abstract (sometimes printed twice, with or without an `Abstract` heading), keywords,
authors with degrees and affiliation numbers (`Bong-Woo Lee, M.D.1*`), numbered
affiliations, and trailing related articles by other people (never taken as authors).
"""

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
    find_licence,
    first,
    is_heading,
    parse_date,
    section_after,
    split_keywords,
    unique_in_order,
)

# Patterns over page text run on RE2 (linear time, see helpers.core.patterns); the few left on
# re do bounded work per position (no unbounded repetition).
PUBLISHED_RE = linear(r"^(?:Published(?: online)?|Date of publication|Published on)\s*:?\s*(.+)$", re.I)
_DOTTED_CITATION = (
    r"^(?P<journal>[A-Z][A-Za-z .&]{1,60}?)\.\s*(?P<date>\d{4}(?:\s+[A-Z][a-z]{2}(?:\s+\d{1,2})?)?)\s*;"
    r"\s*(?P<volume>\d+)(?:\((?P<issue>[^)]*)\))?:\s*(?P<pages>[\w–-]+)"
)
DOTTED_CITATION_RE = linear(_DOTTED_CITATION)
DOTTED_CITATION_LINE_RE = linear(_DOTTED_CITATION, re.M)  # the same, at any line start of a text
DEGREES = (
    r"(?:M\.?D\.?|Ph\.?D\.?|M\.?Sc\.?|B\.?Sc\.?|M\.?S\.?|D\.?V\.?M\.?|"
    r"Pharm\.?D\.?|R\.?N\.?|M\.?P\.?H\.?|D\.?D\.?S\.?)"
)
AUTHOR_ITEM_RE = linear(
    rf"(?P<name>[A-Z][\w'’\-]+(?:[ \-][A-Z][\w'’\-]*\.?)+)\s*,\s*"
    rf"(?P<degrees>{DEGREES}(?:\s*,\s*{DEGREES})*)\s*(?P<marks>[\d,*†‡§]*)"
)
AFFIL_MARK_RE = re.compile(r"(?:(?<=\s)|^)(\d{1,2})(?=[A-Z])")  # re: lookaround; bounded
CORRESPONDENCE_RE = linear(r"^Correspondence(?: to)?\s*:?\s*(.+)$", re.I)
URL_AFTER_COMMA_RE = linear(r",\s*https?://")
EMAIL_RE = linear(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
TITLE_LINE_RE = linear(r"^Title\s*:\s*(.+)$", re.I)
ARTICLE_TYPES = (
    "Review Article",
    "Original Article",
    "Case Report",
    "Brief Report",
    "Letter to the Editor",
    "Review",
    "Editorial",
    "Perspective",
    "Mini Review",
    "Systematic Review",
    "Research Article",
)
_TYPES = {t.lower() for t in ARTICLE_TYPES}


def matches(text: str) -> bool:
    """Whether the text is a journal landing page: two publisher markers or a dotted citation line."""
    markers = ("Published online", "Correspondence to", "Creative Commons", "Copyright ©", "© ")
    return sum(m in text for m in markers) >= 2 or bool(DOTTED_CITATION_LINE_RE.search(text))


def parse(text: str) -> dict:
    """Parse a journal landing page into Document fields."""
    lines = content_lines(text)
    kw_idx = [i for i, ln in enumerate(lines) if re.match(r"^keywords?\b", ln, re.I)]
    head_end = kw_idx[-1] + 1 if kw_idx else len(lines)
    head = lines[:head_end]  # everything after the last keywords line is related-article furniture
    fields: dict = {}
    _dates_and_citation(head, fields)
    fields["article_type"] = next((ln for ln in head[:10] if ln.lower() in _TYPES), None)
    fields["doi"] = clean_doi(first(DOI_RE, "\n".join(ln for ln in head if "doi" in ln.lower())))
    fields["pmid"] = first(PMID_RE, "\n".join(head))
    fields["pmcid"] = first(PMCID_RE, "\n".join(head))
    licence_text = " ".join(ln for ln in head if "creative commons" in ln.lower() or "open access" in ln.lower())
    fields["licence"], fields["licence_url"] = find_licence(licence_text) if licence_text else (None, None)
    fields["correspondence"] = _correspondence(head)
    authors, author_line_idx = _authors(head)
    corresponding = (fields["correspondence"] or "").split(" <")[0]
    for a in authors:
        a["corresponding"] = bool(corresponding) and a["name"] == corresponding
    fields["author_details"] = authors
    fields["authors"] = [a["name"] for a in authors]
    fields["authors_complete"] = True if authors else None
    fields["abstract"] = _abstract(head, kw_idx)
    fields["keywords"] = unique_in_order(k for i in kw_idx for k in split_keywords(lines[i]))
    fields["title"] = _title(head, author_line_idx)
    fields["conflict_of_interest"] = (
        " ".join(
            section_after(lines, "Conflicts of interest") or section_after(lines, "Conflict of interest statement")
        )
        or None
    )
    fields["nct_ids"] = sorted(set(NCT_RE.findall("\n".join(head))))
    return fields


def _dates_and_citation(head: list[str], fields: dict) -> None:
    for ln in head:
        m = DOTTED_CITATION_RE.match(ln)
        if m:
            fields["journal"] = m.group("journal").strip()
            fields["date"], fields["year"] = parse_date(m.group("date"))
            fields["volume"], fields["pages"] = m.group("volume"), m.group("pages")
            return
    for i, ln in enumerate(head):
        m = PUBLISHED_RE.match(ln)
        if m:
            fields["date"], fields["year"] = parse_date(m.group(1))
            prev = head[i - 1] if i else ""
            if prev and len(prev) < 80 and not re.search(r"[©:@]|\d{4}", prev):
                fields["journal"] = prev
            return


def _correspondence(head: list[str]) -> str | None:
    for i, ln in enumerate(head):
        m = CORRESPONDENCE_RE.match(ln)
        if m:
            name = URL_AFTER_COMMA_RE.split(m.group(1))[0].strip().rstrip(",")
            email = None
            for nxt in head[i : i + 3]:
                em = EMAIL_RE.search(nxt)
                if em:
                    email = em.group(0)
                    break
            return f"{name} <{email}>" if email else name
    return None


def _authors(head: list[str]) -> tuple[list[dict], int | None]:
    """Author items (`Name, M.D.1*`), joined across continuation lines that start with a comma."""
    for i, ln in enumerate(head):
        if not AUTHOR_ITEM_RE.search(ln) or ln.lower().startswith("correspondence"):
            continue
        block = ln
        j = i + 1
        while j < len(head) and head[j].startswith(","):
            block += " " + head[j]
            j += 1
        affiliations = _affiliations(head[j]) if j < len(head) else {}
        out = []
        for m in AUTHOR_ITEM_RE.finditer(block):
            marks = m.group("marks")
            nums = re.findall(r"\d+", marks)
            out.append(
                {
                    "name": m.group("name").strip(),
                    "affiliations": [affiliations[n] for n in nums if n in affiliations],
                    "equal_contribution": "*" in marks,
                    "corresponding": False,
                }
            )
        return out, i
    return [], None


def _affiliations(line: str) -> dict[str, str]:
    """`Dept X, 1Hospital A, City, 2Hospital B, City` -> {"1": "Dept X, Hospital A, City", ...}."""
    parts = AFFIL_MARK_RE.split(line)
    if len(parts) < 3:
        return {}
    prefix = parts[0].strip().rstrip(",").strip()
    out = {}
    for num, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.strip().rstrip(",").strip()
        out[num] = f"{prefix}, {body}" if prefix else body
    return out


def _abstract(head: list[str], kw_idx: list[int]) -> str | None:
    explicit = dedupe_paragraphs(section_after(head, "Abstract"))
    if explicit:
        return "\n\n".join(explicit)
    candidates = [head[i - 1] for i in kw_idx if i > 0 and len(head[i - 1]) >= 200 and not _is_furniture(head[i - 1])]
    paragraphs = dedupe_paragraphs(candidates)
    return "\n\n".join(paragraphs) or None


def _is_furniture(line: str) -> bool:
    low = line.lower()
    return any(s in low for s in ("creative commons", "open access article", "correspondence", "copyright", "e-mail:"))


def _title(head: list[str], author_idx: int | None) -> str | None:
    for ln in head[:15]:
        m = TITLE_LINE_RE.match(ln)
        if m:
            return m.group(1).strip()
    if author_idx:
        prev = head[author_idx - 1]
        if (
            20 <= len(prev) <= 300
            and not prev.endswith(".")
            and not _is_furniture(prev)
            and "©" not in prev
            and not is_heading(prev)
            and not PUBLISHED_RE.match(prev)
        ):
            return prev
    return None
