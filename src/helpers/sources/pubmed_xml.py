"""PubMed / MEDLINE XML (efetch output, annual baseline and update files; ``.xml`` or ``.xml.gz``), streamed.

Records are read one ``PubmedArticle`` / ``PubmedBookArticle`` at a time with lxml's ``iterparse``;
each element is cleared once read, so memory does not grow with the file and there is no size
limit. ``DeleteCitation`` blocks (update files) become :class:`Deletion` entries naming the PMIDs
the file withdraws. A record that cannot be read becomes a :class:`RecordError` naming its
position; a file cut short (truncated gzip, unclosed XML) ends with one error after the records
read before the break, so only what is bad is lost.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from helpers.core.paths import display_path

RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle")
TAGS = (*RECORD_TAGS, "DeleteCitation")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)}


@dataclass(slots=True)
class Record:
    """One bibliographic record in the library's model. Absent facts stay None (lists stay empty)."""

    source_file: str
    source_index: int  # 1-based position of the record in its file
    format: str
    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    affiliations: list[str] = field(default_factory=list)  # one '; '-joined string per author
    journal: str | None = None
    journal_abbrev: str | None = None
    year: int | None = None
    date: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    keywords: list[str] = field(default_factory=list)
    mesh: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Deletion:
    """PMIDs an update file withdraws (its ``DeleteCitation`` block)."""

    source_file: str
    pmids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record (or the rest of a file) that could not be read, with where and why."""

    source_file: str
    source_index: int
    reason: str


def _text(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    text = " ".join("".join(node.itertext()).split())
    return text or None


def _date(article: etree._Element) -> tuple[int | None, str | None]:
    pub = article.find("Journal/JournalIssue/PubDate")
    if pub is None:
        pub = article.find("ArticleDate")
    if pub is None:
        return None, None
    year = pub.findtext("Year")
    if year is None:  # MedlineDate, e.g. "2023 Jan-Feb"
        medline = pub.findtext("MedlineDate") or ""
        year = medline[:4] if medline[:4].isdigit() else None
    if year is None or not year.isdigit():
        return None, None
    month = (pub.findtext("Month") or "").strip()
    month_no = MONTHS.get(month[:3].lower()) if month and not month.isdigit() else (int(month) if month else None)
    day = pub.findtext("Day")
    date = year + (f"-{month_no:02d}" if month_no else "") + (f"-{int(day):02d}" if month_no and day else "")
    return int(year), date


def _authors(article: etree._Element) -> tuple[list[str], list[str]]:
    names, affiliations = [], []
    for author in article.iterfind("AuthorList/Author"):
        collective = author.findtext("CollectiveName")
        last = author.findtext("LastName")
        name = collective or (f"{last} {author.findtext('Initials') or ''}".strip() if last else None)
        if not name:
            continue
        names.append(name)
        affiliations.append(
            "; ".join(a for a in (_text(x) for x in author.iterfind("AffiliationInfo/Affiliation")) if a)
        )
    return names, affiliations


def _ids(element: etree._Element, record: Record) -> None:
    for node in element.iterfind(".//ArticleIdList/ArticleId"):
        kind, value = node.get("IdType"), (node.text or "").strip()
        if kind == "doi" and record.doi is None and value:
            record.doi = value
        elif kind == "pmc" and record.pmcid is None and value:
            record.pmcid = value
        elif kind == "pubmed" and record.pmid is None and value:
            record.pmid = value
    if record.doi is None:
        for node in element.iterfind(".//ELocationID[@EIdType='doi']"):
            record.doi = (node.text or "").strip() or None
            break


def _pages(article: etree._Element) -> str | None:
    pages = article.findtext("Pagination/MedlinePgn")
    if pages:
        return pages.strip()
    start, end = article.findtext("Pagination/StartPage"), article.findtext("Pagination/EndPage")
    return f"{start}-{end}" if start and end else start


def parse_article(element: etree._Element, source_file: str, index: int) -> Record:
    """One ``PubmedArticle`` (or ``PubmedBookArticle``) element as a Record."""
    record = Record(source_file=source_file, source_index=index, format="pubmed-xml")
    citation = element.find("MedlineCitation")
    if citation is None:
        citation = element.find("BookDocument")
    if citation is None:
        raise ValueError("no MedlineCitation or BookDocument")
    record.pmid = (citation.findtext("PMID") or "").strip() or None
    article = citation.find("Article")
    if article is None:
        article = citation.find("Book")
        record.title = _text(citation.find("ArticleTitle")) or _text(
            article.find("BookTitle") if article is not None else None
        )
    else:
        record.title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
        record.journal = _text(article.find("Journal/Title"))
        record.journal_abbrev = _text(article.find("Journal/ISOAbbreviation"))
        record.volume = article.findtext("Journal/JournalIssue/Volume")
        record.issue = article.findtext("Journal/JournalIssue/Issue")
        record.pages = _pages(article)
        record.language = article.findtext("Language")
        record.publication_types = [
            t for t in (_text(n) for n in article.iterfind("PublicationTypeList/PublicationType")) if t
        ]
        record.year, record.date = _date(article)
    parts = []
    for node in citation.iterfind(".//Abstract/AbstractText"):
        label, text = node.get("Label"), _text(node)
        if text:
            parts.append(f"{label}: {text}" if label else text)
    record.abstract = " ".join(parts) or None
    if article is not None:
        record.authors, record.affiliations = _authors(article)
    record.keywords = [k for k in (_text(n) for n in citation.iterfind("KeywordList/Keyword")) if k]
    record.mesh = [m for m in (_text(n) for n in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")) if m]
    _ids(element, record)
    return record


class CutShort(Exception):
    """A gzip stream that ends before its end marker."""


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    """The file's bytes in chunks, decompressed when it is gzip (several members allowed); a gzip
    stream cut short yields everything before the cut, then raises CutShort."""
    with open(path, "rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        if head != b"\x1f\x8b":
            while chunk := handle.read(size):
                yield chunk
            return
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while raw := handle.read(size):
            while raw:
                yield inflater.decompress(raw)
                raw = inflater.unused_data
                if inflater.eof and raw:
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        tail = inflater.flush()
        if tail:
            yield tail
        if not inflater.eof:
            raise CutShort("the gzip stream ends before its end marker")


CHUNK = 1 << 16


def _entries(element: etree._Element, name: str, index: int) -> Record | Deletion | RecordError:
    if element.tag == "DeleteCitation":
        pmids = tuple((p.text or "").strip() for p in element.iterfind("PMID") if (p.text or "").strip())
        return Deletion(name, pmids)
    try:
        return parse_article(element, name, index)
    except (ValueError, TypeError) as exc:
        return RecordError(name, index, f"record {index}: {exc}")


def _release(element: etree._Element) -> None:
    """Free a record once read (and the siblings before it) so memory does not grow with the file."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def iter_pubmed_xml(path: Path | str) -> Iterator[Record | Deletion | RecordError]:
    """Stream the records of a PubMed XML file (plain or gzip) and its deletions, in file order."""
    path = Path(path)
    name = display_path(path)
    parser = etree.XMLPullParser(events=("end",), tag=TAGS, huge_tree=True, resolve_entities=False, no_network=True)
    index, failure = 0, None
    chunks = _chunks(path, CHUNK)
    while failure is None:
        chunk = b""
        try:
            chunk = next(chunks, b"")
            parser.feed(chunk) if chunk else parser.close()
        except etree.XMLSyntaxError as exc:
            failure = ("XML breaks", f"{exc.msg}; the records before it are kept: download the file again")
        except (CutShort, zlib.error) as exc:
            failure = ("gzip stream cut short", f"{exc}; the records before it are kept: download it again")
        for _, element in parser.read_events():  # events parsed before an error are still delivered
            if element.tag != "DeleteCitation":
                index += 1
            yield _entries(element, name, index)
            _release(element)
        if not chunk:
            break
    if failure is not None:
        yield RecordError(name, index + 1, f"{failure[0]} after record {index} ({failure[1]})")
