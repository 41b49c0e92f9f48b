"""Every bibliographic export read as a stream of :class:`Record` entries, one reader per format.

The format is recognised by content (the file's suffix only breaks ties): PubMed/MEDLINE XML
(:mod:`pubmed_xml`) and PMC JATS XML (:mod:`jats_xml`), plain or gzip, are streamed element by
element; MEDLINE text (:mod:`medline_stream`) and Web of Science plain text (:mod:`wos_text`) record
by record; PubMed CSV, Scopus CSV and Web of Science tab-delimited exports row by row
(:mod:`tabular_exports`). RIS (:mod:`ris_entries`) and BibTeX (:mod:`bibtex_entries`) are read whole
up to the size limit and split entry by entry, so one bad entry costs only itself. Text is decoded as
UTF-8, UTF-16 or cp1252 (:mod:`encodings`); a file read as cp1252 says so in its manifest reason.
Each file gives records, deletions and record errors in file order; :func:`read_records` also says
which format it recognised, or why the file was skipped.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers.core.paths import display_path
from helpers.sources.bibtex_entries import ENTRY_START_RE, NOT_ENTRIES, iter_bibtex
from helpers.sources.encodings import FALLBACK, FALLBACK_NOTE, SAMPLE, decode_sample, fallback_note, read_text, sniff
from helpers.sources.html_record import iter_html_records, looks_like_html
from helpers.sources.jats_xml import iter_jats
from helpers.sources.medline_stream import iter_medline
from helpers.sources.pubmed_xml import Deletion, Record, RecordError, iter_pubmed_xml
from helpers.sources.ris_entries import iter_ris
from helpers.sources.tabular_exports import FORMATS as TABULAR_FORMATS
from helpers.sources.tabular_exports import detect_tabular, iter_tabular
from helpers.sources.wos_text import iter_wos_text

WHOLE_FILE_LIMIT_MB = 200  # RIS and BibTeX are read whole
WHOLE_FORMATS = ("ris", "bibtex")
Entry = Record | Deletion | RecordError
TABULAR_NOTE = "not UTF-8: characters that are not UTF-8 were replaced by U+FFFD; re-export as UTF-8"
ALL_FORMATS = (
    "PubMed XML, PMC JATS XML, MEDLINE text, Web of Science plain text or tab-delimited, "
    "PubMed CSV, Scopus CSV, RIS, BibTeX or a saved HTML page"
)
# Markers looked for in a file's first bytes: bounded patterns, each applied to the sample only
MEDLINE_RE = re.compile(r"^PMID- ?\d", re.M)
RIS_RE = re.compile(r"^TY  - ", re.M)
WOS_HEADER_RE = re.compile(r"^\s{0,4}FN [^\n]{0,80}\n(?:[^\n]{0,200}\n){0,2}VR \d", re.M)
WOS_RECORD_RE = re.compile(r"^PT [A-Z]\s{0,2}\n(?:[^\n]{0,2000}\n){0,20}?(?:AU|TI|SO) ", re.M)


@dataclass(frozen=True)
class FileFormat:
    """The format a file was recognised as, or why it was skipped (format None).

    For a recognised file, ``reason`` carries a note for the manifest (the encoding it was read in).
    """

    format: str | None
    reason: str = ""
    encoding: str = "utf-8"


def _head(path: Path) -> tuple[bytes, bool]:
    """(first bytes, decompressed from gzip?) of a file; a gzip stream cut early gives what it holds."""
    with open(path, "rb") as handle:
        raw = handle.read(SAMPLE)
    if not raw.startswith(b"\x1f\x8b"):
        return raw, False
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(raw, SAMPLE), True
    except zlib.error:
        return b"", True


def _xml_format(head: bytes) -> str | None:
    if b"<PubmedArticleSet" in head or b"<PubmedArticle" in head or b"<PubmedBookArticle" in head:
        return "pubmed-xml"
    if b"<pmc-articleset" in head or (b"<article" in head and (b"<front" in head or b"article-meta" in head)):
        return "pmc-jats"
    if b"<!DOCTYPE article" in head or (b"<OAI-PMH" in head and b"jats" in head.lower()):
        return "pmc-jats"
    return None


def _bibtex(text: str) -> bool:
    return any((m := ENTRY_START_RE.match(line)) and m.group(1).lower() not in NOT_ENTRIES for line in text.split("\n"))


def _text_format(text: str) -> str | None:
    """The text export format of a file's first characters, or None."""
    if WOS_HEADER_RE.search(text) or WOS_RECORD_RE.search(text):
        return "wos-text"
    if MEDLINE_RE.search(text):
        return "medline"
    if RIS_RE.search(text):
        return "ris"
    if _bibtex(text):
        return "bibtex"
    return None


