"""Bibliographic fields of a page dump of any layout, from what the page itself prints.

For text (or Markdown) dumps of pages whose layout no specific reader knows: journal sites,
congress abstracts, repositories, citation indexes, news and forum pages, mirrors. Fields come
from, in this order of trust:

* ``cite_block``: a "Cite" / "Cite this article" / "Citation:" / "How to cite" block
  (Vancouver, MDPI, APA or PLOS style reference of the page itself);
* ``labelled_line``: `Authors: …`, `Journal: …, 2024`, `Publication year: 2024`, `Meeting: … 2025`,
  `Title: …` (near the top), `作者` followed by the names;
* ``citation_line``: a header citation (`Nat Med. 2022;28(10):2124-2132`, `Cells 2023, 12(11), 1534;`,
  `Front. Immunol., 26 November 2020`), never a line of a reference list;
* ``byline`` / ``page_header``: the author line(s) (names with affiliation marks, a numbered
  list, `by` and one name per line, or one name followed by a date), and the title printed
  just before them or before the citation;
* ``identifier``: DOI, PMID and PMCID patterns outside reference lists.

Nothing is guessed: a field no rule finds stays None. Each found field names its method in
``PageFields.methods``. The page's text (site furniture removed) is kept as ``body``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from helpers.core.patterns import linear
from helpers.sources.common import (
    DOI_RE,
    PMCID_RE,
    PMID_RE,
    clean_doi,
    is_boilerplate,
    is_heading,
    parse_date,
    unique_in_order,
)

__all__ = ["PageFields", "find_citation", "parse_reference", "names_in_line"]


@dataclass
class PageFields:
    """Fields found on a page (Document names), how each was found, and the page's body text."""

    fields: dict = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def put(self, name: str, value: object, method: str) -> bool:
        """Set a field the first time a method finds a value for it; True when set."""
        if value in (None, "", [], ()) or self.fields.get(name) not in (None, "", []):
            return False
        self.fields[name] = value
        self.methods[name] = method
        return True


