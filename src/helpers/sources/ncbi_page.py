"""PubMed article pages and PMC article pages saved as text.

PubMed: site furniture, a publication-type line, a citation line
(`Front Pharmacol. 2024 Dec 12;15:1502298.` — the journal may be missing), a `doi:` line,
the title (often printed twice), an author line (`Qianyu Guo et al. Front Pharmacol. .`
or a full list with affiliation numbers), Abstract, Keywords, disclaimer, conflict of
interest, figure captions, references with `- DOI - PMC - PubMed` link text.
PMC: the same blocks plus a `PMCID: PMC… PMID: …` line.
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
    first,
    is_heading,
    parse_date,
    section_after,
    split_keywords,
    unique_in_order,
)

PUBLICATION_TYPES = (
    "Review",
    "Systematic Review",
    "Meta-Analysis",
    "Case Reports",
    "Clinical Trial",
    "Clinical Trial, Phase I",
    "Clinical Trial, Phase II",
    "Letter",
    "Editorial",
    "Comment",
    "Observational Study",
    "Randomized Controlled Trial",
    "Journal Article",
    "Research Support, Non-U.S. Gov't",
    "Multicenter Study",
    "Practice Guideline",
    "Case Report",
    "Research Article",
    "Original Article",
    "Review Article",
    "Brief Report",
    "Correspondence",
    "News",
)
_PUBTYPE_SET = {p.lower() for p in PUBLICATION_TYPES}
# Patterns over page text run on RE2 (linear time, see helpers.core.patterns); REF_YEAR_RE and
# the author split stay on re (bounded; lookbehind).
# `Journal. 2024 Dec 12;15:1502298.`  `. 2023 Sep 27;5(11):624–628. doi: …`
CITATION_RE = linear(
    r"^(?P<journal>[A-Z][^.;]{1,80}?)?\s*\.\s*(?P<date>\d{4}(?:\s+[A-Z][a-z]{2}(?:\s+\d{1,2})?)?)"
    r"\s*[;:]\s*(?P<volume>[\w-]+)?(?:\((?P<issue>[^)]*)\))?(?::(?P<pages>[\w–-]+))?\.?"
)
IDS_LINE_RE = linear(r"PMCID:\s*(PMC\d+)\s+PMID:\s*(\d+)")
ETAL_RE = linear(r"^(?P<first>[^.,;]+?)\s+et al\.\s*(?P<journal>[A-Z][^.]{1,80})?\.?\s*\.?$")
# Affiliation marks after a name: numbers, then PMC's equal-contribution and corresponding marks
# (`Ann Lee 1,2,#,`, `Bo Li 1,*`).
FULL_AUTHORS_RE = linear(
    r"^(?:[A-Z][\w'’.\- ]+?\s*\d+(?:,(?:\d+|[#*†‡]))*\s*,+\s*)+[A-Z][\w'’.\- ]+?\s*\d+(?:,(?:\d+|[#*†‡]))*\s*,?\s*$"
)
LOGO_LINK_RE = linear(r"^(.{2,80}?) logoLink to (.{2,80})$")
REF_START_RE = linear(r"^(\d{1,4})\.\s+(.*)$")
REF_LINK_TAIL_RE = linear(r"(\s+-\s+(DOI|PMC|PubMed|Free PMC article|Google Scholar|Crossref))+\s*$")
REF_YEAR_RE = re.compile(r"\((\d{4})[a-z]?\)")
PUBMED_CITATION_LINE_RE = linear(r"^\s*[^\n]{0,80}\.\s*\d{4}(?: [A-Z][a-z]{2})?(?: \d{1,2})?[;:]", re.M)
AFFILIATION_NUMBERS_RE = linear(r"\s*\d+(?:,(?:\d+|[#*†‡]))*\s*$")  # `Ann Lee 1,2` -> `Ann Lee`
# re: lookbehind; an attempt is tried only after a digit or an author mark (# * † ‡) and reads the
# spaces and commas before the next other character, which no other attempt reads
AUTHOR_SEPARATOR_RE = re.compile(r"(?<=[\d#*†‡])\s*,[\s,]*")
FIGURE_LABEL_RE = linear(r"^(fig(ure)?\.?|table)\s*\d+[a-z]?\.?$", re.I)


def matches_pubmed(text: str) -> bool:
    """Whether the text is a saved PubMed page: PubMed site furniture plus a citation line."""
    furniture = any(s in text for s in ("PubMed Disclaimer", "Skip to main page content", "LinkOut - more resources"))
    return furniture and bool(PUBMED_CITATION_LINE_RE.search(text))


def matches_pmc(text: str) -> bool:
    """Whether the text is a saved PMC page (it has a `PMCID: … PMID: …` line)."""
    return bool(IDS_LINE_RE.search(text))


def parse(text: str) -> dict:
    """Parse a PubMed or PMC article page into Document fields."""
    lines = content_lines(text)
    fields: dict = {}
    cit_idx = _citation(lines, fields)
    fields["article_type"] = _article_type(lines, cit_idx)
    fields["doi"] = _doi(lines, cit_idx)
    ids = IDS_LINE_RE.search(text)
    if ids:
        fields["pmcid"], fields["pmid"] = ids.group(1), ids.group(2)
    else:
        fields["pmid"] = first(PMID_RE, "\n".join(ln for ln in lines if ln.startswith("PMID")))
        fields["pmcid"] = first(PMCID_RE, "\n".join(ln for ln in lines if ln.startswith("PMCID")))
    fields["title"] = _title(lines, cit_idx)
    _authors(lines, fields)
    abstract = dedupe_paragraphs(section_after(lines, "Abstract"))
    fields["abstract"] = "\n\n".join(abstract) or None
    kw = next((ln for ln in lines if ln.lower().startswith("keywords")), None)
    fields["keywords"] = split_keywords(kw) if kw else []
    coi = section_after(lines, "Conflict of interest statement")
    fields["conflict_of_interest"] = " ".join(coi) or None
    fields["figures"] = parse_figures(section_after(lines, "Figures"))
    fields["references"] = parse_references(text)
    body = "\n".join(ln for ln in lines if not REF_START_RE.match(ln))
    fields["nct_ids"] = sorted(set(NCT_RE.findall(body)))
    return fields


def _citation(lines: list[str], fields: dict) -> int | None:
    for i, ln in enumerate(lines[:40]):
        m = CITATION_RE.match(ln)
        if m and (m.group("volume") or m.group("pages")):
            date, year = parse_date(m.group("date"))
            fields.update(date=date, year=year, volume=m.group("volume"), pages=m.group("pages"))
            if m.group("journal"):
                fields["journal"] = m.group("journal").strip()
            elif logo := _logo_journal(lines[max(i - 2, 0) : i]):
                fields["journal"] = logo
            elif (
                i
                and len(lines[i - 1]) < 80
                and not re.search(r"\d", lines[i - 1])
                and lines[i - 1].lower() not in _PUBTYPE_SET
                and not is_heading(lines[i - 1])
            ):
                fields["journal"] = lines[i - 1]  # PMC prints the journal on its own line
            return i
    return None


def _logo_journal(before: list[str]) -> str | None:
    """The journal of PMC's logo line (`X logoLink to X`) just before the citation, or before its article type."""
    for j, ln in enumerate(reversed(before)):
        m = LOGO_LINK_RE.match(ln)
        if m:
            return m.group(2).strip()
        if j == 0 and ln.lower() not in _PUBTYPE_SET:
            return None
    return None


