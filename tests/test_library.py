"""The literature library: de-duplication by record linkage (pairwise precision and recall on a labelled
set of synthetic records with real-world export differences), Parquet output and the manifest."""

from __future__ import annotations

import csv
import gzip
from itertools import combinations
from pathlib import Path

import pyarrow.parquet as pq

from helpers.cli import main
from helpers.library.dedup import deduplicate, first_surname, normalise_doi, normalise_title
from helpers.library.store import build_library
from helpers.sources.pubmed_xml import Record

FIXTURE = Path(__file__).parent / "fixtures" / "library" / "pubmed_efetch.xml"


def _rec(i: int, work: str, **fields) -> tuple[str, Record]:
    return work, Record(source_file=f"export{i % 3}.x", source_index=i, format="test", **fields)


# (work label, record): the same work exported differently, and different works that look alike
LABELLED = [
    _rec(1, "A", title="CD19 CAR T cells in refractory lupus.", authors=["Mackensen A"], year=2022,
         journal="Nat Med", doi="10.1038/s41591-022-02017-5", pmid="36109639"),
    _rec(2, "A", title="CD19 CAR T cells in refractory lupus", authors=["Mackensen, Andreas"], year=2022,
         journal="Nature medicine", doi="https://doi.org/10.1038/S41591-022-02017-5"),
    _rec(3, "A", title="CD19 CAR T Cells in Refractory Lupus", authors=["A. Mackensen"], year=2022,
         journal="Nat. Med.", volume="28", pages="2124-2132"),  # no DOI, no PMID: title + journal
    _rec(4, "B", title="[CAR-T cell therapy for myositis].", authors=["Müller F"], year=2023, journal="Z Rheumatol",
         pages="12-18"),
    _rec(5, "B", title="CAR-T cell therapy for myositis", authors=["Muller, F."], year=2023,
         journal="Zeitschrift fur Rheumatologie", pages="12"),
    _rec(6, "C", title="CD19 CAR T cells in refractory lupus nephritis: a case series", authors=["Mackensen A"],
         year=2022, journal="Lupus"),  # near-miss title of a different work (same author, year)
    _rec(7, "D", title="Erratum: CD19 CAR T cells in refractory lupus", authors=["Mackensen A"], year=2022,
         journal="Nat Med"),  # related to A, never merged
    _rec(8, "E", title="BCMA CAR T cells in myasthenia gravis", authors=["Tian D"], year=2024, journal="Lancet",
         pmid="38000001"),
    _rec(9, "E", title="BCMA CAR-T cells in myasthenia gravis.", authors=["Tian, Dai"], year=2024,
         journal="The Lancet", pmid="38000001"),
    _rec(10, "F", title="BCMA CAR T cells in myasthenia gravis", authors=["Tian D"], year=2024,
         journal="Neurology"),  # same title, other journal and nothing else agrees: not merged on title alone
]  # fmt: skip


def _pairs(labels: list[str]) -> set[tuple[int, int]]:
    return {(i, j) for i, j in combinations(range(len(labels)), 2) if labels[i] == labels[j]}


def test_pairwise_precision_and_recall_on_the_labelled_set():
    truth = [w for w, _ in LABELLED]
    ids, related, reasons = deduplicate([r for _, r in LABELLED])
    found, expected = _pairs(ids), _pairs(truth)
    precision = len(found & expected) / len(found)
    recall = len(found & expected) / len(expected)
    assert precision >= 0.995 and recall >= 0.97, (precision, recall, sorted(found ^ expected))
    assert ids[0] != ids[5] and ids[7] != ids[9]  # near-miss title; title alone
    assert ids[0] in related[6].split(";")  # the erratum is linked to the article it corrects
    assert reasons[1].startswith("same doi") and "title" in reasons[2]


def test_normalisers():
    assert normalise_doi("https://doi.org/10.1/ABC") == normalise_doi("doi: 10.1/abc") == "10.1/abc"
    assert normalise_title("[Thérapie CAR-T].") == "therapie car t"
    assert first_surname(["Müller, F."]) == first_surname(["F. Müller"]) == first_surname(["Muller F"]) == "muller"


def test_cluster_ids_do_not_depend_on_input_order():
    records = [r for _, r in LABELLED]
    forward = dict(zip([r.source_index for r in records], deduplicate(records)[0], strict=True))
    backward = dict(zip([r.source_index for r in records[::-1]], deduplicate(records[::-1])[0], strict=True))
    assert forward == backward


