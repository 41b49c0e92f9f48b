"""The literature library: every record of every input file, de-duplicated, written as Parquet.

:func:`build_library` reads any mix of files and folders in two passes so that memory holds only
the linkage keys: pass one streams each file's records as Arrow batches into a temporary Arrow file
beside the output (PubMed XML parsed on every core, :mod:`helpers.library.reading`) and keeps each
record's :class:`~helpers.library.dedup.LinkKey`; de-duplication links the keys
(:mod:`helpers.library.dedup`); pass two reads the batches back and writes one Parquet row per input
record with its ``source_file``, ``source_index``, ``cluster_id``, ``related_to``, ``merge_reason``,
``withdrawn`` (a later ``DeleteCitation`` names its PMID) and the record fields. A manifest CSV
beside it accounts for every input file and every record that could not be read.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.core.atomic import write_atomically
from helpers.core.errors import IngestError
from helpers.library.batches import POOL, RECORD_SCHEMA, Piece
from helpers.library.dedup import assign_clusters, group_edges, iter_groups
from helpers.library.reading import KeyStore, read_pieces
from helpers.sources.pubmed_xml import Deletion, RecordError

CLUSTER_FIELDS = (
    pa.field("cluster_id", pa.string()),
    pa.field("related_to", pa.string()),
    pa.field("merge_reason", pa.string()),
    pa.field("withdrawn", pa.bool_()),
)
SCHEMA = pa.schema([*CLUSTER_FIELDS, *RECORD_SCHEMA])
COLUMNS = tuple(SCHEMA.names)
MANIFEST_COLUMNS = ("source_file", "source_index", "status", "format", "records", "reason")
ROW_GROUP = 2048  # rows per Parquet row group: bounds the memory of the final pass


@dataclass
class LibraryResult:
    """What a library build read and wrote."""

    records: int
    clusters: int
    files: int
    errors: int
    manifest: list[dict]


@dataclass
class Pass:
    """What pass one keeps in memory: the keys, the withdrawn PMIDs and the manifest rows."""

    keys: KeyStore = field(default_factory=KeyStore)
    withdrawn: set[str] = field(default_factory=set)
    manifest: list[dict] = field(default_factory=list)


def inputs(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
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


def file_manifest(name: str, fmt: str | None, reason: str, count: int, others: Sequence) -> list[dict]:
    """The manifest rows of one file: its record errors, then the file's own row."""
    errors = [e for e in others if isinstance(e, RecordError)]
    rows = [
        {"source_file": name, "source_index": e.source_index, "status": "error", "format": fmt}
        | {"records": 0, "reason": e.reason}
        for e in errors
    ]
    status = "skipped" if fmt is None else ("parsed" if not errors else "parsed with errors")
    rows.append(
        {"source_file": name, "source_index": None, "status": status, "format": fmt, "records": count}
        | {"reason": reason or (f"{len(errors)} record error(s), listed above" if errors else "")}
    )
    return rows


def first_pass(files: Sequence[tuple[Path, str]], sink: pa.ipc.RecordBatchStreamWriter, pool: Executor | None) -> Pass:
    """Stream every file's batches into ``sink``; keep keys, PMIDs, deletions and the manifest."""
    state = Pass()
    for path, name in files:
        fmt, pieces = read_pieces(path, name, pool)
        count, others = 0, []
        for piece in pieces:
            if piece.batch is not None:
                sink.write_batch(piece.batch)
                count += piece.batch.num_rows
            state.keys.add(name, piece)
            others += piece.others
        state.withdrawn.update(p for d in others if isinstance(d, Deletion) for p in d.pmids)
        state.manifest += file_manifest(name, fmt.format, fmt.reason, count, others)
    return state


def link(keys: KeyStore) -> tuple[list[str], list[str], list[str]]:
    """(cluster ids, related, merge reasons) of every key, in input order."""
    groups = iter_groups(keys.keys, keys.hashes, keys.owners)
    edges = [edge for kind, members in groups for edge in group_edges(kind, members)]
    return assign_clusters(keys.members(), edges)