# Patterns over page text run on RE2 (linear time, see helpers.core.patterns); the ones on re
# are bounded (no unbounded repetition) and say so.
_UPPER = "A-ZÀ-ÖØ-ÞĀ-Ž"
# Name and journal tokens are written with negated sets rather than \w: RE2 gets \w as the
# explicit set of Unicode code points, and a pattern repeating it several times outgrows RE2's DFA.
_REST = r"[^\s,;:()\[\]0-9/]*"
_NAME_TOKEN = rf"(?:[{_UPPER}]{_REST}|(?:van|von|de|der|den|da|del|di|dos|du|la|le|bin|al|y))"
NAME_RE = linear(rf"[{_UPPER}]{_REST}(?: {_NAME_TOKEN}){{1,4}}")
MARK_CHARS = frozenset("0123456789,*†‡§¶#‖ ")
NUMBERED_RE = linear(r"^\d{1,3}\.\s+")
BULLETS = "•·▪◦*-"
AND_RE = linear(r"\s+(?:and|&)\s+")
YEAR_PARENS_TAIL_RE = linear(r"\s*\((?:19|20)\d\d\)\s*\Z")
DATE_LINE_RE = linear(
    r"^(?:[A-Z][a-z]+,?\s+)?(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+(?:19|20)\d\d|\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+(?:19|20)\d\d)\Z"
)
# A header citation: a journal name (capitalised words, abbreviations with a full stop, a few
# short lower-case joining words), then the year and what follows a year in a citation.
_JOURNAL = r"(?:[A-Z][^\s,;:()0-9.]*\.?|[a-z]+[A-Z][^\s,;:()0-9.]*|of|in|and|the|for|on|de|la|&)"
HEADER_CITATION_RE = linear(
    rf"^(?P<journal>{_JOURNAL}(?: {_JOURNAL}){{0,11}}?)\.?,? "
    r"(?P<date>(?:19|20)\d\d(?: [A-Z][a-z]{2,8}\.?(?: \d{1,2})?)?)"
    r"(?:;\s*(?P<volume>\d+)?|, (?P<volume2>\d+)\(|\.\s+(?:doi|DOI|Epub|Online)|:\s*\d)"
)
DAY_MONTH_CITATION_RE = linear(
    rf"^(?P<journal>{_JOURNAL}(?: {_JOURNAL}){{0,11}}?),\s+(?P<date>\d{{1,2}} [A-Z][a-z]+ (?:19|20)\d\d)\Z"
)
PUBLISHED_PREFIX_RE = linear(
    r"^(?:Published(?: [Oo]nline)?|Online|Epub)\s*:?\s+(?:[A-Za-z]{3,9}\.? )?\d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d\d\s+"
)
LABEL_RE = linear(r"^([A-Za-z][A-Za-z /-]{1,30}?)\s*:\s*(\S.*)$")
CITE_LABEL_RE = linear(
    r"^(?:cite(?: this article| as)?|citation|how to cite(?: this article)?|to cite)\s*:?\s*(.*)$", re.I
)
ACCESSED_RE = linear(r"\(?\s*(?:accessed|retrieved)(?: on)?\s+[^)]*?(?:19|20)\d\d\)?\.?", re.I)
AVAILABLE_RE = linear(r"(?:Available (?:online|at)\s*:?\s*)?https?://\S+", re.I)
APA_RE = linear(r"^(?P<authors>.{3,600}?)\.?\s*\((?P<year>(?:19|20)\d\d)[^)]{0,30}\)\.?\s+(?P<rest>.+)$")
_SURNAME = rf"{_NAME_TOKEN}(?: {_NAME_TOKEN}){{0,3}}"
_VANCOUVER_NAME = rf"{_SURNAME} [A-Z]{{1,3}}"  # `Chenguiti Fakhouri S`
_INITIALS_NAME = rf"{_SURNAME}, (?:[A-Z]\.-?\s?){{1,3}}"  # `Sipos, F.`
VANCOUVER_AUTHORS_RE = linear(rf"^(?P<authors>(?:{_VANCOUVER_NAME}, )*{_VANCOUVER_NAME}(?:,? et al)?)\. (?P<rest>.+)$")
SEMICOLON_AUTHORS_RE = linear(rf"^(?P<authors>(?:{_INITIALS_NAME}; )*{_INITIALS_NAME})\s*(?P<rest>[A-Z].+)$")
SENTENCE_END_RE = linear(r"[a-z0-9\])]{2}[.?!]\s+")
YEAR_IN_TEXT_RE = linear(r"(?:19|20)\d\d")
JOURNAL_TAIL_RE = linear(r"[\s,;:]*(?:\d|\(|[Vv]ol\.|[Pp]p?\.\s).*$")
AFFILIATION_START_RE = linear(r"^\d{1,2}\s?[A-Z]")
AFFILIATION_WORDS = frozenset(
    [
        "university",
        "department",
        "hospital",
        "institute",
        "division",
        "centre",
        "center",
        "school",
        "college",
        "faculty",
        "laboratory",
        "clinic",
        "therapeutics",
        "ltd",
        "inc",
        "universität",
        "universidad",
        "université",
    ]
)
NOT_NAME_WORDS = frozenset(
    w.casefold()
    for w in (  # noqa: SIM905 - a word list reads best as words
        "University Department Hospital Institute Division Centre Center School College Faculty Medicine Clinical "
        "Immunology Rheumatology Research Laboratory Sciences Science Therapeutics Journal Review Article Abstract "
        "Open Access Full Text Search Index Favorites Login Download Share Topic Trending Section Options Upload "
        "Video Email Print Tweet Meetings Meeting Keywords Keyword Advanced Your View All Next Previous Related "
        "Similar Cited Copy Link Bookmark Complete Introduction Background Methods Results Conclusion Conclusions "
        "Discussion Summary Overview Supplementary Information Table Figure References Editor Editorial Statistics "
        "Request Permissions News Perspective Disorders Diseases Disease Therapy Cells Cell Lupus Sclerosis"
    ).split()
)
TITLE_LABELS = frozenset(("title", "article title"))
NAV_LABELS = ("next article", "previous article", "related article", "similar article", "trending topic", "see also")
HEADER_END_HEADINGS = frozenset(("abstract", "introduction", "1 introduction", "1. introduction", "background", "main"))
REFERENCE_HEADINGS = frozenset(
    ("references", "list of references", "bibliography", "reference list", "literature cited")
)


