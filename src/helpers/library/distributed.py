"""The library built on a Dask cluster: the same code as one process, spread over workers.

``python -m helpers library PATH... --out FOLDER --cluster ADDRESS`` (or ``--cluster local:N`` for
a local cluster of N worker processes):

1. **One task per input file** reads it (:func:`helpers.library.reading.read_pieces`), stages its
   record batches as an Arrow file in ``FOLDER/.staging/`` and returns its linkage keys, manifest
   rows and withdrawn PMIDs.
2. **De-duplication by a shuffle on blocking keys**: every (group, key) membership of every record
   (:func:`helpers.library.dedup.identifier_groups`, :func:`~helpers.library.dedup.block_groups`)
   goes into a Dask bag that is grouped by group name across the workers; each group is linked on
   its own (:func:`~helpers.library.dedup.group_edges`), and the edges, few, come back to be joined
   (:func:`~helpers.library.dedup.assign_clusters`). Cluster ids depend only on the members, so they
   equal the one-process build's.
3. **Parquet partitions out**: one task per input file writes ``FOLDER/part-NNNNN.parquet`` with the
   cluster columns added; ``FOLDER/manifest.csv`` accounts for every file and record.

Workers must see the input files and ``FOLDER`` at the same paths (a shared file system).
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from helpers.core.errors import IngestError
from helpers.library.batches import POOL, RECORD_SCHEMA
from helpers.library.dedup import LinkKey, assign_clusters, block_groups, group_edges, identifier_groups
from helpers.library.reading import key_of, read_pieces
from helpers.library.store import (
    LibraryResult,
    cluster_columns,
    file_manifest,
    final_batches,
    inputs,
    write_manifest,
    write_parquet,
)
from helpers.sources.pubmed_xml import Deletion


@dataclass
class Staged:
    """What the read task of one file gives back (its records stay in the staging folder)."""

    number: int
    count: int
    keys: list[tuple]
    withdrawn: set[str]
    manifest: list[dict]


def _staged_path(folder: Path, number: int) -> Path:
    return folder / ".staging" / f"records-{number:05d}.arrow"


def stage_file(number: int, path: str, name: str, folder: str) -> Staged:
    """Read one file, stage its batches, return its keys (a task: runs on a worker)."""
    target = _staged_path(Path(folder), number)
    fmt, pieces = read_pieces(Path(path), name)
    count, others, keys = 0, [], []
    with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_stream(sink, RECORD_SCHEMA) as writer:
        for piece in pieces:
            if piece.batch is not None:
                writer.write_batch(piece.batch)
                count += piece.batch.num_rows
            keys += piece.keys
            others += piece.others
    withdrawn = {p for d in others if isinstance(d, Deletion) for p in d.pmids}
    return Staged(number, count, keys, withdrawn, file_manifest(name, fmt.format, fmt.reason, count, others))


def _memberships(part: tuple[int, bytes]) -> list[tuple[tuple[str, str], tuple[int, LinkKey]]]:
    offset, packed = part
    out = []
    for pos, values in enumerate(pickle.loads(packed), offset):
        key = key_of(values)
        out += [(("id", g), (pos, key)) for g in identifier_groups(key)]
        out += [(("block", g), (pos, key)) for g in block_groups(key)]
    return out


def _edges(group: tuple[tuple[str, str], list]) -> list:
    (kind, _), members = group
    return group_edges(kind, list(members)) if len(members) > 1 else []


def write_partition(number: int, folder: str, clusters: tuple, withdrawn: set[str]) -> str:
    """Write one file's Parquet partition from its staged batches (a task: runs on a worker)."""
    out = Path(folder) / f"part-{number:05d}.parquet"
    with pa.OSFile(str(_staged_path(Path(folder), number)), "rb") as source:
        write_parquet(
            final_batches(pa.ipc.open_stream(source, memory_pool=POOL), cluster_columns(clusters), withdrawn), out
        )
    return str(out)


def connect(address: str):
    """A Dask client: ``local:N`` starts a local cluster of N single-threaded worker processes."""
    from dask.distributed import Client, LocalCluster

    if address.startswith("local:"):
        workers = address.removeprefix("local:")
        if not workers.isdigit() or int(workers) < 1:
            raise IngestError(f"--cluster {address}: give local:N (N a whole number >= 1) or a scheduler address")
        cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=":0")
        return Client(cluster)
    try:
        return Client(address, timeout="20s")
    except OSError as exc:
        raise IngestError(f"--cluster {address}: no Dask scheduler answers ({exc}); start one or use local:N") from exc


def build_on_cluster(paths: Iterable[str | Path], out: Path | str, client) -> LibraryResult:
    """Read, de-duplicate and write the library as Parquet partitions in the folder ``out``."""
    import dask.bag as db

    folder = Path(out)
    files = inputs(paths)
    if folder.exists() and not folder.is_dir():
        raise IngestError(f"{folder}: with --cluster, --out is a folder of Parquet partitions; give a folder")
    (folder / ".staging").mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    try:
        paths, names = [str(p) for p, _ in files], [n for _, n in files]
        futures = client.map(stage_file, range(len(files)), paths, names, [str(folder)] * len(files), pure=False)
        staged = sorted(client.gather(futures), key=lambda s: s.number)
        offsets, total = [], 0
        for part in staged:
            offsets.append(total)
            total += part.count
        parts = [(offset, pickle.dumps(part.keys)) for offset, part in zip(offsets, staged, strict=True)]
        memberships = db.from_sequence(parts, npartitions=max(1, len(parts))).map(_memberships).flatten()
        grouped = memberships.groupby(lambda m: m[0], shuffle="tasks").map(lambda g: (g[0], [m[1] for m in g[1]]))
        edges = grouped.map(_edges).flatten().compute()
        members = [values[0] for part in staged for values in part.keys]
        ids, related, reasons = assign_clusters(members, edges)
        withdrawn = set().union(*(part.withdrawn for part in staged))
        writes = [
            client.submit(
                write_partition, part.number, str(folder),
                (ids[o : o + part.count], related[o : o + part.count], reasons[o : o + part.count]), withdrawn,
                pure=False,
            )
            for o, part in zip(offsets, staged, strict=True)
        ]  # fmt: skip
        client.gather(writes)
    finally:
        shutil.rmtree(folder / ".staging", ignore_errors=True)
    manifest = [row for part in staged for row in part.manifest]
    write_manifest(manifest, folder)
    errors = sum(1 for m in manifest if m["status"] == "error")
    return LibraryResult(total, len(set(ids)), len(files), errors, manifest)
