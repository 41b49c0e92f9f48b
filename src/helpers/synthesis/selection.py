"""Which clinical reports a notebook run looks at, and why every other report is left out.

A report is left out when its diseases, target, year or type do not match the parameters, when
it does not state how many patients it treated (it stays listed and cited), or when the CAR cells
were given for another indication (a lymphoma in a patient with a rheumatic disease): such a
report is shown in its own section and never counted as efficacy for the disease.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.core.codes import ROB_JUDGEMENTS
from helpers.evidence.tables import explode_diseases

ALL = "all"
CONFERENCE = "conference abstract"
RHEUMATIC = "rheumatic disease"
OTHER_INDICATION = "given for another indication"
NOT_REPORTED = "not reported"


def _text(value: object) -> str:
    return NOT_REPORTED if value is None or pd.isna(value) else str(value)


@dataclass(frozen=True, eq=False)
class Selection:
    """The reports a notebook run looks at, and what happened to every other report."""

    reports: pd.DataFrame  # the selected rows, sorted by report_id
    decisions: pd.DataFrame  # every input report: report_id, included (yes/no), reason
    disease: str = ALL
    target: str = ALL
    earliest_year: int = 2019
    include_conference_abstracts: bool = True

    @property
    def excluded(self) -> pd.DataFrame:
        """The decision rows of the reports left out."""
        return self.decisions[self.decisions["included"] == "no"].reset_index(drop=True)

    @property
    def year_unknown(self) -> list[str]:
        """Ids of the selected reports that do not state a publication year."""
        return sorted(self.reports.loc[self.reports["year"].isna(), "report_id"].astype(str))

    def describe(self) -> str:
        """The filters in words, e.g. 'all diseases, all targets, from 2019, conference abstracts included'."""
        parts = [
            "all diseases" if self.disease == ALL else f"reports including {self.disease} patients",
            "all CAR targets" if self.target == ALL else f"target {self.target}",
            f"published from {self.earliest_year} (or year not reported)",
            "conference abstracts included" if self.include_conference_abstracts else "conference abstracts excluded",
        ]
        return ", ".join(parts)


ROB_ORDER = ROB_JUDGEMENTS.rank  # low, moderate, high


def _reasons(row: object, codes: tuple[str, ...], filters: dict) -> list[str]:
    """Why one report is left out by the filters (empty: it is selected)."""
    reasons = []
    disease, target = filters["disease"], filters["target"]
    if disease != ALL and disease not in codes:
        reasons.append(f"no {disease} patients")
    if target != ALL and (pd.isna(row.target) or row.target != target):
        reasons.append(f"target {_text(row.target)}, not {target}")
    if not pd.isna(row.year) and int(row.year) < filters["earliest_year"]:
        reasons.append(f"published {int(row.year)}, before {filters['earliest_year']}")
    if not filters["include_conference_abstracts"] and row.report_type == CONFERENCE:
        reasons.append("conference abstract (excluded by parameter)")
    rob = getattr(row, "risk_of_bias", pd.NA)
    if not pd.isna(rob) and ROB_ORDER.index(str(rob)) > ROB_ORDER.index(filters["max_risk_of_bias"]):
        reasons.append(f"risk of bias {rob} (above max_risk_of_bias={filters['max_risk_of_bias']})")
    if pd.isna(row.n_patients):
        reasons.append("number of patients not reported: listed and cited, never counted")
    indication = getattr(row, "indication", RHEUMATIC)
    if not pd.isna(indication) and indication != RHEUMATIC:
        reasons.append(f"{OTHER_INDICATION}: CAR cells given for {indication}, never counted as disease efficacy")
    return reasons


def select_reports(
    df: pd.DataFrame,
    disease: str = ALL,
    target: str = ALL,
    earliest_year: int = 2019,
    include_conference_abstracts: bool = True,
    max_risk_of_bias: str = "high",
) -> Selection:
    """Filter reports by disease code (a report qualifies when any of its diseases matches),
    exact target, earliest publication year, report type and overall risk of bias; every report
    gets a decision row.

    The parameters are trusted: notebooks validate them first (``helpers.report.params``)."""
    df = df.sort_values("report_id", kind="stable").reset_index(drop=True)
    codes = _codes_by_report(df)
    filters = {
        "disease": disease,
        "target": target,
        "earliest_year": earliest_year,
        "include_conference_abstracts": include_conference_abstracts,
        "max_risk_of_bias": max_risk_of_bias,
    }
    decisions = []
    keep = []
    for row in df.itertuples(index=False):
        reasons = _reasons(row, codes.get(row.report_id, ()), filters)
        if reasons:
            decisions.append((row.report_id, "no", "; ".join(reasons)))
        else:
            note = "year not reported: kept, cannot be checked against earliest_year" if pd.isna(row.year) else ""
            decisions.append((row.report_id, "yes", note))
        keep.append(not reasons)
    table = pd.DataFrame(decisions, columns=["report_id", "included", "reason"])
    return Selection(
        reports=df[keep].reset_index(drop=True),
        decisions=table,
        disease=disease,
        target=target,
        earliest_year=earliest_year,
        include_conference_abstracts=include_conference_abstracts,
    )


def other_indication(sel: Selection) -> pd.DataFrame:
    """Reports left out because the CAR cells were given for another indication (e.g. a lymphoma in a
    patient with a rheumatic disease): report_id, reason. Pages show them in their own section."""
    mask = sel.decisions["reason"].str.startswith(OTHER_INDICATION)  # the only reason it was left out
    mask |= sel.decisions["reason"].str.contains(f"never counted; {OTHER_INDICATION}", regex=False)
    return sel.decisions.loc[mask & (sel.decisions["included"] == "no"), ["report_id", "reason"]].reset_index(drop=True)


def selection_note(sel: Selection) -> str:
    """One sentence: how many reports were selected, left out, and kept without a year."""
    total, kept = len(sel.decisions), len(sel.reports)
    text = f"{kept} of {total} reports selected ({sel.describe()}); {total - kept} left out."
    unknown = sel.year_unknown
    if unknown:
        text += (
            f" {len(unknown)} selected report{'s do' if len(unknown) != 1 else ' does'} not state a "
            f"publication year and {'are' if len(unknown) != 1 else 'is'} kept: {', '.join(unknown)}."
        )
    return text


def as_selection(data: Selection | pd.DataFrame) -> Selection:
    """The selection itself, or all reports selected with the default filters."""
    return data if isinstance(data, Selection) else select_reports(data)


def _codes_by_report(df: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    long = explode_diseases(df)
    return {rid: tuple(g["disease"]) for rid, g in long.groupby("report_id", sort=True)}