def find_citation(text: str, identifiers: bool = True) -> PageFields:
    """The bibliographic fields a page dump prints, each with the method that found it.

    ``identifiers=False`` leaves DOI, PMID and PMCID to the caller (who has searched for them already).
    """
    lines = []
    for raw in text.split("\n"):
        ln = raw.strip()
        if not ln:
            continue
        if ln[0] in BULLETS:
            ln = ln.lstrip(BULLETS).strip()
        if ln and (not is_boilerplate(ln) or CITE_LABEL_RE.match(ln)):
            lines.append(ln)
    found = PageFields(body="\n".join(lines) or None)
    refs_at = next((i for i, ln in enumerate(lines) if ln.rstrip(":").casefold() in REFERENCE_HEADINGS), len(lines))
    head_end = next((i for i, ln in enumerate(lines[:refs_at]) if _opens_body(lines, i)), refs_at)
    head = lines[: min(head_end, 120)]
    _cite_blocks(lines[:refs_at], found)
    _labelled_lines(head, found)
    anchor = _header_citation(head, found)
    _byline_and_title(head, anchor, found)
    if identifiers:
        _identifiers(lines[:refs_at], found)
    return found


def _opens_body(lines: list[str], i: int) -> bool:
    """An Abstract/Introduction heading followed by a paragraph (not a menu entry of the same name)."""
    if lines[i].rstrip(":").casefold() not in HEADER_END_HEADINGS:
        return False
    return any(len(ln) >= 200 for ln in lines[i + 1 : i + 4])


def _cite_blocks(lines: list[str], found: PageFields) -> None:
    for i, ln in enumerate(lines):
        m = CITE_LABEL_RE.match(ln)
        if not m:
            continue
        block = [m.group(1)] if m.group(1) else []
        block += lines[i + 1 : i + 8]
        for candidate in block:
            ref = parse_reference(candidate)
            if not ref.get("title") or not ref.get("authors"):
                continue
            for key in ("title", "authors", "journal", "year", "doi"):
                found.put(key, ref.get(key), "cite_block")
            if ref.get("authors_complete") is not None:
                found.put("authors_complete", ref["authors_complete"], "cite_block")


def parse_reference(text: str) -> dict:
    """Authors, title, journal, year and DOI of one reference string (Vancouver, MDPI, APA, PLOS styles).

    Returns only what the string shows; an unrecognised author list gives an empty dict.
    """
    doi = clean_doi(_first(DOI_RE, text))
    s = AVAILABLE_RE.sub(" ", ACCESSED_RE.sub(" ", text))
    s = " ".join(s.replace('"', "").replace("“", "").replace("”", "").split())
    out: dict = {}
    m = APA_RE.match(s)
    if m and _name_list(m.group("authors")):
        out["authors"], out["authors_complete"] = _name_list(m.group("authors"))
        out["year"] = int(m.group("year"))
        rest = m.group("rest")
    else:
        m = VANCOUVER_AUTHORS_RE.match(s) or SEMICOLON_AUTHORS_RE.match(s)
        if not m or not _name_list(m.group("authors")):
            return {}
        out["authors"], out["authors_complete"] = _name_list(m.group("authors"))
        rest = m.group("rest")
    parts = _sentences(rest)
    if parts:
        out["title"] = parts[0]
    if len(parts) > 1:
        journal = JOURNAL_TAIL_RE.sub("", parts[1].removeprefix("In ")).strip(" .,")
        if journal and not journal.casefold().startswith(("web", "doi", "http")):
            out["journal"] = journal
    if "year" not in out:
        years = YEAR_IN_TEXT_RE.findall(" ".join(parts[1:]))
        out["year"] = int(years[0]) if years else None
    out["doi"] = doi
    return out


