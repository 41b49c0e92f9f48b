"""What each document covers: concept mentions per document, what all share, what only one
covers, each with the sentence that supports it."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from helpers.core.codes import CATEGORIES
from helpers.text.vocabulary import Vocabulary

CATEGORY_ORDER = CATEGORIES.codes


def coverage_counts(
    mentions: pd.DataFrame, vocab: Vocabulary, categories: Iterable[str] = CATEGORY_ORDER, min_mentions: int = 1
) -> pd.DataFrame:
    """Documents (rows, by citation) x concepts (columns, grouped by category): affirmed mentions.

    Negated mentions ("no ICANS was observed") are not coverage. A concept is kept when its
    total across documents reaches min_mentions."""
    cats = [c for c in CATEGORY_ORDER if c in set(categories)]
    affirmed = mentions[~mentions["negated"].astype(bool) & mentions["category"].isin(cats)]
    table = pd.crosstab(affirmed["citation"], affirmed["concept"]) if not affirmed.empty else pd.DataFrame()
    docs = sorted(mentions["citation"].unique())
    table = table.reindex(index=docs, fill_value=0)
    keep = [c for c in table.columns if table[c].sum() >= min_mentions]
    order = sorted(keep, key=lambda c: (cats.index(vocab.concepts[c].category), vocab.concepts[c].label.casefold()))
    return table[order].astype(int)


def concept_documents(mentions: pd.DataFrame) -> pd.DataFrame:
    """One row per (concept, document) with affirmed mentions: count and first supporting sentence."""
    affirmed = mentions[~mentions["negated"].astype(bool)].sort_values(["concept", "citation", "start"])
    grouped = affirmed.groupby(["category", "concept", "citation"], sort=True)
    out = grouped.agg(mentions=("start", "size"), sentence=("sentence", "first")).reset_index()
    return out


def shared_and_unique(mentions: pd.DataFrame, vocab: Vocabulary) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(concepts every document covers, concepts only one document covers), each with evidence."""
    per = concept_documents(mentions)
    n_docs = mentions["citation"].nunique()
    counts = per.groupby("concept")["citation"].nunique()
    label = {c: vocab.concepts[c].label for c in per["concept"].unique()}
    per = per.assign(label=per["concept"].map(label))
    shared = per[per["concept"].map(counts) == n_docs] if n_docs > 1 else per.iloc[0:0]
    unique = per[per["concept"].map(counts) == 1] if n_docs > 1 else per.iloc[0:0]
    cols = ["category", "concept", "label", "citation", "mentions", "sentence"]
    return (
        shared[cols].sort_values(["category", "label", "citation"]).reset_index(drop=True),
        unique[cols].sort_values(["category", "label"]).reset_index(drop=True),
    )


def negated_mentions(mentions: pd.DataFrame) -> pd.DataFrame:
    """The negated mentions with their sentence, by document and concept."""
    neg = mentions[mentions["negated"].astype(bool)]
    return (
        neg[["citation", "category", "concept", "text", "sentence"]]
        .sort_values(["citation", "concept"])
        .reset_index(drop=True)
    )


def disease_sets(mentions: pd.DataFrame) -> pd.DataFrame:
    """Diseases (rows) x documents (columns): True where the document discusses the disease."""
    counts = concept_documents(mentions)
    d = counts[counts["category"] == "diseases"]
    table = pd.crosstab(d["concept"], d["citation"]).astype(bool)
    return table.reindex(columns=sorted(mentions["citation"].unique()), fill_value=False)


def narrative_context(mentions: pd.DataFrame, vocab: Vocabulary) -> dict:
    """Facts for the coverage narrative, each with the sentence that supports it."""
    shared, unique = shared_and_unique(mentions, vocab)
    per = concept_documents(mentions)
    docs = sorted(mentions["citation"].unique())

    def first_support(rows: pd.DataFrame) -> list[dict]:
        out = []
        for _concept, grp in rows.groupby("concept", sort=False):
            r = grp.iloc[0]
            out.append({"label": r["label"], "citation": r["citation"], "sentence": r["sentence"]})
        return out

    shared_d = first_support(shared[shared["category"] == "diseases"])
    unique_d = first_support(unique[unique["category"] == "diseases"])
    unique_other = first_support(unique[unique["category"] != "diseases"])
    targets = per[per["category"] == "targets"]
    target_docs = [
        {
            "label": vocab.concepts[c].label,
            "n_docs": int(g["citation"].nunique()),
            "citation": g.iloc[0]["citation"],
            "sentence": g.iloc[0]["sentence"],
        }
        for c, g in targets.groupby("concept", sort=True)
    ]
    target_docs.sort(key=lambda t: (-t["n_docs"], t["label"]))
    return {
        "n_docs": len(docs),
        "docs": docs,
        "shared_diseases": shared_d,
        "unique_diseases": unique_d,
        "unique_other": unique_other,
        "targets": target_docs,
    }


def vocabulary_summary(vocab: Vocabulary, categories: Iterable[str] = CATEGORY_ORDER) -> pd.DataFrame:
    """Concepts per category with their standard ids: what the annotator looks for."""
    rows = [
        {
            "category": c.category,
            "code": c.code,
            "label": c.label,
            "ids": "; ".join(f"{k}: {v}" for k, v in sorted(c.ids.items())),
            "forms": len(c.synonyms) + len(c.abbreviations) + len(c.ambiguous),
        }
        for c in vocab.concepts.values()
        if c.category in set(categories)
    ]
    df = pd.DataFrame(rows, columns=["category", "code", "label", "ids", "forms"])
    df["order"] = df["category"].map({c: i for i, c in enumerate(CATEGORY_ORDER)})
    return df.sort_values(["order", "label"]).drop(columns="order").reset_index(drop=True)


def traceability(mentions: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Every non-empty heatmap cell with its first supporting sentence."""
    per = concept_documents(mentions)
    per = per[per["concept"].isin(counts.columns)]
    return per[["category", "concept", "citation", "mentions", "sentence"]].reset_index(drop=True)
