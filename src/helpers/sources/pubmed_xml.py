"""PubMed / MEDLINE XML (efetch output, annual baseline and update files; ``.xml`` or ``.xml.gz``), streamed.

Records are read one ``PubmedArticle`` / ``PubmedBookArticle`` at a time with lxml's ``iterparse``;
each element is cleared once read, so memory does not grow with the file and there is no size
limit. ``DeleteCitation`` blocks (update files) become :class:`Deletion` entries naming the PMIDs
the file withdraws. A record that cannot be read becomes a :class:`RecordError` naming its
position; a file cut short (truncated gzip, unclosed XML) ends with one error after the records
read before the break, so only what is bad is lost.
"""

from __future__ import annotations

import re
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
    """The node's text with inline markup flattened and white space collapsed (None when empty)."""
    if node is None:
        return None
    raw = node.text if len(node) == 0 else "".join(node.itertext())
    text = " ".join(raw.split()) if raw else ""
    return text or None


def _date_of(pub: etree._Element | None) -> tuple[int | None, str | None]:
    """(year, ISO date as precise as stated) of a PubDate or ArticleDate element."""
    if pub is None:
        return None, None
    return _date_parts(pub.findtext("Year"), pub.findtext("Month"), pub.findtext("Day"), pub.findtext("MedlineDate"))


def _date_parts(
    year: str | None, month: str | None, day: str | None, medline: str | None
) -> tuple[int | None, str | None]:
    if not year:  # MedlineDate, e.g. "2023 Jan-Feb"
        medline = medline or ""
        year = medline[:4] if medline[:4].isdigit() else None
    if year is None or not year.isdigit():
        return None, None
    month = (month or "").strip()
    month_no = MONTHS.get(month[:3].lower()) if month and not month.isdigit() else (int(month) if month else None)
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


def _book(element: etree._Element, record: Record) -> Record:
    """A ``PubmedBookArticle`` (rare: NCBI Bookshelf chapters), read path by path."""
    citation = element.find("BookDocument")
    if citation is None:
        raise ValueError("no BookDocument")
    record.pmid = (citation.findtext("PMID") or "").strip() or None
    book = citation.find("Book")
    record.title = _text(citation.find("ArticleTitle")) or _text(book.find("BookTitle") if book is not None else None)
    if book is not None:
        record.authors, record.affiliations = _authors(book)
    _ids(element, record)
    return record


# The tags a PubmedArticle is read from; lxml filters them in C, so the walk visits only these.
WANTED = (
    "PMID", "ArticleTitle", "VernacularTitle", "Title", "ISOAbbreviation", "Volume", "Issue", "PubDate",
    "ArticleDate", "MedlinePgn", "StartPage", "EndPage", "ELocationID", "AbstractText", "Author", "Language",
    "PublicationType", "Keyword", "DescriptorName", "ArticleId",
)  # fmt: skip


def _author(node: etree._Element) -> tuple[str | None, str]:
    """(name as 'Last Initials' or the collective name, affiliations '; '-joined) of one Author."""
    last = initials = collective = None
    affiliations = []
    for child in node:
        tag = child.tag
        if tag == "LastName":
            last = child.text
        elif tag == "Initials":
            initials = child.text
        elif tag == "CollectiveName":
            collective = _text(child)
        elif tag == "AffiliationInfo":
            affiliations += [t for t in (_text(a) for a in child.iterfind("Affiliation")) if t]
    name = collective or (f"{last} {initials or ''}".strip() if last else None)
    return name, "; ".join(affiliations)


LISTS = {
    "DescriptorName": lambda r: r.mesh,
    "Keyword": lambda r: r.keywords,
    "PublicationType": lambda r: r.publication_types,
}
ID_SLOTS = {"doi": "doi", "pmc": "pmcid", "pubmed": "pmid"}
SIMPLE = {  # tag: (record slot, the parent it must sit in)
    "ArticleTitle": ("title", "Article"),
    "Title": ("journal", "Journal"),
    "ISOAbbreviation": ("journal_abbrev", "Journal"),
    "Volume": ("volume", "JournalIssue"),
    "Issue": ("issue", "JournalIssue"),
    "MedlinePgn": ("pages", "Pagination"),
    "Language": ("language", "Article"),
}


