"""Citable evidence: long outcomes checked against the reports, source tiers, other indications,
mixed-cohort attribution, and references that a reference manager reads back."""

from __future__ import annotations

import csv
import re

import bibtexparser
import pandas as pd
import pytest
import rispy

from helpers.core.codes import OUTCOME_CLASSES
from helpers.core.errors import SchemaError
from helpers.core.paths import EVIDENCE
from helpers.evidence.outcomes import check_against_reports, completeness, load_outcomes
from helpers.evidence.provenance import load_sources, row_provenance
from helpers.evidence.snapshot import load_snapshot
from helpers.evidence.tables import load_clinical_reports
from helpers.report import disease_report, references
from helpers.report import evidence_tables as etab
from helpers.synthesis import clinical

from .evidence_builder import load_view, outcome_rows, write_clinical

BASE = {"first_author": "Alpha A", "year": "2023", "report_type": "case series", "target": "CD19"}
ROWS = [
    BASE | {"report_id": "alpha2023", "diseases": "SLE:5", "n_patients": "5", "efficacy_measure": "DORIS remission",
            "efficacy_n_responding": "4", "efficacy_n_evaluable": "5", "crs_n": "3", "crs_N": "5", "crs_max_grade": "1",
            "crs_grade3plus_n": "0"},
    BASE | {"report_id": "beta2023", "diseases": "SLE:2;SSc:2", "n_patients": "4", "crs_n": "2", "crs_N": "4",
            "crs_max_grade": "2", "crs_grade3plus_n": "0", "tier": "secondary"},
    BASE | {"report_id": "gamma2023", "diseases": "SjD:1", "n_patients": "1", "report_type": "case report",
            "indication": "lymphoma", "efficacy_measure": "other", "efficacy_n_responding": "1",
            "efficacy_n_evaluable": "1"},
]  # fmt: skip


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _rewrite(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def files(tmp_path):
    return write_clinical(tmp_path, ROWS)


# ---------------------------------------------------------------- outcomes against reports


def test_wide_view_takes_the_main_efficacy_row_and_whole_cohort_safety(tmp_path):
    view = load_view(tmp_path, ROWS).set_index("report_id")
    assert (view.loc["alpha2023", "efficacy_n_responding"], view.loc["alpha2023", "efficacy_n_evaluable"]) == (4, 5)
    assert view.loc["beta2023", "crs_n"] == 2 and view.loc["beta2023", "efficacy_status"] == "not reported"
    assert view.loc["alpha2023", "tier"] == "primary" and view.loc["beta2023", "tier"] == "secondary"


def test_primary_only_leaves_secondary_facts_out(tmp_path):
    view = load_view(tmp_path, ROWS, tiers=("primary",)).set_index("report_id")
    assert pd.isna(view.loc["beta2023", "crs_n"]) and view.loc["beta2023", "crs_status"] == "secondary source left out"
    assert view.loc["alpha2023", "crs_n"] == 3  # primary facts stay


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda rows: [r for r in rows if not (r["report_id"] == "alpha2023" and r["outcome_class"] == "icans")],
         "report 'alpha2023' has no row for icans"),
        (lambda rows: rows + [rows[0] | {"timepoint": "12 months"}], "report 'alpha2023' has 2 main efficacy rows"),
        (lambda rows: [r | {"N": "9"} if r["report_id"] == "alpha2023" and r["outcome_class"] == "crs" else r
                       for r in rows], "N 9 exceeds n_patients 5"),
        (lambda rows: [r | {"population": "RA"} if r["report_id"] == "beta2023" and r["outcome_class"] == "crs" else r
                       for r in rows], "population RA is not among the report's diseases"),
        (lambda rows: rows + [rows[0] | {"report_id": "zeta2020", "main": "no", "outcome_class": "dfr"}],
         "report_id 'zeta2020' is not in clinical_reports.csv"),
    ],
)  # fmt: skip
def test_outcomes_that_do_not_fit_the_reports_are_named(files, change, message):
    _rewrite(files["outcomes"], change(_rows(files["outcomes"])))
    with pytest.raises(SchemaError, match=re.escape(message)):
        check_against_reports(load_outcomes(files["outcomes"]), load_clinical_reports(files["reports"]))


def test_every_row_needs_a_source_and_no_source_names_an_unknown_row(files):
    sources = load_sources(files["sources"])
    with pytest.raises(SchemaError, match="no page is listed for clinical row\\(s\\) delta2024"):
        row_provenance(sources, "clinical", pd.Series(["alpha2023", "delta2024"]))
    provenance = row_provenance(sources, "clinical", pd.Series(["beta2023", "alpha2023"]))
    assert list(provenance.index) == ["beta2023", "alpha2023"] and list(provenance["sources"]) == [1, 1]


def test_a_stated_row_without_its_numbers_is_refused(files):
    rows = _rows(files["outcomes"])
    for r in rows:
        if r["report_id"] == "alpha2023" and r["outcome_class"] == "crs":
            r.update(n="", grade3plus_n="", max_grade="")
    _rewrite(files["outcomes"], rows)
    with pytest.raises(SchemaError, match="a stated crs row needs n or grade3plus_n or text"):
        load_outcomes(files["outcomes"])


