"""The trials of a snapshot: the curated table updated by the ClinicalTrials.gov exports found.

Registry facts win where the registry states them; curated normalisations (diseases, targets,
cell type and source, product) and source URLs are kept; trials only in an export are added.
Every change is listed in an audit table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from helpers.core.codes import TRIAL_COLUMNS
from helpers.core.errors import IngestError, SchemaError
from helpers.core.paths import EVIDENCE
from helpers.evidence.provenance import load_sources, row_provenance
from helpers.evidence.tables import load_trials
from helpers.sources.registry import read_registry_exports

REGISTRY_FIELDS = (
    "title",
    "status",
    "status_date",
    "phase",
    "sponsor",
    "sponsor_type",
    "countries",
    "conditions",
    "start_date",
    "enrollment",
    "min_age",
    "paediatric_eligible",
    "secondary_ids",
)
CURATED_FIELDS = ("diseases", "targets", "cell_type", "cell_source", "product")
PROVENANCE_COLUMNS = ("source_url", "tier")  # from sources/sources.csv (curated) or the export (added)
MERGED_COLUMNS = (*TRIAL_COLUMNS, *PROVENANCE_COLUMNS)
AUDIT_COLUMNS = ("registry_id", "field", "old", "new", "source_file", "change")
CHANGE_ORDER = {"added": 0, "updated": 1, "derived": 2}


class CurrentTrials(NamedTuple):
    """The trials of this build: curated table merged with the exports found (tuple-unpackable)."""

    trials: pd.DataFrame
    audit: pd.DataFrame
    manifest: pd.DataFrame


def with_provenance(trials: pd.DataFrame, sources: Path | str | None) -> pd.DataFrame:
    """The trials with ``source_url`` and ``tier`` from the sources table (NA without one)."""
    out = trials.copy()
    if sources is None:
        out["source_url"] = pd.array([pd.NA] * len(out), dtype="string")
        out["tier"] = pd.array([pd.NA] * len(out), dtype="string")
        return out
    provenance = row_provenance(load_sources(sources), "trials", out["registry_id"])
    out["source_url"] = provenance["source_url"].array
    out["tier"] = provenance["tier"].array
    return out


def current_trials(
    registry_folder: Path | str, curated: Path | str | None = None, sources: Path | str | None = None
) -> CurrentTrials:
    """Curated ``trials.csv`` updated by every ClinicalTrials.gov export in ``registry_folder``.

    Returns (trials, audit, manifest): the merged trials sorted by registry_id, the merge audit
    (one row per changed, added or derived field) and the export manifest (one row per export
    file: parsed or error, with the reason). No exports -> the curated table, empty audit and
    manifest. Only ``*.json`` / ``*.csv`` files are read (the folder's README is not an export).
    """
    if curated is None and sources is None:
        sources = EVIDENCE / "sources" / "sources.csv"
    base = with_provenance(load_trials(curated), sources)
    imported, manifest = read_registry_exports(registry_folder)
    if imported.empty:
        return CurrentTrials(base, pd.DataFrame(columns=list(AUDIT_COLUMNS), dtype="string"), manifest)
    trials, audit = merge_trials(base, imported)
    return CurrentTrials(trials, audit, manifest)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what} lacks column(s) {', '.join(missing)}; "
            f"pass a frame from {'load_trials' if what == 'curated' else 'read_ctgov_*'}"
        )


def _one_per_trial(imported: pd.DataFrame) -> pd.DataFrame:
    """Drop exact repeats of a study across exports; conflicting repeats are an error."""
    imported = imported.sort_values(["registry_id", "source_file"], kind="stable")
    for registry_id, group in imported.groupby("registry_id", sort=True):
        facts = group[list(TRIAL_COLUMNS)].astype("string").fillna("")
        if len(facts.drop_duplicates()) > 1:
            files = ", ".join(sorted(group["source_file"].astype(str)))
            raise IngestError(
                f"{registry_id} differs between exports ({files}); keep only the newest export in the folder"
            )
    return imported.drop_duplicates("registry_id", keep="first").reset_index(drop=True)


def _text(value: object) -> object:
    return pd.NA if pd.isna(value) else str(value)


def _same(field: str, old: object, new: object) -> bool:
    if pd.isna(old) or pd.isna(new):
        return pd.isna(old) and pd.isna(new)
    if field == "countries":
        return sorted(str(old).split(";")) == sorted(str(new).split(";"))
    return str(old) == str(new)


def _typed_trials(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(MERGED_COLUMNS))
    frame = frame.astype({c: "string" for c in MERGED_COLUMNS if c != "enrollment"})
    frame["enrollment"] = pd.array(frame["enrollment"].tolist(), dtype="Int64")
    return frame.sort_values("registry_id", kind="stable").reset_index(drop=True)


def merge_trials(curated: pd.DataFrame, imported: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Update curated trials with registry facts; return (merged trials, audit).

    Registry facts (REGISTRY_FIELDS) win when the registry states them; curated
    normalisations (CURATED_FIELDS) and provenance (source_url, tier) are kept; an added trial's
    source is its registry record (tier primary). Trials only in the export
    are added, with curated fields derived from intervention names where possible.
    The audit has one row per changed field (change = updated), per added trial
    (field = registry_id, change = added) and per derived field (change = derived).
    """
    _require(curated, TRIAL_COLUMNS, "curated")
    _require(imported, (*TRIAL_COLUMNS, "source_file"), "imported")
    registry = _one_per_trial(imported).set_index("registry_id", drop=False)
    rows, audit = [], []
    for _, trial in curated.iterrows():
        row = {c: trial.get(c, pd.NA) for c in MERGED_COLUMNS}
        if row["registry_id"] in registry.index:
            fresh = registry.loc[row["registry_id"]]
            for field in REGISTRY_FIELDS:
                if not pd.isna(fresh[field]) and not _same(field, row[field], fresh[field]):
                    audit.append(
                        (
                            row["registry_id"],
                            field,
                            _text(row[field]),
                            _text(fresh[field]),
                            fresh["source_file"],
                            "updated",
                        )
                    )
                    row[field] = fresh[field]
        rows.append(row)
    known = set(curated["registry_id"])
    for registry_id, fresh in registry.iterrows():
        if registry_id in known:
            continue
        rows.append({c: fresh[c] for c in TRIAL_COLUMNS} | {"source_url": fresh["source_url"], "tier": "primary"})
        audit.append((registry_id, "registry_id", pd.NA, registry_id, fresh["source_file"], "added"))
        audit += [
            (registry_id, f, pd.NA, _text(fresh[f]), fresh["source_file"], "derived")
            for f in CURATED_FIELDS
            if not pd.isna(fresh[f])
        ]
    audit_frame = pd.DataFrame(audit, columns=list(AUDIT_COLUMNS), dtype="string")
    rank = audit_frame["change"].map(CHANGE_ORDER)
    audit_frame = (
        audit_frame.assign(_rank=rank)
        .sort_values(["registry_id", "_rank", "field"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
    return _typed_trials(rows), audit_frame
