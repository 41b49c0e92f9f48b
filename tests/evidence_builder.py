"""Write synthetic clinical evidence (reports, long outcomes, sources) from compact wide rows, and load it back
through the same loaders and checks as the shipped tables.

A row is a dict of report columns plus the wide outcome names the synthesis stage reads
(``efficacy_measure``, ``efficacy_n_responding``, ``crs_n``, ``crs_N``, ``dose``, ...). A blank or
missing outcome is written ``not reported``; ``tier`` (default primary) is the tier of every fact.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from helpers.core.codes import CLINICAL_COLUMNS, OUTCOMES, SOURCES
from helpers.evidence.clinical import clinical_view
from helpers.evidence.outcomes import load_outcomes
from helpers.evidence.provenance import load_sources
from helpers.evidence.tables import load_clinical_reports

# class -> {outcome column: wide key}
OUTCOME_FIELDS = {
    "efficacy": {
        "measure": "efficacy_measure",
        "n": "efficacy_n_responding",
        "N": "efficacy_n_evaluable",
        "timepoint": "efficacy_timepoint",
        "timepoint_months": "efficacy_timepoint_months",
    },
    "dfr": {"n": "dfr_n", "N": "dfr_N"},
    "crs": {"n": "crs_n", "N": "crs_N", "max_grade": "crs_max_grade", "grade3plus_n": "crs_grade3plus_n"},
    "icans": {"n": "icans_n", "N": "icans_N", "max_grade": "icans_max_grade", "grade3plus_n": "icans_grade3plus_n"},
    "serious_infection": {"n": "serious_infections_n"},
    "dose": {"text": "dose"},
    "lymphodepletion": {"text": "lymphodepletion"},
    "follow_up": {"value": "follow_up_months", "text": "follow_up_note"},
    "bcell_reconstitution": {"text": "bcell_reconstitution"},
}
VALUE_KEYS = ("n", "N", "max_grade", "grade3plus_n", "value", "text")
URL = "https://example.org/{}"


def _write(path: Path, columns, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def report_row(row: dict) -> dict:
    """The clinical_reports.csv cells of a wide row: blanks say `not reported`."""
    base = {"indication": "rheumatic disease"}
    out = {}
    for column in CLINICAL_COLUMNS:
        value = str(row.get(column, base.get(column, ""))).strip()
        out[column] = value or "not reported"
    return out


def outcome_rows(row: dict) -> list[dict]:
    """The outcomes.csv rows of a wide row (one per required class)."""
    rows = []
    tier = row.get("tier", "primary")
    for cls, fields in OUTCOME_FIELDS.items():
        out = {c: "" for c in OUTCOMES.names}
        out |= {"report_id": row["report_id"], "outcome_class": cls, "population": "all"}
        out["main"] = "yes" if cls == "efficacy" else "no"
        for column, key in fields.items():
            out[column] = str(row.get(key, "")).strip()
        stated = any(out[k] for k in VALUE_KEYS)
        out["status"] = "stated" if stated else "not reported"
        if stated:
            out["tier"], out["source_url"] = tier, URL.format(row["report_id"])
        if cls == "follow_up" and out["value"]:
            out["unit"] = "months"
        rows.append(out)
    return rows


def write_clinical(folder: Path, rows: list[dict]) -> dict[str, Path]:
    """Write the three files for ``rows`` into folder; return their paths."""
    reports = _write(folder / "clinical_reports.csv", CLINICAL_COLUMNS, [report_row(r) for r in rows])
    outcomes = _write(folder / "outcomes.csv", OUTCOMES.names, [o for r in rows for o in outcome_rows(r)])
    sources = _write(
        folder / "sources.csv",
        SOURCES.names,
        [
            {
                "table": "clinical",
                "row_id": r["report_id"],
                "url": URL.format(r["report_id"]),
                "tier": r.get("tier", "primary"),
                "kind": "pubmed" if r.get("tier", "primary") == "primary" else "news",
                "facts": "all",
                "read_on": "2026-12-01",
            }
            for r in rows
        ],
    )
    return {"reports": reports, "outcomes": outcomes, "sources": sources}


def load_view(folder: Path, rows: list[dict], tiers=("primary", "secondary")) -> pd.DataFrame:
    """Write rows and load them back as the clinical view the synthesis stage reads."""
    paths = write_clinical(folder, rows)
    return clinical_view(
        load_clinical_reports(paths["reports"]), load_outcomes(paths["outcomes"]), load_sources(paths["sources"]), tiers
    )
