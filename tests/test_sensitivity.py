"""Like-with-like pooling, sensitivity analyses, subgroups and risk of bias, on synthetic reports."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.core.errors import SchemaError
from helpers.evidence.appraisal import check_risk_of_bias, overall_from_items
from helpers.evidence.snapshot import load_snapshot
from helpers.synthesis import clinical, meta, sensitivity

from .evidence_builder import load_view

SIX = {"efficacy_measure": "DORIS remission", "efficacy_timepoint": "6 months", "efficacy_timepoint_months": "6"}
BASE = {"report_type": "case series", "target": "CD19", "diseases": "SLE:10", "n_patients": "10"}


def _row(rid: str, year: int, k: int, n: int, **extra) -> dict:
    return BASE | SIX | {"report_id": rid, "first_author": rid.title()[:-4] + " A", "year": str(year)} | {
        "efficacy_n_responding": str(k),
        "efficacy_n_evaluable": str(n),
    } | extra  # fmt: skip


ROWS = [
    _row("aa2021", 2021, 8, 10, overlap_group="cohort-x"),
    _row("bb2022", 2022, 6, 8, overlap_group="cohort-x"),  # same cohort, more recent, smaller
    _row("cc2023", 2023, 9, 10, report_type="conference abstract"),
    _row("dd2024", 2024, 7, 10, target="CD19/BCMA", tier="secondary"),
    _row("ee2024", 2024, 5, 10, efficacy_timepoint="12 months", efficacy_timepoint_months="12"),
    _row("ff2025", 2025, 4, 5, efficacy_timepoint="last follow-up", efficacy_timepoint_months=""),
]


@pytest.fixture
def eff_and_view(tmp_path):
    view = load_view(tmp_path, ROWS)
    sel = clinical.select_reports(view)
    return clinical.efficacy(sel), sel.reports


def test_only_like_with_like_is_pooled(eff_and_view):
    eff, _ = eff_and_view
    assert list(eff.pooled["window"]) == ["up to 6 months"]  # 12 months and last follow-up stand alone
    status = eff.reports.set_index("report_id")["pool_status"]
    assert status["ee2024"] == status["ff2025"] == "not pooled: only one report with this measure and window"
    assert status["bb2022"].startswith("not pooled: same cohort (cohort-x) as aa2021")
    pooled = eff.pooled.iloc[0]
    expected = meta.pool([8, 9, 7], [10, 10, 10])  # aa2021 (largest of the cohort), cc2023, dd2024
    assert pooled["estimate"] == pytest.approx(expected.estimate, abs=1e-4)
    assert (pooled["pi_low"], pooled["pi_high"]) == pytest.approx((expected.pi_low, expected.pi_high), abs=1e-4)
    assert pooled["method"].startswith("binomial-normal GLMM")


def test_the_window_follows_the_stated_months():
    assert clinical.timepoint_window(6, "6 months") == "up to 6 months"
    assert clinical.timepoint_window(6.1, "") == "6–12 months"
    assert clinical.timepoint_window(24, "") == "over 12 months"
    assert clinical.timepoint_window(pd.NA, "Last follow-up") == "at last follow-up"
    assert clinical.timepoint_window(pd.NA, pd.NA) == "timepoint not stated"


def test_sensitivity_refits_each_subset(eff_and_view):
    eff, view = eff_and_view
    table = sensitivity.sensitivity(eff.reports, view).set_index("analysis")
    assert table.loc["main analysis", "report_ids"] == "aa2021; cc2023; dd2024"
    for rid in ("aa2021", "cc2023", "dd2024"):
        assert table.loc[f"leave out {rid}", "reports"] == 2
    no_abstracts = table.loc["without conference abstracts"]
    assert no_abstracts["report_ids"] == "aa2021; dd2024"
    assert no_abstracts["estimate"] == pytest.approx(meta.pool([8, 7], [10, 10]).estimate)
    assert table.loc["without facts from secondary sources", "report_ids"] == "aa2021; cc2023"
    # the alternative overlap rule keeps the cohort's most recent report (bb2022, 6/8) instead of aa2021
    assert table.loc["overlap rule: most recent report per cohort", "report_ids"] == "bb2022; cc2023; dd2024"


def test_sensitivity_drops_high_risk_reports_when_judged(eff_and_view):
    eff, view = eff_and_view
    view = view.assign(risk_of_bias=["high" if r == "cc2023" else "moderate" for r in view["report_id"]])
    row = sensitivity.sensitivity(eff.reports, view).set_index("analysis").loc["without reports at high risk of bias"]
    assert row["report_ids"] == "aa2021; dd2024"


def test_cumulative_adds_reports_by_year(eff_and_view):
    eff, _ = eff_and_view
    table = sensitivity.cumulative(eff.reports)
    assert list(table["reports"]) == [2, 3]
    assert table.iloc[0]["estimate"] == pytest.approx(meta.pool([8, 9], [10, 10]).estimate)


def test_subgroups_by_target_with_a_between_test(tmp_path):
    rows = [*ROWS, _row("gg2025", 2025, 3, 10, target="CD19/BCMA")]
    view = load_view(tmp_path, rows)
    sel = clinical.select_reports(view)
    table = sensitivity.subgroup_differences(clinical.efficacy(sel).reports, sel.reports, "target")
    by_group = table.set_index("subgroup")
    assert by_group.loc["CD19", "reports"] == 2 and by_group.loc["CD19/BCMA", "reports"] == 2
    a, b = meta.pool([8, 9], [10, 10]), meta.pool([7, 3], [10, 10])
    weights = [1 / a.se**2, 1 / b.se**2]
    mean = (weights[0] * a.mu + weights[1] * b.mu) / sum(weights)
    q = weights[0] * (a.mu - mean) ** 2 + weights[1] * (b.mu - mean) ** 2
    assert by_group["q_between"].iloc[0] == pytest.approx(q)


def test_small_k_says_why_no_funnel_plot():
    assert "no funnel plot or Egger test" in sensitivity.small_k_note(3)
    assert sensitivity.small_k_note(12) == ""


def test_max_risk_of_bias_filters_and_says_why(tmp_path):
    view = load_view(tmp_path, ROWS).assign(risk_of_bias=lambda v: ["high", *["low"] * (len(v) - 1)])
    sel = clinical.select_reports(view, max_risk_of_bias="moderate")
    reason = sel.decisions.set_index("report_id").loc["aa2021", "reason"]
    assert "risk of bias high (above max_risk_of_bias=moderate)" in reason and len(sel.reports) == len(ROWS) - 1


@pytest.mark.parametrize(
    "items,expected",
    [
        ({"selection": "yes", "exposure": "yes", "outcome": "yes", "follow_up": "yes", "reporting": "yes"}, "low"),
        ({"selection": "no", "exposure": "yes", "outcome": "yes", "follow_up": "yes", "reporting": "yes"}, "high"),
        ({"selection": "yes", "exposure": "unclear", "outcome": "yes", "follow_up": "no", "reporting": "yes"},
         "moderate"),
        ({"selection": "unclear", "exposure": "unclear", "outcome": "yes", "follow_up": "unclear", "reporting": "yes"},
         "high"),
    ],
)  # fmt: skip
def test_overall_risk_of_bias_rule(items, expected):
    assert overall_from_items(items) == expected


def test_shipped_risk_of_bias_is_complete_and_follows_the_rule():
    snap = load_snapshot()
    table = snap.risk_of_bias
    check_risk_of_bias(table, set(snap.clinical["report_id"]))  # raises on a gap or a wrong overall
    assert snap.clinical["risk_of_bias"].notna().all()
    broken = table[~((table["report_id"] == "feng2025") & (table["item"] == "outcome"))]
    with pytest.raises(SchemaError, match="report 'feng2025' has no judgement for outcome"):
        check_risk_of_bias(broken, set(snap.clinical["report_id"]))
