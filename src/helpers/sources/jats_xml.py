"""PMC JATS XML (one ``<article>``, a ``<pmc-articleset>`` of many, or an OAI-PMH response; ``.xml`` or
``.xml.gz``), streamed one article at a time.

The bytes are scanned for ``<article ...>`` ... ``</article>`` and each article is parsed on its own
with lxml, so memory holds one article at a time, there is no size limit, and malformed XML in one
article (or an article never closed) costs only that article: it becomes a :class:`RecordError`
naming it and the articles after it are still read. A gzip stream cut short keeps every article
before the cut. Articles in the JATS namespace (OAI-PMH) are read like those without one.

Authors are written ``Surname, Given-names`` (as MEDLINE's ``FAU``); an author's affiliations are
the ``<aff>`` elements their ``<xref ref-type="aff">`` point to, or every ``<aff>`` of the article
when it has no such cross-references (JATS's meaning of affiliations listed once for all).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from helpers.sources.pubmed_xml import CHUNK, CutShort, Record, RecordError, _chunks

FORMAT = "pmc-jats"
START, END = b"<article", b"</article>"
AFTER_START = frozenset(b" \t\r\n>/")
# Namespace prefixes PMC declares on the wrapper in some exports; an article parsed alone needs them
WRAP_OPEN = (
    b'<jats-wrap xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ali="http://www.niso.org/schemas/ali/1.0/">'
)
WRAP_CLOSE = b"</jats-wrap>"
DECLARED_ENCODING_RE = re.compile(rb"^<\?xml[^>]{0,200}encoding=[\"']([A-Za-z0-9._-]{1,40})")  # bounded
TITLE_RE = re.compile(rb"<article-title[^>]{0,200}>(.{0,400}?)</article-title>", re.S)  # bounded
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DATE_PREFERENCE = ("ppub", "epub-ppub", "epub", "collection", "pub")
SKIPPED_ABSTRACTS = frozenset({"graphical", "teaser", "toc", "video", "author-highlights"})
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)


def _find_start(buffer: bytes, pos: int) -> int:
    """Offset of the next ``<article`` start tag (not ``<article-meta`` etc.) at or after pos, or -1."""
    while (at := buffer.find(START, pos)) != -1:
        if at + len(START) < len(buffer) and buffer[at + len(START)] in AFTER_START:
            return at
        if at + len(START) >= len(buffer):
            return -1  # undecided until more bytes come
        pos = at + 1
    return -1


def _pieces(path: Path) -> Iterator[tuple[bytes | None, str | None]]:
    """(article bytes, None) per closed article, or (None, problem) for one that is not closed."""
    buffer, pos = b"", 0
    try:
        for chunk in _chunks(path, CHUNK):
            buffer = buffer[pos:] + chunk
            pos = 0
            while (start := _find_start(buffer, pos)) != -1:
                end = buffer.find(END, start)
                following = _find_start(buffer, start + 1)
                if following != -1 and (end == -1 or following < end):
                    yield None, "is not closed (no </article> before the next article)"
                    pos = following
                    continue
                if end == -1:
                    pos = start
                    break
                yield buffer[start : end + len(END)], None
                pos = end + len(END)
            else:
                pos = max(pos, len(buffer) - len(START))  # keep a start tag cut by the chunk's end
    except (CutShort, zlib.error) as exc:
        if _find_start(buffer + b" ", pos) != -1:
            yield (
                None,
                f"is cut short: gzip stream cut short ({exc}); the records before it are kept: download it again",
            )
        else:
            yield None, f"gzip stream cut short ({exc}) after the last complete record: download it again"
        return
    if _find_start(buffer + b" ", pos) != -1:
        yield None, "is not closed: the file ends before </article> (the export may be cut short)"


def _collect(node: etree._Element, skip: frozenset[str], parts: list[str]) -> None:
    if node.text:
        parts.append(node.text)
    for child in node:
        if isinstance(child.tag, str) and child.tag not in skip:
            if child.tag in BLOCKS:
                parts.append(" ")  # paragraphs and sections are not run together
            _collect(child, skip, parts)
        if child.tail:
            parts.append(child.tail)


def _text(node: etree._Element | None, skip: frozenset[str] = frozenset()) -> str | None:
    """The node's text with inline markup flattened, elements named in skip left out, spaces collapsed."""
    if node is None:
        return None
    parts: list[str] = []
    _collect(node, skip, parts)
    return " ".join("".join(parts).split()) or None


