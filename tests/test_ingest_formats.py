"""Every parser branch on a small synthetic fixture: the fields each layout prints, and nothing else."""

from __future__ import annotations

import pytest

from helpers.sources import parse_file
from helpers.sources.common import clean_doi, parse_date, split_keywords
from helpers.sources.detect import detect

from .conftest import DOC_FIXTURES


def one(name: str):
    docs, fmt, _, _ = parse_file(DOC_FIXTURES / name)
    assert len(docs) == 1
    return docs[0], fmt


def test_pubmed_page_with_full_author_list():
    doc, fmt = one("pubmed_page_full_authors.txt")
    assert fmt == "pubmed_page"
    assert doc.title == "Synthetic case of CD19 CAR T cells in refractory lupus nephritis"
    assert doc.authors == ["Ana Example", "Ben Sample", "Cara Fixture"]
    assert doc.authors_complete is True
    assert (doc.journal, doc.date, doc.year, doc.volume) == ("Lupus Sci Med", "2023-03-05", 2023, "10")
    assert doc.doi == "10.1136/lupus-2022-000123"
    assert doc.article_type == "Case Reports"
    assert doc.abstract.startswith("Background: A synthetic patient")
    assert "Results: Proteinuria resolved" in doc.abstract
    assert "Keywords" not in doc.abstract
    assert doc.keywords == ["CAR T", "lupus nephritis"]
    assert doc.conflict_of_interest == "None declared."
    assert doc.nct_ids == ["NCT01234567"]
    assert [f.label for f in doc.figures] == ["FIGURE 1"]
    assert doc.figures[0].caption == "Proteinuria over time."


def test_pubmed_references_carry_their_identifiers():
    doc, _ = one("pubmed_page_full_authors.txt")
    assert len(doc.references) == 2
    first, second = doc.references
    assert first.doi == "10.1038/s41591-022-02017-5" and first.year == 2022
    assert not first.text.endswith("PubMed")
    assert second.pmid == "33333333" and second.doi is None


def test_similar_articles_never_leak_into_fields():
    doc, _ = one("pubmed_page_full_authors.txt")
    assert "Other Person A" not in doc.authors
    assert all("different paper" not in (r.text or "") for r in doc.references)


def test_pmc_page():
    doc, fmt = one("pmc_page.txt")
    assert fmt == "pmc_page"
    assert (doc.pmcid, doc.pmid) == ("PMC10600001", "37760001")
    assert doc.journal == "ACR Open Rheumatol"
    assert (doc.date, doc.volume, doc.pages) == ("2023-09-27", "5", "624–628")
    assert doc.doi == "10.1002/acr2.11612"
    assert doc.title == "Synthetic PMC article on BCMA CAR T cells in Sjögren's disease"
    assert doc.authors == ["Dana Test", "Evan Mock"]
    assert doc.references[0].doi == "10.1000/test.1"


def test_pubmed_mirror_record_bullets():
    doc, fmt = one("pubmed_record.txt")
    assert fmt == "pubmed_record"
    assert (doc.pmid, doc.pmcid, doc.doi) == ("39000001", "PMC11000001", "10.1000/ssc.2024.1")
    assert (doc.journal, doc.date, doc.year) == ("Ann Rheum Dis", "2024-02", 2024)
    assert doc.title == "Synthetic mirror record on CAR-T in systemic sclerosis"
    assert doc.abstract.startswith("One patient with diffuse")
    assert doc.figures == [] and doc.references == []


def test_publisher_page_with_citation_line_and_abstract_heading():
    doc, fmt = one("publisher_citation_line.txt")
    assert fmt == "publisher_page"
    assert (doc.journal, doc.date, doc.volume, doc.pages) == ("J Rheum Dis", "2025-07-01", "32", "154-165")
    assert doc.doi == "10.4078/jrd.2025.0001"
    assert doc.title == "Synthetic review of CAR T cells in rheumatic disease"
    assert doc.article_type == "Review Article"
    assert doc.licence == "CC BY 4.0"
    assert (
        doc.abstract == "This synthetic abstract is printed once under an Abstract heading and mentions CD19 and BCMA."
    )
    assert doc.keywords == ["CAR T", "rheumatic disease"]
    assert doc.conflict_of_interest.startswith("No potential conflict")


