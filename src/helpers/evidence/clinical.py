"""The clinical evidence as the synthesis stage reads it: reports + their main outcomes + provenance.

:func:`clinical_view` joins the three curated files (``clinical_reports.csv``, ``outcomes.csv``,
``sources/sources.csv``) into one row per report, after checking that they fit together.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from helpers.core.codes import TIERS
from helpers.core.errors import SchemaError
from helpers.evidence.outcomes import check_against_reports, wide_outcomes
from helpers.evidence.provenance import row_provenance

CLINICAL_TABLE = "clinical"


def clinical_view(
    reports: pd.DataFrame, outcomes: pd.DataFrame, sources: pd.DataFrame, tiers: Iterable[str] = tuple(TIERS)
) -> pd.DataFrame:
    """One row per report: its columns, its main outcomes (facts of ``tiers`` only), ``source_url`` and ``tier``."""
    check_against_reports(outcomes, reports)
    provenance = row_provenance(sources, CLINICAL_TABLE, reports["report_id"])
    wide = wide_outcomes(outcomes, tiers).set_index("report_id")
    missing = sorted(set(reports["report_id"]) - set(wide.index))
    if missing:
        raise SchemaError(f"outcomes.csv: no outcome rows for {', '.join(missing)}")
    view = reports.set_index("report_id", drop=False)
    view = view.join(wide).join(provenance[["source_url", "tier"]])
    return view.reset_index(drop=True)
