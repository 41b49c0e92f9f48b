"""The clinical results as tables a reader scans: labels, 'k/n', percentages and CIs as text."""

from __future__ import annotations

import pandas as pd

from helpers.synthesis import clinical


def _pct(x: object) -> object:
    return None if x is None or pd.isna(x) else round(100 * float(x), 1)


def _ci_text(low: object, high: object) -> object:
    if low is None or pd.isna(low):
        return None
    return f"{100 * float(low):.0f}–{100 * float(high):.0f}%"


def included_table(data: clinical.Selection | pd.DataFrame) -> pd.DataFrame:
    """The selected reports as readers cite them."""
    sel = clinical.as_selection(data)
    df = sel.reports
    return (
        pd.DataFrame(
            {
                "report": [clinical.citation_label(r) for _, r in df.iterrows()],
                "report_id": df["report_id"],
                "type": df["report_type"],
                "diseases": df["diseases"],
                "patients": df["n_patients"],
                "target": df["target"],
                "product": df["product"],
                "cell type": df["cell_type"],
                "cell source": df["cell_source"],
                "follow-up (months)": df["follow_up_months"],
                "overlap group": df["overlap_group"],
            }
        )
        .astype(object)
        .where(lambda t: t.notna(), None)
    )


def evidence_map_display(table: pd.DataFrame) -> pd.DataFrame:
    """The evidence map with its columns renamed for reading."""
    return table.rename(
        columns={
            "patients": "patients (overlap counted once)",
            "patients_all_reports": "patients (sum over reports)",
            "dominant_report_type": "dominant report type",
            "report_types": "report types",
            "report_ids": "reports (ids)",
        }
    )


def efficacy_display(eff: clinical.Efficacy) -> pd.DataFrame:
    """Per-report response rates as shown on the page: k/n, percent and Wilson CI."""
    r = eff.reports
    return (
        pd.DataFrame(
            {
                "disease": r["disease"],
                "measure": r["measure"],
                "report": r["label"],
                "type": r["report_type"],
                "target": r["target"],
                "responders/evaluable": [f"{k}/{n}" for k, n in zip(r["responders"], r["evaluable"], strict=True)],
                "%": [_pct(p) for p in r["proportion"]],
                "95% CI (Wilson)": [_ci_text(lo, hi) for lo, hi in zip(r["ci_low"], r["ci_high"], strict=True)],
                "timepoint": r["timepoint"],
                "pooling": r["pool_status"],
            }
        )
        .astype(object)
        .where(lambda t: t.notna(), None)
    )


def pooled_display(eff: clinical.Efficacy) -> pd.DataFrame:
    """Pooled response rates as shown on the page, with the reports pooled and left out."""
    p = eff.pooled
    return (
        pd.DataFrame(
            {
                "disease": p["disease"],
                "measure": p["measure"],
                "window": p["window"],
                "reports": p["reports"],
                "responders/evaluable": [f"{k}/{n}" for k, n in zip(p["responders"], p["evaluable"], strict=True)],
                "pooled %": [_pct(x) for x in p["estimate"]],
                "95% CI": [_ci_text(lo, hi) for lo, hi in zip(p["ci_low"], p["ci_high"], strict=True)],
                "95% prediction interval": [_ci_text(lo, hi) for lo, hi in zip(p["pi_low"], p["pi_high"], strict=True)],
                "I² %": [_pct(x) for x in p["i2"]],
                "τ²": p["tau2"],
                "method": p["method"],
                "note": p["note"].replace("", None),
                "reports pooled": p["report_ids"],
                "left out (same cohort)": p["dropped_overlap"].replace("", "none"),
            }
        )
        .astype(object)
        .where(lambda t: t.notna(), None)
    )


def safety_display(table: pd.DataFrame) -> pd.DataFrame:
    """Wide: one row per group, 'events/denominator (%)' per outcome, 'not reported' when no report states it."""
    by = table.columns[0]
    rows = []
    for group, cell in table.groupby(by, sort=False):
        row: dict[str, object] = {by: group}
        for r in cell.itertuples(index=False):
            row[r.outcome] = (
                f"{r.events}/{r.denominator} ({_pct(r.rate):g}%; {r.reports_counted} "
                f"report{'s' if r.reports_counted != 1 else ''})"
                if r.denominator
                else None
            )
        crs = cell[cell["outcome"] == "CRS any grade"].iloc[0]
        icans = cell[cell["outcome"] == "ICANS any grade"].iloc[0]
        row["reports without CRS / ICANS counts"] = f"{crs.reports_not_reporting} / {icans.reports_not_reporting}"
        dropped = sorted({i for ids in cell["dropped_overlap"] for i in ids.split("; ") if i})
        row["left out (same cohort)"] = "; ".join(dropped) or "none"
        rows.append(row)
    return pd.DataFrame(rows).astype(object).where(lambda t: t.notna(), None)


def _counts(k: object, n: object) -> str | None:
    return None if pd.isna(k) else f"{int(k)}/{int(n)}"


def sensitivity_display(table: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity (or cumulative) analyses as shown on the page: k, n/N, % with CI and PI."""
    cells = zip(table["disease"], table["measure"], table["window"], strict=True)
    counts = zip(table["responders"], table["evaluable"], strict=True)
    return (
        pd.DataFrame(
            {
                "pooled cell": [f"{d} · {m} · {w}" for d, m, w in cells],
                "analysis": table["analysis"],
                "reports": table["reports"],
                "responders/evaluable": [_counts(k, n) for k, n in counts],
                "pooled %": [_pct(x) for x in table["estimate"]],
                "95% CI": [_ci_text(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
                "95% PI": [_ci_text(lo, hi) for lo, hi in zip(table["pi_low"], table["pi_high"], strict=True)],
                "note": table["note"].replace("", None),
            }
        )
        .astype(object)
        .where(lambda t: t.notna(), None)
    )


def subgroup_display(table: pd.DataFrame) -> pd.DataFrame:
    """Subgroup fits with the test for subgroup differences, one row per subgroup."""
    cells = zip(table["disease"], table["measure"], table["window"], strict=True)
    return (
        pd.DataFrame(
            {
                "pooled cell": [f"{d} · {m} · {w}" for d, m, w in cells],
                "by": table["by"].replace({"product_type": "product type"}),
                "subgroup": table["subgroup"],
                "reports": table["reports"],
                "estimate %": [_pct(x) for x in table["estimate"]],
                "95% CI": [_ci_text(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
                "Q between": [None if pd.isna(q) else round(float(q), 2) for q in table["q_between"]],
                "p (subgroup difference)": [None if pd.isna(v) else round(float(v), 3) for v in table["p_between"]],
            }
        )
        .astype(object)
        .where(lambda t: t.notna(), None)
    )
