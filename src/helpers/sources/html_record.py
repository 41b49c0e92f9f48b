"""Saved HTML pages: bibliographic fields from the page's metadata, and its text.

Sources, in order of trust (the first that gives a field wins; each field records its source):

* ``citation_meta``: Highwire Press ``citation_*`` meta tags (``citation_title``,
  ``citation_author``, ``citation_journal_title``, ``citation_publication_date``, ``citation_doi``,
  ``citation_pmid``, ``citation_volume``, ``citation_issue``, ``citation_firstpage``, ...);
* ``dublin_core``: ``DC.*`` / ``DCTERMS.*`` meta tags; ``prism``: ``prism.*`` meta tags;
* ``json-ld``: a ``ScholarlyArticle`` / ``MedicalScholarlyArticle`` / ``Article`` (or news/blog
  article) node of ``application/ld+json`` scripts, ``@graph`` included;
* ``open_graph``: ``og:title`` and ``article:published_time``, as a last resort;
* then the text rules of :mod:`helpers.sources.page_citation` over the page's visible text
  (methods prefixed ``text:``).

Parsed with selectolax (lexbor). Markup inside attribute values or text stays text: nothing of
the page is executed or interpreted beyond reading it. The visible text (scripts, styles,
navigation, headers and footers removed; the ``<article>`` or ``<main>`` element when there is
one) is kept as the body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from helpers.core.errors import HelpersError
from helpers.core.patterns import linear
from helpers.sources.common import DOI_RE, PMCID_RE, clean_doi, parse_date, split_keywords, unique_in_order
from helpers.sources.page_citation import PageFields, find_citation
from helpers.sources.pubmed_xml import Record, RecordError
from helpers.sources.reading import read_text

__all__ = ["looks_like_html", "html_fields", "iter_html_records"]

ARTICLE_TYPES = frozenset(
    ("scholarlyarticle", "medicalscholarlyarticle", "article", "newsarticle", "blogposting", "report", "chapter")
)
DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "template", "iframe"]
BLOCK_TAGS = "p,div,li,h1,h2,h3,h4,h5,h6,br,tr,td,th,section,article,blockquote,dd,dt,figcaption,caption,pre,title"
PMID_VALUE_RE = linear(r"(\d{1,9})")

# (meta name, field, method); names are compared in lower case.
META_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("citation_title", "title", "citation_meta"),
    ("citation_journal_title", "journal", "citation_meta"),
    ("citation_conference_title", "journal", "citation_meta"),
    ("citation_journal_abbrev", "journal_abbrev", "citation_meta"),
    ("citation_publication_date", "date", "citation_meta"),
    ("citation_date", "date", "citation_meta"),
    ("citation_online_date", "date", "citation_meta"),
    ("citation_cover_date", "date", "citation_meta"),
    ("citation_year", "date", "citation_meta"),
    ("citation_doi", "doi", "citation_meta"),
    ("citation_pmid", "pmid", "citation_meta"),
    ("citation_pmcid", "pmcid", "citation_meta"),
    ("citation_volume", "volume", "citation_meta"),
    ("citation_issue", "issue", "citation_meta"),
    ("citation_abstract", "abstract", "citation_meta"),
    ("citation_language", "language", "citation_meta"),
    ("citation_article_type", "article_type", "citation_meta"),
    ("dc.title", "title", "dublin_core"),
    ("dc.source", "journal", "dublin_core"),
    ("dc.date", "date", "dublin_core"),
    ("dc.date.issued", "date", "dublin_core"),
    ("dc.issued", "date", "dublin_core"),
    ("dc.description", "abstract", "dublin_core"),
    ("dc.abstract", "abstract", "dublin_core"),
    ("dc.language", "language", "dublin_core"),
    ("dc.type", "article_type", "dublin_core"),
    ("prism.publicationname", "journal", "prism"),
    ("prism.publicationdate", "date", "prism"),
    ("prism.doi", "doi", "prism"),
    ("prism.volume", "volume", "prism"),
    ("prism.number", "issue", "prism"),
)


def looks_like_html(text: str) -> bool:
    """Whether a text is HTML source (a doctype, ``<html>`` or ``<head>`` near its start)."""
    start = text[:2048].lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<?xml"):
        start = start[start.find("?>") + 2 :].lstrip()
    return start.startswith(("<!doctype html", "<html", "<head")) or ("<meta" in start and "<head" in start)


def html_fields(html: str) -> PageFields:
    """The bibliographic fields of an HTML page (Document names), each with its source, and the page text."""
    tree = LexborHTMLParser(html)
    found = PageFields()
    metas = _metas(tree)
    _from_metas(metas, found)
    for node in _json_ld_articles(tree):
        _from_json_ld(node, found)
    _from_open_graph(metas, found)
    _finish_dates(found)
    found.body = _visible_text(tree)
    if found.body:
        text_found = find_citation(found.body)
        for key, value in text_found.fields.items():
            found.put(key, value, "text:" + text_found.methods[key])
    return found


def _metas(tree: LexborHTMLParser) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        key = (attrs.get("name") or attrs.get("property") or "").strip().lower()
        value = " ".join((attrs.get("content") or "").split())
        if key and value:
            key = "dc." + key[8:] if key.startswith("dcterms.") else key
            out.setdefault(key, []).append(value)
    return out


def _from_metas(metas: dict[str, list[str]], found: PageFields) -> None:
    for name, key, method in META_FIELDS:
        if name in metas:
            found.put(key, metas[name][0], method)
    authors = metas.get("citation_author") or _split_semicolons(metas.get("citation_authors"))
    found.put("authors", unique_in_order(authors), "citation_meta")
    found.put("authors", unique_in_order(metas.get("dc.creator", [])), "dublin_core")
    first, last = (metas.get(k, [None])[0] for k in ("citation_firstpage", "citation_lastpage"))
    found.put("pages", f"{first}-{last}" if first and last else first, "citation_meta")
    found.put("pages", metas.get("prism.startingpage", [None])[0], "prism")
    keywords = [k for v in metas.get("citation_keywords", []) for k in split_keywords(v)]
    found.put("keywords", unique_in_order(keywords), "citation_meta")
    found.put("keywords", unique_in_order(metas.get("dc.subject", [])), "dublin_core")
    for value in metas.get("dc.identifier", []):
        _identifier(value, found, "dublin_core")
    found.fields["doi"] = clean_doi(found.fields.get("doi"))
    pmid = PMID_VALUE_RE.search(found.fields.get("pmid") or "")
    found.fields["pmid"] = pmid.group(1) if pmid else None


def _split_semicolons(values: list[str] | None) -> list[str]:
    return [a.strip() for v in values or [] for a in v.split(";") if a.strip()]


def _identifier(value: str, found: PageFields, method: str) -> None:
    """A DOI, PMID or PMCID written as an identifier value (``doi:…``, ``https://doi.org/…``, ``info:pmid/…``)."""
    low = value.lower()
    if (m := DOI_RE.search(value)) and ("doi" in low or low.startswith("10.")):
        found.put("doi", clean_doi(m.group(1)), method)
    elif "pmid" in low and (m := PMID_VALUE_RE.search(value)):
        found.put("pmid", m.group(1), method)
    elif m := PMCID_RE.search(value):
        found.put("pmcid", m.group(1), method)


def _json_ld_articles(tree: LexborHTMLParser) -> Iterator[dict]:
    """Article nodes of every JSON-LD script (top level, lists and ``@graph``); bad JSON is skipped."""
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text(deep=True) or "null")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        seen = 0
        while stack and seen < 1000:  # a bound on what one page may make us walk
            seen += 1
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                types = node.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in types):
                    yield node
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)


