"""The library built on a Dask cluster: the same code as one process, spread over workers.

``python -m helpers library PATH... --out FOLDER --cluster ADDRESS`` (or ``--cluster local:N`` for
a local cluster of N worker processes):

1. **One task per input file** reads it (:func:`helpers.library.reading.read_pieces`), stages its
   record batches as an Arrow file in ``FOLDER/.staging/`` and returns its linkage keys, manifest
   rows and withdrawn PMIDs.
2. **De-duplication by a shuffle on blocking keys**: the same read task hashes every record's group
   memberships (identifier groups and blocks, :func:`helpers.library.dedup.group_hashes`) into
   buckets by hash; bucket *b* of every file meets in one task on some worker, which finds its
   groups and links each on its own (:func:`~helpers.library.dedup.iter_groups`,
   :func:`~helpers.library.dedup.group_edges`). Only the edges, few, come back to be joined
   (:func:`~helpers.library.dedup.assign_clusters`); cluster ids depend only on the members, so
   they equal the one-process build's.
3. **Parquet partitions out**: one task per input file writes ``FOLDER/part-NNNNN.parquet`` with the
   cluster columns added; ``FOLDER/manifest.csv`` accounts for every file and record.

Workers must see the input files and ``FOLDER`` at the same paths (a shared file system).
"""

from __future__ import annotations

import logging
import pickle
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from helpers.core.errors import IngestError
from helpers.library.batches import POOL, RECORD_SCHEMA
from helpers.library.dedup import Edge, assign_clusters, group_edges, iter_groups
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
    members: list[str]  # each record's 'file#position', what clusters are named by
    withdrawn: set[str]
    manifest: list[dict]


FILE_SHIFT = 32  # a record is known as (file number << FILE_SHIFT) + its position among the file's records


def _staged_path(folder: Path, number: int) -> Path:
    return folder / ".staging" / f"records-{number:05d}.arrow"


def stage_file(number: int, path: str, name: str, folder: str, buckets: int) -> tuple[Staged, list[bytes]]:
    """Read one file, stage its batches, and bucket its keys' group memberships by hash (a task)."""
    target = _staged_path(Path(folder), number)
    fmt, pieces = read_pieces(Path(path), name)
    count, others, members = 0, [], []
    parts: list[list] = [[] for _ in range(buckets)]
    with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_stream(sink, RECORD_SCHEMA) as writer:
        for piece in pieces:
            if piece.batch is not None:
                writer.write_batch(piece.batch)
            for group, owner in zip(piece.hashes, piece.owners, strict=True):
                parts[(group >> 1) % buckets].append((group, (number << FILE_SHIFT) + count + owner, piece.keys[owner]))
            members += [values[0] for values in piece.keys]
            count += len(piece.keys)
            others += piece.others
    withdrawn = {p for d in others if isinstance(d, Deletion) for p in d.pmids}
    staged = Staged(number, count, members, withdrawn, file_manifest(name, fmt.format, fmt.reason, count, others))
    return staged, [pickle.dumps(part) for part in parts]


def _summary(result: tuple[Staged, list[bytes]]) -> Staged:
    return result[0]


def _bucket(result: tuple[Staged, list[bytes]], bucket: int) -> bytes:
    return result[1][bucket]


def link_bucket(*parts: bytes) -> list[Edge]:
    """The edges of every group whose hash falls in one bucket, from that bucket of every file (a task)."""
    rows = [row for part in parts for row in pickle.loads(part)]
    keys = {pos: key_of(values) for _, pos, values in rows}
    groups = iter_groups(keys, [group for group, _, _ in rows], [pos for _, pos, _ in rows])  # type: ignore[arg-type]
    return [edge for kind, members in groups for edge in group_edges(kind, members)]


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
        options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0", "silence_logs": logging.ERROR}
        cluster = LocalCluster(n_workers=int(workers), **options)
        return Client(cluster)
    try:
        return Client(address, timeout="20s")
    except OSError as exc:
        raise IngestError(f"--cluster {address}: no Dask scheduler answers ({exc}); start one or use local:N") from exc


def build_on_cluster(paths: Iterable[str | Path], out: Path | str, client) -> LibraryResult:
    """Read, de-duplicate and write the library as Parquet partitions in the folder ``out``."""
    folder = Path(out)
    files = inputs(paths)
    if folder.exists() and not folder.is_dir():
        raise IngestError(f"{folder}: with --cluster, --out is a folder of Parquet partitions; give a folder")
    (folder / ".staging").mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    try:
        paths, names = [str(p) for p, _ in files], [n for _, n in files]
        buckets = max(1, 2 * len(client.scheduler_info()["workers"]))
        count = len(files)
        read = client.map(stage_file, range(count), paths, names, [str(folder)] * count, [buckets] * count, pure=False)
        linked = [
            client.submit(link_bucket, *[client.submit(_bucket, r, b, pure=False) for r in read], pure=False)
            for b in range(buckets)
        ]
        staged = client.gather([client.submit(_summary, r, pure=False) for r in read])
        offsets, total = {}, 0
        for part in staged:
            offsets[part.number] = total
            total += part.count

        def position(pos: int) -> int:
            return offsets[pos >> FILE_SHIFT] + (pos & ((1 << FILE_SHIFT) - 1))

        edges = [
            (position(i), position(j), why, merged) for part in client.gather(linked) for i, j, why, merged in part
        ]
        ids, related, reasons = assign_clusters([m for part in staged for m in part.members], edges)
        offsets_list = [offsets[part.number] for part in staged]
        withdrawn = set().union(*(part.withdrawn for part in staged))
        writes = [
            client.submit(
                write_partition, part.number, str(folder),
                (ids[o : o + part.count], related[o : o + part.count], reasons[o : o + part.count]), withdrawn,
                pure=False,
            )
            for o, part in zip(offsets_list, staged, strict=True)
        ]  # fmt: skip
        client.gather(writes)
    finally:
        shutil.rmtree(folder / ".staging", ignore_errors=True)
    manifest = [row for part in staged for row in part.manifest]
    write_manifest(manifest, folder)
    errors = sum(1 for m in manifest if m["status"] == "error")
    return LibraryResult(total, len(set(ids)), len(files), errors, manifest)
