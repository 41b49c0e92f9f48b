"""One disease, brought together: what the seed documents say, the published clinical
evidence, the registered trials, and a summary whose every number and citation comes from
those tables, with a reference list linking DOIs, PMIDs and registry records."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pandas as pd

from helpers.core.codes import DISEASES
from helpers.evidence.snapshot import Snapshot
from helpers.report import evidence_tables
from helpers.report.clinical_tables import included_table
from helpers.report.narrative import render
from helpers.synthesis import clinical, landscape
from helpers.synthesis.diseases import concepts_of

_CITE = re.compile(r"\[\[ref:([A-Za-z0-9_.:/#-]+)\]\]")
_CITE_RUN = re.compile(r"\s*(?:\[\[ref:[A-Za-z0-9_.:/#-]+\]\]\s*)+")


@dataclass(frozen=True)
class Reference:
    """One entry of a page's reference list."""

    key: str
    label: str
    text: str
    doi: str | None = None
    pmid: str | None = None
    registry_id: str | None = None


@dataclass
class DiseaseReport:
    """Everything one disease page shows: seed sentences, selected reports and trials, references."""

    code: str
    name: str
    target: str
    sentences: pd.DataFrame
    clinical: clinical.Selection
    trials: landscape.Selection
    references: dict[str, Reference] = field(default_factory=dict)


def seed_sentences(mentions: pd.DataFrame, code: str) -> pd.DataFrame:
    """Sentences of the seed documents that discuss the disease (affirmed), with the other
    concepts they name."""
    m = mentions[~mentions["negated"].astype(bool)]
    hits = m[m["concept"].isin(concepts_of(code))]
    keys = hits[["doc_id", "citation", "sentence_index", "sentence"]].drop_duplicates()
    rows = []
    for r in keys.itertuples(index=False):
        same = m[(m["doc_id"] == r.doc_id) & (m["sentence_index"] == r.sentence_index)]
        others = sorted(set(same["concept"]) - concepts_of(code))
        rows.append(
            {
                "citation": r.citation,
                "doc_id": r.doc_id,
                "sentence_index": int(r.sentence_index),
                "sentence": r.sentence,
                "also_names": ", ".join(others),
            }
        )
    df = pd.DataFrame(rows, columns=["citation", "doc_id", "sentence_index", "sentence", "also_names"])
    return df.sort_values(["citation", "sentence_index"]).reset_index(drop=True)


def build_report(snapshot: Snapshot, code: str, target: str = "all") -> DiseaseReport:
    """Gather the disease's sentences, clinical reports and trials (optionally for one CAR target).

    ``code`` and ``target`` are trusted: the notebook validates them against the snapshot first.
    """
    reports = snapshot.clinical
    trials = snapshot.trials
    if target != "all":
        reports = reports[reports["target"] == target]
        trials = trials[trials["targets"].fillna("").map(lambda cell: target in landscape.split_cell(cell))]
    sel = clinical.select_reports(reports, disease=code)  # reports given for another indication are left out
    tsel = landscape.filter_trials(trials, disease=code)
    report = DiseaseReport(code, DISEASES.label(code), target, seed_sentences(snapshot.mentions, code), sel, tsel)
    report.references = _references(report)
    return report


def _references(report: DiseaseReport) -> dict[str, Reference]:
    refs: dict[str, Reference] = {}
    docs = report.sentences.drop_duplicates("doc_id")
    for r in docs.itertuples(index=False):
        refs[f"doc-{r.doc_id}"] = Reference(f"doc-{r.doc_id}", r.citation, f"Seed document {r.doc_id}")
    for r in report.clinical.reports.sort_values("report_id").itertuples(index=False):
        parts = [p for p in (_s(r.first_author), _s(r.year), _s(r.journal), _s(r.report_type)) if p]
        refs[str(r.report_id)] = Reference(
            str(r.report_id), clinical.citation_label(r), ". ".join(parts), doi=_s(r.doi), pmid=_s(r.pmid)
        )
    for r in report.trials.trials.itertuples(index=False):
        refs[str(r.registry_id)] = Reference(
            str(r.registry_id), str(r.registry_id), _s(r.title) or "", registry_id=str(r.registry_id)
        )
    return refs