def _sentences(text: str) -> list[str]:
    """Split at a full stop, ? or ! after a word of two or more letters (not after initials)."""
    out, start = [], 0
    for m in SENTENCE_END_RE.finditer(text):
        end = m.start() + 3 if text[m.start() + 2] in "?!" else m.start() + 2
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip().rstrip(".")
    if tail:
        out.append(tail)
    return out


def _name_list(text: str) -> tuple[list[str], bool] | None:
    """(names, complete) of an author list in a reference; None when an item is not a name."""
    complete = not re.search(r"\bet al\b", text)  # re: bounded per position
    t = re.sub(r",?\s*\bet al\b\.?", "", text).strip().rstrip(".,")  # re: bounded per position
    t = AND_RE.sub("; " if ";" in t else ", ", t).replace(", &", ",").replace("; &", ";")
    if ";" in t:
        items = [i.strip() for i in t.split(";")]
    elif re.search(r", [A-Z]\.", t):  # re: bounded. 'Smith, J., Doe, K.' pairs surname and initials
        pieces = [p.strip() for p in t.split(",") if p.strip()]
        items = [f"{a}, {b}" for a, b in zip(pieces[::2], pieces[1::2], strict=False)]
    else:
        items = [i.strip() for i in t.split(",")]
    names = []
    for item in items:
        if not item:
            continue
        if not NAME_RE.fullmatch(item.replace(", ", " ")) or _has_non_name_word(item):
            return None
        names.append(item)
    return (names, complete) if names else None


def _labelled_lines(head: list[str], found: PageFields) -> None:
    for i, ln in enumerate(head):
        if ln.strip() in ("作者", "Authors", "Author(s)") and i + 1 < len(head):
            names = names_in_line(head[i + 1], minimum=1)
            found.put("authors", names, "labelled_line")
            continue
        m = LABEL_RE.match(ln)
        if not m:
            continue
        label, value = m.group(1).strip().casefold(), m.group(2).strip()
        if label in ("authors", "author", "author(s)", "by"):
            found.put("authors", names_in_line(value, minimum=1), "labelled_line")
        elif label in TITLE_LABELS and i < 20:
            found.put("title", value, "labelled_line")
        elif label in ("journal", "source", "published in", "journal title"):
            journal = JOURNAL_TAIL_RE.sub("", value).strip(" .,")
            if found.put("journal", journal, "labelled_line"):
                years = YEAR_IN_TEXT_RE.findall(value)
                found.put("year", int(years[0]) if years else None, "labelled_line")
        elif label in ("publication year", "year", "published", "publication date", "date of publication"):
            found.put("year", parse_date(value)[1], "labelled_line")
        elif label in ("meeting", "conference", "congress"):
            years = YEAR_IN_TEXT_RE.findall(value)
            found.put("year", int(years[-1]) if years else None, "labelled_line")


def _header_citation(head: list[str], found: PageFields) -> int | None:
    """Read the first header citation line; its index (or the first DOI line's) anchors the title search."""
    for i, ln in enumerate(head):
        if NUMBERED_RE.match(ln) or "et al" in ln:
            continue  # a reference list entry, not the page's own citation
        body = PUBLISHED_PREFIX_RE.sub("", ln)
        m = HEADER_CITATION_RE.match(body)
        if m and not _has_non_name_word(m.group("journal"), words=_WEEKDAYS):
            found.put("journal", m.group("journal").strip().rstrip(",."), "citation_line")
            found.put("year", parse_date(m.group("date"))[1], "citation_line")
            found.put("volume", m.group("volume") or m.group("volume2"), "citation_line")
            return i
        m = DAY_MONTH_CITATION_RE.match(body)
        if m and not _has_non_name_word(m.group("journal"), words=_WEEKDAYS):
            found.put("journal", m.group("journal").strip(), "citation_line")
            found.put("year", parse_date(m.group("date"))[1], "citation_line")
            return i
    for i, ln in enumerate(head):
        label = LABEL_RE.match(ln)
        if _has_doi(ln) or (label and label.group(1).casefold() == "journal"):
            return i
    return None


