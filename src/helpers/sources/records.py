"""Every bibliographic export read as a stream of :class:`Record` entries, one reader per format.

PubMed/MEDLINE XML is streamed element by element (:mod:`helpers.sources.pubmed_xml`), PubMed CSV,
Scopus CSV and Web of Science tab-delimited exports row by row (:mod:`helpers.sources.tabular_exports`); MEDLINE
text, RIS and BibTeX are read whole up to the size limit with the well-kept parsers the document
readers already use (Biopython, rispy, bibtexparser). Each file gives records, deletions and
record errors in file order; :func:`read_records` also says which format it recognised, or why
the file was skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers.core.paths import display_path
from helpers.sources.library_formats import (
    matches_bibtex,
    matches_medline,
    matches_ris,
    parse_bibtex,
    parse_medline,
    parse_ris,
)
from helpers.sources.pubmed_xml import Deletion, Record, RecordError, iter_pubmed_xml
from helpers.sources.tabular_exports import FORMATS as TABULAR_FORMATS
from helpers.sources.tabular_exports import detect_tabular, iter_tabular

WHOLE_FILE_LIMIT_MB = 200  # MEDLINE text, RIS and BibTeX are read whole
XML_SUFFIXES = (".xml", ".xml.gz", ".gz")
TABULAR_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
Entry = Record | Deletion | RecordError


@dataclass(frozen=True)
class FileFormat:
    """The format a file was recognised as, or why it was skipped (format None)."""

    format: str | None
    reason: str = ""


def _is_pubmed_xml(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith(XML_SUFFIXES):
        return False
    if name.endswith(".gz"):
        return True  # checked by the reader: a gzip that is not PubMed XML gives an error row
    with open(path, "rb") as handle:
        head = handle.read(4096)
    return b"<PubmedArticleSet" in head or b"<PubmedArticle" in head


def detect(path: Path) -> FileFormat:
    """Which reader a file needs (by content, with the suffix as a hint), or why it is skipped."""
    if path.stat().st_size == 0:
        return FileFormat(None, "empty file")
    if _is_pubmed_xml(path):
        return FileFormat("pubmed-xml")
    if path.suffix.lower() in TABULAR_SUFFIXES and (tabular := detect_tabular(path)):
        return FileFormat(tabular)
    if path.stat().st_size > WHOLE_FILE_LIMIT_MB * 1024 * 1024:
        return FileFormat(None, f"over {WHOLE_FILE_LIMIT_MB} MB and not a streamed format; split the export")
    with open(path, "rb") as handle:
        raw = handle.read()
    if b"\x00" in raw[:4096]:
        return FileFormat(None, "binary file (not a bibliographic export)")
    text = raw.decode("utf-8", errors="replace")
    for name, test in (("medline", matches_medline), ("ris", matches_ris), ("bibtex", matches_bibtex)):
        if test(text):
            return FileFormat(name)
    return FileFormat(None, "unknown format: not PubMed XML, PubMed/Scopus CSV, Web of Science, MEDLINE, RIS or BibTeX")


PARSERS = {"medline": parse_medline, "ris": parse_ris, "bibtex": parse_bibtex}


SCALAR_FIELDS = ("pmid", "doi", "pmcid", "title", "abstract", "journal", "year", "date", "volume", "pages")


def _from_fields(fields: dict, name: str, index: int, fmt: str) -> Record:
    """A Record from the field dict of a whole-file parser (the document readers' names)."""
    scalars = {key: fields.get(key) for key in SCALAR_FIELDS}
    return Record(
        source_file=name,
        source_index=index,
        format=fmt,
        **scalars,
        authors=list(fields.get("authors") or []),
        keywords=list(fields.get("keywords") or []),
        publication_types=[fields["article_type"]] if fields.get("article_type") else [],
    )


def read_records(path: Path, name: str | None = None) -> tuple[FileFormat, Iterator[Entry]]:
    """(format, entries) of one file; entries is empty when the file is skipped."""
    name = name or display_path(path)
    fmt = detect(path)
    if fmt.format is None:
        return fmt, iter(())
    if fmt.format == "pubmed-xml":
        return fmt, iter_pubmed_xml(path)
    if fmt.format in TABULAR_FORMATS:
        return fmt, iter_tabular(path, fmt.format, name)

    def whole() -> Iterator[Entry]:
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            parsed = PARSERS[fmt.format](text)
        except Exception as exc:  # noqa: BLE001 - a third-party parser's failure becomes one error row
            yield RecordError(name, 1, f"{fmt.format} could not be parsed ({exc.__class__.__name__}: {exc})")
            return
        for i, fields in enumerate(parsed, 1):
            yield _from_fields(fields, name, i, fmt.format)

    return fmt, whole()
