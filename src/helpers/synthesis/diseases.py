"""The diseases the workbook reports on: codes, names, and which have any evidence."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.tables import explode_diseases, load_clinical_reports

NAMES = {
    "SLE": "Systemic lupus erythematosus",
    "SSc": "Systemic sclerosis",
    "IIM": "Idiopathic inflammatory myopathies",
    "RA": "Rheumatoid arthritis",
    "SjD": "Sjögren's disease",
    "AAV": "ANCA-associated vasculitis",
    "APS": "Antiphospholipid syndrome",
    "IgG4RD": "IgG4-related disease",
    "MCTD": "Mixed connective tissue disease",
}
# Vocabulary sub-concepts reported under their evidence-table disease code.
VOCAB_TO_CODE = {"LN": "SLE", "DM": "IIM", "PM": "IIM", "ASyS": "IIM", "IMNM": "IIM", "JDM": "IIM"}


def evidence_counts(clinical: pd.DataFrame | None = None, trials: pd.DataFrame | None = None,
                    mentions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per disease code: reports, patients (as reported, overlaps not removed), trials, seed documents mentioning it."""
    clinical = load_clinical_reports() if clinical is None else clinical
    if trials is None:
        from helpers.synthesis.landscape import current_trials

        trials = current_trials().trials
    long = explode_diseases(clinical)
    rows = []
    trial_codes = trials["diseases"].fillna("").str.split(";")
    doc_codes: dict[str, set[str]] = {}
    if mentions is not None and not mentions.empty:
        m = mentions[(mentions["category"] == "diseases") & (~mentions["negated"].astype(bool))]
        for concept, doc in zip(m["concept"], m["doc_id"]):
            doc_codes.setdefault(VOCAB_TO_CODE.get(concept, concept), set()).add(doc)
    for code, name in NAMES.items():
        sub = long[long["disease"] == code]
        rows.append({
            "code": code, "disease": name,
            "reports": int(sub["report_id"].nunique()),
            "patients": int(sub["n"].fillna(0).sum()),
            "trials": int(sum(code in codes for codes in trial_codes)),
            "documents": len(doc_codes.get(code, set())),
        })
    return pd.DataFrame(rows)


def disease_parameter_sets() -> list[tuple[dict, str, str]]:
    """(parameters, label, one-line summary) for every disease with any evidence."""
    from helpers.synthesis.coverage import seed_mentions

    counts = evidence_counts(mentions=seed_mentions())
    out = []
    for r in counts.itertuples(index=False):
        if r.reports or r.trials or r.documents:
            summary = (f"{r.reports} published report(s), {r.patients} patient(s) as reported; "
                       f"{r.trials} registered trial(s); discussed in {r.documents} seed document(s)")
            out.append(({"disease": r.code, "target": "all"}, r.disease, summary))
    return out