def _from_json_ld(node: dict, found: PageFields) -> None:
    found.put("title", _text(node.get("headline")) or _text(node.get("name")), "json-ld")
    found.put("authors", _ld_people(node.get("author")), "json-ld")
    found.put("journal", _ld_periodical(node.get("isPartOf")), "json-ld")
    found.put("date", _text(node.get("datePublished")), "json-ld")
    found.put("abstract", _text(node.get("abstract")) or _text(node.get("description")), "json-ld")
    found.put("volume", _text(node.get("volumeNumber")), "json-ld")
    found.put("issue", _text(node.get("issueNumber")), "json-ld")
    found.put("pages", _text(node.get("pagination")) or _text(node.get("pageStart")), "json-ld")
    keywords = node.get("keywords")
    if isinstance(keywords, str):
        found.put("keywords", split_keywords(keywords), "json-ld")
    elif isinstance(keywords, list):
        found.put("keywords", unique_in_order(k for k in keywords if isinstance(k, str)), "json-ld")
    ids = node.get("identifier")
    for value in [*(ids if isinstance(ids, list) else [ids]), node.get("sameAs"), node.get("@id"), node.get("url")]:
        if isinstance(value, dict) and isinstance(value.get("value"), str):
            kind = str(value.get("propertyID", "")).lower()
            value = f"{kind}:{value['value']}" if kind else value["value"]
        if isinstance(value, str):
            _identifier(value, found, "json-ld")


