"""Sensitivity analyses of every pooled response estimate, and the cumulative meta-analysis.

For each pooled cell (disease, response measure, timepoint window) of :func:`clinical.efficacy`
the same model is refitted on: each leave-one-out subset; the cell without conference abstracts;
without facts read only in secondary sources; without reports at high risk of bias; and with the
alternative overlap rule (per overlapping cohort the most recent report instead of the largest).
The cumulative meta-analysis adds the reports in order of publication year.
"""

from __future__ import annotations

import pandas as pd

from helpers.synthesis import meta
from helpers.synthesis.clinical import ESTIMATE_COLUMNS, POOL_KEY
from helpers.synthesis.selection import CONFERENCE

MIN_STUDIES_FOR_BIAS_TESTS = 10  # funnel plots and Egger's test have no power below this (Sterne et al. 2011)
KEY = list(POOL_KEY)
COLUMNS = [*KEY, "analysis", *ESTIMATE_COLUMNS, "report_ids", "note"]


def _fit(rows: pd.DataFrame, method: str) -> dict:
    if len(rows) < 2:
        return {"reports": len(rows), "note": "not estimable: fewer than 2 reports"}
    fit = meta.pool(list(rows["responders"]), list(rows["evaluable"]), method=method)
    out = {f: getattr(fit, f) for f in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
    return out | {"reports": fit.k, "responders": fit.events, "evaluable": fit.total, "note": fit.note}


def _latest_per_group(cell: pd.DataFrame) -> pd.DataFrame:
    """The alternative overlap rule: per overlap group, the most recent report (then the largest)."""
    grouped = cell[cell["overlap_group"].notna()]
    single = cell[cell["overlap_group"].isna()]
    latest = grouped.sort_values(["year", "evaluable", "report_id"], ascending=[False, False, True], na_position="last")
    return pd.concat([single, latest.drop_duplicates("overlap_group")]).sort_values("report_id")


def _analyses(cell: pd.DataFrame, kept: pd.DataFrame, context: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    out = [("main analysis", kept)]
    out += [(f"leave out {rid}", kept[kept["report_id"] != rid]) for rid in kept["report_id"]]
    abstracts = set(context.loc[context["report_type"] == CONFERENCE, "report_id"])
    out.append(("without conference abstracts", kept[~kept["report_id"].isin(abstracts)]))
    secondary = set(context.loc[context.get("efficacy_tier", pd.Series(dtype=str)) == "secondary", "report_id"])
    out.append(("without facts from secondary sources", kept[~kept["report_id"].isin(secondary)]))
    if "risk_of_bias" in context:
        high = set(context.loc[context["risk_of_bias"] == "high", "report_id"])
        out.append(("without reports at high risk of bias", kept[~kept["report_id"].isin(high)]))
    out.append(("overlap rule: most recent report per cohort", _latest_per_group(cell)))
    return out


def sensitivity(efficacy_reports: pd.DataFrame, context: pd.DataFrame, method: str = "glmm") -> pd.DataFrame:
    """One row per analysis of every pooled cell; ``context`` is the selection's report view
    (report_type, efficacy_tier and, when known, risk_of_bias per report_id)."""
    rows = []
    pooled_cells = efficacy_reports[efficacy_reports["pool_status"] == "pooled"][KEY].drop_duplicates()
    for key in pooled_cells.itertuples(index=False):
        mask = (efficacy_reports[KEY] == pd.Series(key._asdict())).all(axis=1)
        cell = efficacy_reports[mask]
        kept = cell[cell["pool_status"] == "pooled"]
        for name, subset in _analyses(cell, kept, context):
            ids = "; ".join(sorted(subset["report_id"]))
            rows.append(dict(key._asdict()) | {"analysis": name, "report_ids": ids} | _fit(subset, method))
    return pd.DataFrame(rows, columns=COLUMNS)


def cumulative(efficacy_reports: pd.DataFrame, method: str = "glmm") -> pd.DataFrame:
    """Per pooled cell, the estimate after each report in order of publication year (from 2 reports on)."""
    rows = []
    pooled = efficacy_reports[efficacy_reports["pool_status"] == "pooled"]
    for key, cell in pooled.groupby(KEY, sort=False):
        ordered = cell.sort_values(["year", "report_id"], na_position="last")
        for i in range(2, len(ordered) + 1):
            subset = ordered.iloc[:i]
            last = subset.iloc[-1]
            added = f"+ {last['label']}"
            rows.append(dict(zip(KEY, key, strict=True)) | {"analysis": added} | _fit(subset, method))
    return pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "report_ids"])


