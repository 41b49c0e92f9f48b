"""Which diseases have evidence: reports, patients, trials and documents per disease code."""

from __future__ import annotations

import pandas as pd

from helpers.core.codes import DISEASE_OF_CONCEPT, DISEASES
from helpers.evidence.snapshot import Snapshot
from helpers.evidence.tables import explode_diseases

OTHER = "other"


def concepts_of(code: str) -> set[str]:
    """The vocabulary concepts reported under a disease code (SLE includes lupus nephritis)."""
    return {code} | {concept for concept, parent in DISEASE_OF_CONCEPT.items() if parent == code}


def evidence_counts(clinical: pd.DataFrame, trials: pd.DataFrame, mentions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per disease code: reports, patients (as reported, overlaps not removed), trials, documents naming it."""
    long = explode_diseases(clinical)
    trial_codes = trials["diseases"].fillna("").str.split(";")
    doc_codes: dict[str, set[str]] = {}
    if mentions is not None and not mentions.empty:
        m = mentions[(mentions["category"] == "diseases") & (~mentions["negated"].astype(bool))]
        for concept, doc in zip(m["concept"], m["doc_id"], strict=True):
            if concept in DISEASE_OF_CONCEPT:
                doc_codes.setdefault(DISEASE_OF_CONCEPT[concept], set()).add(doc)
    rows = []
    for code in DISEASES:
        if code == OTHER:
            continue
        sub = long[long["disease"] == code]
        rows.append(
            {
                "code": code,
                "disease": DISEASES.label(code),
                "reports": int(sub["report_id"].nunique()),
                "patients": int(sub["n"].fillna(0).sum()),
                "trials": int(sum(code in codes for codes in trial_codes)),
                "documents": len(doc_codes.get(code, set())),
            }
        )
    return pd.DataFrame(rows)


def disease_parameter_sets(snapshot: Snapshot) -> list[tuple[dict, str, str]]:
    """(parameters, label, one-line summary) for every disease with any evidence in the snapshot."""
    counts = evidence_counts(snapshot.clinical, snapshot.trials, snapshot.mentions)
    out = []
    for r in counts.itertuples(index=False):
        if r.reports or r.trials or r.documents:
            summary = (
                f"{r.reports} published report(s), {r.patients} patient(s) as reported; "
                f"{r.trials} registered trial(s); discussed in {r.documents} seed document(s)"
            )
            out.append(({"disease": r.code, "target": "all"}, r.disease, summary))
    return out
