"""The trial landscape as tables and lines a reader scans: export summary, published comparison."""

from __future__ import annotations

import pandas as pd

from helpers.core.paths import REGISTRY_EXPORTS, display_path
from helpers.evidence.trials import CurrentTrials
from helpers.report.narrative import fmt_ci, fmt_prop


def export_summary(current: CurrentTrials) -> str:
    """One line saying what the exports contributed (or that none were found)."""
    manifest, audit = current.manifest, current.audit
    if manifest.empty:
        return (
            f"No ClinicalTrials.gov exports were found in {display_path(REGISTRY_EXPORTS)}/: "
            f"the landscape is the curated table alone ({len(current.trials)} trials)."
        )
    parsed = int((manifest["status"] == "parsed").sum())
    errors = int((manifest["status"] == "error").sum())
    added = int((audit["change"] == "added").sum())
    updated_trials = audit.loc[audit["change"] == "updated", "registry_id"].nunique()
    return (
        f"{len(manifest)} export file(s) found: {parsed} read, {errors} with errors (listed below, not used). "
        f"They added {added} trial(s) and updated {updated_trials} curated trial(s); "
        f"{len(current.trials)} trials in total."
    )


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """``compare_with_published`` in a few readable columns (k/n (share), CI as text)."""
    rows = []
    for _, rec in comparison.iterrows():
        ours = not pd.isna(rec["this snapshot n"])
        rows.append(
            {
                "published figure": rec["label"],
                "source": rec["source"],
                "published": fmt_prop(rec["published k"], rec["published n"]),
                "this snapshot": fmt_prop(rec["this snapshot k"], rec["this snapshot n"]) if ours else pd.NA,
                "95% CI (this snapshot)": fmt_ci(rec["ci low"], rec["ci high"]).removeprefix("95% CI ")
                if ours
                else pd.NA,
                "not stated here": rec["not stated"],
                "difference (points)": rec["difference (points)"],
                "how counted here": rec["how counted here"],
            }
        )
    return pd.DataFrame(rows)
