"""The literature library: every record of every input file, de-duplicated, written as Parquet.

:func:`build_library` reads any mix of files and folders (PubMed/MEDLINE XML streamed, MEDLINE
text, RIS, BibTeX), links the records that are the same work (:mod:`helpers.library.dedup`) and
writes one Parquet row per input record with its ``source_file``, ``source_index``, ``cluster_id``,
``related_to``, ``merge_reason``, ``withdrawn`` (a later ``DeleteCitation`` names its PMID) and the
record fields. A manifest CSV beside it accounts for every input file and every record that could
not be read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from helpers.core.atomic import write_atomically
from helpers.core.errors import IngestError
from helpers.library.dedup import deduplicate
from helpers.sources.pubmed_xml import Deletion, Record, RecordError
from helpers.sources.records import read_records

LIST_FIELDS = ("authors", "affiliations", "keywords", "mesh", "publication_types")
INT_FIELDS = ("source_index", "year")
RECORD_FIELDS = tuple(f.name for f in fields(Record))
COLUMNS = ("cluster_id", "related_to", "merge_reason", "withdrawn", *RECORD_FIELDS)
MANIFEST_COLUMNS = ("source_file", "source_index", "status", "format", "records", "reason")


@dataclass
class LibraryResult:
    """What a library build read and wrote."""

    records: int
    clusters: int
    files: int
    errors: int
    manifest: list[dict]


def _inputs(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """(path, name as given) for every file, folders expanded in sorted order; missing paths raise."""
    out = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise IngestError(f"{given}: no such file or folder; give export files or folders of them")
        if path.is_dir():
            out += [(p, str(p)) for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".")]
        else:
            out.append((path, str(given)))
    return out


def _schema() -> pa.Schema:
    types = []
    for name in COLUMNS:
        if name in LIST_FIELDS:
            types.append(pa.field(name, pa.list_(pa.string())))
        elif name in INT_FIELDS:
            types.append(pa.field(name, pa.int64()))
        elif name == "withdrawn":
            types.append(pa.field(name, pa.bool_()))
        else:
            types.append(pa.field(name, pa.string()))
    return pa.schema(types)


def read_all(paths: Iterable[str | Path]) -> tuple[list[Record], set[str], list[dict]]:
    """(records, withdrawn PMIDs, manifest rows) of every input file."""
    records: list[Record] = []
    withdrawn: set[str] = set()
    manifest: list[dict] = []
    for path, name in _inputs(paths):
        fmt, entries = read_records(path, name)
        count, errors = 0, 0
        for entry in entries:
            if isinstance(entry, Record):
                records.append(entry)
                count += 1
            elif isinstance(entry, Deletion):
                withdrawn.update(entry.pmids)
            elif isinstance(entry, RecordError):
                errors += 1
                manifest.append(
                    {"source_file": name, "source_index": entry.source_index, "status": "error", "format": fmt.format}
                    | {"records": 0, "reason": entry.reason}
                )
        status = "skipped" if fmt.format is None else ("parsed" if not errors else "parsed with errors")
        manifest.append(
            {"source_file": name, "source_index": None, "status": status, "format": fmt.format, "records": count}
            | {"reason": fmt.reason or (f"{errors} record error(s), listed below" if errors else "")}
        )
    return records, withdrawn, manifest


def write_parquet(records: Sequence[Record], clusters: tuple, withdrawn: set[str], out: Path) -> None:
    """One row per record, in input order, atomically."""
    ids, related, reasons = clusters
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    for record, cid, rel, why in zip(records, ids, related, reasons, strict=True):
        columns["cluster_id"].append(cid)
        columns["related_to"].append(rel or None)
        columns["merge_reason"].append(why or None)
        columns["withdrawn"].append(bool(record.pmid and record.pmid in withdrawn))
        for name in RECORD_FIELDS:
            columns[name].append(getattr(record, name))
    table = pa.table(columns, schema=_schema())
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="zstd")
    write_atomically(out, buffer.getvalue().to_pybytes())


def write_manifest(manifest: list[dict], out: Path) -> Path:
    """The manifest CSV beside the library: ``LIB.manifest.csv``."""
    target = out.with_name(out.name.removesuffix(".parquet") + ".manifest.csv")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest)
    write_atomically(target, buffer.getvalue())
    return target


def build_library(paths: Iterable[str | Path], out: Path | str) -> LibraryResult:
    """Read, de-duplicate and write the library and its manifest."""
    out = Path(out)
    records, withdrawn, manifest = read_all(paths)
    clusters = deduplicate(records)
    write_parquet(records, clusters, withdrawn, out)
    write_manifest(manifest, out)
    files = sum(1 for m in manifest if m["source_index"] is None)
    errors = sum(1 for m in manifest if m["status"] == "error")
    return LibraryResult(len(records), len(set(clusters[0])), files, errors, manifest)
