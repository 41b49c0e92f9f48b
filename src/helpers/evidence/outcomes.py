"""The outcomes of the clinical reports: a long table (one row per outcome), checked against the reports.

``outcomes.csv`` holds, per report, one row for each required outcome class (efficacy, drug-free
remission, CRS, ICANS, serious infections, dose, lymphodepletion, follow-up, B-cell reconstitution)
and any number of disease-specific measures. Each row is ``stated`` (with the tier and URL of the
page it was read in), ``not reported`` (the source was read and does not say) or ``not checked``.

:func:`wide_outcomes` turns the long table into one row per report with the report's main
efficacy row and its whole-cohort safety facts, which the synthesis stage reads; it can leave out
facts that rest on secondary sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from helpers.core.codes import FACT_STATUSES, OUTCOME_CLASSES, OUTCOMES, TIERS
from helpers.core.errors import SchemaError
from helpers.evidence.tables import load_table_with_status, parse_diseases

REQUIRED_CLASSES = OUTCOME_CLASSES.rank
WHOLE_COHORT = "all"

# The wide columns the synthesis stage reads, from one outcome row each: (column, class, source column).
WIDE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("efficacy_measure", "efficacy", "measure"),
    ("efficacy_n_responding", "efficacy", "n"),
    ("efficacy_n_evaluable", "efficacy", "N"),
    ("efficacy_timepoint", "efficacy", "timepoint"),
    ("efficacy_timepoint_months", "efficacy", "timepoint_months"),
    ("efficacy_tier", "efficacy", "tier"),
    ("dfr_n", "dfr", "n"),
    ("dfr_N", "dfr", "N"),
    ("crs_n", "crs", "n"),
    ("crs_N", "crs", "N"),
    ("crs_max_grade", "crs", "max_grade"),
    ("crs_grade3plus_n", "crs", "grade3plus_n"),
    ("icans_n", "icans", "n"),
    ("icans_N", "icans", "N"),
    ("icans_max_grade", "icans", "max_grade"),
    ("icans_grade3plus_n", "icans", "grade3plus_n"),
    ("serious_infections_n", "serious_infection", "n"),
    ("dose", "dose", "text"),
    ("lymphodepletion", "lymphodepletion", "text"),
    ("follow_up_months", "follow_up", "value"),
    ("follow_up_note", "follow_up", "text"),
    ("bcell_reconstitution", "bcell_reconstitution", "text"),
)


def load_outcomes(path: Path | str | None = None) -> pd.DataFrame:
    """``outcomes.csv``, validated row by row; sorted by report_id (file order kept within a report)."""
    return load_table_with_status(OUTCOMES, path)[0]


def check_against_reports(outcomes: pd.DataFrame, reports: pd.DataFrame, source: str = "outcomes.csv") -> None:
    """Raise SchemaError listing every way the outcomes do not fit the reports.

    Each outcome names a known report; each report has a row for every required class and one
    main efficacy row at most; denominators do not exceed the report's patients; a population
    names diseases the report has.
    """
    problems: list[str] = []
    known = set(reports["report_id"])
    problems += [
        f"report_id '{rid}' is not in clinical_reports.csv; add the report or fix the id"
        for rid in sorted(set(outcomes["report_id"]) - known)
    ]
    classes = outcomes.groupby("report_id")["outcome_class"].agg(set)
    for rid in sorted(known):
        missing = [c for c in REQUIRED_CLASSES if c not in classes.get(rid, set())]
        if missing:
            problems.append(
                f"report '{rid}' has no row for {', '.join(missing)}; add one (status 'not reported' or 'not checked')"
            )
    mains = outcomes[outcomes["main"] == "yes"].groupby("report_id").size()
    problems += [f"report '{rid}' has {n} main efficacy rows; mark one 'yes'" for rid, n in mains.items() if n > 1]
    size = reports.set_index("report_id")["n_patients"]
    codes = {
        rid: {c for c, _ in parse_diseases(str(cell))} if not pd.isna(cell) else set()
        for rid, cell in zip(reports.report_id, reports.diseases, strict=True)
    }
    for row in outcomes.itertuples(index=False):
        if row.report_id not in known:
            continue
        if not pd.isna(row.N) and not pd.isna(size[row.report_id]) and int(row.N) > int(size[row.report_id]):
            problems.append(
                f"report '{row.report_id}', {row.outcome_class}: N {row.N} exceeds n_patients {size[row.report_id]}"
            )
        strays = [p for p in str(row.population).split(";") if p != WHOLE_COHORT and p not in codes[row.report_id]]
        if strays:
            problems.append(
                f"report '{row.report_id}', {row.outcome_class}: population {', '.join(strays)} is not among "
                f"the report's diseases"
            )
    if problems:
        raise SchemaError(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


def _row_for(group: pd.DataFrame, cls: str) -> pd.Series | None:
    rows = group[group["outcome_class"] == cls]
    if cls == "efficacy":
        rows = rows[rows["main"] == "yes"]
    else:
        rows = rows[rows["population"] == WHOLE_COHORT]
    stated = rows[rows["status"] == "stated"]
    if not stated.empty:
        return stated.iloc[0]
    return rows.iloc[0] if not rows.empty else None


def wide_outcomes(outcomes: pd.DataFrame, tiers: Iterable[str] = tuple(TIERS)) -> pd.DataFrame:
    """One row per report: main efficacy and whole-cohort facts in the synthesis stage's columns.

    Facts whose tier is not in ``tiers`` are left out (NA); so are facts not stated.
    Each class also gets a ``<class>_status`` column (stated / not reported / not checked /
    secondary source left out).
    """
    keep = set(tiers)
    records = []
    for rid, group in outcomes.groupby("report_id", sort=True):
        record: dict[str, object] = {"report_id": rid}
        rows = {cls: _row_for(group, cls) for cls in REQUIRED_CLASSES}
        for cls, row in rows.items():
            if row is None:
                status = "not checked"
            elif row["status"] != "stated":
                status = str(row["status"])
            elif row["tier"] not in keep:
                status = "secondary source left out"
            else:
                status = "stated"
            record[f"{cls}_status"] = status
        for column, cls, field in WIDE_COLUMNS:
            row = rows[cls]
            usable = row is not None and record[f"{cls}_status"] == "stated"
            record[column] = row[field] if usable else pd.NA
        records.append(record)
    columns = ["report_id", *(c for c, _, _ in WIDE_COLUMNS), *(f"{c}_status" for c in REQUIRED_CLASSES)]
    wide = pd.DataFrame(records, columns=columns)
    types = {c: "Int64" for c, _, f in WIDE_COLUMNS if f in ("n", "N", "max_grade", "grade3plus_n")}
    types |= {"follow_up_months": "Float64", "efficacy_timepoint_months": "Float64"}
    types |= {c: "string" for c in wide.columns if c not in types}
    return wide.astype(types)


def secondary_facts(outcomes: pd.DataFrame) -> tuple[int, int]:
    """(stated facts, stated facts resting on a secondary source)."""
    stated = outcomes[outcomes["status"] == "stated"]
    return len(stated), int((stated["tier"] == "secondary").sum())


def completeness(outcomes: pd.DataFrame, reports: pd.DataFrame, min_patients: int = 3) -> pd.DataFrame:
    """Per required class: reports (of ``min_patients`` or more) with the class stated, not reported, not checked."""
    big = set(reports.loc[reports["n_patients"] >= min_patients, "report_id"])
    wide = wide_outcomes(outcomes)
    wide = wide[wide["report_id"].isin(big)]
    rows = []
    for cls in REQUIRED_CLASSES:
        counts = wide[f"{cls}_status"].value_counts()
        row = {"outcome": OUTCOME_CLASSES.label(cls), "reports": len(wide)}
        rows.append(row | {status: int(counts.get(status, 0)) for status in FACT_STATUSES})
    return pd.DataFrame(rows)
