"""Clinical evidence: pure analysis functions on the curated clinical-report table.

Input is the frame from :func:`helpers.evidence.tables.load_clinical_reports`. Start with
:func:`select_reports` (the notebook parameters); every other function takes the
resulting :class:`Selection` (or a bare frame, meaning "all reports").

Rules, stated once here and in the notebook:

* **Disease attribution.** The evidence map splits multi-disease reports into one row per
  disease with that disease's patient count. Efficacy and safety are attributed to a disease
  only when the report has one disease; otherwise they are shown under ``"mixed"``.
* **Overlapping cohorts.** Reports that share patients carry the same ``overlap_group``.
  Patient counts take, per overlap group and disease, the largest count any of its reports
  gives. Pooled estimates and safety sums keep one report per overlap group (largest
  denominator, then most recent year, then report id) and list the reports dropped.
* **Missing facts.** An empty cell is "not reported": a row without the needed numerator
  or denominator is skipped and counted, never filled in. A report whose year is not
  reported is kept (it cannot be checked against ``earliest_year``) and flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from helpers.core.codes import DISEASES, REPORT_TYPES, TARGETS
from helpers.core.errors import ParameterError
from helpers.evidence.tables import explode_diseases
from helpers.synthesis import meta
from helpers.synthesis.proportions import wilson_ci
from helpers.synthesis.selection import ALL, CONFERENCE, Selection, _codes_by_report, as_selection
from helpers.synthesis.selection import other_indication as other_indication
from helpers.synthesis.selection import select_reports as select_reports
from helpers.synthesis.selection import selection_note as selection_note

MIXED = "mixed"
NOT_REPORTED = "not reported"
SMALL_N = 10
UNPOOLED_MEASURES = ("other",)
LAST_FOLLOW_UP = "at last follow-up"
POOL_KEY = ("disease", "measure", "window")  # what a pooled estimate combines: one cell each
ESTIMATE_COLUMNS = ("reports", "responders", "evaluable", "estimate", "ci_low", "ci_high", "pi_low", "pi_high")
WINDOWS = ((6.0, "up to 6 months"), (12.0, "6–12 months"), (float("inf"), "over 12 months"))
METHOD_LABELS = {
    "glmm": "binomial-normal GLMM (ML)",
    "reml": "inverse variance, REML",
    "dl": "inverse variance, DerSimonian–Laird",
    "pm": "inverse variance, Paule–Mandel",
}
DIGITS = 4

# tie-break for the dominant report type of an evidence-map cell: the more formal design first
TYPE_PRIORITY = REPORT_TYPES.rank
SAFETY_OUTCOMES = (
    # (outcome label, event column, denominator column)
    ("CRS any grade", "crs_n", "crs_N"),
    ("CRS grade ≥3", "crs_grade3plus_n", "crs_N"),
    ("ICANS any grade", "icans_n", "icans_N"),
    ("ICANS grade ≥3", "icans_grade3plus_n", "icans_N"),
)
SAFETY_GROUPINGS = ("disease", "target")
ALL_REPORTS = "all reports"


def disease_name(code: str) -> str:
    """A disease code as it reads in a sentence ('systemic sclerosis'; 'mixed-disease reports')."""
    return "mixed-disease reports" if code == MIXED else DISEASES.prose(code)


# ---------------------------------------------------------------- selection


def _text(value: object) -> str:
    return NOT_REPORTED if value is None or pd.isna(value) else str(value)


def attributed_disease(df: pd.DataFrame) -> pd.Series:
    """Per report: its disease code when it has exactly one, 'mixed' for several, 'not reported' for none."""
    codes = _codes_by_report(df)

    def one(rid: str) -> str:
        found = codes.get(rid, ())
        return found[0] if len(found) == 1 else (MIXED if found else NOT_REPORTED)

    return pd.Series([one(r) for r in df["report_id"]], index=df.index, dtype="string", name="disease")


def citation_label(row: pd.Series | object) -> str:
    """'Mackensen A 2022'; 'Bergmann C (year n.r.)' when the year is not reported."""
    get = row.get if isinstance(row, pd.Series) else lambda k: getattr(row, k)
    author = get("first_author")
    name = str(get("report_id")) if pd.isna(author) else str(author)
    year = get("year")
    return f"{name} (year n.r.)" if pd.isna(year) else f"{name} {int(year)}"


def disease_order(values: Iterable[str]) -> list[str]:
    """Disease codes in the table's order, then 'mixed', then 'not reported'."""
    order = list(DISEASES) + [MIXED, NOT_REPORTED]
    return sorted(set(values), key=lambda v: (order.index(v) if v in order else len(order), v))


