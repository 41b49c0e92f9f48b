"""Patterns and small text utilities shared by the page parsers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from helpers.core.patterns import linear

# Engines (see helpers.core.patterns): these identifier patterns need \b, so they stay on re. They
# are linear there: DOI_RE's only open-ended part, [^\s"<>]+, ends the pattern, so an attempt that
# reaches it succeeds; PMID_RE reads the spaces after one 'PMID', which no other attempt reads;
# the others have no unbounded repetition. Patterns below without \b run on RE2.
DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)
PMID_RE = re.compile(r"\bPMID:?\s*(\d{6,9})\b")
PMCID_RE = re.compile(r"\b(PMC\d{5,9})\b")
NCT_RE = re.compile(r"\b(NCT\d{8})\b")
YEAR_RE = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
DOI_PREFIX_RE = linear(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", re.I)
KEYWORDS_PREFIX_RE = linear(r"^keywords?\s*:?\s*", re.I)
MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}

# Lines of site furniture (PubMed, PMC, journal sites) that never belong to a field.
BOILERPLATE = frozenset(
    s.lower()
    for s in [
        "Skip to main page content",
        "Skip to main content",
        "U.S. flag",
        "An official website of the United States government",
        "Dot gov",
        "The .gov means it’s official.",
        "The .gov means it's official.",
        "Https",
        "The site is secure.",
        "Access keys NCBI Homepage MyNCBI Homepage Main Content Main Navigation",
        "PubMed Disclaimer",
        "LinkOut - more resources",
        "Full Text Sources",
        "Medical",
        "Research Materials",
        "Miscellaneous",
        "Similar articles",
        "Cited by",
        "Publication types",
        "MeSH terms",
        "Substances",
        "Grants and funding",
        "Comment in",
        "Comment on",
        "Related information",
        "Full text links",
        "Cite",
        "Actions",
        "Share",
        "Page navigation",
        "Save",
        "Email",
        "Send to",
        "Display options",
        "Other Literature Sources",
        "Molecular Biology Databases",
        "Affiliations",
        "Expand",
        "Collapse",
    ]
)
BOILERPLATE_PREFIXES = (
    "federal government websites often end in",
    "the https:// ensures that you are connecting",
    "before sharing sensitive information",
    "ncbi homepage",
)

# Headings that end a section.
HEADINGS = frozenset(
    s.lower()
    for s in [
        "Abstract",
        "Keywords",
        "Conflict of interest statement",
        "Figures",
        "References",
        "Similar articles",
        "Cited by",
        "Publication types",
        "MeSH terms",
        "Substances",
        "LinkOut - more resources",
        "PubMed Disclaimer",
        "Grants and funding",
        "Comment in",
        "Associated data",
        "Supplementary info",
        "Full text links",
        "Tables",
        "Introduction",
        "Background",
        "Methods",
        "Results",
        "Conclusions",
        "Discussion",
        "Acknowledgments",
        "Acknowledgements",
        "Funding",
        "Author contributions",
        "Footnotes",
        "Related articles",
        "Affiliations",
        "Conflicts of interest",
        "Competing interests",
        "Declaration of competing interest",
    ]
)


def clean_doi(value: str | None) -> str | None:
    """Normalise a DOI: strip URL prefix, trailing punctuation and link text."""
    if not value:
        return None
    v = DOI_PREFIX_RE.sub("", value.strip())
    v = v.rstrip(".,;)]}>")
    return v or None


def first(pattern: re.Pattern[str], text: str) -> str | None:
    """First capture group of pattern in text, or None."""
    m = pattern.search(text)
    return m.group(1) if m else None


def is_boilerplate(line: str) -> bool:
    """Whether the line is site furniture (navigation, banners) rather than content."""
    low = line.strip().lower()
    return low in BOILERPLATE or low.startswith(BOILERPLATE_PREFIXES)


def is_heading(line: str) -> bool:
    """Whether the line is one of the known section headings (a trailing colon is ignored)."""
    return line.strip().rstrip(":").lower() in HEADINGS


def content_lines(text: str) -> list[str]:
    """Non-empty, stripped lines with site furniture removed."""
    return [ln.strip() for ln in text.split("\n") if ln.strip() and (is_heading(ln) or not is_boilerplate(ln))]


def section_after(lines: list[str], heading: str) -> list[str]:
    """Lines after the first line equal to heading, up to the next heading."""
    target = heading.lower()
    for i, ln in enumerate(lines):
        if ln.rstrip(":").lower() == target:
            out = []
            for nxt in lines[i + 1 :]:
                if is_heading(nxt) or re.match(r"^keywords?\b", nxt, re.I):
                    break
                out.append(nxt)
            return out
    return []


def unique_in_order(items: Iterable[str]) -> list[str]:
    """Non-empty items with case-insensitive repeats dropped, first spelling kept."""
    seen: set[str] = set()
    out = []
    for it in items:
        key = it.casefold()
        if it and key not in seen:
            seen.add(key)
            out.append(it)
    return out


def split_keywords(value: str) -> list[str]:
    """Keywords as printed after 'Keywords:' (semicolon- or comma-separated, final period dropped)."""
    v = KEYWORDS_PREFIX_RE.sub("", value.strip()).rstrip(".").strip()
    parts = v.split(";") if ";" in v else v.split(",")
    return unique_in_order(p.strip() for p in parts if p.strip())


def parse_date(text: str) -> tuple[str | None, int | None]:
    """'2024 Dec 12', 'January 20, 2025', '2023 Sep', '2025-07-01' -> (ISO partial date, year)."""
    t = text.strip()
    # re (these need \b), linear: an attempt starts only at the start of a word and reads the
    # letters and spaces after it once, before the next word, where the next attempt starts.
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", t)
    if m:
        return m.group(0), int(m.group(1))
    m = re.search(r"\b(\d{4})\s+([A-Z][a-z]{2})[a-z]*\.?(?:\s+(\d{1,2}))?\b", t)
    if m and m.group(2).lower()[:3] in MONTHS:
        y, mo = int(m.group(1)), MONTHS[m.group(2).lower()[:3]]
        return (f"{y:04d}-{mo:02d}-{int(m.group(3)):02d}" if m.group(3) else f"{y:04d}-{mo:02d}"), y
    m = re.search(r"\b([A-Z][a-z]+)\.?\s+(\d{1,2}),\s*(\d{4})\b", t)
    if m and m.group(1).lower()[:3] in MONTHS:
        y = int(m.group(3))
        return f"{y:04d}-{MONTHS[m.group(1).lower()[:3]]:02d}-{int(m.group(2)):02d}", y
    m = re.search(r"\b(\d{1,2})\s+([A-Z][a-z]+)\s+(\d{4})\b", t)
    if m and m.group(2).lower()[:3] in MONTHS:
        y = int(m.group(3))
        return f"{y:04d}-{MONTHS[m.group(2).lower()[:3]]:02d}-{int(m.group(1)):02d}", y
    m = YEAR_RE.search(t)
    if m:
        return m.group(1), int(m.group(1))
    return None, None


def dedupe_paragraphs(paragraphs: list[str]) -> list[str]:
    """Drop paragraphs printed more than once (pages often repeat the abstract)."""
    return unique_in_order(p.strip() for p in paragraphs)


LICENCES = [
    (re.compile(r"creativecommons\.org/licenses/by-nc-nd/(\d\.\d)", re.I), "CC BY-NC-ND"),
    (re.compile(r"creativecommons\.org/licenses/by-nc-sa/(\d\.\d)", re.I), "CC BY-NC-SA"),
    (re.compile(r"creativecommons\.org/licenses/by-nc/(\d\.\d)", re.I), "CC BY-NC"),
    (re.compile(r"creativecommons\.org/licenses/by-sa/(\d\.\d)", re.I), "CC BY-SA"),
    (re.compile(r"creativecommons\.org/licenses/by/(\d\.\d)", re.I), "CC BY"),
    (re.compile(r"Creative Commons Attribution[- ]Non[- ]?Commercial[- ]No[- ]?Deriv", re.I), "CC BY-NC-ND"),
    (re.compile(r"Creative Commons Attribution[- ]Non[- ]?Commercial", re.I), "CC BY-NC"),
    (re.compile(r"Creative Commons Attribution License|\bCC[- ]BY\b(?![- ]N)", re.I), "CC BY"),
]
LICENCE_URL_RE = linear(r"(https?://creativecommons\.org/licenses/[a-z-]+/\d\.\d/?)", re.I)


def find_licence(text: str) -> tuple[str | None, str | None]:
    """(short licence name with version where printed, licence URL) from licence text."""
    url = first(LICENCE_URL_RE, text)
    for pattern, name in LICENCES:
        m = pattern.search(text)
        if m:
            version = m.group(1) if m.groups() else None
            return (f"{name} {version}" if version else name), url
    return None, url
