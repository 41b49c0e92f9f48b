"""The corpus: de-duplicated documents and their tables (documents, authors, keywords,
references, figures), plus a merge audit saying which records were folded together and why."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz

from helpers.core.models import Document

TITLE_MATCH = 95  # rapidfuzz token_sort_ratio at or above which two titles are one document
# Fields shown as the "metadata completeness" of a document, in display order.
COMPLETENESS_FIELDS = (
    "title",
    "authors",
    "journal",
    "year",
    "doi",
    "pmid",
    "pmcid",
    "article_type",
    "abstract",
    "keywords",
    "conflict_of_interest",
    "licence",
    "figures",
    "references",
)


@dataclass
class Corpus:
    """The de-duplicated documents and the audit of which records were merged into which."""

    documents: list[Document]
    audit: pd.DataFrame

    def documents_table(self) -> pd.DataFrame:
        """One row per kept document (see the module-level :func:`documents_table`)."""
        return documents_table(self.documents)


def _norm_title(title: str | None) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", (title or "").casefold()).split())


def same_document(a: Document, b: Document) -> str | None:
    """Why a and b are the same work (shared DOI, PMID, PMCID or near-identical title), else None."""
    for key in ("doi", "pmid", "pmcid"):
        va, vb = getattr(a, key), getattr(b, key)
        if va and vb and va.casefold() == vb.casefold():
            return f"same {key.upper()} {va}"
    if a.title and b.title and fuzz.token_sort_ratio(_norm_title(a.title), _norm_title(b.title)) >= TITLE_MATCH:
        return "near-identical title"
    return None


def merge(keep: Document, other: Document) -> Document:
    """Fill keep's empty fields from other (keep's values win)."""
    data = keep.model_dump()
    for name, value in other.model_dump().items():
        if name in ("id", "source_file", "format"):
            continue
        if data.get(name) in (None, [], "") and value not in (None, [], ""):
            data[name] = value
    return Document(**data)


def build_corpus(documents: list[Document]) -> Corpus:
    """De-duplicate documents (first by source order wins, others fill its gaps)."""
    kept: list[Document] = []
    audit = []
    for doc in sorted(documents, key=lambda d: (d.source_file, d.id)):
        for i, k in enumerate(kept):
            reason = same_document(k, doc)
            if reason:
                kept[i] = merge(k, doc)
                audit.append({"kept": k.id, "merged": doc.id, "merged_file": doc.source_file, "reason": reason})
                break
        else:
            kept.append(doc)
    return Corpus(kept, pd.DataFrame(audit, columns=["kept", "merged", "merged_file", "reason"]))


def short_citation(doc: Document) -> str:
    """`Lee et al., J Rheum Dis 2025` style label, from what the page states only."""
    who = None
    if doc.authors:
        name = doc.authors[0]
        surname = name.split(",")[0] if "," in name else name.split()[-1]
        many = len(doc.authors) > 1 or doc.authors_complete is False
        who = f"{surname} et al." if many else surname
    parts = [p for p in (who, doc.journal, str(doc.year) if doc.year else None) if p]
    if parts:
        return ", ".join(parts)
    if doc.pmid:
        return f"PMID {doc.pmid}"
    return f"DOI {doc.doi}" if doc.doi else doc.id


def documents_table(documents: list[Document]) -> pd.DataFrame:
    """One row per document: citation label, bibliographic fields, counts and identifiers."""
    rows = []
    for d in documents:
        rows.append(
            {
                "id": d.id,
                "citation": short_citation(d),
                "format": d.format,
                "article_type": d.article_type,
                "title": d.title,
                "journal": d.journal,
                "year": d.year,
                "date": d.date,
                "doi": d.doi,
                "pmid": d.pmid,
                "pmcid": d.pmcid,
                "n_authors": len(d.authors),
                "authors_complete": d.authors_complete,
                "n_keywords": len(d.keywords),
                "n_figures": len(d.figures),
                "n_references": len(d.references),
                "curated_fields": ", ".join(d.curated_fields),
                "source_file": d.source_file,
                "identifiers": identifiers(d),
            }
        )
    df = pd.DataFrame(rows)
    if not df.empty:
        df["year"] = df["year"].astype("Int64")
    return df


def identifiers(doc: Document) -> str:
    """`DOI …; PMID …; PMCID …; NCT …` for what the document states."""
    labelled = (("DOI", doc.doi), ("PMID", doc.pmid), ("PMCID", doc.pmcid))
    parts = [f"{label} {value}" for label, value in labelled if value]
    parts += doc.nct_ids
    return "; ".join(parts)


def completeness_table(documents: list[Document]) -> pd.DataFrame:
    """documents x fields: 1 when the page states the field, 0.5 when a sidecar supplied it, 0 when absent."""
    data = {}
    for d in documents:
        row = {}
        for f in COMPLETENESS_FIELDS:
            value = getattr(d, f)
            present = value not in (None, [], "")
            row[f] = 0.5 if present and f in d.curated_fields else float(present)
        data[short_citation(d)] = row
    return pd.DataFrame.from_dict(data, orient="index", columns=list(COMPLETENESS_FIELDS))


def authors_table(documents: list[Document]) -> pd.DataFrame:
    """One row per author of each document, with its 1-based position in the author list."""
    rows = [{"doc_id": d.id, "position": i, "name": name} for d in documents for i, name in enumerate(d.authors, 1)]
    return pd.DataFrame(rows, columns=["doc_id", "position", "name"])


def keywords_table(documents: list[Document]) -> pd.DataFrame:
    """One row per keyword of each document."""
    rows = [{"doc_id": d.id, "keyword": k} for d in documents for k in d.keywords]
    return pd.DataFrame(rows, columns=["doc_id", "keyword"])


def references_table(documents: list[Document]) -> pd.DataFrame:
    """One row per reference-list entry of each document."""
    rows = [{"doc_id": d.id, **r.model_dump()} for d in documents for r in d.references]
    return pd.DataFrame(rows, columns=["doc_id", "index", "text", "year", "doi", "pmid", "pmcid"])


def figures_table(documents: list[Document]) -> pd.DataFrame:
    """One row per figure label and caption of each document."""
    rows = [{"doc_id": d.id, **f.model_dump()} for d in documents for f in d.figures]
    return pd.DataFrame(rows, columns=["doc_id", "label", "caption"])


def manifest_table(manifest) -> pd.DataFrame:
    """The ingest manifest rows (what became of every input file) as a table."""
    rows = [r.model_dump() for r in manifest]
    return pd.DataFrame(rows, columns=["source_file", "status", "format", "documents", "encoding", "bytes", "reason"])


def status_summary(manifest: pd.DataFrame) -> pd.DataFrame:
    """Inputs found -> parsed / skipped / error, and the documents they yielded."""
    counts = manifest["status"].value_counts() if not manifest.empty else pd.Series(dtype=int)
    return pd.DataFrame(
        [
            {
                "inputs found": len(manifest),
                "parsed": int(counts.get("parsed", 0)),
                "skipped": int(counts.get("skipped", 0)),
                "errors": int(counts.get("error", 0)),
                "documents": int(manifest["documents"].sum()) if not manifest.empty else 0,
            }
        ]
    )