def _walk(element: etree._Element, record: Record) -> tuple[dict, list[str]]:  # noqa: C901 - the hot path, inlined
    """Fill the record from one walk of the wanted nodes; return the nodes read afterwards and the abstract."""
    found: dict = {}
    abstract: list[str] = []
    for node in element.iter(WANTED):  # branches in order of how often the tags occur
        tag = node.tag
        if tag == "Author":
            name, affiliation = _author(node)
            if name and node.getparent().tag == "AuthorList":
                record.authors.append(name)
                record.affiliations.append(affiliation)
        elif tag == "AbstractText":
            if (text := _text(node)) and node.getparent().tag == "Abstract":
                label = node.get("Label")
                abstract.append(f"{label}: {text}" if label else text)
        elif tag in LISTS:
            if text := _text(node):
                LISTS[tag](record).append(text)
        elif tag == "ArticleId":
            slot, value = ID_SLOTS.get(node.get("IdType")), (node.text or "").strip()
            if slot and value and getattr(record, slot) is None and node.getparent().getparent().tag == "PubmedData":
                setattr(record, slot, value)
        elif tag == "PMID":
            if node.getparent().tag == "MedlineCitation":
                record.pmid = (node.text or "").strip() or None
        elif tag in SIMPLE:
            slot, parent = SIMPLE[tag]
            if getattr(record, slot) is None and node.getparent().tag == parent:
                setattr(record, slot, _text(node))
        else:  # PubDate, ArticleDate, StartPage, EndPage, VernacularTitle, ELocationID: read after the walk
            found.setdefault(tag, node)
    return found, abstract


def _fallbacks(record: Record, found: dict) -> None:
    """Title, pages and DOI from their second-choice nodes; year and date."""
    if record.title is None and "VernacularTitle" in found:
        record.title = _text(found["VernacularTitle"])
    if record.pages is None and "StartPage" in found:
        start, end = found["StartPage"].text, found.get("EndPage")
        end = end.text if end is not None else None
        record.pages = f"{start}-{end}" if start and end else start
    if record.doi is None and (eloc := found.get("ELocationID")) is not None and eloc.get("EIdType") == "doi":
        record.doi = (eloc.text or "").strip() or None
    record.year, record.date = _date_of(found.get("PubDate", found.get("ArticleDate")))


def parse_article(element: etree._Element, source_file: str, index: int) -> Record:
    """One ``PubmedArticle`` (or ``PubmedBookArticle``) element as a Record, in one walk of its nodes."""
    record = Record(source_file=source_file, source_index=index, format="pubmed-xml")
    if element.tag == "PubmedBookArticle":
        return _book(element, record)
    if element.find("MedlineCitation") is None:
        raise ValueError("no MedlineCitation or BookDocument")
    found, abstract = _walk(element, record)
    record.abstract = " ".join(abstract) or None
    _fallbacks(record, found)
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
BLOCK = 1 << 20  # decompressed bytes handed to one parse (a pool worker, or this process)
RECORD_ENDS = (b"</PubmedArticle>", b"</PubmedBookArticle>")
ENDS = (*RECORD_ENDS, b"</DeleteCitation>")
STARTS = (b"<PubmedArticle>", b"<PubmedArticle ", b"<PubmedBookArticle", b"<DeleteCitation")
_PARSER = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


@dataclass(frozen=True, slots=True)
class Block:
    """A run of whole top-level elements of one file, and the position of its first record."""

    source_file: str
    first_index: int
    data: bytes


def _cut(buffer: bytearray, at: int | None = None) -> int:
    """Position just after the first top-level element ending at or after ``at`` (None: the last one
    in the buffer); 0 when there is none."""
    if at is None:
        return max((i + len(end) for end in ENDS if (i := buffer.rfind(end)) >= 0), default=0)
    return min((i + len(end) for end in ENDS if (i := buffer.find(end, at)) >= 0), default=0)


def _record_count(data: bytes | bytearray) -> int:
    return sum(data.count(end) for end in RECORD_ENDS)


def iter_blocks(path: Path | str, name: str | None = None) -> Iterator[Block | RecordError]:
    """The file's records in blocks of about ``BLOCK`` bytes, cut between top-level elements, so
    blocks parse independently (in any process) and positions are known before parsing. A file cut
    short (truncated gzip or XML) ends with one RecordError after the whole records before the cut."""
    path = Path(path)
    name = name or display_path(path)
    buffer, index, started, problem = bytearray(), 0, False, None
    try:
        for chunk in _chunks(path, CHUNK):
            buffer += chunk
            if not started:
                first = min((i for start in STARTS if (i := buffer.find(start)) >= 0), default=-1)
                if first < 0:
                    continue
                del buffer[:first]
                started = True
            while len(buffer) >= BLOCK and (cut := _cut(buffer, BLOCK - 1)):
                data = bytes(buffer[:cut])
                del buffer[:cut]
                yield Block(name, index + 1, data)
                index += _record_count(data)
    except (CutShort, zlib.error) as exc:
        problem = f"gzip stream cut short after record {{n}} ({exc}; the records before it are kept: download it again)"
    cut = _cut(buffer) if started else 0
    if cut:
        data = bytes(buffer[:cut])
        yield Block(name, index + 1, data)
        index += _record_count(data)
    rest = bytes(buffer[cut:]).strip()
    if problem is None and not started:
        problem = "no PubmedArticle, PubmedBookArticle or DeleteCitation element: not PubMed XML"
    elif problem is None and rest and not rest.startswith(b"</PubmedArticleSet>"):
        problem = "file cut short after record {n} (an element is not closed; the records before it are kept)"
    if problem:
        yield RecordError(name, index + 1, problem.replace("{n}", str(index)))