NOT_TEXT = frozenset({"xref", "fn", "label"})
BLOCKS = frozenset({"p", "sec", "title", "list-item", "disp-quote", "def-item"})


def _strip_namespaces(article: etree._Element) -> None:
    for node in article.iter():
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            node.tag = etree.QName(node).localname


def _abstract(meta: etree._Element) -> str | None:
    parts = []
    for abstract in meta.iterfind("abstract"):
        if abstract.get("abstract-type") in SKIPPED_ABSTRACTS:
            continue
        sections = abstract.findall("sec")
        if not sections:
            parts.append(_text(abstract, NOT_TEXT | {"title"}))
        for sec in sections:
            title, body = _text(sec.find("title")), _text(sec, NOT_TEXT | {"title"})
            parts.append(f"{title}: {body}" if title and body else body)
    return " ".join(p for p in parts if p) or None


def _authors(meta: etree._Element) -> tuple[list[str], list[str]]:
    affs = {a.get("id"): _text(a, NOT_TEXT) for a in meta.iter("aff")}
    referenced = any(x.get("ref-type") == "aff" for x in meta.iterfind("contrib-group/contrib/xref"))
    names, affiliations = [], []
    for contrib in meta.iterfind("contrib-group/contrib"):
        if contrib.get("contrib-type", "author") != "author":
            continue
        name = contrib.find("name")
        if name is None:
            name = contrib.find("name-alternatives/name")
        if name is not None and name.findtext("surname"):
            given = _text(name.find("given-names"))
            names.append(f"{_text(name.find('surname'))}, {given}" if given else _text(name.find("surname")))
        elif (collab := _text(contrib.find("collab"), NOT_TEXT)) is not None:
            names.append(collab)
        elif (string_name := _text(contrib.find("string-name"))) is not None:
            names.append(string_name)
        else:
            continue
        own = [affs.get(x.get("rid")) for x in contrib.iterfind("xref") if x.get("ref-type") == "aff"]
        for rid in (x.get("rid") for x in contrib.iterfind("xref") if x.get("ref-type") == "aff"):
            own += [affs.get(r) for r in (rid or "").split()[1:]]  # rid="aff1 aff2"
        own += [_text(a, NOT_TEXT) for a in contrib.iterfind("aff")]
        if not referenced:
            own += [a for a in affs.values()]
        affiliations.append("; ".join(dict.fromkeys(a for a in own if a)))
    return names, affiliations


def _date(meta: etree._Element) -> tuple[int | None, str | None]:
    dates = {}
    for node in meta.iterfind("pub-date"):
        kind = node.get("pub-type") or node.get("date-type")
        if node.get("date-type") == "pub" and node.get("publication-format") in ("print", "electronic"):
            kind = "ppub" if node.get("publication-format") == "print" else "epub"
        dates.setdefault(kind, node)
    node = next((dates[k] for k in DATE_PREFERENCE if k in dates), next(iter(dates.values()), None))
    year = (node.findtext("year") or "").strip() if node is not None else ""
    if not (year[:4].isdigit() and len(year) >= 4):
        return None, None
    date = year[:4]
    month, day = (node.findtext("month") or "").strip(), (node.findtext("day") or "").strip()
    if month.isdigit() and 1 <= int(month) <= 12:
        date += f"-{int(month):02d}" + (f"-{int(day):02d}" if day.isdigit() and 1 <= int(day) <= 31 else "")
    return int(year[:4]), date


