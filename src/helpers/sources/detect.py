"""Choose the parser for a text by what it contains (file suffix only breaks ties)."""

from __future__ import annotations

from collections.abc import Callable

from helpers.sources import (
    citation_record,
    generic,
    library_formats,
    markdown_page,
    ncbi_page,
    publisher_page,
    pubmed_record,
)

Parser = Callable[[str], list[dict]]


def _one(parse: Callable[[str], dict]) -> Parser:
    return lambda text: [parse(text)]


# Order matters: the first format whose test matches wins.
FORMATS: list[tuple[str, Callable[[str], bool], Parser]] = [
    ("medline", library_formats.matches_medline, library_formats.parse_medline),
    ("ris", library_formats.matches_ris, library_formats.parse_ris),
    ("bibtex", library_formats.matches_bibtex, library_formats.parse_bibtex),
    ("citation_record", citation_record.matches, citation_record.parse_records),
    ("pubmed_record", pubmed_record.matches, _one(pubmed_record.parse)),
    ("pmc_page", ncbi_page.matches_pmc, _one(ncbi_page.parse)),
    ("pubmed_page", ncbi_page.matches_pubmed, _one(ncbi_page.parse)),
    ("markdown", markdown_page.matches, _one(markdown_page.parse)),
    ("publisher_page", publisher_page.matches, _one(publisher_page.parse)),
]


def detect(text: str) -> tuple[str, Parser]:
    """(format name, parser) for a document text; falls back to the generic identifier finder."""
    for name, test, parser in FORMATS:
        if test(text):
            return name, parser
    return "generic", _one(generic.parse)
