"""The shipped example library (``seeds/library/``): two exports written from the snapshot, and how a page
builds a library from a folder of exports.

- ``seed-reviews.ris``: the seed reviews' own citations and the references they list, as RIS (the
  *other methods* column of the PRISMA flow: citation searching).
- ``pubmed-reports.nbib``: the curated clinical reports' citations as MEDLINE text, with the seed
  reviews that were read from PubMed pages (a database search finds them as well, so the two exports
  share works and the library must de-duplicate them). A report curated with neither PMID nor title
  is left out: a MEDLINE record has at least one of them.

Only facts the snapshot holds are written: a fact curated as ``not reported`` (or absent) gets no
line. The bytes depend only on the snapshot (records in a fixed order, ``\\n`` line ends, UTF-8).
This module takes the snapshot as an argument and imports nothing from the evidence stage.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.core.errors import IngestError
from helpers.core.paths import display_path
from helpers.core.patterns import linear
from helpers.library.store import LibraryResult, build_library

REVIEWS_FILE = "seed-reviews.ris"
REPORTS_FILE = "pubmed-reports.nbib"
SOURCE_LABELS = {
    REPORTS_FILE: "PubMed (MEDLINE export of the curated reports)",
    REVIEWS_FILE: "Citation searching (seed reviews and their references)",
}
OTHER_METHODS = frozenset({REVIEWS_FILE})
NOT_EXPORTS = frozenset({".md"})  # notes kept beside the exports (README.md) are not read as exports
MEDLINE_WIDTH = 88  # MEDLINE text wraps long values onto 6-space continuation lines
PUBMED_FORMATS = ("pubmed_record", "pubmed_page")  # seed documents read from PubMed pages

# A Frontiers-style reference: 'Surname A. B., Other C. (2023). Title. Journal 25 (5), e3484. 10.1/x'.
# RE2 (linear time): lazy groups, no lookaround.
REFERENCE_RE = linear(r"^(.+?) \((\d{4})[a-z]?\)\. (.+?)\. (.+?) (\d+) \(([^()]*)\), ([^ ]+)\.(?: (10\.\S+))?$")


# ---------------------------------------------------------------- values


def _value(value: object) -> str | None:
    """A curated value as one line of text, or None when it is absent (NA, empty)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text or None


def _pages(pages: str | None) -> tuple[str | None, str | None]:
    """(first page, last page) of '707–715', '1117' or 'e3484'."""
    if not pages:
        return None, None
    first, _, last = pages.replace("–", "-").partition("-")
    return first.strip() or None, last.strip() or None


def parse_reference(text: str) -> dict[str, Any]:
    """The fields of a reference-list entry in the author-year layout the seed reviews print.

    Returns authors, year, title, journal, volume, issue, pages and doi; an entry in another layout
    gives an empty dict (nothing is guessed)."""
    match = REFERENCE_RE.match(" ".join(text.split()))
    if match is None:
        return {}
    authors, year, title, journal, volume, issue, pages, doi = match.groups()
    if ":" in journal or len(journal) > 80:  # the title split at an inner full stop: not sure
        return {}
    names = [a.strip() for a in authors.split(", ") if a.strip() and a.strip() != "et al."]
    return {
        "authors": names,
        "year": int(year),
        "title": title,
        "journal": journal,
        "volume": volume,
        "issue": issue,
        "pages": pages,
        "doi": doi,
    }


# ---------------------------------------------------------------- RIS


def _ris(pairs: Iterable[tuple[str, object]]) -> str:
    lines = [f"{tag}  - {text}" for tag, value in pairs if (text := _value(value)) is not None]
    return "\n".join(["TY  - JOUR", *lines, "ER  - "]) + "\n"


def _review_entry(doc: Any) -> str:
    first, last = _pages(doc.pages)
    pairs: list[tuple[str, object]] = [("AU", a) for a in doc.authors]
    pairs += [("TI", doc.title), ("JO", doc.journal), ("PY", doc.year)]
    pairs += [("DA", doc.date.replace("-", "/") if doc.date else None), ("VL", doc.volume)]
    pairs += [("SP", first), ("EP", last), ("DO", doc.doi)]
    pairs += [("UR", f"https://pubmed.ncbi.nlm.nih.gov/{doc.pmid}/" if doc.pmid else None), ("C2", doc.pmcid)]
    pairs += [("KW", k) for k in doc.keywords]
    pairs += [("AB", doc.abstract), ("N1", f"Seed review {doc.id}")]
    return _ris(pairs)