def _text(value: object) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return None


def _ld_people(value: object) -> list[str]:
    people = value if isinstance(value, list) else [value]
    names = []
    for p in people:
        if isinstance(p, str):
            names.append(p)
        elif isinstance(p, dict):
            given, family = _text(p.get("givenName")), _text(p.get("familyName"))
            name = _text(p.get("name")) or " ".join(x for x in (given, family) if x)
            if name:
                names.append(name)
    return unique_in_order(" ".join(n.split()) for n in names)


def _ld_periodical(value: object, depth: int = 0) -> str | None:
    """The name of the Periodical a work is part of (through PublicationIssue / PublicationVolume)."""
    if depth > 5 or not isinstance(value, (dict, list)):
        return None
    for v in value if isinstance(value, list) else [value]:
        if not isinstance(v, dict):
            continue
        types = v.get("@type")
        types = types if isinstance(types, list) else [types]
        if "Periodical" in types and _text(v.get("name")):
            return _text(v.get("name"))
        inner = _ld_periodical(v.get("isPartOf"), depth + 1)
        if inner:
            return inner
    return None


def _from_open_graph(metas: dict[str, list[str]], found: PageFields) -> None:
    found.put("title", (metas.get("og:title") or [None])[0], "open_graph")
    found.put("date", (metas.get("article:published_time") or [None])[0], "open_graph")


def _visible_text(tree: LexborHTMLParser) -> str | None:
    tree.strip_tags(DROP_TAGS)
    root = tree.css_first("article") or tree.css_first("main") or tree.body
    if root is None:
        return None
    for node in root.css(BLOCK_TAGS):
        node.insert_before("\n")
    lines = (" ".join(ln.split()) for ln in (root.text(deep=True) or "").split("\n"))
    return "\n".join(ln for ln in lines if ln) or None


def _finish_dates(found: PageFields) -> None:
    """Year from the date found (``2024/05/01``, ``2024-05-01``, ``1 May 2024``); a bare year as printed."""
    date = found.fields.get("date")
    if not date or found.fields.get("year") is not None:
        return
    iso, year = parse_date(str(date).replace("/", "-"))
    found.fields["date"] = iso
    if year is not None:
        found.put("year", year, found.methods.get("date", "date"))


def document_fields(text: str) -> dict:
    """Document fields of an HTML page, with ``field_sources`` and ``body`` beside them."""
    found = html_fields(text)
    fields = dict(found.fields)
    fields["authors_complete"] = True if fields.get("authors") else None
    fields["field_sources"] = dict(found.methods)
    fields["body"] = found.body
    return fields


def iter_html_records(path: Path, name: str) -> Iterator[Record | RecordError]:
    """One Record per saved HTML page (source_index 1); unreadable input gives one RecordError naming the file."""
    try:
        decoded = read_text(path)
    except HelpersError as exc:
        yield RecordError(name, 1, str(exc))
        return
    fields = html_fields(decoded.text).fields
    yield Record(
        source_file=name,
        source_index=1,
        format="html",
        pmid=fields.get("pmid"),
        doi=fields.get("doi"),
        pmcid=fields.get("pmcid"),
        title=fields.get("title"),
        abstract=fields.get("abstract"),
        authors=list(fields.get("authors") or []),
        journal=fields.get("journal"),
        journal_abbrev=fields.get("journal_abbrev"),
        year=fields.get("year"),
        date=fields.get("date"),
        volume=fields.get("volume"),
        issue=fields.get("issue"),
        pages=fields.get("pages"),
        keywords=list(fields.get("keywords") or []),
        publication_types=[fields["article_type"]] if fields.get("article_type") else [],
        language=fields.get("language"),
    )