def test_citation_record():
    doc, fmt = one("citation_record.txt")
    assert fmt == "citation_record"
    assert doc.authors == ["Xu, Xiaoyu", "Su, Jian"]
    assert (doc.journal, doc.volume, doc.year) == ("Frontiers in Immunology", "16", 2025)
    assert doc.doi == "10.3389/fimmu.2025.0000001"
    assert doc.nct_ids == ["NCT05000001", "NCT05000002"]


def test_markdown_page():
    doc, fmt = one("markdown_page.md")
    assert fmt == "markdown"
    assert doc.title == "Synthetic markdown paper on CAR-NK cells in myositis"
    assert doc.authors == ["Fay Demo", "Gus Stub"]
    assert (doc.journal, doc.date, doc.pmid) == ("Rheumatology (Oxford)", "2024-06-30", "38000001")
    assert doc.doi == "10.1093/rheumatology/kead999"
    assert (
        doc.abstract == "CAR-NK cells were given to a synthetic patient with dermatomyositis. "
        "The abstract continues on a second line."
    )
    assert doc.keywords == ["dermatomyositis", "CAR-NK"]
    assert doc.references[0].doi == "10.1000/earlier.1"


def test_generic_fallback_finds_identifiers_only():
    doc, fmt = one("generic_notes.txt")
    assert fmt == "generic"
    assert (doc.doi, doc.pmid, doc.pmcid) == ("10.1000/generic.42", "38500001", "PMC11500001")
    assert doc.nct_ids == ["NCT06000001"]
    assert doc.title is None and doc.authors == [] and doc.abstract is None


def test_text_without_metadata_yields_no_document():
    docs, fmt, _, _ = parse_file(DOC_FIXTURES / "no_metadata.txt")
    assert fmt == "generic" and docs == []


def test_medline_export_with_two_records():
    docs, fmt, _, _ = parse_file(DOC_FIXTURES / "export.nbib")
    assert fmt == "medline"
    assert [d.id for d in docs] == ["export#1", "export#2"]
    first = docs[0]
    assert first.pmid == "36109639" and first.doi == "10.1038/s41591-022-02017-5"
    assert first.authors == ["Mackensen, Andreas", "Muller, Fabian"]
    assert (first.journal, first.year, first.date) == ("Nat Med", 2022, "2022-10")
    assert first.keywords == ["CAR T", "lupus"]
    assert docs[1].doi is None and docs[1].year == 2024


def test_ris_export():
    doc, fmt = one("export.ris")
    assert fmt == "ris"
    assert doc.authors == ["Pecher, Ann-Christin", "Hensen, Luca"]
    assert (doc.journal, doc.year, doc.pages, doc.doi) == ("JAMA", 2023, "272-274", "10.1001/jama.2023.00001")


def test_bibtex_export():
    doc, fmt = one("export.bib")
    assert fmt == "bibtex"
    assert doc.title == "Synthetic BibTeX record on systemic sclerosis"
    assert doc.authors == ["Bergmann, Christina", "Muller, Fabian"]
    assert (doc.year, doc.doi) == (2023, "10.1136/ard-2023-000001")
    assert doc.keywords == ["systemic sclerosis", "CAR T"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024 Dec 12", ("2024-12-12", 2024)),
        ("Published online January 20, 2025", ("2025-01-20", 2025)),
        ("2023 Sep", ("2023-09", 2023)),
        ("12 December 2024", ("2024-12-12", 2024)),
        ("2025-07-01", ("2025-07-01", 2025)),
        ("no date here", (None, None)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("https://doi.org/10.1/ABC.", "10.1/ABC"),
        ("doi: 10.3389/fphar.2024.1502298.", "10.3389/fphar.2024.1502298"),
        ("", None),
    ],
)
def test_clean_doi(raw, expected):
    assert clean_doi(raw) == expected


def test_keywords_split_on_semicolons_or_commas():
    assert split_keywords("Keywords: a; b, c; d.") == ["a", "b, c", "d"]
    assert split_keywords("Keywords A, B, A") == ["A", "B"]


def test_detect_prefers_content_over_suffix():
    assert detect("PMID- 123456\nTI  - x\n")[0] == "medline"
    assert detect("plain words")[0] == "generic"