def _article_type(lines: list[str], cit_idx: int | None) -> str | None:
    window = lines[: (cit_idx if cit_idx is not None else 15) + 1]
    for ln in window:
        if ln.lower() in _PUBTYPE_SET:
            return ln
    return None


def _doi(lines: list[str], cit_idx: int | None) -> str | None:
    start = cit_idx or 0
    for ln in lines[start : start + 4]:
        if ln.lower().startswith("doi:") or " doi: " in ln.lower():
            return clean_doi(first(DOI_RE, ln))
    return None


def _title(lines: list[str], cit_idx: int | None) -> str | None:
    start = (cit_idx + 1) if cit_idx is not None else 0
    for ln in lines[start : start + 8]:
        low = ln.lower()
        if low.startswith(("doi:", "pmcid", "pmid", "epub", "keywords")) or is_heading(ln) or low in _PUBTYPE_SET:
            continue
        if ETAL_RE.match(ln) or FULL_AUTHORS_RE.match(ln) or len(ln) < 15:
            continue
        return ln.rstrip()
    return None


def _authors(lines: list[str], fields: dict) -> None:
    for ln in lines[:60]:
        m = ETAL_RE.match(ln)
        if m:
            fields["authors"] = [m.group("first").strip()]
            fields["authors_complete"] = False
            if m.group("journal") and not fields.get("journal"):
                fields["journal"] = m.group("journal").strip().rstrip(".")
            return
        if FULL_AUTHORS_RE.match(ln):
            names = [AFFILIATION_NUMBERS_RE.sub("", part).strip() for part in AUTHOR_SEPARATOR_RE.split(ln)]
            fields["authors"] = unique_in_order(n for n in names if n and n.strip("#*†‡, "))
            fields["authors_complete"] = True
            return


def parse_figures(section: list[str]) -> list[dict]:
    """`FIGURE 1`, `FIGURE 1`, caption, `FIGURE 2`, … -> [{label, caption}]."""
    figures: list[dict] = []
    captions: list[list[str]] = []  # lines joined at the end: adding to a string each time is quadratic
    for ln in section:
        if FIGURE_LABEL_RE.match(ln):
            label = ln.rstrip(".").upper()
            # Pages print each label twice; a repeat of the last label is not a new figure.
            if not figures or figures[-1]["label"] != label:
                figures.append({"label": label, "caption": None})
                captions.append([])
        elif figures:
            captions[-1].append(ln)
    for figure, lines in zip(figures, captions, strict=True):
        figure["caption"] = " ".join(lines) or None
    return figures


def parse_references(text: str) -> list[dict]:
    """Numbered reference list with DOI/PMID/PMCID where printed."""
    raw = text.split("\n")
    start = next((i for i, ln in enumerate(raw) if ln.strip().lower() == "references"), None)
    if start is None:
        return []
    refs: list[list[str]] = []  # lines of each reference, joined once at the end
    for ln in raw[start + 1 :]:
        s = ln.strip()
        if not s:
            continue
        if is_heading(s):
            break
        m = REF_START_RE.match(s)
        if m:
            refs.append([m.group(2)])
        elif refs:
            refs[-1].append(s)
    out = []
    for i, ref in enumerate(refs, start=1):
        body = REF_LINK_TAIL_RE.sub("", " ".join(ref)).strip()
        year = first(REF_YEAR_RE, body)
        out.append(
            {
                "index": i,
                "text": body,
                "year": int(year) if year else None,
                "doi": clean_doi(first(DOI_RE, body)),
                "pmid": first(PMID_RE, body),
                "pmcid": first(PMCID_RE, body),
            }
        )
    return out
