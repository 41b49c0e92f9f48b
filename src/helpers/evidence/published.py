"""The published landscape figures the trial landscape is compared with (one row per measure)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from helpers.core.errors import SchemaError
from helpers.core.paths import EVIDENCE, display_path

PUBLISHED_COLUMNS = (
    "source",
    "short_citation",
    "citation",
    "doi",
    "url",
    "measure",
    "label",
    "k",
    "n",
    "read_from",
    "note",
)


def load_published_landscapes(path: Path | str | None = None) -> pd.DataFrame:
    """Published landscape figures (one row per measure, with citation, DOI, URL and where read)."""
    path = Path(path) if path is not None else EVIDENCE / "published_landscapes.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if list(reader.fieldnames or []) != list(PUBLISHED_COLUMNS):
            raise SchemaError(f"{display_path(path)}: header must be {','.join(PUBLISHED_COLUMNS)}")
        rows = list(reader)
    frame = pd.DataFrame(rows, columns=list(PUBLISHED_COLUMNS))
    for col in ("k", "n"):
        frame[col] = pd.to_numeric(frame[col], errors="raise").astype(int)
    frame["share"] = (frame["k"] / frame["n"]).round(4)
    return frame
