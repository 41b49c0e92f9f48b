"""Summaries of a built literature library (its rows and manifest, as read by the library stage):
what each file gave, which records were merged and why, works per year and venue, and which
vocabulary concepts the works' titles and abstracts mention. Pure functions on DataFrames.

A *record* is one row of the library (one entry of one export); a *work* is one cluster of records
that are the same publication. Every table is sorted, so the same library gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

import pandas as pd

from helpers.library.prisma import PrismaCounts
from helpers.text.concepts.api import annotate_frame
from helpers.text.vocabulary import Vocabulary

NO_YEAR = "not stated"


def _name(file: str) -> str:
    return PurePosixPath(str(file).replace("\\", "/")).name


def _files(manifest: pd.DataFrame) -> pd.DataFrame:
    """The manifest's file rows (one per input file), in file order."""
    return manifest[manifest["source_index"].astype(str).str.strip() == ""]


def _error_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    return manifest[manifest["source_index"].astype(str).str.strip() != ""]


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def venue(records: pd.DataFrame) -> pd.Series:
    """Each record's journal (or congress), as the export names it: full title, else its abbreviation."""
    journal = records["journal"].astype("string").str.strip().replace("", pd.NA)
    abbrev = records["journal_abbrev"].astype("string").str.strip().replace("", pd.NA)
    return journal.fillna(abbrev)


# ---------------------------------------------------------------- counts


def library_counts(records: pd.DataFrame, manifest: pd.DataFrame) -> dict[str, int]:
    """The library's headline numbers: files, records, works, duplicates, merged works, related works,
    unreadable records, files that gave nothing, withdrawn records, and works without a title."""
    files = _files(manifest)
    sizes = records.groupby("cluster_id").size()
    titled = records.assign(t=records["title"].map(_text).str.strip() != "").groupby("cluster_id")["t"].any()
    related = records["related_to"].map(_text)
    return {
        "files": len(files),
        "files_read": int(files["status"].str.startswith("parsed").sum()),
        "files_unread": int((~files["status"].str.startswith("parsed")).sum()),
        "records": len(records),
        "works": int(sizes.size),
        "duplicates": int(len(records) - sizes.size),
        "merged_works": int((sizes > 1).sum()),
        "related_works": int(records.loc[related != "", "cluster_id"].nunique()),
        "unreadable": len(_error_rows(manifest)),
        "withdrawn": int(records["withdrawn"].fillna(False).astype(bool).sum()),
        "untitled_works": int((~titled).sum()),
    }


