"""Clinical evidence analysis, figures and narrative on small synthetic tables.

The synthetic reports are written as the three CSV files (reports, long outcomes, sources) and read
through the same loaders and checks as the shipped tables. Expected values are worked out by
hand from the rows below (or recomputed with ``helpers.synthesis.proportions``), never copied from output."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle

from helpers.core.errors import ParameterError
from helpers.evidence.snapshot import load_snapshot
from helpers.evidence.tables import load_clinical_reports
from helpers.report import clinical_figures as cfig
from helpers.report.clinical_tables import safety_display
from helpers.report.narratives import clinical_narrative
from helpers.report.params import ClinicalParams, validate
from helpers.synthesis import clinical, meta
from helpers.synthesis.proportions import wilson_ci

from .evidence_builder import load_view

# Design of the synthetic table (hand-checked expectations in the tests):
#   grp1 = a2020 (4 SLE) ⊂ b2021 (6 SLE, conference abstract)   -> same cohort
#   grp2 = g2024 (2 SSc, year not reported) and h2024 (3 SSc)   -> same cohort
#   c2022: 10 SLE, CD19/BCMA phase 1;  d2023: SLE 2 + SSc 3 (mixed);  e2023: 1 SSc, responders without N
#   f2019: 2 IIM, BCMA, no efficacy
ROWS = [
    dict(
        report_id="a2020",
        first_author="Alpha A",
        year="2020",
        report_type="case series",
        diseases="SLE:4",
        n_patients="4",
        target="CD19",
        efficacy_measure="DORIS remission",
        efficacy_timepoint="6 months",
        efficacy_timepoint_months="6",
        efficacy_n_responding="3",
        efficacy_n_evaluable="4",
        crs_n="2",
        crs_N="4",
        crs_max_grade="2",
        crs_grade3plus_n="0",
        icans_n="0",
        icans_N="4",
        icans_max_grade="0",
        icans_grade3plus_n="0",
        overlap_group="grp1",
    ),
    dict(
        report_id="b2021",
        first_author="Beta B",
        year="2021",
        report_type="conference abstract",
        diseases="SLE:6",
        n_patients="6",
        target="CD19",
        efficacy_measure="DORIS remission",
        efficacy_timepoint="6 months",
        efficacy_timepoint_months="6",
        efficacy_n_responding="5",
        efficacy_n_evaluable="6",
        crs_n="3",
        crs_N="6",
        crs_max_grade="3",
        crs_grade3plus_n="1",
        overlap_group="grp1",
    ),
    dict(
        report_id="c2022",
        first_author="Gamma C",
        year="2022",
        report_type="phase 1",
        diseases="SLE:10",
        n_patients="10",
        target="CD19/BCMA",
        efficacy_measure="DORIS remission",
        efficacy_timepoint="6 months",
        efficacy_timepoint_months="6",
        efficacy_n_responding="8",
        efficacy_n_evaluable="10",
        crs_n="9",
        crs_N="10",
        crs_max_grade="2",
        crs_grade3plus_n="0",
        icans_n="1",
        icans_N="10",
        icans_max_grade="1",
        icans_grade3plus_n="0",
    ),
    dict(
        report_id="d2023",
        first_author="Delta D",
        year="2023",
        report_type="case series",
        diseases="SLE:2;SSc:3",
        n_patients="5",
        target="CD19",
        efficacy_measure="other",
        efficacy_n_responding="5",
        efficacy_n_evaluable="5",
    ),
    dict(
        report_id="e2023",
        first_author="Epsilon E",
        year="2023",
        report_type="case report",
        diseases="SSc:1",
        n_patients="1",
        target="CD19",
        efficacy_measure="clinical remission",
        efficacy_n_responding="1",
    ),
    dict(
        report_id="f2019",
        first_author="Zeta F",
        year="2019",
        report_type="case series",
        diseases="IIM:2",
        n_patients="2",
        target="BCMA",
        crs_n="1",
        crs_N="2",
        crs_max_grade="1",
        crs_grade3plus_n="0",
    ),
    dict(
        report_id="g2024",
        first_author="Eta G",
        year="",
        report_type="case series",
        diseases="SSc:2",
        n_patients="2",
        target="CD19",
        overlap_group="grp2",
    ),
    dict(
        report_id="h2024",
        first_author="Theta H",
        year="2024",
        report_type="case series",
        diseases="SSc:3",
        n_patients="3",
        target="CD19",
        overlap_group="grp2",
    ),
]


@pytest.fixture
def reports(tmp_path):
    return load_view(tmp_path, ROWS)


def ids(frame, column="report_id"):
    return sorted(frame[column])


# ---------------------------------------------------------------- selection


def test_default_selection_keeps_everything_and_flags_missing_year(reports):
    sel = clinical.select_reports(reports)
    assert ids(sel.reports) == sorted(r["report_id"] for r in ROWS)
    assert sel.excluded.empty
    assert sel.year_unknown == ["g2024"]
    assert "year not reported" in sel.decisions.set_index("report_id").loc["g2024", "reason"]


def test_disease_filter_matches_any_disease_of_a_report(reports):
    sel = clinical.select_reports(reports, disease="SSc")
    assert ids(sel.reports) == ["d2023", "e2023", "g2024", "h2024"]
    reasons = sel.excluded.set_index("report_id")["reason"]
    assert set(reasons.index) == {"a2020", "b2021", "c2022", "f2019"}
    assert all("no SSc patients" in r for r in reasons)


def test_target_year_and_abstract_filters(reports):
    assert ids(clinical.select_reports(reports, target="BCMA").reports) == ["f2019"]
    later = clinical.select_reports(reports, earliest_year=2021)
    assert "a2020" not in ids(later.reports) and "f2019" not in ids(later.reports)
    assert "g2024" in ids(later.reports)  # year not stated: kept and flagged, not silently dropped
    no_abstracts = clinical.select_reports(reports, include_conference_abstracts=False)
    assert ids(no_abstracts.excluded) == ["b2021"]
    assert len(no_abstracts.decisions) == len(ROWS)


def _clinical_params(**values):
    """validate(ClinicalParams) against the shipped snapshot, defaults as in the notebook."""
    defaults = dict(disease="all", target="all", earliest_year=2019, include_conference_abstracts=True)
    return validate(ClinicalParams, load_snapshot(), **(defaults | values))


def test_unknown_target_names_the_parameter():
    # parameters are validated once, by the notebook's parameter model, against the snapshot
    with pytest.raises(ParameterError, match="parameter 'target'") as err:
        _clinical_params(target="CD22")
    shipped_targets = set(load_clinical_reports()["target"].dropna())  # the trials add more; these must be listed
    assert shipped_targets and all(t in str(err.value) for t in shipped_targets)  # the message lists them
    with pytest.raises(ParameterError, match="parameter 'disease'"):
        _clinical_params(disease="lupus")
    # codes match case-insensitively and come back canonical
    params = _clinical_params(disease="sle", target="cd19/bcma")
    assert (params.disease, params.target) == ("SLE", "CD19/BCMA")


# ---------------------------------------------------------------- evidence map


def test_evidence_map_cells(reports):
    emap = clinical.evidence_map(clinical.select_reports(reports)).set_index(["disease", "target"])
    assert set(emap.index) == {("SLE", "CD19"), ("SLE", "CD19/BCMA"), ("SSc", "CD19"), ("IIM", "BCMA")}
    sle = emap.loc[("SLE", "CD19")]
    # a2020, b2021 (same cohort: max(4, 6) = 6) and the 2 SLE patients of d2023
    assert (sle["reports"], sle["patients"], sle["patients_all_reports"]) == (3, 6 + 2, 4 + 6 + 2)
    assert sle["dominant_report_type"] == "case series"  # 2 case series vs 1 abstract
    ssc = emap.loc[("SSc", "CD19")]
    # d2023 3 + e2023 1 + grp2 max(2, 3) = 7; plain sum 3 + 1 + 2 + 3 = 9
    assert (ssc["reports"], ssc["patients"], ssc["patients_all_reports"]) == (4, 7, 9)
    assert emap.loc[("IIM", "BCMA"), "patients"] == 2


def test_evidence_map_restricted_to_the_selected_disease(reports):
    emap = clinical.evidence_map(clinical.select_reports(reports, disease="SLE"))
    assert set(emap["disease"]) == {"SLE"}
    assert emap["patients_all_reports"].sum() == 4 + 6 + 10 + 2  # d2023 adds only its SLE patients


# ---------------------------------------------------------------- efficacy


def test_efficacy_rows_and_skipped_counts(reports):
    eff = clinical.efficacy(clinical.select_reports(reports))
    assert ids(eff.reports) == ["a2020", "b2021", "c2022", "d2023"]
    assert ids(eff.skipped) == ["e2023", "f2019", "g2024", "h2024"]
    reason = eff.skipped.set_index("report_id").loc["e2023", "reason"]
    assert "without the number evaluable" in reason
    row = eff.reports.set_index("report_id").loc["a2020"]
    assert (row["responders"], row["evaluable"]) == (3, 4)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_ci(3, 4), abs=1e-4)
    assert eff.reports.set_index("report_id").loc["d2023", "disease"] == clinical.MIXED


def test_pooled_estimate_counts_an_overlap_group_once(reports):
    eff = clinical.efficacy(clinical.select_reports(reports))
    assert len(eff.pooled) == 1
    pooled = eff.pooled.iloc[0]
    assert (pooled["disease"], pooled["measure"]) == ("SLE", "DORIS remission")
    # grp1 keeps b2021 (6 evaluable > 4): pooled from b2021 5/6 and c2022 8/10, not from a2020
    expected = meta.pool([5, 8], [6, 10])  # the default: binomial-normal GLMM, as metafor's rma.glmm
    assert (pooled["reports"], pooled["responders"], pooled["evaluable"]) == (2, 13, 16)
    assert pooled["estimate"] == pytest.approx(expected.estimate, abs=1e-4)
    assert (pooled["ci_low"], pooled["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high), abs=1e-4)
    assert pooled["dropped_overlap"] == "a2020"
    status = eff.reports.set_index("report_id")["pool_status"]
    assert status["b2021"] == status["c2022"] == "pooled"
    assert "b2021" in status["a2020"] and status["a2020"].startswith("not pooled")
    assert status["d2023"].startswith("not pooled")  # measure 'other' is never pooled


def test_overlap_tie_break_prefers_the_most_recent_report():
    frame = pd.DataFrame(
        {
            "report_id": ["old2020", "new2022", "solo2021"],
            "year": pd.array([2020, 2022, 2021], "Int64"),
            "overlap_group": ["g", "g", None],
            "size": [5, 5, 1],
        }
    )
    kept, dropped = clinical.count_overlap_once(frame, "size")
    assert ids(kept) == ["new2022", "solo2021"]
    assert list(dropped["kept_instead"]) == ["new2022"]


# ---------------------------------------------------------------- safety


def test_safety_by_disease_has_explicit_denominators(reports):
    table = clinical.safety(clinical.select_reports(reports), by="disease").set_index(["disease", "outcome"])
    crs = table.loc[("SLE", "CRS any grade")]
    # grp1 counted once through b2021 (crs_N 6 > 4): 3/6 + c2022 9/10
    assert (crs["events"], crs["denominator"], crs["reports_counted"]) == (12, 16, 2)
    assert crs["dropped_overlap"] == "a2020" and crs["reports_not_reporting"] == 0
    assert (crs["ci_low"], crs["ci_high"]) == pytest.approx(wilson_ci(12, 16), abs=1e-4)
    severe = table.loc[("SLE", "CRS grade ≥3")]
    assert (severe["events"], severe["denominator"]) == (1, 16)
    icans = table.loc[("SLE", "ICANS any grade")]
    # b2021 states no ICANS: a2020 0/4 stays in, c2022 1/10
    assert (icans["events"], icans["denominator"], icans["reports_not_reporting"]) == (1, 14, 1)
    mixed = table.loc[(clinical.MIXED, "CRS any grade")]
    assert (mixed["denominator"], mixed["reports_not_reporting"]) == (0, 1) and pd.isna(mixed["rate"])
    everything = table.loc[(clinical.ALL_REPORTS, "CRS any grade")]
    assert (everything["events"], everything["denominator"]) == (3 + 9 + 1, 6 + 10 + 2)
    assert everything["reports_not_reporting"] == len(ROWS) - 4  # a2020, b2021, c2022, f2019 state CRS


def test_safety_by_target(reports):
    table = clinical.safety(clinical.select_reports(reports), by="target").set_index(["target", "outcome"])
    assert set(table.index.get_level_values(0)) == {"CD19", "CD19/BCMA", "BCMA", clinical.ALL_REPORTS}
    bcma = table.loc[("BCMA", "CRS any grade")]
    assert (bcma["events"], bcma["denominator"]) == (1, 2)
    with pytest.raises(ParameterError):
        clinical.safety(reports, by="country")


def test_safety_display_says_not_reported(reports):
    wide = safety_display(clinical.safety(reports)).set_index("disease")
    assert wide.loc["SLE", "CRS any grade"].startswith("12/16 ")
    assert wide.loc["SSc", "CRS any grade"] is None  # shown as 'not reported' by show_table


# ---------------------------------------------------------------- caveats


def test_caveats_name_the_reports(reports):
    cav = clinical.caveats(clinical.select_reports(reports)).set_index("caveat")
    assert cav.loc["overlapping cohort 'grp1'", "reports"] == "a2020; b2021"
    assert cav.loc["year not reported", "reports"] == "g2024"
    assert cav.loc["conference abstract", "n_reports"] == 1
    assert cav.loc["fewer than 10 patients", "n_reports"] == sum(int(r["n_patients"]) < 10 for r in ROWS)
    assert cav.loc["several diseases in one report", "reports"] == "d2023"
    assert "e2023" in cav.loc["response counts missing or without a denominator", "reports"]
    lines = clinical.caveat_lines(clinical.caveats(reports), "safety")
    assert lines and all(line.endswith(".") for line in lines)


# ---------------------------------------------------------------- narrative


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in: {text}"
    return int(match.group(1))


def test_narrative_numbers_match_the_table(reports):
    sel = clinical.select_reports(reports)
    text = clinical_narrative(sel)
    assert _number(r"holds (\d+) reports", text) == len(reports)
    abstracts = (reports["report_type"] == "conference abstract").sum()
    assert _number(r"(\d+) of them a conference abstract", text) == abstracts
    assert _number(r"describe (\d+) patients", text) == reports["n_patients"].sum()
    # unique: SLE 6 (grp1) + 10 + 2, SSc 3 + 1 + 3 (grp2), IIM 2
    assert _number(r"leaves (\d+) unique patients", text) == 18 + 7 + 2
    expected = meta.pool([5, 8], [6, 10])  # the default: binomial-normal GLMM, as metafor's rma.glmm
    pooled = re.search(r"reached by (\d+)% \(95% CI (\d+)%–(\d+)%; (\d+) of (\d+) evaluable", text)
    assert pooled, text
    assert [int(g) for g in pooled.groups()] == [
        round(100 * expected.estimate),
        round(100 * expected.ci_low),
        round(100 * expected.ci_high),
        13,
        16,
    ]
    crs = re.search(r"Cytokine release syndrome of any grade occurred in (\d+)/(\d+) \((\d+)%\)", text)
    assert [int(g) for g in crs.groups()] == [13, 18, round(100 * 13 / 18)]
    icans = re.search(r"ICANS of any grade occurred in (\d+)/(\d+)", text)
    assert [int(g) for g in icans.groups()] == [1, 14]
    assert _number(r"stated in (\d+) reports", text) == 4
    assert _number(r"; (\d+) reports without them", text) == 4


def test_narrative_for_an_empty_selection(reports):
    sel = clinical.select_reports(reports, disease="APS")
    assert sel.reports.empty
    assert clinical_narrative(sel).startswith("No clinical report matches")
    assert clinical.evidence_map(sel).empty and clinical.efficacy(sel).reports.empty
    assert clinical.safety(sel).empty


def test_narrative_on_the_shipped_table_matches_it():
    shipped = load_snapshot().clinical
    text = clinical_narrative(shipped)
    # left out: CAR cells given for a lymphoma, and reports that do not state how many patients they treated
    df = shipped[(shipped["indication"] == "rheumatic disease") & shipped["n_patients"].notna()]
    assert _number(r"holds (\d+) reports", text) == len(df)
    assert _number(r"describe (\d+) patients", text) == df["n_patients"].sum()
    assert _number(r"(\d+) of them conference abstracts", text) == (df["report_type"] == "conference abstract").sum()
    small = re.search(r"(\d+) of the (\d+) reports includes? fewer than 10", text)
    assert [int(g) for g in small.groups()] == [(df["n_patients"] < 10).sum(), len(df)]


# ---------------------------------------------------------------- figures


def _gids(fig, prefix, kind):
    return [a for ax in fig.axes for a in ax.findobj(kind) if (a.get_gid() or "").startswith(prefix)]


def test_evidence_map_figure_draws_one_bubble_per_cell(reports):
    table = clinical.evidence_map(reports)
    fig = cfig.evidence_map(table)
    collections = [c for c in fig.axes[0].collections if (c.get_gid() or "").startswith("bubble:")]
    assert sum(len(c.get_offsets()) for c in collections) == len(table)
    assert {c.get_gid() for c in collections} == {f"bubble:{t}" for t in set(table["dominant_report_type"])}
    assert len(fig.axes[0].texts) == len(table)  # one 'patients · reports' label per bubble


def test_forest_figure_draws_reports_and_diamonds(reports):
    eff = clinical.efficacy(reports)
    fig = cfig.forest(eff)
    assert len(_gids(fig, "report:", Line2D)) == len(eff.reports)
    assert len(_gids(fig, "pooled:", Polygon)) == len(eff.pooled)
    hollow = [a for a in _gids(fig, "report:", Line2D) if a.get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0))]
    assert [a.get_gid() for a in hollow] == ["report:a2020"]


def test_safety_bars_draw_a_bar_per_stated_outcome(reports):
    table = clinical.safety(reports, by="disease")
    fig = cfig.safety_bars(table)
    assert len(_gids(fig, "bar:", Rectangle)) == int((table["denominator"] > 0).sum())
    not_reported = [t for ax in fig.axes for t in ax.texts if t.get_text() == "not reported"]
    assert len(not_reported) == int((table["denominator"] == 0).sum())


def test_figures_of_an_empty_selection_say_so(reports):
    sel = clinical.select_reports(reports, disease="APS")
    for fig in (
        cfig.evidence_map(clinical.evidence_map(sel)),
        cfig.forest(clinical.efficacy(sel)),
        cfig.safety_bars(clinical.safety(sel)),
    ):
        assert any("No report" in t.get_text() for ax in fig.axes for t in ax.texts)
