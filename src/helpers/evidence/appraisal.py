"""Risk of bias of the clinical reports (Murad et al.'s tool for case reports and series).

``risk_of_bias.csv`` holds one judgement per report and item, each with its reason and the page it
rests on, and an overall judgement derived by a stated rule: *low* when selection, exposure,
outcome, follow-up and reporting are all ``yes``; *high* when any of selection, outcome or
reporting is ``no`` or three or more of those five are ``no``/``unclear``; else *moderate*.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.core.codes import RISK_OF_BIAS, ROB_DECISIVE_ITEMS, ROB_ITEMS, ROB_KEY_ITEMS
from helpers.core.errors import SchemaError
from helpers.evidence.tables import load_table

OVERALL = "overall"
KEY_ITEMS = ROB_KEY_ITEMS  # the rule's items, from the schema file
DECISIVE = ROB_DECISIVE_ITEMS


def load_risk_of_bias(path: Path | str | None = None) -> pd.DataFrame:
    """``risk_of_bias.csv``, validated."""
    return load_table(RISK_OF_BIAS, path)


def overall_from_items(items: dict[str, str]) -> str:
    """The overall judgement the rule gives for one report's item judgements."""
    key = [items.get(i, "unclear") for i in KEY_ITEMS]
    if all(j == "yes" for j in key):
        return "low"
    if any(items.get(i) == "no" for i in DECISIVE) or sum(j != "yes" for j in key) >= 3:
        return "high"
    return "moderate"


def check_risk_of_bias(table: pd.DataFrame, report_ids: set[str]) -> None:
    """Raise SchemaError naming every report without a full set of items, unknown reports, and overall
    judgements that do not follow the rule."""
    problems = [f"report '{r}' is not in clinical_reports.csv" for r in sorted(set(table["report_id"]) - report_ids)]
    items = set(ROB_ITEMS.codes)
    for rid in sorted(report_ids):
        rows = table[table["report_id"] == rid]
        missing = sorted(items - set(rows["item"]))
        if missing:
            problems.append(f"report '{rid}' has no judgement for {', '.join(missing)}")
            continue
        judged = dict(zip(rows["item"], rows["judgement"], strict=True))
        expected = overall_from_items(judged)
        if judged[OVERALL] != expected:
            problems.append(f"report '{rid}': overall '{judged[OVERALL]}' but the items give '{expected}'")
    if problems:
        raise SchemaError("risk_of_bias.csv: " + "; ".join(problems))


def overall_by_report(table: pd.DataFrame) -> pd.Series:
    """The overall judgement per report_id."""
    overall = table[table["item"] == OVERALL]
    return pd.Series(list(overall["judgement"]), index=pd.Index(overall["report_id"], name="report_id"), dtype="string")
