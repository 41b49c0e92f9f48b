"""How well each number is sourced, as tables and sentences a reader can check.

Source tiers per report, the share of facts resting on secondary sources, per-disease outcome
tables (with the curator's flags beside the numbers), outcome completeness, and the reports given
for another indication.
"""

from __future__ import annotations

import html

import pandas as pd

from helpers.core.codes import OUTCOME_CLASSES, ROB_ITEMS, TIERS
from helpers.evidence.outcomes import WHOLE_COHORT, completeness, secondary_facts
from helpers.evidence.tables import parse_diseases
from helpers.report import references
from helpers.synthesis import clinical

NOT_REPORTED = "not reported"
ORDER = {c: i for i, c in enumerate(OUTCOME_CLASSES.codes)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def tier_sentence(view: pd.DataFrame, outcomes: pd.DataFrame) -> str:
    """'41 of 45 reports have a primary source; 12 of 380 stated facts rest on secondary sources only.'"""
    if view.empty:
        return "No clinical report is in this selection, so no fact rests on any source here."
    ids = set(view["report_id"])
    primary = int((view["tier"] == "primary").sum())
    facts, secondary = secondary_facts(outcomes[outcomes["report_id"].isin(ids)])
    return (
        f"{primary} of {_plural(len(view), 'report')} {'has' if primary == 1 else 'have'} a primary source "
        f"(PubMed/PMC record, publisher, congress abstract or registry); {secondary} of "
        f"{_plural(facts, 'stated fact')} rest on secondary sources only (review, news, forum, aggregator)."
    )


def provenance_table(view: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """One row per report: citation, tier, and the kinds of pages it was read in."""
    mine = sources[sources["table"] == "clinical"]
    kinds = mine.groupby("row_id")["kind"].agg(lambda k: ", ".join(sorted(set(k))))
    return pd.DataFrame(
        {
            "report": [clinical.citation_label(r) for _, r in view.iterrows()],
            "report_id": view["report_id"].to_numpy(),
            "tier": view["tier"].map(lambda t: TIERS.label(t).split(" (")[0] if not pd.isna(t) else NOT_REPORTED),
            "pages read": view["report_id"].map(kinds).fillna("").to_numpy(),
        }
    )


def _result(row: pd.Series) -> str:
    if row["status"] != "stated":
        return str(row["status"])
    parts = []
    if not pd.isna(row["n"]):
        parts.append(f"{int(row['n'])}/{int(row['N'])}" if not pd.isna(row["N"]) else f"{int(row['n'])} patients")
    if not pd.isna(row["max_grade"]):
        parts.append(f"max grade {int(row['max_grade'])}")
    if not pd.isna(row["grade3plus_n"]) and row["outcome_class"] in ("crs", "icans"):
        parts.append(f"grade ≥3: {int(row['grade3plus_n'])}")
    if not pd.isna(row["value"]):
        unit = "" if pd.isna(row["unit"]) else f" {row['unit']}"
        parts.append(f"{float(row['value']):g}{unit}")
    if not pd.isna(row["text"]):
        parts.append(str(row["text"]))
    return "; ".join(dict.fromkeys(parts))


def _flags(row: pd.Series, mixed: bool) -> str:
    flags = []
    if row["population"] == WHOLE_COHORT and mixed:
        flags.append("whole mixed cohort, not this disease alone")
    if not pd.isna(row["note"]):
        flags.append(str(row["note"]))
    if row["status"] == "stated" and row["tier"] == "secondary":
        flags.append("secondary source only")
    return "; ".join(flags)


def outcome_table(outcomes: pd.DataFrame, view: pd.DataFrame, disease: str | None = None) -> pd.DataFrame:
    """The outcomes of the reports in ``view`` (for one disease: its subgroup rows and whole-cohort rows).

    Columns: report, outcome, measure, result, timepoint, tier, flags (curator's notes, mixed cohorts,
    secondary sources). Rows ordered by report, then outcome class.
    """
    labels = {r["report_id"]: clinical.citation_label(r) for _, r in view.iterrows()}
    diseases = {
        rid: set() if pd.isna(cell) else {c for c, _ in parse_diseases(str(cell))}
        for rid, cell in zip(view.report_id, view.diseases, strict=True)
    }
    rows = outcomes[outcomes["report_id"].isin(labels)].copy()
    if disease is not None:
        keep = [p == WHOLE_COHORT or disease in str(p).split(";") for p in rows["population"]]
        rows = rows.loc[pd.Series(keep, index=rows.index, dtype=bool)]
    rows["_order"] = [ORDER.get(c, len(ORDER)) for c in rows["outcome_class"]]
    rows = rows.sort_values(["report_id", "_order"], kind="stable")
    return pd.DataFrame(
        {
            "report": rows["report_id"].map(labels).to_numpy(),
            "outcome": rows["outcome_class"].map(OUTCOME_CLASSES.label).to_numpy(),
            "measure": rows["measure"].fillna("").to_numpy(),
            "result": [_result(r) for _, r in rows.iterrows()],
            "timepoint": rows["timepoint"].fillna("").to_numpy(),
            "tier": rows["tier"].fillna("").to_numpy(),
            "flags": [_flags(r, len(diseases.get(r["report_id"], ())) > 1) for _, r in rows.iterrows()],
        }
    )


def completeness_table(outcomes: pd.DataFrame, view: pd.DataFrame, min_patients: int = 3) -> pd.DataFrame:
    """Per outcome class: reports of ``min_patients`` or more stating it, not reporting it, not checked."""
    return completeness(outcomes[outcomes["report_id"].isin(set(view["report_id"]))], view, min_patients)


def other_indication_table(sel: clinical.Selection, view: pd.DataFrame) -> pd.DataFrame:
    """Reports of CAR cells given for another indication in patients with a rheumatic disease."""
    left = clinical.other_indication(sel)
    rows = view[view["report_id"].isin(set(left["report_id"]))]
    return pd.DataFrame(
        {
            "report": [clinical.citation_label(r) for _, r in rows.iterrows()],
            "given for": rows["indication"].to_numpy(),
            "rheumatic disease": rows["diseases"].to_numpy(),
            "target": rows["target"].fillna(NOT_REPORTED).to_numpy(),
            "notes": rows["notes"].fillna("").to_numpy(),
        }
    )


def references_html(reports: pd.DataFrame, trials: pd.DataFrame) -> str:
    """Two reference lists (publications, then trial registrations), formatted by the CSL style, with links."""
    blocks = []
    for title, items in (
        ("Publications", references.report_items(reports)),
        ("Trial registrations", references.trial_items(trials)),
    ):
        if not items:
            continue
        text = references.formatted(items)
        entries = "".join(
            f'<li id="ref-{html.escape(item["id"])}">{text[item["id"]]}'
            f"{' · ' + references.links_html(item) if references.links_html(item) else ''}</li>"
            for item in sorted(items, key=lambda i: text[i["id"]].casefold())
        )
        blocks.append(f'<h3>{html.escape(title)}</h3><ol class="wb-refs">{entries}</ol>')
    return "".join(blocks) or "<p>No references.</p>"


ROB_SYMBOLS = {"yes": "+", "no": "−", "unclear": "?", "not applicable": "n/a"}


def risk_of_bias_table(judgements: pd.DataFrame, view: pd.DataFrame) -> pd.DataFrame:
    """One row per report: a symbol per item and the overall judgement (the reasons are in the CSV)."""
    labels = {r["report_id"]: clinical.citation_label(r) for _, r in view.iterrows()}
    mine = judgements[judgements["report_id"].isin(labels)]
    wide = mine.pivot(index="report_id", columns="item", values="judgement")
    items = [c for c in ROB_ITEMS.codes if c in wide.columns and c != "overall"]
    table = pd.DataFrame({"report": [labels[r] for r in wide.index]})
    for item in items:
        table[item.replace("_", " ")] = [ROB_SYMBOLS.get(str(v), str(v)) for v in wide[item]]
    table["overall"] = list(wide["overall"]) if "overall" in wide else None
    return table
