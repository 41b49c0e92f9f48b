"""Notebook 06-library and the example library it runs on (seeds/library/): the exports are what the
snapshot gives, they read back through the library readers, and the page's numbers are the library's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.errors import ParameterError
from helpers.core.paths import NOTEBOOKS, SEEDS
from helpers.evidence.snapshot import load_snapshot
from helpers.library import example
from helpers.library.store import build_library
from helpers.report.build import Job, execute
from helpers.report.params import LibraryParams, validate
from helpers.sources.pubmed_xml import Record, RecordError
from helpers.sources.records import read_records

LIBRARY = SEEDS / "library"
NOTEBOOK = NOTEBOOKS / "06-library.ipynb"


@pytest.fixture(scope="module")
def snap():
    return load_snapshot()


def _records(path: Path) -> tuple[str | None, list[Record], list[RecordError]]:
    fmt, entries = read_records(path)
    entries = list(entries)
    return fmt.format, [e for e in entries if isinstance(e, Record)], [e for e in entries if isinstance(e, RecordError)]


def _curated(value: object) -> str | None:
    return None if value is None or pd.isna(value) else " ".join(str(value).split())


# ---------------------------------------------------------------- the exports


def test_committed_exports_are_what_the_snapshot_gives(snap, tmp_path):
    written = example.write_example_exports(snap, tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in LIBRARY.iterdir() if p.suffix != ".md")
    for path in written:
        assert path.read_bytes() == (LIBRARY / path.name).read_bytes(), (
            f"seeds/library/{path.name} is stale: regenerate it (see seeds/library/README.md)"
        )


def test_medline_export_reads_back_with_the_curated_facts(snap):
    fmt, records, errors = _records(LIBRARY / example.REPORTS_FILE)
    assert fmt == "medline" and errors == []
    reports = snap.reports
    exported = reports[reports["pmid"].notna() | reports["title"].notna()]
    pubmed_reviews = [d for d in snap.documents if d.format in example.PUBMED_FORMATS]
    assert len(records) == len(exported) + len(pubmed_reviews)
    by_title = {r.title: r for r in records}
    for row in exported.to_dict("records"):
        record = next(r for r in records if (row["pmid"] and r.pmid == row["pmid"]) or r.title == row["title"])
        assert record.title == _curated(row["title"])
        assert record.year == (None if pd.isna(row["year"]) else int(row["year"]))
        assert (record.doi or "").lower() == (_curated(row["doi"]) or "").lower()
        assert record.pmcid == _curated(row["pmcid"])
        assert record.volume == _curated(row["volume"]) and record.pages == _curated(row["pages"])
        venue = _curated(row["journal"]) or _curated(row["congress"])
        assert venue in (record.journal, record.journal_abbrev)
        authors = [a for a in (_curated(row["authors"]) or "").split(";") if a and a.casefold() != "et al"]
        assert record.authors == authors
    for doc in pubmed_reviews:
        assert by_title[doc.title].doi == doc.doi and by_title[doc.title].abstract == doc.abstract


def test_not_reported_facts_get_no_line():
    for path in (LIBRARY / example.REPORTS_FILE, LIBRARY / example.REVIEWS_FILE):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^[A-Z][A-Z0-9 ]{1,3}- (not reported|not applicable|None|nan|<NA>)$", text, re.M)
        assert "\r" not in text


def test_ris_export_holds_each_review_and_the_references_it_lists(snap):
    fmt, records, errors = _records(LIBRARY / example.REVIEWS_FILE)
    assert fmt == "ris" and errors == []
    docs = sorted(snap.documents, key=lambda d: d.id)
    assert len(records) == len(docs) + sum(len(d.references) for d in docs)
    position = 0
    for doc in docs:
        review = records[position]
        assert (review.title, review.doi, review.pmid, review.pmcid) == (doc.title, doc.doi, doc.pmid, doc.pmcid)
        assert review.keywords == doc.keywords and review.abstract == doc.abstract
        for ref, record in zip(doc.references, records[position + 1 :], strict=False):
            assert record.doi == ref.doi and record.year == ref.year
            assert record.title and record.title in ref.text and record.authors
            assert record.authors[0].split()[0] in ref.text.split(",")[0]
        position += 1 + len(doc.references)


def test_reference_fields_are_split_only_from_the_layout_they_follow():
    fields = example.parse_reference(
        "Doe J. A., Roe R., et al. (2021). A trial of something: the first results. J. Test. Med. 12 (3), 45–52. "
        "10.1234/jtm.2021.45"
    )
    assert fields == {
        "authors": ["Doe J. A.", "Roe R."],
        "year": 2021,
        "title": "A trial of something: the first results",
        "journal": "J. Test. Med.",
        "volume": "12",
        "issue": "3",
        "pages": "45–52",
        "doi": "10.1234/jtm.2021.45",
    }
    assert example.parse_reference("Doe J, Roe R. A trial of something. J Test Med 2021;12:45-52.") == {}


def test_the_example_library_merges_the_works_both_exports_hold(snap, tmp_path):
    result = example.build_folder_library(LIBRARY, tmp_path / "library.parquet")
    records, manifest = example.read_library_frame(tmp_path / "library.parquet")
    assert result.files == 2 and result.errors == 0  # README.md is not read as an export
    assert set(manifest["status"]) == {"parsed"}
    shared = [d for d in snap.documents if d.format in example.PUBMED_FORMATS]
    assert shared  # the real-world case: the same review in the database export and in citation searching
    for doc in shared:
        rows = records[records["doi"].str.lower() == doc.doi.lower()]
        assert sorted(Path(f).name for f in rows["source_file"]) == sorted(example.SOURCE_LABELS)
        assert rows["cluster_id"].nunique() == 1 and rows["merge_reason"].str.startswith("same ").all()
    assert records["cluster_id"].nunique() <= len(records) - len(shared)


def test_a_folder_without_exports_is_named(tmp_path):
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    with pytest.raises(Exception, match="holds no export files"):
        example.export_files(tmp_path)


def test_library_parameters_are_checked(tmp_path):
    values = {"library_folder": str(tmp_path), "categories": ["Diseases"], "top_journals": 5, "example_clusters": 2}
    assert validate(LibraryParams, **values).categories == ("diseases",)
    with pytest.raises(ParameterError, match="parameter 'library_folder'.*does not exist"):
        validate(LibraryParams, **{**values, "library_folder": str(tmp_path / "nope")})
    with pytest.raises(ParameterError, match="parameter 'decisions'.*not a file"):
        validate(LibraryParams, **{**values, "decisions": str(tmp_path / "decisions.csv")})
    with pytest.raises(ParameterError, match="parameter 'top_journals'"):
        validate(LibraryParams, **{**values, "top_journals": 0})


# ---------------------------------------------------------------- the notebook


def _run(tmp_path: Path, name: str, parameters: dict, outputs: Path | None = None) -> dict:
    nb = execute(Job(NOTEBOOK, "06-library.html", "Library", parameters), tmp_path / f"{name}.ipynb", outputs=outputs)
    return json.loads(json.dumps(nb))


def _tables(nb: dict) -> dict[str, pd.DataFrame]:
    """Every HTML table of the executed notebook, by caption."""
    from io import StringIO

    found = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            html = "".join(out.get("data", {}).get("text/html", ""))
            for table in re.findall(r"<table.*?</table>", html, re.S):
                caption = re.search(r"<caption>(.*?)</caption>", table).group(1)
                found[caption] = pd.read_html(StringIO(table))[0]
    return found


def _narrative(nb: dict) -> str:
    html = "".join(
        "".join(o.get("data", {}).get("text/html", ""))
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if "wb-narrative" in "".join(o.get("data", {}).get("text/html", ""))
    )
    return re.sub(r"<[^>]+>", "", html)


def _number(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, (pattern, text)
    return int(match.group(1))


@pytest.mark.pipeline
def test_notebook_runs_with_defaults_and_its_narrative_counts_the_library(tmp_path, snap):
    out = tmp_path / "out"
    nb = _run(tmp_path, "defaults", {}, outputs=out)
    assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    for name in ("data/library.parquet", "data/library.manifest.csv", "data/prisma.csv", "figures/prisma.svg"):
        assert (out / name).is_file(), name
    # the library built here from the same exports, independently of the page
    build_library([str(p) for p in example.export_files(LIBRARY)], tmp_path / "check.parquet", workers=1)
    records = pd.read_parquet(tmp_path / "check.parquet")
    works = records["cluster_id"].nunique()
    text = _narrative(nb)
    assert _number(text, r"The library holds (\d+) records?") == len(records)
    assert _number(text, r"found (\d+) distinct works?") == works
    assert _number(text, r"(\d+) records? (?:was a duplicate|were duplicates)") == len(records) - works
    studies = snap.reports["overlap_group"].dropna().nunique() + snap.reports["overlap_group"].isna().sum()
    assert _number(text, r"includes (\d+) stud") == studies
    assert _number(text, r"in (\d+) reports? \(the curated") == len(snap.reports)
    prisma = pd.read_csv(out / "data" / "prisma.csv")
    identified = prisma[prisma["box"] == "identified"]
    assert identified["n"].sum() == len(records)
    assert sorted(identified["label"].str.removeprefix("Records identified from ")) == sorted(
        example.SOURCE_LABELS.values()
    )
    assert "Duplicate records removed" in set(prisma["label"])
    tables = _tables(nb)
    sources = tables["Export files and what they gave"]
    assert sources["records"].sum() == len(records) and set(sources["file"]) == set(example.SOURCE_LABELS)
    years = tables["Works and records per publication year"]
    assert years["works"].sum() == works and years["records"].sum() == len(records)


@pytest.mark.pipeline
def test_notebook_runs_with_parameters_changed(tmp_path):
    nb = _run(tmp_path, "changed", {"top_journals": 3, "categories": ["targets"], "example_clusters": 1})
    tables = _tables(nb)
    assert len(tables["Journals and congresses with most works"]) == 3
    coverage = tables["Works whose title or abstract mentions each concept"]
    assert set(coverage["category"]) == {"targets"} and "CD19" in set(coverage["concept"])
    assert tables["Works found more than once, with their records"]["work"].nunique() == 1
    assert "Most mentioned diseases" not in _narrative(nb) and "Most mentioned targets" in _narrative(nb)