def test_completeness_counts_each_class_by_status(tmp_path):
    view = load_view(tmp_path, ROWS)
    outcomes = load_outcomes(tmp_path / "outcomes.csv")
    table = completeness(outcomes, view, min_patients=3).set_index("outcome")
    # alpha2023 and beta2023 have 3+ patients; efficacy stated only by alpha2023, CRS by both
    assert table.loc["Efficacy", ["reports", "stated", "not reported"]].tolist() == [2, 1, 1]
    assert table.loc["Cytokine release syndrome", "stated"] == 2


# ---------------------------------------------------------------- indication and attribution


def test_other_indication_is_never_efficacy(tmp_path):
    view = load_view(tmp_path, ROWS)
    sel = clinical.select_reports(view, disease="SjD")
    assert sel.reports.empty and clinical.efficacy(sel).reports.empty
    shown = etab.other_indication_table(sel, view)
    assert list(shown["given for"]) == ["lymphoma"] and len(shown) == 1
    # on another disease's selection the same report is left out for its disease, not listed as another indication
    assert etab.other_indication_table(clinical.select_reports(view, disease="SLE"), view).empty


def test_mixed_cohort_safety_is_not_attributed_to_one_disease(tmp_path):
    view = load_view(tmp_path, ROWS)
    ctx = clinical.narrative_context(clinical.select_reports(view, disease="SSc"))
    assert ctx["crs_any"]["denominator"] == 0 and ctx["n_mixed"] == 1  # beta2023's 2/4 is the whole SLE+SSc cohort
    ctx = clinical.narrative_context(clinical.select_reports(view, disease="SLE"))
    assert (ctx["crs_any"]["events"], ctx["crs_any"]["denominator"]) == (3, 5)  # alpha2023 only


def test_shipped_sjd_page_shows_the_lymphoma_case_apart():
    snap = load_snapshot()
    lymphoma = set(snap.clinical.loc[snap.clinical["indication"] != "rheumatic disease", "report_id"])
    assert "sheng2023" in lymphoma
    report = disease_report.build_report(snap, "SjD")
    assert not set(report.clinical.reports["report_id"]) & lymphoma
    assert not set(clinical.efficacy(report.clinical).reports["report_id"]) & lymphoma
    assert "sheng2023" in set(clinical.other_indication(report.clinical)["report_id"])


# ---------------------------------------------------------------- references


def _items(tmp_path):
    view = load_view(tmp_path, ROWS)
    view.loc[0, ["title", "doi", "pmid", "journal"]] = ["CAR-T <script>alert(1)</script> & lupus", "10.1/x", "123", "J"]
    trials = pd.DataFrame(
        {"registry_id": ["NCT01234567", "2022-001366-35"], "title": ["Trial one", "Basket"],
         "sponsor": ["Uni", "Miltenyi"], "start_date": ["2024-02", pd.NA]}
    )  # fmt: skip
    return view, trials, references.all_items(view, trials)


def test_reference_exports_read_back_in_rispy_and_bibtexparser(tmp_path):
    view, trials, items = _items(tmp_path)
    ris = rispy.loads(references.ris_text(items))
    assert [r["id"] for r in ris] == [*sorted(view["report_id"]), *sorted(trials["registry_id"])]
    alpha = next(r for r in ris if r["id"] == "alpha2023")
    assert alpha["title"].startswith("CAR-T <script>") and alpha["doi"] == "10.1/x" and alpha["year"] == "2023"
    bib = bibtexparser.parse_string(references.bibtex_text(items))
    assert not bib.failed_blocks and len(bib.entries) == len(ris)
    entry = {e.key: e for e in bib.entries}["alpha2023"]
    assert entry["doi"] == "10.1/x" and entry["author"].startswith("Alpha, A")
    assert {e.key: e.entry_type for e in bib.entries}["NCT01234567"] == "misc"


def test_formatted_references_escape_titles_and_link_registries(tmp_path):
    view, trials, items = _items(tmp_path)
    html_text = etab.references_html(view, trials)
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert 'href="https://clinicaltrials.gov/study/NCT01234567"' in html_text
    assert "clinicaltrialsregister.eu/ctr-search/search?query=2022-001366-35" in html_text
    assert html_text.index("<h3>Publications</h3>") < html_text.index("<h3>Trial registrations</h3>")
    text = references.formatted(items)
    assert set(text) == {i["id"] for i in items} and "Alpha A" in text["alpha2023"]


def test_shipped_evidence_is_sourced_and_exportable():
    snap = load_snapshot()
    assert snap.clinical["source_url"].notna().all() and snap.current_trials.trials["source_url"].notna().all()
    items = references.all_items(snap.clinical, snap.trials)
    assert len(rispy.loads(references.ris_text(items))) == len(snap.clinical) + len(snap.trials)
    assert len(bibtexparser.parse_string(references.bibtex_text(items)).entries) == len(items)
    # every outcome row in the file is one of the snapshot's, and every stated fact names its page
    outcomes = _rows(EVIDENCE / "outcomes.csv")
    stated = [r for r in outcomes if r["status"] == "stated"]
    assert all(r["source_url"].startswith("http") and r["tier"] in ("primary", "secondary") for r in stated)
    assert len(snap.outcomes) == len(outcomes)


def test_builder_rows_cover_every_required_class():
    assert [r["outcome_class"] for r in outcome_rows(ROWS[0])] == list(OUTCOME_CLASSES.rank)