def _reference_entry(doc: Any, ref: Any) -> str:
    fields = parse_reference(ref.text)
    first, last = _pages(fields.get("pages"))
    pairs: list[tuple[str, object]] = [("AU", a) for a in fields.get("authors", [])]
    pairs += [("TI", fields.get("title")), ("JO", fields.get("journal")), ("PY", ref.year or fields.get("year"))]
    pairs += [("VL", fields.get("volume")), ("IS", fields.get("issue")), ("SP", first), ("EP", last)]
    pairs += [("DO", ref.doi or fields.get("doi"))]
    pairs += [("UR", f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/" if ref.pmid else None)]
    note = f"Reference {ref.index} of seed review {doc.id}"
    pairs.append(("N1", note if fields else f"{note}, as printed: {ref.text}"))
    return _ris(pairs)


def reviews_ris(documents: Iterable[Any]) -> str:
    """The seed reviews (sorted by id), each followed by the references it lists, as RIS."""
    entries: list[str] = []
    for doc in sorted(documents, key=lambda d: d.id):
        entries.append(_review_entry(doc))
        entries += [_reference_entry(doc, ref) for ref in sorted(doc.references, key=lambda r: r.index)]
    return "\n".join(entries)


# ---------------------------------------------------------------- MEDLINE text


def _medline_lines(tag: str, value: object) -> list[str]:
    text = _value(value)
    if text is None:
        return []
    wrapped = textwrap.wrap(text, MEDLINE_WIDTH - 6, break_long_words=False, break_on_hyphens=False) or [text]
    return [f"{tag:<4}- {wrapped[0]}", *(f"      {w}" for w in wrapped[1:])]


def _medline(pairs: Iterable[tuple[str, object]]) -> str:
    return "\n".join(line for tag, value in pairs for line in _medline_lines(tag, value)) + "\n"


def _report_record(row: Mapping[str, object]) -> str:
    names = [a.strip() for a in (_value(row.get("authors")) or "").split(";")]
    authors = [a for a in names if a and a.rstrip(".").casefold() != "et al"]  # 'Roddie C;et al': not a name
    doi = _value(row.get("doi"))
    pmcid = _value(row.get("pmcid"))
    venue = [("TA", row.get("journal"))] if _value(row.get("journal")) else [("JT", row.get("congress"))]
    pairs: list[tuple[str, object]] = [("PMID", row.get("pmid")), ("VI", row.get("volume"))]
    pairs += [("IP", row.get("issue")), ("DP", row.get("year")), ("TI", row.get("title"))]
    pairs += [("PG", row.get("pages")), ("LID", f"{doi} [doi]" if doi else None)]
    pairs += [("AU", a) for a in authors]
    pairs += [*venue, ("PMC", pmcid), ("AID", f"{doi} [doi]" if doi else None)]
    return _medline(pairs)


def _review_record(doc: Any) -> str:
    pairs: list[tuple[str, object]] = [("PMID", doc.pmid), ("VI", doc.volume), ("DP", doc.year)]
    pairs += [("TI", doc.title), ("PG", doc.pages), ("LID", f"{doc.doi} [doi]" if doc.doi else None)]
    pairs += [("AB", doc.abstract), *(("FAU", a) for a in doc.authors), ("TA", doc.journal), ("PMC", doc.pmcid)]
    pairs += [("OT", k) for k in doc.keywords]
    return _medline(pairs)


def in_medline_export(row: Mapping[str, object]) -> bool:
    """Whether a curated report can be a MEDLINE record: it needs a PMID or a title (the reader's rule)."""
    return _value(row.get("pmid")) is not None or _value(row.get("title")) is not None


def reports_medline(reports: pd.DataFrame, documents: Iterable[Any]) -> str:
    """The curated reports (sorted by report id), then the seed reviews read from PubMed pages, as MEDLINE text.

    A report curated with neither PMID nor title is left out: no PubMed export holds such a record."""
    rows = reports.sort_values("report_id", kind="stable").to_dict("records")
    records = [_report_record(r) for r in rows if in_medline_export(r)]
    records += [_review_record(d) for d in sorted(documents, key=lambda d: d.id) if d.format in PUBMED_FORMATS]
    # the format is recognised by a PMID line near the start: put a record that has one first
    records.sort(key=lambda r: not r.startswith("PMID-"))
    return "\n".join(records)


def write_example_exports(snapshot: Any, folder: Path | str) -> list[Path]:
    """Write the example exports of ``snapshot`` (its documents and curated reports) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        REVIEWS_FILE: reviews_ris(snapshot.documents),
        REPORTS_FILE: reports_medline(snapshot.reports, snapshot.documents),
    }
    written = []
    for name, text in sorted(texts.items()):
        (folder / name).write_bytes(text.encode("utf-8"))
        written.append(folder / name)
    return written


# ---------------------------------------------------------------- a library from a folder of exports


def export_files(folder: Path | str) -> list[Path]:
    """The export files of a folder (sorted; notes such as README.md and hidden files left out), or one file."""
    path = Path(folder)
    if not path.exists():
        raise IngestError(f"{display_path(path)}: no such file or folder; give a folder of export files")
    if path.is_file():
        return [path]
    files = [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in NOT_EXPORTS
    ]
    if not files:
        raise IngestError(f"{display_path(path)}: holds no export files; add PubMed, RIS, BibTeX... exports")
    return files


def build_folder_library(folder: Path | str, out: Path | str) -> LibraryResult:
    """Build the library of every export in ``folder`` into ``out`` (one process: small libraries)."""
    return build_library([str(p) for p in export_files(folder)], out, workers=1)


def source_labels(files: Iterable[str]) -> tuple[dict[str, str], set[str]]:
    """(file -> PRISMA source label, files of the other-methods column) for library source files.

    The example's files get their labels; any other file is a database export labelled by its name."""
    labels, other = {}, set()
    for file in files:
        name = Path(file).name
        labels[file] = SOURCE_LABELS.get(name, name)
        if name in OTHER_METHODS:
            other.add(file)
    return labels, other


def read_library_frame(library: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every library row with every column, the manifest rows) of a built library."""
    path = Path(library)
    manifest = path.with_name(path.name.removesuffix(".parquet") + ".manifest.csv")
    if not path.exists() or not manifest.exists():
        raise IngestError(f"{display_path(path)}: no library (or its manifest) here; build it first")
    return pd.read_parquet(path), pd.read_csv(manifest, dtype=str, keep_default_na=False)


def read_decisions(path: Path | str | None) -> pd.DataFrame | None:
    """Screening decisions (CSV: record_id or cluster_id, decision, reason, by, date), or None when no path."""
    if not path:
        return None
    file = Path(path)
    if not file.is_file():
        raise IngestError(f"{display_path(file)}: no decisions file here; give a CSV or leave decisions empty")
    return pd.read_csv(file, dtype=str, keep_default_na=False)