def sources_table(records: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per input file: format, outcome, records read, unreadable records, works, and how many of
    its records are works another file holds too."""
    errors = _error_rows(manifest)["source_file"].value_counts()
    files_of = records.groupby("cluster_id")["source_file"].nunique()
    shared = records["cluster_id"].map(files_of) > 1
    rows = []
    for row in _files(manifest).itertuples(index=False):
        mine = records["source_file"] == row.source_file
        rows.append(
            {
                "file": _name(row.source_file),
                "format": row.format or None,
                "status": row.status,
                "records": int(mine.sum()),
                "unreadable records": int(errors.get(row.source_file, 0)),
                "works": int(records.loc[mine, "cluster_id"].nunique()),
                "records also in another file": int((mine & shared).sum()),
                "note": row.reason or None,
            }
        )
    table = pd.DataFrame(rows).sort_values("file", kind="stable").reset_index(drop=True)
    return table if table["note"].notna().any() else table.drop(columns="note")


def prisma_display(table: pd.DataFrame) -> pd.DataFrame:
    """The PRISMA long table for reading: a box with no count yet shows '–' (its note says why), and an
    empty note or column (the included boxes both columns flow into) shows '–', since an empty cell would
    read as 'not reported'."""
    shown = table.copy()
    shown["column"] = [c if isinstance(c, str) and c.strip() else "–" for c in table["column"]]
    shown["n"] = [("–" if pd.isna(n) else int(n)) for n in table["n"]]
    shown["note"] = [n if isinstance(n, str) and n.strip() else "–" for n in table["note"]]
    return shown


def unreadable_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Every record the library could not read: file, position and why."""
    rows = _error_rows(manifest)
    return pd.DataFrame(
        {
            "file": rows["source_file"].map(_name),
            "record": rows["source_index"].astype(int),
            "reason": rows["reason"],
        }
    ).reset_index(drop=True)


# ---------------------------------------------------------------- duplicates


def reason_kind(reason: str) -> str:
    """A merge reason without its value or score: 'same doi 10.1/x' -> 'same doi';
    'title (97), first author and journal agree' -> 'title, first author and journal agree'."""
    if reason.startswith("same "):
        return " ".join(reason.split()[:2])
    head, paren, tail = reason.partition(" (")
    return head + tail.partition(")")[2] if paren else reason


def merge_reasons(records: pd.DataFrame) -> pd.DataFrame:
    """Why records were merged: per kind of reason, the works merged and the records in them."""
    sizes = records.groupby("cluster_id").size()
    merged = records[records["cluster_id"].map(sizes) > 1]
    if merged.empty:
        return pd.DataFrame(columns=["reason", "works", "records"])
    kinds = merged.groupby("cluster_id")["merge_reason"].agg(
        lambda s: min((reason_kind(r) for r in s.map(_text) if r), default="not stated")
    )
    table = pd.DataFrame({"reason": kinds, "records": sizes[kinds.index]})
    out = table.groupby("reason").agg(works=("records", "size"), records=("records", "sum")).reset_index()
    return out.sort_values(["works", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _identifiers(row: pd.Series) -> str:
    parts = [f"{name.upper()} {row[name]}" for name in ("doi", "pmid", "pmcid") if _text(row[name])]
    return "; ".join(parts) or None


def example_clusters(records: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """The members of up to ``limit`` merged works (largest first, then by cluster id): for each record,
    its file and position, title, year, identifiers and the reason it was merged."""
    sizes = records.groupby("cluster_id").size()
    chosen = sorted((c for c, n in sizes.items() if n > 1), key=lambda c: (-sizes[c], c))[:limit]
    rows = records[records["cluster_id"].isin(chosen)].copy()
    rows["order"] = rows["cluster_id"].map({c: i for i, c in enumerate(chosen)})
    rows = rows.sort_values(["order", "source_file", "source_index"], kind="stable")
    return pd.DataFrame(
        {
            "work": rows["cluster_id"],
            "file": rows["source_file"].map(_name),
            "record": rows["source_index"].astype(int),
            "title": rows["title"],
            "year": rows["year"].astype("Int64"),
            "identifiers": rows.apply(_identifiers, axis=1) if len(rows) else pd.Series(dtype=object),
            "merged because": rows["merge_reason"],
        }
    ).reset_index(drop=True)


def related_works(records: pd.DataFrame) -> pd.DataFrame:
    """Pairs of works linked but not merged (an abstract and its article, an erratum...), once each."""
    first = records.sort_values(["source_file", "source_index"], kind="stable").drop_duplicates("cluster_id")
    title = dict(zip(first["cluster_id"], first["title"], strict=True))
    where = dict(zip(first["cluster_id"], venue(first), strict=True))
    pairs = sorted(
        {
            tuple(sorted((cid, other)))
            for cid, linked in zip(first["cluster_id"], first["related_to"].map(_text), strict=True)
            for other in linked.split(";")
            if other
        }
    )
    rows = [
        {"work": a, "title": title.get(a), "venue": where.get(a), "related work": b}
        | {"its title": title.get(b), "its venue": where.get(b)}
        for a, b in pairs
    ]
    return pd.DataFrame(rows, columns=["work", "title", "venue", "related work", "its title", "its venue"])


# ---------------------------------------------------------------- works per year and venue


def works(records: pd.DataFrame) -> pd.DataFrame:
    """One row per work, from its records: the first stated year, venue, title and abstract, and the text
    of every member's title and abstract (each distinct text once) for concept annotation."""
    ordered = records.sort_values(["cluster_id", "source_file", "source_index"], kind="stable")
    ordered = ordered.assign(venue=venue(ordered))
    rows = []
    for cid, group in ordered.groupby("cluster_id", sort=True):
        texts = list(dict.fromkeys(group["title"].map(_text).tolist() + group["abstract"].map(_text).tolist()))
        years = group["year"].dropna()
        venues = group["venue"].dropna()
        rows.append(
            {
                "cluster_id": cid,
                "records": len(group),
                "year": int(years.iloc[0]) if len(years) else None,
                "venue": venues.iloc[0] if len(venues) else None,
                "text": "\n\n".join(t for t in texts if t.strip()),
            }
        )
    return pd.DataFrame(rows, columns=["cluster_id", "records", "year", "venue", "text"])


def per_year(records: pd.DataFrame) -> pd.DataFrame:
    """Works and records per publication year (years in order; works with no year stated last)."""
    w = works(records)
    year = w["year"].map(lambda y: NO_YEAR if y is None or pd.isna(y) else str(int(y)))
    table = pd.DataFrame({"year": year, "records": w["records"]})
    out = table.groupby("year").agg(works=("records", "size"), records=("records", "sum")).reset_index()
    out["order"] = out["year"].map(lambda y: (y == NO_YEAR, y))
    return out.sort_values("order", kind="stable").drop(columns="order").reset_index(drop=True)


def top_venues(records: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The journals and congresses with most works (ties by name), with their records and years."""
    w = works(records).dropna(subset=["venue"])
    if w.empty:
        return pd.DataFrame(columns=["journal or congress", "works", "records", "years"])
    grouped = w.groupby("venue").agg(
        works=("records", "size"),
        records=("records", "sum"),
        years=("year", lambda ys: ", ".join(str(int(y)) for y in sorted({y for y in ys if pd.notna(y)})) or None),
    )
    out = grouped.reset_index().rename(columns={"venue": "journal or congress"})
    out = out.sort_values(["works", "journal or congress"], ascending=[False, True], kind="stable")
    return out.head(limit).reset_index(drop=True)


# ---------------------------------------------------------------- concepts


def concept_coverage(records: pd.DataFrame, vocab: Vocabulary, categories: Iterable[str]) -> pd.DataFrame:
    """For every concept of ``categories``: the works whose titles or abstracts mention it (not negated),
    their share of all works and of the works with any text, and the records in those works."""
    w = works(records)
    with_text = w[w["text"].str.strip() != ""]
    mentions = annotate_frame(zip(with_text["cluster_id"], with_text["text"], strict=True), vocab)
    wanted = list(dict.fromkeys(categories))
    affirmed = mentions[~mentions["negated"].astype(bool)] if len(mentions) else mentions
    size = dict(zip(w["cluster_id"], w["records"], strict=True))
    rows = []
    for code in vocab.codes:
        concept = vocab.concepts[code]
        if concept.category not in wanted:
            continue
        cids = sorted(set(affirmed.loc[affirmed["concept"] == code, "doc_id"])) if len(affirmed) else []
        rows.append(
            {
                "category": concept.category,
                "concept": code,
                "label": concept.label,
                "works": len(cids),
                "share of works": round(len(cids) / len(w), 3) if len(w) else 0.0,
                "share of works with text": round(len(cids) / len(with_text), 3) if len(with_text) else 0.0,
                "records": int(sum(size[c] for c in cids)),
            }
        )
    table = pd.DataFrame(
        rows,
        columns=["category", "concept", "label", "works", "share of works", "share of works with text", "records"],
    )
    table["order"] = table["category"].map({c: i for i, c in enumerate(wanted)})
    table = table.sort_values(["order", "works", "concept"], ascending=[True, False, True], kind="stable")
    return table.drop(columns="order").reset_index(drop=True)


def prisma_context(counts: PrismaCounts) -> dict[str, object]:
    """The PRISMA numbers the narrative states: identified, removed, screened, included studies and reports."""
    columns = (counts.databases, counts.other)
    screened = counts.databases.screened if counts.screened_yet else None
    return {
        "n_identified": sum(c.records for c in columns),
        "n_removed": sum(c.removed for c in columns),
        "screened_yet": counts.screened_yet,
        "n_screened": screened,
        "studies": counts.studies,
        "reports": counts.reports,
    }


def narrative_context(
    records: pd.DataFrame, manifest: pd.DataFrame, coverage: pd.DataFrame, flow: PrismaCounts
) -> dict:
    """Everything the library narrative says, computed here: counts, reasons, years, venues, the
    concepts mentioned most and the PRISMA numbers."""
    counts = library_counts(records, manifest)
    years = per_year(records)
    stated = years[years["year"] != NO_YEAR]
    covered = coverage[coverage["works"] > 0]
    top = covered.sort_values(["works", "concept"], ascending=[False, True], kind="stable")
    by_category = {
        cat: [{"label": r.label, "works": int(r.works)} for r in grp.head(3).itertuples(index=False)]
        for cat in coverage["category"].unique()
        if len(grp := top[top["category"] == cat])
    }
    venues = top_venues(records, limit=1)
    return {
        **counts,
        "formats": sorted({f for f in _files(manifest)["format"] if f}),
        "reasons": merge_reasons(records).to_dict("records"),
        "first_year": stated["year"].iloc[0] if len(stated) else None,
        "last_year": stated["year"].iloc[-1] if len(stated) else None,
        "no_year": int(years.loc[years["year"] == NO_YEAR, "works"].sum()),
        "top_venue": venues.iloc[0].to_dict() if len(venues) else None,
        "coverage": by_category,
        "uncovered": int((coverage["works"] == 0).sum()),
        "concepts": len(coverage),
        **prisma_context(flow),
    }