def _entry(element: etree._Element, name: str, index: int) -> Record | Deletion | RecordError:
    if element.tag == "DeleteCitation":
        pmids = tuple((p.text or "").strip() for p in element.iterfind("PMID") if (p.text or "").strip())
        return Deletion(name, pmids)
    try:
        return parse_article(element, name, index)
    except (ValueError, TypeError, AttributeError) as exc:
        return RecordError(name, index, f"record {index}: {exc}")


def _pieces(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """(element bytes, is a record) for each top-level element, split at its end tag."""
    pattern = re.compile(b"|".join(re.escape(end) for end in ENDS))
    start = 0
    for match in pattern.finditer(data):
        yield data[start : match.end()], match.group() in RECORD_ENDS
        start = match.end()


# One XSLT pass (in C, libxslt) lays out every element of a block as text (pubmed_layout.xsl: the
# separators below, white space normalised by XPath's normalize-space, which leaves a no-break space
# alone); Python then only splits strings.
REC, FLD, ITEM, PART = "\ue000", "\ue001", "\ue002", "\ue003"
_LAYOUT = etree.XSLT(etree.parse(str(Path(__file__).with_name("pubmed_layout.xsl"))))


def _items(field: str) -> list[str]:
    return [item for item in field.split(ITEM) if item]


def _laid_out(text: str, name: str, index: int) -> Record:
    """A Record from one article's laid-out fields (what parse_article reads from the element)."""
    (_, pmid, title, vernacular, journal, abbrev, volume, issue, pages, start, end, eloc, year, month, day, medline,
     language, abstract, authors, keywords, mesh, types, ids) = text.split(FLD)  # fmt: skip
    record = Record(
        source_file=name, source_index=index, format="pubmed-xml", pmid=pmid or None,
        title=title or vernacular or None, journal=journal or None, journal_abbrev=abbrev or None,
        volume=volume or None, issue=issue or None, pages=pages or None, language=language or None,
        keywords=_items(keywords), mesh=_items(mesh), publication_types=_items(types),
    )  # fmt: skip
    if record.pages is None and start:
        record.pages = f"{start}-{end}" if end else start
    parts = []
    for item in abstract.split(ITEM)[:-1]:
        label, _, body = item.partition(PART)
        if body:
            parts.append(f"{label}: {body}" if label else body)
    record.abstract = " ".join(parts) or None
    for item in authors.split(ITEM)[:-1]:
        collective, last, initials, *affiliations = item.split(PART)
        author = collective or (f"{last} {initials}".strip() if last else None)
        if author:
            record.authors.append(author)
            record.affiliations.append("; ".join(a for a in affiliations if a))
    for item in ids.split(ITEM)[:-1]:
        kind, _, value = item.partition(PART)
        slot = ID_SLOTS.get(kind)
        if slot and value and getattr(record, slot) is None:
            setattr(record, slot, value)
    record.doi = record.doi or eloc or None
    record.year, record.date = _date_parts(year, month, day, medline)
    return record


def _read_root(root: etree._Element, name: str, index: int) -> list[Record | Deletion | RecordError]:
    """Every entry of a well-formed block: articles through the XSLT layout, the rest by element."""
    out: list[Record | Deletion | RecordError] = []
    laid = str(_LAYOUT(root)).split(REC)
    for element, text in zip(root.iterchildren(tag=etree.Element), laid, strict=False):
        if element.tag not in TAGS:
            continue
        index += element.tag != "DeleteCitation"
        out.append(_laid_out(text, name, index) if text.startswith("A") else _entry(element, name, index))
    return out


def parse_block(block: Block) -> list[Record | Deletion | RecordError]:
    """Every entry of a block. When the block is not well-formed XML its elements are parsed one
    by one, so a malformed record costs only that record."""
    name, index = block.source_file, block.first_index - 1
    out: list[Record | Deletion | RecordError] = []
    try:
        root = etree.fromstring(b"<PubmedArticleSet>" + block.data + b"</PubmedArticleSet>", _PARSER)
    except etree.XMLSyntaxError:
        root = None
    if root is not None:
        return _read_root(root, name, index)
    for piece, is_record in _pieces(block.data):
        index += is_record
        try:
            element = etree.fromstring(piece.strip(), _PARSER)
        except etree.XMLSyntaxError as exc:
            what = f"record {index}" if is_record else f"a DeleteCitation after record {index}"
            out.append(RecordError(name, index, f"{what}: malformed XML ({exc.msg}); the other records are kept"))
            continue
        out.append(_entry(element, name, index))
    return out


def iter_pubmed_xml(path: Path | str, name: str | None = None) -> Iterator[Record | Deletion | RecordError]:
    """Stream the records of a PubMed XML file (plain or gzip) and its deletions, in file order."""
    for block in iter_blocks(path, name):
        if isinstance(block, RecordError):
            yield block
        else:
            yield from parse_block(block)