_WEEKDAYS = frozenset(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))


def _has_non_name_word(text: str, words: frozenset[str] = NOT_NAME_WORDS) -> bool:
    return any(w.strip(".,").casefold() in words for w in text.split())


def names_in_line(line: str, minimum: int = 2) -> list[str]:
    """Person names printed as a byline (`A B1, C D2,* and E F3, 1Affiliation…`); [] if fewer than ``minimum``."""
    s = YEAR_PARENS_TAIL_RE.sub("", line.strip())
    s = s[3:] if s.lower().startswith("by ") else s
    s = AND_RE.sub(", ", s)
    names: list[str] = []
    for item in s.split(","):
        item = item.strip()
        if not item or _is_marks(item):
            continue  # affiliation marks split off by the commas
        if AFFILIATION_START_RE.match(item):
            break  # the affiliations printed after the names
        name = _strip_marks(item)
        if not NAME_RE.fullmatch(name) or _has_non_name_word(name):
            return names if len(names) >= minimum else []
        names.append(name)
    names = unique_in_order(names)
    return names if len(names) >= minimum else []


def _is_marks(text: str) -> bool:
    """Affiliation marks only (`1,2`, `3,4,*`, `†`): no run of three digits (a year is not a mark)."""
    return bool(text.strip()) and set(text) <= MARK_CHARS and not re.search(r"\d{3}", text)  # re: bounded


def _strip_marks(text: str) -> str:
    """A name without the affiliation marks printed after it (`Ann Lee1,2*` -> `Ann Lee`)."""
    end = len(text)
    while end and text[end - 1] in MARK_CHARS:
        end -= 1
    return text.strip() if re.search(r"\d{3}", text[end:]) else text[:end].strip()  # re: bounded


def _single_name(line: str) -> str | None:
    """The name on a line that holds one name and affiliation marks only."""
    name = _strip_marks(NUMBERED_RE.sub("", line).strip())
    if NAME_RE.fullmatch(name) and not _has_non_name_word(name):
        return name
    return None


def _bylines(head: list[str]) -> list[tuple[int, int, list[str]]]:
    """(first line, line after, names) of every byline in the header."""
    out = []
    i = 0
    while i < len(head):
        ln = head[i]
        if ln.casefold() == "by" or NUMBERED_RE.match(ln) or _single_name(ln):
            names, j, marked = [], i + (ln.casefold() == "by"), ln.casefold() == "by"
            while j < len(head):
                nxt = head[j]
                if _is_marks(nxt) or re.fullmatch(r"[\d,*†‡#\s]*and,?", nxt):  # re: bounded by the line
                    marked = True
                elif name := _single_name(nxt):
                    marked = marked or bool(NUMBERED_RE.match(nxt)) or name != NUMBERED_RE.sub("", nxt).strip()
                    names.append(name)
                else:
                    break
                j += 1
            if len(names) >= 2 and marked:
                out.append((i, j, unique_in_order(names)))
                i = j
                continue
            if len(names) == 1 and j < len(head) and DATE_LINE_RE.match(head[j]):
                out.append((i, j, names))  # a news byline: one name, then the date
                i = j
                continue
        names = names_in_line(ln)
        if names:
            out.append((i, i + 1, names))
        i += 1
    return out


