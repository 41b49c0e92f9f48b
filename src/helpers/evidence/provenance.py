"""Where each curated row was read: the pages (with their tier) and the searches made for a primary source.

``sources/sources.csv`` lists every page read for a clinical report or a trial, with its tier
(primary: PubMed/PMC record, publisher, congress abstract, registry; secondary: review, news,
forum, aggregator, catalogue) and what was taken from it. ``sources/searches.csv`` is the search
log. A row's tier is primary when at least one of its pages is primary.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.core.codes import SEARCHES, SOURCES
from helpers.core.errors import SchemaError
from helpers.evidence.tables import load_table

PRIMARY = "primary"
SECONDARY = "secondary"


def load_sources(path: Path | str | None = None) -> pd.DataFrame:
    """``sources/sources.csv``, validated; file order kept within a row."""
    return load_table(SOURCES, path)


def load_searches(path: Path | str | None = None) -> pd.DataFrame:
    """``sources/searches.csv`` (the search log), validated."""
    return load_table(SEARCHES, path)


def row_provenance(sources: pd.DataFrame, table: str, ids: pd.Series) -> pd.DataFrame:
    """Per row id (in the order given): ``source_url`` (the pages, `;`-joined), ``tier``, ``sources`` (count).

    Raises SchemaError naming every row without a source.
    """
    mine = sources[sources["table"] == table]
    missing = sorted(set(ids) - set(mine["row_id"]))
    if missing:
        raise SchemaError(
            f"sources/sources.csv: no page is listed for {table} row(s) {', '.join(missing)}; "
            "add the page(s) the facts were read from"
        )
    grouped = mine.groupby("row_id", sort=False)
    urls = grouped["url"].agg(lambda u: ";".join(dict.fromkeys(u)))
    tier = grouped["tier"].agg(lambda t: PRIMARY if (t == PRIMARY).any() else SECONDARY)
    count = grouped.size()
    ids = pd.Index(ids)
    return pd.DataFrame(
        {"source_url": urls.reindex(ids).array, "tier": tier.reindex(ids).array, "sources": count.reindex(ids).array},
        index=ids,
    ).astype({"source_url": "string", "tier": "string", "sources": "Int64"})


def unknown_rows(sources: pd.DataFrame, known: dict[str, set[str]]) -> list[str]:
    """Source rows that name a report or trial the tables do not have, as messages."""
    return [
        f"sources/sources.csv: {row.table} row '{row.row_id}' is not in the {row.table} table ({row.url})"
        for row in sources.itertuples(index=False)
        if row.row_id not in known.get(row.table, set())
    ]


def tier_counts(provenance: pd.DataFrame) -> dict[str, int]:
    """{'primary': rows with a primary source, 'secondary': rows with secondary sources only}."""
    counts = provenance["tier"].value_counts()
    return {PRIMARY: int(counts.get(PRIMARY, 0)), SECONDARY: int(counts.get(SECONDARY, 0))}
