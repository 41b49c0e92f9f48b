"""Corpus de-duplication, tables and the short citation."""

from __future__ import annotations

from helpers.core.models import Document, ManifestRow
from helpers.library.corpus import build_corpus, completeness_table, manifest_table, short_citation, status_summary


def doc(i: str, **kw) -> Document:
    return Document(id=i, source_file=f"{i}.txt", format="generic", **kw)


def test_duplicates_by_identifier_are_merged_and_audited():
    a = doc("a", doi="10.1/X", title="Paper", journal=None)
    b = doc("b", doi="10.1/x", journal="J Test", year=2024)
    c = doc("c", pmid="123", title="Another paper entirely")
    corp = build_corpus([b, a, c])
    assert [d.id for d in corp.documents] == ["a", "c"]
    merged = corp.documents[0]
    assert merged.journal == "J Test" and merged.title == "Paper" and merged.year == 2024
    assert corp.audit.to_dict("records") == [
        {"kept": "a", "merged": "b", "merged_file": "b.txt", "reason": "same DOI 10.1/X"}
    ]


def test_near_identical_titles_are_one_document():
    a = doc("a", title="CAR T cells in lupus: a review")
    b = doc("b", title="CAR-T cells in lupus - a review")
    corp = build_corpus([a, b])
    assert len(corp.documents) == 1 and corp.audit.iloc[0]["reason"] == "near-identical title"


def test_short_citation_uses_only_stated_facts():
    assert (
        short_citation(doc("a", authors=["Qianyu Guo"], authors_complete=False, journal="Front Pharmacol", year=2024))
        == "Guo et al., Front Pharmacol, 2024"
    )
    assert short_citation(doc("b", authors=["Mackensen, Andreas"], journal="Nat Med")) == "Mackensen, Nat Med"
    assert short_citation(doc("c", pmid="40862721")) == "PMID 40862721"
    assert short_citation(doc("d")) == "d"


def test_completeness_marks_curated_fields():
    d = doc("a", title="T", doi="10.1/x", curated_fields=["doi"])
    row = completeness_table([d]).iloc[0]
    assert row["title"] == 1.0 and row["doi"] == 0.5 and row["journal"] == 0.0


def test_status_summary_counts():
    rows = [
        ManifestRow(source_file="a", status="parsed", reason="", documents=2),
        ManifestRow(source_file="b", status="error", reason="x"),
        ManifestRow(source_file="c", status="skipped", reason="y"),
    ]
    summary = status_summary(manifest_table(rows)).iloc[0].to_dict()
    assert summary == {"inputs found": 3, "parsed": 1, "skipped": 1, "errors": 1, "documents": 2}