def _byline_and_title(head: list[str], anchor: int | None, found: PageFields) -> None:
    bylines = _bylines(head)
    before = [b for b in bylines if anchor is None or b[0] <= anchor]
    chosen = (before[-1] if anchor is not None and before else bylines[0]) if bylines else None
    if chosen:
        start, end, names = chosen
        found.put("authors", names, "byline")
        if end < len(head) and DATE_LINE_RE.match(head[end]):
            found.put("year", parse_date(head[end])[1], "byline")
        title = _title_before(head, start)
        found.put("title", title, "page_header")
    if "title" not in found.fields and anchor is not None:
        found.put("title", _title_near_anchor(head, anchor), "page_header")
    if (
        "title" not in found.fields
        and head
        and _title_like(head[0])
        and len(head[0]) <= 200
        and not _after_nav(head, 1)
    ):
        found.put("title", head[0], "page_header")


def _title_before(head: list[str], idx: int) -> str | None:
    for j in range(idx - 1, max(idx - 3, -1), -1):
        ln = head[j]
        if ln.casefold() in ("by", "authors", "author(s)", "作者"):
            continue
        return ln if _title_like(ln) and not _after_nav(head, j) else None
    return None


def _title_near_anchor(head: list[str], anchor: int) -> str | None:
    """The title-like line followed by affiliations, a byline or the citation line, nearest the anchor."""
    window = [*range(anchor, max(anchor - 8, -1), -1), *range(anchor + 1, min(anchor + 6, len(head)))]
    for j in window:
        ln = head[j]
        if j == anchor or not _title_like(ln) or _after_nav(head, j) or j + 1 >= len(head):
            continue
        nxt = head[j + 1]
        if j + 1 == anchor or _is_affiliation(nxt) or _has_doi(nxt) or names_in_line(nxt):
            return ln
    return None


def _after_nav(head: list[str], j: int) -> bool:
    return j > 0 and head[j - 1].casefold().startswith(NAV_LABELS)


def _is_affiliation(line: str) -> bool:
    """A line starting with an affiliation number, or naming an institution in a comma-separated address."""
    if AFFILIATION_START_RE.match(line):
        return True
    words = {w.strip(".,;()").casefold() for w in line.split()}
    return "," in line and bool(words & AFFILIATION_WORDS)


def _title_like(line: str) -> bool:
    """Whether a line could be a title: 3-60 words, no closing full stop, not a label, date, heading or affiliation."""
    s = line.strip()
    words = s.split()
    if not (3 <= len(words) <= 60) or len(s) > 400 or s.endswith((".", ",", ";", ":")):
        return False
    if not (s[0].isupper() or s[0].isdigit()) or is_heading(s) or DATE_LINE_RE.match(s):
        return False
    label = LABEL_RE.match(s)
    if label and (len(label.group(1).split()) <= 3 and label.group(1).casefold() in _KNOWN_LABELS):
        return False
    if _is_affiliation(s) or _has_doi(s) or s.casefold().startswith(("this article", "sec. ", "section")):
        return False
    return unicodedata.category(s[0])[0] in "LN"


_KNOWN_LABELS = frozenset(
    (
        "keywords",
        "keyword",
        "meeting",
        "date",
        "title",
        "session type",
        "session time",
        "publication type",
        "publication year",
        "journal",
        "doi",
        "pmid",
        "pmcid",
        "authors",
        "author",
        "publisher",
        "abstract number",
        "published",
        "received",
        "accepted",
        "academic editor",
        "correspondence",
        "citation",
        "source",
        "topline",
        "methodology",
        "takeaway",
    )
)


def _identifiers(lines: list[str], found: PageFields) -> None:
    """DOI, PMID and PMCID as printed outside the reference list (numbered reference lines skipped)."""
    text = "\n".join(ln for ln in lines if not NUMBERED_RE.match(ln))
    found.put("doi", clean_doi(_first(DOI_RE, text)), "identifier")
    found.put("pmid", _first(PMID_RE, text), "identifier")
    found.put("pmcid", _first(PMCID_RE, text), "identifier")


def _has_doi(line: str) -> bool:
    return "10." in line and DOI_RE.search(line) is not None  # the cheap test first: DOI_RE runs on re


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(1) if m else None
