"""PRISMA 2020 flow: counts from a library built from export files, with and without screening decisions;
malformed counts named and their box marked unreliable; the flow adds up; the figure shows the numbers,
keeps text at 8 pt or more and saves the same bytes twice.

The fixture exports hold 8 records of 5 works: the synthetic lupus series is in all four files (PubMed
XML, PubMed CSV, Scopus CSV, Web of Science), each file holds one other work of its own."""

from __future__ import annotations

import gzip
import math
import shutil
from pathlib import Path

import matplotlib.text
import pandas as pd
import pytest

from helpers.core.codes import RECORD_EXCLUSIONS, REPORT_EXCLUSIONS
from helpers.core.errors import IngestError
from helpers.library.prisma import (
    DATABASES,
    OTHER,
    FlowColumn,
    FlowError,
    PrismaCounts,
    check_flow,
    included_counts,
    prisma_counts,
    prisma_table,
)
from helpers.library.store import build_library
from helpers.report.figures import save
from helpers.report.prisma_figure import prisma_flow

FIXTURES = Path(__file__).parent / "fixtures" / "library"
EXPORTS = ("pubmed_efetch.xml", "pubmed_export.csv", "scopus_export.csv", "wos_export.txt")


@pytest.fixture
def library(tmp_path, monkeypatch) -> Path:
    """A library of the four exports, a PubMed XML file cut short (one unreadable record) and an empty file."""
    monkeypatch.chdir(tmp_path)  # files named as given, relative, as a user would type them
    for name in EXPORTS:
        shutil.copy(FIXTURES / name, name)
    packed = gzip.compress((FIXTURES / "pubmed_efetch.xml").read_bytes())
    Path("cut.xml.gz").write_bytes(packed[: len(packed) // 2])
    Path("empty.ris").write_text("")
    build_library([*EXPORTS, "cut.xml.gz", "empty.ris"], "lib.parquet")
    return Path("lib.parquet")


def _clusters(library: Path) -> dict[str, str]:
    """Cluster id per work, found by title (what a screener would look up)."""
    rows = pd.read_parquet(library)
    by_title = {}
    for prefix, work in (
        ("cd19 car t", "lupus"),
        ("thérapie", "french"),
        ("synthetic record", "comma"),
        ("a synthetic conference", "abstract"),
        ("a second synthetic", "wos"),
    ):
        found = rows[rows["title"].str.casefold().str.startswith(prefix)]["cluster_id"].unique()
        assert len(found) == 1, (prefix, found)
        by_title[work] = found[0]
    return by_title


def _decision(record_id: str, decision: str, reason: str = "", date: str = "2025-03-01") -> dict:
    return {"record_id": record_id, "decision": decision, "reason": reason, "by": "tester", "date": date}


def _texts(fig) -> list[matplotlib.text.Text]:
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]


def _joined(fig) -> str:
    return "\n".join(t.get_text() for t in _texts(fig)).replace("\u00a0", " ")


# ---------------------------------------------------------------- counts


def test_counts_before_screening_say_not_yet_screened(library):
    counts = prisma_counts(library)
    db = counts.databases
    assert dict(db.identified) == {
        "pubmed_efetch.xml": 2,
        "pubmed_export.csv": 2,
        "scopus_export.csv": 2,
        "wos_export.txt": 2,
        "cut.xml.gz": 1,
        "empty.ris": 0,
    }
    assert (db.records, db.duplicates, db.withdrawn) == (9, 3, 0)  # 8 records of 5 works, + 1 unreadable
    assert [n for _, n in db.unreadable] == [1] and db.unreadable[0][0].startswith("cut.xml.gz: gzip stream cut short")
    assert db.screened is None and db.awaiting_screening == 5 and db.excluded is None and db.sought is None
    assert not counts.screened_yet and counts.problems == () and counts.other.identified == ()
    assert counts.files == (("empty.ris", "empty.ris", "skipped", "empty file"),)
    table = prisma_table(counts).set_index(["box", "column", "label"])
    screened = table.loc["screened", DATABASES, "Records screened"]
    assert pd.isna(screened["n"]) and screened["note"] == "not yet screened"  # never a 0 that looks screened
    assert table.loc["removed", DATABASES, "Duplicate records removed"]["n"] == 3
    assert table.loc["removed", DATABASES, "Unreadable records in cut.xml.gz"]["n"] == 1
    assert "skipped (empty file)" in table.loc["identified", DATABASES, "Records identified from empty.ris"]["note"]


def test_source_labels_and_the_other_methods_column(library):
    sources = {
        "pubmed_efetch.xml": "PubMed",
        "pubmed_export.csv": "PubMed",
        "cut.xml.gz": "PubMed",
        "scopus_export.csv": "Scopus",
        "empty.ris": "Embase",
        "wos_export.txt": "Citation searching",
    }
    counts = prisma_counts(library, sources=sources, other_methods={"Citation searching"})
    assert counts.databases.identified == (("PubMed", 5), ("Scopus", 2), ("Embase", 0))
    assert counts.databases.duplicates == 2 and counts.databases.awaiting_screening == 4
    other = counts.other
    # the lupus series is also in the databases: it is screened there, its Web of Science copy is a duplicate
    assert other.identified == (("Citation searching", 2),) and other.duplicates == 1 and other.sought == 1
    assert other.assessed is None and counts.problems == ()


def test_counts_from_decisions_follow_each_work_to_its_box(library):
    works = _clusters(library)
    decisions = pd.DataFrame(
        [
            _decision(works["lupus"], "maybe", date="2025-03-01"),
            _decision(works["lupus"], "include", date="2025-03-02"),  # the latest decision wins
            _decision(works["french"], "exclude", "off_topic"),
            _decision("pubmed_export.csv#2", "exclude", "no_outcomes"),  # a record key names its work
            _decision(works["abstract"], "exclude", "not_retrieved"),
            _decision(works["wos"], "Include"),
        ]
    )
    counts = prisma_counts(library, decisions=decisions, other_methods={"wos_export.txt"}, studies=1, reports=2)
    db, other = counts.databases, counts.other
    assert counts.problems == () and counts.screened_yet
    assert (db.screened, db.awaiting_screening, db.excluded) == (4, 0, (("off_topic", 1),))
    assert (db.sought, db.not_retrieved, db.assessed) == (3, 1, 2)
    assert (db.reports_excluded, db.included, db.awaiting_assessment) == ((("no_outcomes", 1),), 1, 0)
    assert (other.sought, other.assessed, other.included) == (1, 1, 1)
    assert (counts.studies, counts.reports) == (1, 2)


def test_partial_screening_counts_the_records_awaiting_a_decision(library):
    works = _clusters(library)
    decisions = pd.DataFrame([_decision(works["lupus"], "maybe"), _decision(works["comma"], "exclude", "preclinical")])
    counts = prisma_counts(library, decisions=decisions)
    db = counts.databases
    assert (db.screened, db.awaiting_screening, db.excluded_total, db.sought) == (2, 3, 1, 1)
    assert (db.assessed, db.awaiting_assessment, db.included, counts.reports) == (1, 1, 0, 0)
    assert db.screened + db.awaiting_screening == db.records - db.removed and check_flow(counts) == ()


def test_an_older_decision_listed_later_does_not_overturn_a_newer_one(library):
    works = _clusters(library)
    decisions = pd.DataFrame(
        [
            _decision(works["lupus"], "include", date="2025-05-01"),
            _decision(works["lupus"], "exclude", "off_topic", date="2025-04-01"),
        ]
    )
    assert prisma_counts(library, decisions=decisions).databases.included == 1


# ---------------------------------------------------------------- malformed input


def test_bad_decision_rows_are_named_and_their_box_is_unreliable(library):
    works = _clusters(library)
    decisions = pd.DataFrame(
        [
            _decision("c000000000000", "exclude", "off_topic"),  # not in the library
            _decision(works["french"], "toss"),  # not a decision word
            _decision(works["comma"], "exclude", "boring"),  # not a reason of the fixed list
            _decision(works["abstract"], "exclude", "", date="March"),  # no reason, and a date that is not one
        ]
    )
    counts = prisma_counts(library, decisions=decisions, decisions_where="decisions.csv")
    messages = [str(p) for p in counts.problems]
    assert any("decisions.csv, row 1" in m and "'c000000000000' is not in the library" in m for m in messages)
    assert any("decisions.csv, row 2" in m and "'toss' is not one of include, exclude, maybe" in m for m in messages)
    assert any("row 3" in m and "'boring'" in m and RECORD_EXCLUSIONS.codes[0] in m for m in messages)
    assert any("row 4" in m and "no reason" in m for m in messages)
    assert any("row 4" in m and "'March' is not YYYY-MM-DD" in m for m in messages)
    assert counts.is_unreliable("screened", DATABASES) and counts.is_unreliable("excluded", DATABASES)
    # nothing silently dropped: the two exclusions are counted, under what was written
    assert dict(counts.databases.excluded) == {"boring": 1, "no reason given": 1}
    assert counts.databases.screened == 2 and counts.databases.awaiting_screening == 3
    note = prisma_table(counts).query("box == 'excluded'")["note"].iloc[0]
    assert note.startswith("unreliable: decisions.csv, row 3")
    with pytest.raises(FlowError, match="row 2"):
        counts.raise_if_unreliable()


def test_decisions_without_the_needed_columns(library):
    counts = prisma_counts(library, decisions=pd.DataFrame({"id": ["x"], "verdict": ["include"]}))
    assert counts.is_unreliable("screened") and "record_id" in counts.problems[0].message
    assert counts.databases.screened == 0 and counts.databases.awaiting_screening == 5


@pytest.mark.parametrize("value", ["abc", "-1", "", "2.5"])
def test_a_malformed_manifest_count_names_the_file_and_line(library, value):
    manifest = Path("lib.manifest.csv")
    table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    line = int(table.index[(table["source_file"] == "scopus_export.csv") & (table["source_index"] == "")][0]) + 2
    table.loc[line - 2, "records"] = value
    table.to_csv(manifest, index=False)
    counts = prisma_counts(library)
    (problem,) = counts.problems
    assert problem.box == "identified" and problem.where == f"lib.manifest.csv, line {line} (scopus_export.csv)"
    assert f"records is {value!r}, not a whole number" in problem.message
    assert counts.is_unreliable("identified", DATABASES)
    assert dict(counts.databases.identified)["scopus_export.csv"] == 2  # the library's rows still count


def test_a_manifest_that_disagrees_with_the_library(library):
    manifest = Path("lib.manifest.csv")
    text = manifest.read_text()
    manifest.write_text(text.replace("wos_export.txt,,parsed,wos-tab,2,", "wos_export.txt,,parsed,wos-tab,3,"))
    (problem,) = prisma_counts(library).problems
    assert "counts 3 records, the library holds 2" in problem.message and "wos_export.txt" in problem.where


@pytest.mark.parametrize(
    ("studies", "reports", "expected"),
    [(-1, 3, "-1 is negative"), (2, math.nan, "missing (NaN)"), ("many", 3, "'many' is str"), (2, 2.5, "2.5")],
)
def test_malformed_included_counts(library, studies, reports, expected):
    counts = prisma_counts(library, studies=studies, reports=reports)
    assert counts.is_unreliable("included") and any(expected in p.message for p in counts.problems)


def test_check_flow_names_bad_counts_and_sums_that_do_not_add_up():
    sound = FlowColumn(
        identified=(("PubMed", 10),),
        duplicates=2,
        screened=8,
        awaiting_screening=0,
        excluded=(("off_topic", 5),),
        sought=3,
        not_retrieved=1,
        assessed=2,
        awaiting_assessment=0,
        reports_excluded=(("no_outcomes", 1),),
        included=1,
    )
    assert check_flow(PrismaCounts(sound, studies=1, reports=1, screened_yet=True)) == ()
    broken = PrismaCounts(FlowColumn(**{**sound.__dict__, "sought": 4}), studies=1, reports=1)
    problems = check_flow(broken)
    assert [p.box for p in problems] == ["sought", "assessed"]  # the box that breaks, and the one below it
    assert "excluded + reports sought should be screened (9 ≠ 8)" in problems[0].message
    for field, value, words in (
        ("duplicates", -2, "negative"),
        ("assessed", "two", "str"),
        ("screened", math.nan, "NaN"),
        ("included", True, "yes/no"),
    ):
        found = check_flow(PrismaCounts(FlowColumn(**{**sound.__dict__, field: value})))
        assert [p.where for p in found] == [f"{DATABASES}.{field}"] and words in found[0].message
    fewer = check_flow(PrismaCounts(sound, studies=1, reports=0))
    assert fewer[0].box == "included" and "1 records were decided include" in fewer[0].message


def test_a_missing_library_or_manifest_is_an_error_that_says_what_to_do(library):
    with pytest.raises(IngestError, match="no library here; build it with"):
        prisma_counts("nowhere.parquet")
    Path("lib.manifest.csv").unlink()
    with pytest.raises(IngestError, match="manifest is missing"):
        prisma_counts(library)


def test_included_counts_make_one_study_of_reports_that_share_patients():
    reports = pd.DataFrame({"overlap_group": ["erlangen", "erlangen", "not applicable", None, "castle"]})
    assert included_counts(reports) == (4, 5)


def test_reason_sets_are_apart_and_not_retrieved_is_a_report_reason():
    assert not set(RECORD_EXCLUSIONS) & set(REPORT_EXCLUSIONS) and "not_retrieved" in REPORT_EXCLUSIONS


# ---------------------------------------------------------------- figure


def _big() -> PrismaCounts:
    db = FlowColumn(
        identified=(("PubMed", 12345), ("Embase", 2000)),
        duplicates=3000,
        withdrawn=45,
        unreadable=(("a.xml: cut", 300),),
        screened=11000,
        awaiting_screening=0,
        excluded=(("off_topic", 10500),),
        sought=500,
        not_retrieved=20,
        assessed=480,
        awaiting_assessment=0,
        reports_excluded=(("no_outcomes", 431),),
        included=49,
    )
    other = FlowColumn(
        identified=(("Citation searching", 7),),
        sought=7,
        not_retrieved=0,
        assessed=7,
        awaiting_assessment=0,
        reports_excluded=(("wrong_design", 7),),
        included=0,
    )
    return PrismaCounts(db, other, studies=24, reports=49, screened_yet=True)


def test_the_figure_shows_the_counts_with_thousands_separators():
    assert check_flow(_big()) == ()  # the example adds up
    fig = prisma_flow(_big())
    text = _joined(fig)
    for expected in (
        "PubMed (n = 12,345)",
        "Embase (n = 2000)",  # the house formatter (fmt_int) separates thousands from 10,000
        "Total (n = 14,345)",
        "Duplicate records removed (n = 3000)",
        "(unreadable) (n = 300)",
        "Records excluded (n = 10,500)",
        "Reports excluded (n = 431)",
        "No patient-level outcome reported (n = 431)",
        "Studies included in review (n = 24)",
        "Reports of included studies (n = 49)",
        "Citation searching (n = 7)",
        "Identification of new studies via other methods",
        "Identification",
        "Screening",
    ):
        assert expected in text.replace("\n  ", " "), expected
    assert min(t.get_fontsize() for t in _texts(fig)) >= 8


def test_the_figure_before_screening_and_with_unreliable_boxes(library):
    works = _clusters(library)
    counts = prisma_counts(library, decisions=pd.DataFrame([_decision(works["comma"], "exclude", "boring")]))
    text = _joined(prisma_flow(counts))
    assert "unreliable: see the counts table" in text and "Identification of new studies via other methods" not in text
    before = _joined(prisma_flow(prisma_counts(library)))
    assert "not yet screened: 5 records to screen" in before and "Records excluded (not yet screened)" in before
    assert "(n = 0)" not in before.split("Records screened")[1]  # no box after identification says 0


def test_the_figure_saves_the_same_bytes_twice(tmp_path):
    first = save(prisma_flow(_big()), tmp_path / "a" / "prisma")
    second = save(prisma_flow(_big()), tmp_path / "b" / "prisma")
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes(), one.suffix
    assert first[0].read_bytes().startswith(b"<?xml") and OTHER == "other"
