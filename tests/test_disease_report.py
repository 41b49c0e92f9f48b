"""Disease reports: every number in the summary equals a value recomputed from the tables,
citations link to reference-list entries, and text from sources stays escaped."""

from __future__ import annotations

import csv
import re

import pytest

from helpers.core.errors import ParameterError
from helpers.core.paths import EVIDENCE
from helpers.evidence.snapshot import load_snapshot
from helpers.report import disease_report as dr
from helpers.report.params import DiseaseReportParams, validate
from helpers.synthesis.diseases import disease_parameter_sets

STATUS_WORDS = {"not reported", "not applicable", "not checked"}


def raw_rows(name: str) -> list[dict]:
    """The rows of a shipped table as written, with status words read as empty cells."""
    with (EVIDENCE / name).open(encoding="utf-8", newline="") as fh:
        return [{k: ("" if v in STATUS_WORDS else v) for k, v in r.items()} for r in csv.DictReader(fh)]


def counted(row: dict) -> bool:
    """A report the pages count: given for the rheumatic disease, with its number of patients stated."""
    return row["indication"] == "rheumatic disease" and row["n_patients"] != ""


@pytest.fixture(scope="module", params=["SLE", "SSc", "RA"])
def report(request):
    return dr.build_report(load_snapshot(), request.param)


def test_summary_numbers_match_the_raw_tables(report):
    text = dr.summary_text(report)
    code = report.code
    clinical = [
        r for r in raw_rows("clinical_reports.csv") if re.search(rf"(^|;){code}:", r["diseases"]) and counted(r)
    ]
    trials = [r for r in raw_rows("trials.csv") if code in r["diseases"].split(";")]
    n_reports = len(clinical)
    patients = sum(int(m.group(1)) for r in clinical for m in re.finditer(rf"(?:^|;){code}:(\d+)", r["diseases"]))
    abstracts = sum(r["report_type"] == "conference abstract" for r in clinical)
    recruiting = sum(r["status"] == "RECRUITING" for r in trials)
    assert f"holds {n_reports} published report" in text
    assert f"({abstracts} conference abstract" in text
    assert f"describing {patients} {code} patient" in text
    assert f"{len(trials)} registered trial" in text
    assert f"({recruiting} recruiting" in text
    for target, n in re.findall(r"(CD\w+(?:/\w+)?|BCMA(?:/\w+)?) (\d+)", text.split("targets", 1)[1]):
        assert sum(target in r["targets"].split(";") for r in trials) == int(n), target
    n_docs = report.sentences["doc_id"].nunique()
    assert text.count("[[ref:doc-") == n_docs


def test_every_citation_links_to_a_reference(report):
    body = dr.cited_html(dr.summary_text(report), report.references)
    refs = dr.references_html(report.references)
    targets = set(re.findall(r'href="#(ref-[^"]+)"', body))
    anchors = set(re.findall(r'id="(ref-[^"]+)"', refs))
    assert targets and targets <= anchors
    for r in report.clinical.reports.itertuples():
        if isinstance(r.doi, str) and r.doi:
            assert "https://doi.org/" in refs


def test_cited_html_escapes_text_and_keeps_links():
    refs = {"x1": dr.Reference("x1", "<b>Evil</b> 2024", "t")}
    out = dr.cited_html("A <script>alert(1)</script> claim [[ref:x1]] [[ref:missing]].", refs)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert '<a class="wb-cite" href="#ref-x1">&lt;b&gt;Evil&lt;/b&gt; 2024</a>; ' in out
    assert out.count("<a ") == 2


def test_every_disease_with_evidence_gets_a_page_and_others_do_not():
    codes = {p["disease"] for p, _, _ in disease_parameter_sets(load_snapshot())}
    clinical = {m for r in raw_rows("clinical_reports.csv") for m in re.findall(r"(\w+):(?:\d+|\?)", r["diseases"])}
    trials = {c for r in raw_rows("trials.csv") for c in r["diseases"].split(";") if c}
    assert (clinical | trials) - {"other"} <= codes
    assert "MCTD" not in codes or "MCTD" in clinical | trials


def test_target_filter_and_unknown_target():
    snapshot = load_snapshot()
    report = dr.build_report(snapshot, "SLE", "CD19/BCMA")
    assert set(report.clinical.reports["target"]) == {"CD19/BCMA"}
    assert all("CD19/BCMA" in cell.split(";") for cell in report.trials.trials["targets"])
    # the target is validated once, by the page's parameter model, against the snapshot
    with pytest.raises(ParameterError, match="parameter 'target'") as err:
        validate(DiseaseReportParams, snapshot, disease="SLE", target="CD999")
    named = {r["target"] for r in raw_rows("clinical_reports.csv") if r["target"]}
    named |= {t for r in raw_rows("trials.csv") for t in r["targets"].split(";") if t}
    assert named and all(t in str(err.value) for t in named)  # the message lists the targets the tables name
    params = validate(DiseaseReportParams, snapshot, disease="sle", target="cd19/bcma")
    assert (params.disease, params.target) == ("SLE", "CD19/BCMA")
    with pytest.raises(ParameterError, match="parameter 'disease'"):
        validate(DiseaseReportParams, snapshot, disease="XYZ", target="all")