def detect(path: Path) -> FileFormat:
    """Which reader a file needs (by content, with the suffix as a hint), or why it is skipped."""
    size = path.stat().st_size
    if size == 0:
        return FileFormat(None, "empty file")
    head, gzipped = _head(path)
    if gzipped:
        found = _xml_format(head)
        if found is None and path.name.lower().endswith(".xml.gz"):
            found = "pubmed-xml"  # unreadable from the start: the reader reports why
        return FileFormat(found) if found else FileFormat(None, f"gzip file holding none of: {ALL_FORMATS}")
    encoding = sniff(head)
    if encoding is None:
        return FileFormat(None, "binary file (not a bibliographic export)")
    text = decode_sample(head, encoding).lstrip("\ufeff")
    found = _xml_format(text.encode("utf-8")) if text.lstrip().startswith("<") else None
    if found:
        return FileFormat(found)
    if looks_like_html(text):
        return FileFormat("html")  # the page reader decodes it itself
    note = FALLBACK_NOTE if encoding == FALLBACK else ""
    if not encoding.startswith("utf-16") and (tabular := detect_tabular(path)):
        return FileFormat(tabular, TABULAR_NOTE if encoding == FALLBACK else "")
    found = _text_format(text)
    if found is None:
        return FileFormat(None, f"unknown format: not {ALL_FORMATS}")
    if found in WHOLE_FORMATS and size > WHOLE_FILE_LIMIT_MB * 1024 * 1024:
        return FileFormat(None, f"{found} file over {WHOLE_FILE_LIMIT_MB} MB (read whole); split the export")
    return FileFormat(found, note, encoding)


def _whole(reader: Callable[[str, str], Iterator[Entry]], path: Path, fmt: FileFormat, name: str) -> Iterator[Entry]:
    """Entries of a format read whole; a line that was not UTF-8 in a file that looked like UTF-8 is noted."""
    text, fallback = read_text(path, fmt.encoding)
    index = 0
    for entry in reader(text, name):
        index = getattr(entry, "source_index", index)
        yield entry
    if fallback and fmt.encoding != FALLBACK:
        yield RecordError(name, max(index, 1), fallback_note(fallback))


def read_records(path: Path, name: str | None = None) -> tuple[FileFormat, Iterator[Entry]]:
    """(format, entries) of one file; entries is empty when the file is skipped."""
    name = name or display_path(path)
    fmt = detect(path)
    if fmt.format is None:
        return fmt, iter(())
    if fmt.format == "pubmed-xml":
        return fmt, iter_pubmed_xml(path, name)
    if fmt.format == "pmc-jats":
        return fmt, iter_jats(path, name)
    if fmt.format == "html":
        return fmt, iter_html_records(path, name)
    if fmt.format in TABULAR_FORMATS:
        return fmt, iter_tabular(path, fmt.format, name)
    if fmt.format == "medline":
        return fmt, iter_medline(path, name, fmt.encoding)
    if fmt.format == "wos-text":
        return fmt, iter_wos_text(path, name, fmt.encoding)
    reader = iter_ris if fmt.format == "ris" else iter_bibtex
    return fmt, _whole(reader, path, fmt, name)