def small_k_note(k: int) -> str:
    """Why no funnel plot or Egger test is shown for a pooled estimate of k reports."""
    if k >= MIN_STUDIES_FOR_BIAS_TESTS:
        return ""
    return (
        f"{k} reports: no funnel plot or Egger test (both need at least {MIN_STUDIES_FOR_BIAS_TESTS} studies to "
        "say anything about small-study effects); read the estimate as provisional"
    )


def subgroup_differences(efficacy_reports: pd.DataFrame, context: pd.DataFrame, by: str, method: str = "glmm"):
    """Per pooled cell: a fit per subgroup (``by``: a column of ``context`` such as target or cell_type) and
    the test for subgroup differences (Cochran's Q between subgroup estimates on the logit scale, df =
    groups - 1, as RevMan's random-effects test). Subgroups with one report or no finite estimate are
    listed but not tested."""
    rows = []
    labels = context.set_index("report_id")[by].astype("string").fillna("not reported")
    pooled = efficacy_reports[efficacy_reports["pool_status"] == "pooled"]
    for key, cell in pooled.groupby(KEY, sort=False):
        cell = cell.assign(subgroup=cell["report_id"].map(labels))
        fits = {
            g: meta.pool(list(part["responders"]), list(part["evaluable"]), method=method).as_dict() | {"k": len(part)}
            for g, part in cell.groupby("subgroup", sort=True)
        }
        tested = {g: f for g, f in fits.items() if f["k"] >= 2 and not pd.isna(f["mu"])}
        q, p = _between(tested, cell, method)
        for group, fit in fits.items():
            rows.append(
                dict(zip(KEY, key, strict=True))
                | {"by": by, "subgroup": group, "reports": fit["k"], "estimate": fit.get("estimate")}
                | {"ci_low": fit.get("ci_low"), "ci_high": fit.get("ci_high"), "q_between": q, "p_between": p}
            )
    return pd.DataFrame(rows, columns=[*KEY, "by", "subgroup", "reports", "estimate", "ci_low", "ci_high",
                                       "q_between", "p_between"])  # fmt: skip


def _between(tested: dict, cell: pd.DataFrame, method: str) -> tuple[float | None, float | None]:
    """Cochran's Q between the subgroups' pooled logits and its chi-square p value (None below 2 groups)."""
    from scipy import stats

    if len(tested) < 2:
        return None, None
    mus, ses = [], []
    for group in tested:
        part = cell[cell["subgroup"] == group]
        fit = meta.pool(list(part["responders"]), list(part["evaluable"]), method=method)
        if pd.isna(fit.mu) or not fit.se:
            return None, None
        mus.append(fit.mu)
        ses.append(fit.se)
    weights = [1 / s**2 for s in ses]
    mean = sum(w * m for w, m in zip(weights, mus, strict=True)) / sum(weights)
    q = sum(w * (m - mean) ** 2 for w, m in zip(weights, mus, strict=True))
    return float(q), float(stats.chi2.sf(q, len(mus) - 1))


def product_type(reports: pd.DataFrame) -> pd.Series:
    """'autologous CAR-T', 'allogeneic CAR-NK', ... per report ('not reported' where the source is not stated)."""
    source = reports["cell_source"].astype("string").fillna("")
    kind = reports["cell_type"].astype("string").fillna("CAR cells")
    return pd.Series(
        [f"{s} {k}".strip() if s else f"{k} (source not reported)" for s, k in zip(source, kind, strict=True)],
        index=reports.index,
        dtype="string",
    )