def _ids(meta: etree._Element, record: Record) -> None:
    for node in meta.iterfind("article-id"):
        kind, value = node.get("pub-id-type"), " ".join((node.text or "").split())
        if not value:
            continue
        if kind == "pmid" and record.pmid is None:
            record.pmid = value
        elif kind in ("pmc", "pmcid") and record.pmcid is None:
            record.pmcid = value if value.upper().startswith("PMC") else f"PMC{value}"
        elif kind == "doi" and record.doi is None:
            record.doi = value


def _journal(journal_meta: etree._Element | None, record: Record) -> None:
    if journal_meta is None:
        return
    record.journal = _text(journal_meta.find("journal-title-group/journal-title")) or _text(
        journal_meta.find("journal-title")
    )
    ids = {n.get("journal-id-type"): _text(n) for n in journal_meta.iterfind("journal-id")}
    record.journal_abbrev = (
        ids.get("iso-abbrev")
        or _text(journal_meta.find("journal-title-group/abbrev-journal-title"))
        or ids.get("nlm-ta")
    )


def parse_article(article: etree._Element, name: str, index: int) -> Record:
    """One JATS ``<article>`` element as a Record; ValueError when it has no article-meta."""
    if isinstance(article.tag, str) and article.tag.startswith("{"):
        _strip_namespaces(article)
    meta = article.find("front/article-meta")
    if meta is None:
        raise ValueError("it has no <front><article-meta>: not a JATS article")
    record = Record(source_file=name, source_index=index, format=FORMAT)
    _ids(meta, record)
    record.title = _text(meta.find("title-group/article-title"), NOT_TEXT)
    record.abstract = _abstract(meta)
    record.authors, record.affiliations = _authors(meta)
    _journal(article.find("front/journal-meta"), record)
    record.year, record.date = _date(meta)
    record.volume, record.issue = _text(meta.find("volume")), _text(meta.find("issue"))
    first, last = _text(meta.find("fpage")), _text(meta.find("lpage"))
    record.pages = (
        (f"{first}-{last}" if last and last != first else first) if first else _text(meta.find("elocation-id"))
    )
    groups = [g for g in meta.iterfind("kwd-group") if g.get("kwd-group-type") != "abbreviations"]
    record.keywords = [k for k in (_text(n, NOT_TEXT) for g in groups for n in g.iterfind("kwd")) if k]
    record.publication_types = [article.get("article-type")] if article.get("article-type") else []
    record.language = article.get(XML_LANG)
    return record


def _declared_encoding(path: Path) -> bytes:
    head = next(_chunks(path, 256), b"")
    match = DECLARED_ENCODING_RE.match(head.lstrip(b"\xef\xbb\xbf"))
    return match.group(1) if match else b"UTF-8"


def iter_jats(path: Path, name: str) -> Iterator[Record | RecordError]:
    """Stream the articles of a PMC JATS file (plain or gzip) in file order."""
    try:
        declaration = b'<?xml version="1.0" encoding="' + _declared_encoding(path) + b'"?>'
    except (CutShort, zlib.error):
        declaration = b'<?xml version="1.0" encoding="UTF-8"?>'
    for index, (piece, problem) in enumerate(_pieces(path), 1):
        if problem:
            yield RecordError(name, index, f"record {index} {problem}")
            continue
        try:
            article = etree.fromstring(declaration + WRAP_OPEN + piece + WRAP_CLOSE, PARSER)[0]
        except etree.XMLSyntaxError as exc:
            yield RecordError(
                name, index, f"{_label(piece, index)}: malformed XML ({exc.msg}); the other records are kept"
            )
            continue
        try:
            yield parse_article(article, name, index)
        except ValueError as exc:
            yield RecordError(name, index, f"{_label(piece, index)}: {exc}")


def _label(piece: bytes, index: int) -> str:
    """'record N' with the article's title when one can be found in its bytes."""
    match = TITLE_RE.search(piece)
    title = (
        " ".join(re.sub(rb"<[^<>]{0,200}>", b"", match.group(1)).decode("utf-8", "replace").split()) if match else ""
    )
    return f"record {index} ({title[:80]!r})" if title else f"record {index}"