def _s(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def summary_context(report: DiseaseReport) -> dict:
    """Numbers for the summary, all computed from the tables of this report."""
    ctx = clinical.narrative_context(report.clinical)
    t = report.trials.trials
    recruiting = int((t["status"] == "RECRUITING").sum()) if len(t) else 0
    paed = landscape.paediatric_share(t) if len(t) else None
    target_counts = {}
    for cell in t["targets"].fillna("") if len(t) else []:
        for tg in landscape.split_cell(cell):
            target_counts[tg] = target_counts.get(tg, 0) + 1
    return {
        "name": report.name,
        "code": report.code,
        "n_docs": int(report.sentences["doc_id"].nunique()),
        "doc_refs": [f"doc-{d}" for d in sorted(report.sentences["doc_id"].unique())],
        "clinical": ctx,
        "report_refs": sorted(report.clinical.reports["report_id"].astype(str)),
        "n_trials": len(t),
        "trial_refs": sorted(t["registry_id"].astype(str)) if len(t) else [],
        "recruiting": recruiting,
        "trial_targets": sorted(target_counts.items(), key=lambda kv: (-kv[1], kv[0])),
        "paediatric": paed,
    }


def summary_text(report: DiseaseReport) -> str:
    """The summary as text with `[[ref:key]]` citation markers."""
    return render("disease.j2", **summary_context(report))


def cited_html(text: str, refs: dict[str, Reference]) -> str:
    """Escape text, then turn each run of `[[ref:key]]` markers into `(A; B)` links to the reference list."""
    out, pos = [], 0
    for run in _CITE_RUN.finditer(text):
        out.append(html.escape(text[pos : run.start()]))
        links = []
        for m in _CITE.finditer(run.group(0)):
            ref = refs.get(m.group(1))
            label = ref.label if ref else m.group(1)
            links.append(f'<a class="wb-cite" href="#ref-{html.escape(_anchor(m.group(1)))}">{html.escape(label)}</a>')
        out.append(" (" + "; ".join(links) + ")")
        pos = run.end()
    out.append(html.escape(text[pos:]))
    return '<p class="wb-narrative">' + "".join(out) + "</p>"


def _anchor(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)


def references_html(refs: dict[str, Reference]) -> str:
    """The reference list: each entry with DOI, PubMed and registry links where known."""
    items = []
    for key in sorted(refs, key=lambda k: (not k.startswith("doc-"), refs[k].label.casefold(), k)):
        r = refs[key]
        links = []
        if r.doi:
            links.append(
                f'DOI <a href="https://doi.org/{html.escape(quote(r.doi, safe="/()._-;:"))}">{html.escape(r.doi)}</a>'
            )
        if r.pmid:
            links.append(
                f'PMID <a href="https://pubmed.ncbi.nlm.nih.gov/{html.escape(quote(r.pmid))}/">{html.escape(r.pmid)}</a>'
            )
        if r.registry_id and r.registry_id.startswith("NCT"):
            links.append(
                f'<a href="https://clinicaltrials.gov/study/{html.escape(quote(r.registry_id))}">ClinicalTrials.gov</a>'
            )
        tail = (" · " + " · ".join(links)) if links else ""
        items.append(
            f'<li id="ref-{html.escape(_anchor(key))}"><strong>{html.escape(r.label)}</strong> '
            f"{html.escape(r.text)}{tail}</li>"
        )
    return '<ol class="wb-refs">' + "".join(items) + "</ol>" if items else "<p>No references.</p>"


def reference_lists_html(report: DiseaseReport) -> str:
    """Seed documents, then publications and trial registrations formatted by the CSL style."""
    docs = {k: r for k, r in report.references.items() if k.startswith("doc-")}
    seed = f"<h3>Seed documents</h3>{references_html(docs)}" if docs else ""
    return seed + evidence_tables.references_html(report.clinical.reports, report.trials.trials)


def trials_table(sel: landscape.Selection) -> pd.DataFrame:
    """The registered trials of the page, in the columns a reader needs."""
    cols = [
        "registry_id",
        "title",
        "phase",
        "status",
        "targets",
        "cell_type",
        "cell_source",
        "sponsor",
        "start_date",
        "enrollment",
    ]
    return sel.trials[cols].reset_index(drop=True)


def reports_table(sel: clinical.Selection) -> pd.DataFrame:
    """The clinical reports of the page as readers cite them."""
    return included_table(sel)