def target_order(values: Iterable[str]) -> list[str]:
    """Targets in the table's order, then 'not reported'."""
    order = list(TARGETS) + [NOT_REPORTED]
    return sorted(set(values), key=lambda v: (order.index(v) if v in order else len(order), v))


# ---------------------------------------------------------------- overlap groups


def count_overlap_once(frame: pd.DataFrame, size: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep one row per overlap_group: largest ``size``, then most recent year, then report_id.

    Rows without an overlap_group are all kept. Returns (kept, dropped); ``dropped`` has a
    ``kept_instead`` column naming the report kept for its group."""
    if frame.empty:
        return frame.copy(), frame.assign(kept_instead=pd.Series(dtype="string"))
    ranked = frame.assign(
        _size=frame[size].astype("Float64").fillna(-1),
        _year=frame["year"].astype("Float64").fillna(-1),
    ).sort_values(["_size", "_year", "report_id"], ascending=[False, False, True], kind="stable")
    grouped = ranked["overlap_group"].notna()
    first = ranked[grouped].drop_duplicates("overlap_group", keep="first")
    kept_ids = set(ranked.loc[~grouped, "report_id"]) | set(first["report_id"])
    winner = dict(zip(first["overlap_group"], first["report_id"], strict=True))
    kept = frame[frame["report_id"].isin(kept_ids)].copy()
    dropped = frame[~frame["report_id"].isin(kept_ids)].copy()
    dropped["kept_instead"] = pd.Series(
        [winner[g] for g in dropped["overlap_group"]], index=dropped.index, dtype="string"
    )
    return kept, dropped


def unique_patients(long: pd.DataFrame, n: str = "n") -> int:
    """Patients counting each overlap group once: per group, the largest count among its rows."""
    if long.empty:
        return 0
    free = int(long.loc[long["overlap_group"].isna(), n].sum())
    grouped = long[long["overlap_group"].notna()]
    return free + int(grouped.groupby("overlap_group")[n].max().sum()) if not grouped.empty else free


def disease_rows(data: Selection | pd.DataFrame) -> pd.DataFrame:
    """One row per (report, disease) with that disease's n, restricted to the selected disease."""
    sel = as_selection(data)
    long = explode_diseases(sel.reports)
    if sel.disease != ALL:
        long = long[long["disease"] == sel.disease]
    cols = ["report_id", "year", "report_type", "target", "overlap_group", "first_author"]
    long = long.merge(sel.reports[cols], on="report_id", how="left")
    long["target"] = long["target"].fillna(NOT_REPORTED)
    return long.sort_values(["disease", "report_id"], kind="stable").reset_index(drop=True)


def patient_totals(data: Selection | pd.DataFrame) -> dict[str, int]:
    """{'reported': sum over reports, 'unique': overlap groups counted once per disease}."""
    long = disease_rows(data)
    unique = sum(unique_patients(g) for _, g in long.groupby("disease", sort=True))
    return {"reported": int(long["n"].sum()) if not long.empty else 0, "unique": int(unique)}


# ---------------------------------------------------------------- evidence map


def _dominant_type(cell: pd.DataFrame) -> str:
    counts = cell.groupby("report_type").agg(reports=("report_id", "size"), patients=("n", "sum"))
    ranked = sorted(
        counts.itertuples(),
        key=lambda r: (-r.reports, -r.patients, TYPE_PRIORITY.index(r.Index) if r.Index in TYPE_PRIORITY else 99),
    )
    return str(ranked[0].Index)


def evidence_map(data: Selection | pd.DataFrame) -> pd.DataFrame:
    """Disease x target cells: reports, patients (overlap counted once), patients summed over
    reports, dominant report type and the report ids. Multi-disease reports add their per-disease n."""
    long = disease_rows(data)
    columns = [
        "disease",
        "target",
        "reports",
        "patients",
        "patients_all_reports",
        "dominant_report_type",
        "report_types",
        "report_ids",
    ]
    rows = []
    for (disease, target), cell in long.groupby(["disease", "target"], sort=False):
        types = cell["report_type"].value_counts()
        rows.append(
            {
                "disease": disease,
                "target": target,
                "reports": int(cell["report_id"].nunique()),
                "patients": unique_patients(cell),
                "patients_all_reports": int(cell["n"].sum()),
                "dominant_report_type": _dominant_type(cell),
                "report_types": "; ".join(f"{t} {types[t]}" for t in sorted(types.index)),
                "report_ids": "; ".join(sorted(cell["report_id"])),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    return _sort_groups(out, "disease", "target")


def _sort_groups(
    df: pd.DataFrame, disease_col: str | None, target_col: str | None, extra: list[str] | None = None
) -> pd.DataFrame:
    if df.empty:
        return df.reset_index(drop=True)
    keys = []
    if disease_col:
        order = disease_order(df[disease_col])
        keys.append(df[disease_col].map(order.index).rename("_d"))
    if target_col:
        order = target_order(df[target_col])
        keys.append(df[target_col].map(order.index).rename("_t"))
    tmp = pd.concat([df] + keys, axis=1)
    by = [k.name for k in keys] + (extra or [])
    return tmp.sort_values(by, kind="stable").drop(columns=[k.name for k in keys]).reset_index(drop=True)


# ---------------------------------------------------------------- efficacy


@dataclass(frozen=True, eq=False)
class Efficacy:
    """Per-report response proportions, pooled estimates and the reports that could not be used."""

    reports: pd.DataFrame  # one row per report with responders and evaluable patients
    pooled: pd.DataFrame  # one row per disease x measure pooled from >= 2 reports
    skipped: pd.DataFrame  # report_id, label, reason


def _skip_reason(row: pd.Series) -> str | None:
    k, n, measure = row["efficacy_n_responding"], row["efficacy_n_evaluable"], row["efficacy_measure"]
    if pd.isna(k) and pd.isna(n):
        return "no response counts reported" + ("" if pd.isna(measure) else f" (measure {measure})")
    if pd.isna(n):
        return f"responders ({int(k)}) reported without the number evaluable"
    if pd.isna(k):
        return f"number evaluable ({int(n)}) reported without responders"
    if int(n) == 0:
        return "no evaluable patients"
    if pd.isna(measure):
        return "response measure not reported"
    return None


def timepoint_window(months: object, timepoint: object) -> str:
    """The timepoint window an efficacy result is pooled within (like with like)."""
    if months is None or pd.isna(months):
        text = "" if timepoint is None or pd.isna(timepoint) else str(timepoint).casefold()
        return LAST_FOLLOW_UP if "last" in text else "timepoint not stated"
    months = float(months)
    return next(label for limit, label in WINDOWS if months <= limit)


def _pool_cell(per_report: pd.DataFrame, key: tuple, cell: pd.DataFrame, method: str, alpha: float) -> dict | None:
    """Pool one (disease, measure, window) cell, one report per overlap group; mark every report's status."""
    disease, measure, window = key
    kept, dropped = count_overlap_once(cell, "evaluable")
    for idx, other in zip(dropped.index, dropped["kept_instead"], strict=True):
        per_report.loc[idx, "pool_status"] = f"not pooled: same cohort ({cell.loc[idx, 'overlap_group']}) as {other}"
    if measure in UNPOOLED_MEASURES:
        per_report.loc[kept.index, "pool_status"] = f"not pooled: measure '{measure}' is not one measure"
        return None
    if window == "timepoint not stated":
        per_report.loc[kept.index, "pool_status"] = "not pooled: timepoint not stated"
        return None
    if len(kept) < 2:
        per_report.loc[kept.index, "pool_status"] = "not pooled: only one report with this measure and window"
        return None
    per_report.loc[kept.index, "pool_status"] = "pooled"
    fit = meta.pool(list(kept["responders"]), list(kept["evaluable"]), method=method, level=1 - alpha)
    per_report.loc[kept.index, "weight"] = meta.weights(list(kept["responders"]), list(kept["evaluable"]), fit.tau2)
    rounded = {f: (None if pd.isna(v) else round(v, DIGITS)) for f, v in fit.as_dict().items() if isinstance(v, float)}
    return {
        "disease": disease,
        "measure": measure,
        "window": window,
        "reports": fit.k,
        "responders": fit.events,
        "evaluable": fit.total,
        "estimate": rounded["estimate"],
        "ci_low": rounded["ci_low"],
        "ci_high": rounded["ci_high"],
        "pi_low": rounded["pi_low"],
        "pi_high": rounded["pi_high"],
        "i2": None if rounded["i2"] is None else round(rounded["i2"] / 100, DIGITS),
        "tau2": rounded["tau2"],
        "method": METHOD_LABELS[method],
        "note": fit.note,
        "report_ids": "; ".join(sorted(kept["report_id"])),
        "dropped_overlap": "; ".join(sorted(dropped["report_id"])),
    }


def efficacy(data: Selection | pd.DataFrame, alpha: float = 0.05, method: str = "glmm") -> Efficacy:
    """Response proportion with a Wilson CI per report, grouped by attributed disease, measure and
    timepoint window; a random-effects pooled estimate (binomial-normal GLMM by default, as metafor)
    with its prediction interval where >= 2 reports (one per overlap group) share all three."""
    sel = as_selection(data)
    df = sel.reports.assign(disease=attributed_disease(sel.reports))
    skipped, rows = [], []
    for _, row in df.iterrows():
        reason = _skip_reason(row)
        if reason:
            skipped.append((row["report_id"], citation_label(row), reason))
            continue
        k, n = int(row["efficacy_n_responding"]), int(row["efficacy_n_evaluable"])
        low, high = wilson_ci(k, n, alpha)
        rows.append(
            {
                "disease": row["disease"],
                "measure": row["efficacy_measure"],
                "report_id": row["report_id"],
                "label": citation_label(row),
                "year": row["year"],
                "report_type": row["report_type"],
                "target": _text(row["target"]),
                "responders": k,
                "evaluable": n,
                "proportion": round(k / n, DIGITS),
                "ci_low": round(low, DIGITS),
                "ci_high": round(high, DIGITS),
                "timepoint": row["efficacy_timepoint"],
                "window": timepoint_window(row.get("efficacy_timepoint_months"), row["efficacy_timepoint"]),
                "overlap_group": row["overlap_group"],
                "pool_status": "",
                "weight": float("nan"),
            }
        )
    columns = [
        "disease",
        "measure",
        "report_id",
        "label",
        "year",
        "report_type",
        "target",
        "responders",
        "evaluable",
        "proportion",
        "ci_low",
        "ci_high",
        "timepoint",
        "window",
        "overlap_group",
        "pool_status",
        "weight",
    ]
    per_report = pd.DataFrame(rows, columns=columns)
    pooled_rows = []
    if not per_report.empty:
        per_report = _sort_groups(per_report, "disease", None, ["measure", "window", "year", "report_id"])
        for key, cell in per_report.groupby(["disease", "measure", "window"], sort=False):
            row = _pool_cell(per_report, key, cell, method, alpha)
            if row is not None:
                pooled_rows.append(row)
    pooled = pd.DataFrame(
        pooled_rows,
        columns=[*POOL_KEY, *ESTIMATE_COLUMNS, "i2", "tau2", "method", "note", "report_ids", "dropped_overlap"],
    )
    skipped_df = pd.DataFrame(sorted(skipped), columns=["report_id", "label", "reason"])
    return Efficacy(reports=per_report, pooled=pooled, skipped=skipped_df)


# ---------------------------------------------------------------- safety


def _safety_rows(group_name: str, cell: pd.DataFrame, alpha: float) -> list[dict]:
    rows = []
    for outcome, event_col, denom_col in SAFETY_OUTCOMES:
        reporting = cell[cell[event_col].notna() & cell[denom_col].notna() & (cell[denom_col].fillna(0) > 0)]
        kept, dropped = count_overlap_once(reporting, denom_col)
        events = int(kept[event_col].sum()) if not kept.empty else 0
        denominator = int(kept[denom_col].sum()) if not kept.empty else 0
        low, high = wilson_ci(events, denominator, alpha) if denominator else (None, None)
        rows.append(
            {
                "group": group_name,
                "outcome": outcome,
                "events": events,
                "denominator": denominator,
                "rate": round(events / denominator, DIGITS) if denominator else None,
                "ci_low": round(low, DIGITS) if low is not None else None,
                "ci_high": round(high, DIGITS) if high is not None else None,
                "reports_counted": len(kept),
                "reports_not_reporting": len(cell) - len(reporting),
                "reports_dropped_overlap": len(dropped),
                "report_ids": "; ".join(sorted(kept["report_id"])),
                "dropped_overlap": "; ".join(sorted(dropped["report_id"])),
            }
        )
    return rows


def safety(data: Selection | pd.DataFrame, by: str = "disease", alpha: float = 0.05) -> pd.DataFrame:
    """CRS / ICANS (any grade, grade >= 3) per attributed disease or per target, plus an
    'all reports' row. Events and denominators are summed over the reports that state both
    (one report per overlap group); ``reports_not_reporting`` counts the others."""
    if by not in SAFETY_GROUPINGS:
        raise ParameterError(f"by={by!r}: use one of {', '.join(SAFETY_GROUPINGS)}")
    sel = as_selection(data)
    df = sel.reports.assign(disease=attributed_disease(sel.reports), target=sel.reports["target"].fillna(NOT_REPORTED))
    groups = disease_order(df["disease"]) if by == "disease" else target_order(df["target"])
    rows = []
    for group in groups:
        rows += _safety_rows(group, df[df[by] == group], alpha)
    if not df.empty:
        rows += _safety_rows(ALL_REPORTS, df, alpha)
    columns = [
        "group",
        "outcome",
        "events",
        "denominator",
        "rate",
        "ci_low",
        "ci_high",
        "reports_counted",
        "reports_not_reporting",
        "reports_dropped_overlap",
        "report_ids",
        "dropped_overlap",
    ]
    out = pd.DataFrame(rows, columns=columns)
    return out.rename(columns={"group": by})


# ---------------------------------------------------------------- caveats


def caveats(data: Selection | pd.DataFrame) -> pd.DataFrame:
    """One row per caveat that applies to the selection: section, caveat, reports affected, consequence."""
    sel = as_selection(data)
    df = sel.reports.assign(disease=attributed_disease(sel.reports))
    rows: list[tuple[str, str, list[str], str]] = []
    for group, cell in df[df["overlap_group"].notna()].groupby("overlap_group", sort=True):
        if len(cell) > 1:
            rows.append(
                (
                    "all",
                    f"overlapping cohort '{group}'",
                    list(cell["report_id"]),
                    "patients counted once per disease (largest report); one report of the group "
                    "kept in pooled and safety sums",
                )
            )
    small = df[df["n_patients"] < SMALL_N]
    rows.append(
        (
            "all",
            f"fewer than {SMALL_N} patients",
            list(small["report_id"]),
            "wide confidence intervals; selection and publication bias likely",
        )
    )
    rows.append(
        (
            "all",
            "conference abstract",
            list(df.loc[df["report_type"] == CONFERENCE, "report_id"]),
            "not peer reviewed; preliminary numbers that later papers may revise",
        )
    )
    rows.append(
        (
            "all",
            "year not reported",
            list(df.loc[df["year"].isna(), "report_id"]),
            "kept: cannot be checked against earliest_year",
        )
    )
    rows.append(
        (
            "all",
            "several diseases in one report",
            list(df.loc[df["disease"] == MIXED, "report_id"]),
            "efficacy and safety shown under 'mixed', not split by disease",
        )
    )
    eff = efficacy(sel)
    for disease, cell in eff.reports.groupby("disease", sort=False):
        measures = sorted(cell["measure"].unique())
        if len(measures) > 1:
            rows.append(
                (
                    "efficacy",
                    f"{disease}: different response measures ({', '.join(measures)})",
                    list(cell["report_id"]),
                    "proportions are comparable only within one measure; pooled only within a measure",
                )
            )
    other = eff.reports[eff.reports["measure"].isin(UNPOOLED_MEASURES)]
    rows.append(
        (
            "efficacy",
            "response measure 'other' (definitions differ)",
            list(other["report_id"]),
            "shown per report, never pooled",
        )
    )
    rows.append(
        (
            "efficacy",
            "response counts missing or without a denominator",
            list(eff.skipped["report_id"]),
            "not in the forest plot or the pooled estimates",
        )
    )
    no_denominator = []
    for _, event_col, denom_col in SAFETY_OUTCOMES:
        no_denominator += list(df.loc[df[event_col].notna() & df[denom_col].isna(), "report_id"])
    rows.append(
        (
            "safety",
            "toxicity count given without its denominator",
            no_denominator,
            "left out of the safety rates (the denominator is not guessed)",
        )
    )
    neither = df[df["crs_N"].isna() & df["icans_N"].isna()]
    rows.append(
        (
            "safety",
            "CRS and ICANS not reported",
            list(neither["report_id"]),
            "not in the safety rates; absence of a report is not absence of toxicity",
        )
    )
    table = [(s, c, len(set(ids)), "; ".join(sorted(set(ids))), what) for s, c, ids, what in rows if ids]
    order = {"all": 0, "efficacy": 1, "safety": 2}
    table.sort(key=lambda r: (order[r[0]], r[1]))
    return pd.DataFrame(table, columns=["section", "caveat", "n_reports", "reports", "consequence"])


def caveat_lines(table: pd.DataFrame, section: str) -> list[str]:
    """Sentences for the caveats of one section ('all', 'efficacy', 'safety'), to show next to its numbers."""
    part = table[table["section"] == section]
    return [
        f"{r.caveat} — {r.n_reports} report{'s' if r.n_reports != 1 else ''} ({r.reports}): {r.consequence}."
        for r in part.itertuples(index=False)
    ]


# ---------------------------------------------------------------- narrative


def narrative_context(data: Selection | pd.DataFrame, alpha: float = 0.05) -> dict:
    """Every number the clinical narrative states, computed from the table."""
    sel = as_selection(data)
    df = sel.reports
    long = disease_rows(sel)
    totals = patient_totals(sel)
    diseases = []
    for code in disease_order(long["disease"]):
        cell = long[long["disease"] == code]
        diseases.append(
            {
                "code": code,
                "name": disease_name(code),
                "reports": int(cell["report_id"].nunique()),
                "patients": unique_patients(cell),
            }
        )
    targets = []
    for target in target_order(df["target"].fillna(NOT_REPORTED)):
        cell = df[df["target"].fillna(NOT_REPORTED) == target]
        targets.append({"target": target, "reports": len(cell)})
    eff = efficacy(sel, alpha)
    pooled = [
        {
            "disease": r.disease,
            "disease_name": disease_name(r.disease),
            "measure": r.measure,
            "reports": int(r.reports),
            "responders": int(r.responders),
            "evaluable": int(r.evaluable),
            "window": r.window,
            "estimate": float(r.estimate),
            "ci_low": float(r.ci_low),
            "ci_high": float(r.ci_high),
            "pi_low": None if pd.isna(r.pi_low) else float(r.pi_low),
            "pi_high": None if pd.isna(r.pi_high) else float(r.pi_high),
            "method": r.method,
            "note": r.note,
            "i2": None if pd.isna(r.i2) else float(r.i2),
        }
        for r in eff.pooled.itertuples(index=False)
    ]
    overall = safety(sel, "disease", alpha) if not df.empty else pd.DataFrame()
    tox = {}
    # on a one-disease selection only reports of that disease alone count: a mixed cohort's toxicity
    # belongs to no single disease
    scope = sel.disease if sel.disease != ALL else ALL_REPORTS
    for key, (outcome, _, _) in zip(("crs_any", "crs_g3", "icans_any", "icans_g3"), SAFETY_OUTCOMES, strict=True):
        rows = (
            overall[(overall["disease"] == scope) & (overall["outcome"] == outcome)] if not overall.empty else overall
        )
        if rows.empty:
            tox[key] = {"events": 0, "denominator": 0, "reports": 0, "not_reporting": 0}
            continue
        r = rows.iloc[0]
        tox[key] = {
            "events": int(r["events"]),
            "denominator": int(r["denominator"]),
            "reports": int(r["reports_counted"]),
            "not_reporting": int(r["reports_not_reporting"]),
        }
    groups = df["overlap_group"].dropna()
    shared = groups[groups.duplicated(keep=False)]
    return {
        "selection": sel.describe(),
        "disease": sel.disease,
        "disease_prefix": "" if sel.disease == ALL else f"{sel.disease} ",
        "n_mixed": int((attributed_disease(df) == MIXED).sum()) if not df.empty else 0,
        "n_reports": len(df),
        "n_conference_abstracts": int((df["report_type"] == CONFERENCE).sum()),
        "n_small": int((df["n_patients"] < SMALL_N).sum()),
        "small_n": SMALL_N,
        "n_overlap_groups": int(shared.nunique()),
        "n_overlap_reports": len(shared),
        "patients_reported": totals["reported"],
        "patients_unique": totals["unique"],
        "diseases": diseases,
        "targets": targets,
        "n_efficacy_reports": len(eff.reports),
        "n_efficacy_skipped": len(eff.skipped),
        "pooled": pooled,
        "crs_any": tox["crs_any"],
        "crs_g3": tox["crs_g3"],
        "icans_any": tox["icans_any"],
        "icans_g3": tox["icans_g3"],
    }
