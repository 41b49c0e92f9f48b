"""The three shipped seeds: every metadata field their pages print, correctly, and nothing they do not.

Expected values were read off the seed pages by hand (see seeds/documents/)."""

from __future__ import annotations

import shutil

import pytest

from helpers.core.paths import DOCUMENTS
from helpers.sources import checksums as seeds
from helpers.sources import ingest_paths, parse_file

from .conftest import SEED_FILES

EXPECTED = {
    "000_40163047b66666dd.txt": {
        "format": "pubmed_record",
        "title": "Chimeric Antigen Receptor T Cell Immunotherapy for Autoimmune Rheumatic Disorders: Where Are We Now?",
        "pmid": "40862721",
        "pmcid": "PMC12384554",
        "doi": "10.3390/cells14161242",
        "journal": None,
        "year": None,
        "date": None,
        "authors": [],
        "article_type": None,
        "licence": None,
        "keywords": [
            "BCMA",
            "CAR-T cell therapy",
            "CD19",
            "autoimmune rheumatic disorders",
            "immunotherapy",
            "systemic lupus erythematosus",
        ],
        "conflict_of_interest": "The authors declare no conflicts of interest.",
        "abstract_start": "Chimeric antigen receptor (CAR) T cell immunotherapy has changed the landscape",
        "abstract_end": "exploring CAR-T cell immunotherapy for ARDs.",
        "n_figures": 0,
        "n_references": 0,
    },
    "001_12b7203a344b00a2.txt": {
        "format": "publisher_page",
        "title": None,
        "pmid": None,
        "pmcid": None,
        "doi": None,
        "journal": "J Rheum Dis",
        "year": 2025,
        "date": "2025-01-20",
        "authors": ["Bong-Woo Lee", "Eui-Jong Kwon", "Ji Hyeon Ju"],
        "article_type": None,
        "licence": "CC BY-NC 4.0",
        "keywords": [
            "Chimeric Antigen Receptor T-cell therapy",
            "Autoimmune diseases",
            "Systemic lupus erythematosus",
            "Systemic sclerosis",
            "Idiopathic inflammatory myopathy",
        ],
        "conflict_of_interest": None,
        "abstract_start": "Chimeric Antigen Receptor (CAR) T-cell therapy, revolutionary in treating hematological",
        "abstract_end": "drug-free remission in these complex autoimmune conditions.",
        "n_figures": 0,
        "n_references": 0,
    },
    "003_031819f4954d36e8.txt": {
        "format": "pubmed_page",
        "title": "The advent of chimeric antigen receptor T Cell therapy in recalibrating immune balance for rheumatic "
        "autoimmune disease treatment",
        "pmid": None,
        "pmcid": None,
        "doi": "10.3389/fphar.2024.1502298",
        "journal": "Front Pharmacol",
        "year": 2024,
        "date": "2024-12-12",
        "authors": ["Qianyu Guo"],
        "article_type": "Review",
        "licence": None,
        "keywords": [
            "ANCA-associated vasculitis",
            "CAR-T cell",
            "Sjögren’s syndrome",
            "autoimmune disease",
            "idiopathic inflammatory myopathies",
            "rheumatoid arthritis",
            "systemic lupus erythematosus",
            "systemic sclerosis",
        ],
        "conflict_of_interest": "The authors declare that the research was conducted in the absence of any commercial "
        "or financial relationships that could be construed as a potential conflict of interest.",
        "abstract_start": "CAR-T cell therapy, a cutting-edge cellular immunotherapy",
        "abstract_end": "highlighting both therapeutic advancements and ongoing challenges.",
        "n_figures": 2,
        "n_references": 5,
    },
}
SCALARS = (
    "format",
    "title",
    "pmid",
    "pmcid",
    "doi",
    "journal",
    "year",
    "date",
    "authors",
    "article_type",
    "licence",
    "keywords",
    "conflict_of_interest",
)