def cluster_columns(clusters: tuple[list[str], list[str], list[str]]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The cluster id, related and merge-reason columns as Arrow arrays (empty text as null)."""
    ids, related, reasons = clusters
    return (
        pa.array(ids, pa.string(), memory_pool=POOL),
        pa.array([r or None for r in related], pa.string(), memory_pool=POOL),
        pa.array([r or None for r in reasons], pa.string(), memory_pool=POOL),
    )


def final_batches(stored: pa.ipc.RecordBatchStreamReader, columns: tuple, withdrawn: set[str]) -> Iterator:
    """The stored record batches with the cluster columns and ``withdrawn`` in front."""
    gone = pa.array(sorted(withdrawn), pa.string())
    start = 0
    for batch in stored:
        rows = batch.num_rows
        flag = pc.fill_null(pc.is_in(batch.column("pmid"), value_set=gone, memory_pool=POOL), False)
        added = [column.slice(start, rows) for column in columns]
        yield pa.RecordBatch.from_arrays([*added, flag, *batch.columns], schema=SCHEMA)
        start += rows


def write_parquet(batches: Iterable[pa.RecordBatch], out: Path) -> None:
    """The library Parquet file, written beside ``out`` and renamed into place (atomic)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    os.close(fd)
    try:
        with pq.ParquetWriter(partial, SCHEMA, compression="zstd", memory_pool=POOL) as writer:
            pending: list[pa.RecordBatch] = []
            for batch in batches:  # row groups end where the batches do: the same input gives the same bytes
                pending.append(batch)
                if sum(b.num_rows for b in pending) >= ROW_GROUP:
                    writer.write_table(pa.Table.from_batches(pending, SCHEMA), row_group_size=len(pending) * ROW_GROUP)
                    pending = []
            if pending:
                writer.write_table(pa.Table.from_batches(pending, SCHEMA), row_group_size=len(pending) * ROW_GROUP)
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def manifest_path(out: Path) -> Path:
    """``LIB.manifest.csv`` beside ``LIB.parquet`` (or inside a partition folder)."""
    if out.suffix != ".parquet" and (out.is_dir() or not out.suffix):
        return out / "manifest.csv"
    return out.with_name(out.name.removesuffix(".parquet") + ".manifest.csv")


def write_manifest(manifest: list[dict], out: Path) -> Path:
    """The manifest CSV: one row per input file and per record that could not be read."""
    target = manifest_path(out)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest)
    write_atomically(target, buffer.getvalue())
    return target


def default_workers() -> int:
    """Worker processes for PubMed XML parsing: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes that parse PubMed XML blocks. Forked (where the system can) at the first block, before
    keys accumulate, so they share this process's imported code instead of importing it again, and a
    script calling the library needs no ``if __name__ == "__main__"`` guard."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))


def build_library(paths: Iterable[str | Path], out: Path | str, workers: int | None = None) -> LibraryResult:
    """Read, de-duplicate and write the library and its manifest (``workers`` 1: all in this process)."""
    out = Path(out)
    if out.is_dir():
        raise IngestError(f"{out}: is a folder; give the library file (LIB.parquet), or --cluster to write parts")
    files = inputs(paths)
    workers = default_workers() if workers is None else workers
    out.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        spool = stack.enter_context(tempfile.TemporaryDirectory(dir=out.parent, prefix=".library-"))
        pool = stack.enter_context(worker_pool(workers)) if workers > 1 else None
        stored = Path(spool) / "records.arrow"
        with pa.OSFile(str(stored), "wb") as sink, pa.ipc.new_stream(sink, RECORD_SCHEMA) as writer:
            state = first_pass(files, writer, pool)
        record_count = len(state.keys.keys)
        clusters = link(state.keys)
        cluster_count = len(set(clusters[0]))
        columns = cluster_columns(clusters)
        del clusters, state.keys  # the keys are done with: the final pass needs their memory
        with pa.OSFile(str(stored), "rb") as source:
            write_parquet(final_batches(pa.ipc.open_stream(source, memory_pool=POOL), columns, state.withdrawn), out)
    write_manifest(state.manifest, out)
    file_count = sum(1 for m in state.manifest if m["source_index"] is None)
    error_count = sum(1 for m in state.manifest if m["status"] == "error")
    return LibraryResult(record_count, cluster_count, file_count, error_count, state.manifest)


__all__ = ["COLUMNS", "SCHEMA", "LibraryResult", "Piece", "build_library", "inputs", "write_manifest"]