def test_library_command_writes_parquet_and_accounts_for_every_file(tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "pubmed.xml.gz").write_bytes(gzip.compress(FIXTURE.read_bytes()))
    (folder / "same.xml").write_bytes(FIXTURE.read_bytes())  # the same two records again
    (folder / "empty.ris").write_text("")
    (folder / "notes.txt").write_text("just some notes\n")
    cut = gzip.compress(FIXTURE.read_bytes())
    (folder / "cut.xml.gz").write_bytes(cut[: len(cut) // 2])
    out = tmp_path / "lib.parquet"
    assert main(["library", str(folder), "--out", str(out)]) == 0
    table = pq.read_table(out).to_pandas()
    assert len(table) == 4 + 0  # 2 + 2 records; the cut file yields what came before its break (none here)
    assert table.groupby("cluster_id").size().tolist() == [2, 2]  # the same PMIDs: two works
    with open(tmp_path / "lib.manifest.csv", encoding="utf-8", newline="") as handle:
        manifest = {(r["source_file"].rsplit("/", 1)[-1], r["status"]): r for r in csv.DictReader(handle)}
    assert manifest["empty.ris", "skipped"]["reason"] == "empty file"
    assert "unknown format" in manifest["notes.txt", "skipped"]["reason"]
    assert manifest["cut.xml.gz", "error"]["reason"].startswith("gzip stream cut short")
    assert "4 records from 5 file(s) -> 2 works" in capsys.readouterr().out


def test_withdrawn_pmids_are_marked(tmp_path):
    update = tmp_path / "update.xml"
    update.write_text(
        '<PubmedArticleSet><DeleteCitation><PMID Version="1">90000001</PMID></DeleteCitation></PubmedArticleSet>'
    )
    result = build_library([FIXTURE, update], tmp_path / "lib.parquet")
    table = pq.read_table(tmp_path / "lib.parquet").to_pandas().set_index("pmid")
    assert bool(table.loc["90000001", "withdrawn"]) and not bool(table.loc["90000002", "withdrawn"])
    assert result.records == 2 and result.files == 2


def test_rebuild_is_byte_identical(tmp_path):
    build_library([FIXTURE], tmp_path / "a.parquet")
    build_library([FIXTURE], tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


# ---------------------------------------------------------------- tabular exports

LIBRARY = Path(__file__).parent / "fixtures" / "library"


def test_tabular_exports_are_recognised_and_mapped():
    from helpers.sources.records import read_records

    pubmed_fmt, pubmed = read_records(LIBRARY / "pubmed_export.csv")
    scopus_fmt, scopus = read_records(LIBRARY / "scopus_export.csv")
    wos_fmt, wos = read_records(LIBRARY / "wos_export.txt")
    assert (pubmed_fmt.format, scopus_fmt.format, wos_fmt.format) == ("pubmed-csv", "scopus-csv", "wos-tab")
    pubmed, scopus, wos = list(pubmed), list(scopus), list(wos)
    assert pubmed[0].authors == ["Alpha A", "Müller F", "Synthetic CAR-T Study Group"]
    assert (pubmed[0].pmid, pubmed[0].pmcid, pubmed[0].year) == ("90000001", "PMC9000001", 2024)
    assert pubmed[1].title == "Synthetic record, with a comma in its title." and pubmed[1].doi is None
    assert (scopus[0].pages, scopus[0].volume, scopus[0].keywords) == ("101-109", "12", ["CAR-T", "lupus"])
    assert scopus[1].publication_types == ["Conference Paper"] and scopus[1].doi is None
    assert wos[0].authors == ["Alpha, A", "Muller, F"] and wos[0].pmid == "90000001" and wos[1].pages == "e12"


def test_the_same_work_from_five_exports_is_one_cluster(tmp_path):
    files = [FIXTURE, *(LIBRARY / n for n in ("pubmed_export.csv", "scopus_export.csv", "wos_export.txt"))]
    result = build_library(files, tmp_path / "lib.parquet")
    table = pq.read_table(tmp_path / "lib.parquet").to_pandas()
    lupus = table[table["title"].str.casefold().str.startswith("cd19 car t cells in refractory lupus")]
    assert len(lupus) == 4 and lupus["cluster_id"].nunique() == 1  # XML, PubMed CSV, Scopus, WoS: one work
    assert result.records == 2 + 2 + 2 + 2 and result.clusters == 8 - 3