def test_every_seed_has_expectations():
    assert sorted(p.name for p in SEED_FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_seed_fields(seed):
    expected = EXPECTED[seed.name]
    docs, fmt, encoding, _ = parse_file(seed)
    assert len(docs) == 1 and encoding == "utf-8"
    doc = docs[0].model_dump()
    doc["format"] = fmt
    for field in SCALARS:
        assert doc[field] == expected[field], field
    assert doc["abstract"].startswith(expected["abstract_start"])
    assert doc["abstract"].endswith(expected["abstract_end"])
    assert len(doc["figures"]) == expected["n_figures"]
    assert len(doc["references"]) == expected["n_references"]


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_abstract_appears_once_and_holds_no_furniture(seed):
    doc = parse_file(seed)[0][0]
    text = seed.read_text(encoding="utf-8")
    first_sentence = doc.abstract.split(". ")[0]
    assert doc.abstract.count(first_sentence) == 1
    for furniture in (
        "Skip to main page content",
        "LinkOut",
        "Similar articles",
        "Cited by",
        "Keywords",
        "PubMed Disclaimer",
        "Creative Commons",
        "Correspondence",
    ):
        assert furniture not in doc.abstract
    assert text.count(first_sentence) >= 1


def test_001_related_article_names_are_not_authors():
    doc = parse_file(DOCUMENTS / "001_12b7203a344b00a2.txt")[0][0]
    for other in ("Dae Chul Jeong", "Bo Young Yoon", "Hwa Young Song", "Ha-Hee Son", "Su-Jin Moon"):
        assert other not in doc.authors
    assert doc.correspondence == "Ji Hyeon Ju <juji@catholic.ac.kr>"
    details = {a.name: a for a in doc.author_details}
    assert details["Ji Hyeon Ju"].corresponding and not details["Bong-Woo Lee"].corresponding
    assert details["Bong-Woo Lee"].equal_contribution and details["Eui-Jong Kwon"].equal_contribution
    assert "Bucheon" in details["Eui-Jong Kwon"].affiliations[0]
    assert "Seoul St. Mary’s Hospital" in details["Bong-Woo Lee"].affiliations[0]
    assert doc.licence_url == "http://creativecommons.org/licenses/by-nc/4.0"


def test_003_is_marked_as_an_incomplete_author_list_and_keeps_figures_and_references():
    doc = parse_file(DOCUMENTS / "003_031819f4954d36e8.txt")[0][0]
    assert doc.authors_complete is False
    assert doc.volume == "15" and doc.pages == "1502298"
    assert doc.figures[0].caption.startswith("(A): The manufacturing process of CAR-T")
    assert doc.figures[1].label == "FIGURE 2"
    assert [r.doi for r in doc.references] == [
        "10.1002/jgm.3484",
        "10.3390/ijms20235867",
        "10.7759/cureus.30330",
        "10.1002/cam4.7372",
        "10.1038/s41586-023-06243-w",
    ]
    assert all(r.pmid is None for r in doc.references)  # the page prints only link text, not PMIDs


def test_shipped_seeds_match_their_manifest():
    assert seeds.verify() == []


def test_changed_seed_is_reported_and_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "seeds" / "documents"
    folder.mkdir(parents=True)
    for p in SEED_FILES:
        shutil.copy(p, folder / p.name)
    monkeypatch.setattr("helpers.sources.checksums.ROOT", tmp_path)
    monkeypatch.setattr("helpers.sources.ROOT", tmp_path)
    monkeypatch.setattr("helpers.core.paths.ROOT", tmp_path)
    manifest = tmp_path / "seeds" / "manifest.csv"
    seeds.write_manifest(folder, manifest)
    monkeypatch.setattr("helpers.sources.load_manifest", lambda: seeds.load_manifest(manifest))
    changed = folder / SEED_FILES[0].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nedited", encoding="utf-8")
    (folder / SEED_FILES[1].name).unlink()
    problems = {p.file: p.problem for p in seeds.verify(manifest)}
    assert "changed on disk" in problems[f"seeds/documents/{SEED_FILES[0].name}"]
    assert "missing" in problems[f"seeds/documents/{SEED_FILES[1].name}"]
    result = ingest_paths([folder])
    rows = {r.source_file: r for r in result.manifest}
    assert rows[f"seeds/documents/{SEED_FILES[0].name}"].status == "error"
    assert rows[f"seeds/documents/{SEED_FILES[1].name}"].status == "error"
    assert rows[f"seeds/documents/{SEED_FILES[2].name}"].status == "parsed"
    assert [d.source_file for d in result.documents] == [f"seeds/documents/{SEED_FILES[2].name}"]
