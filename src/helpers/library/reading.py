"""Input files read into record batches and linkage keys, in file order, on one or more cores.

A library build needs two things of every record: its fields, which go to disk at once as an
Arrow batch, and its linkage key (:class:`helpers.library.dedup.LinkKey`), which stays in memory
for de-duplication. PubMed XML is cut into blocks (:func:`helpers.sources.pubmed_xml.iter_blocks`)
that worker processes parse and key in parallel while this process decompresses, cuts and writes;
a bounded window of blocks in flight keeps memory flat. Every other format is read in this process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, fields
from pathlib import Path

import pyarrow as pa

from helpers.library.dedup import LinkKey, link_key
from helpers.sources.pubmed_xml import Block, Deletion, Record, RecordError, iter_blocks, parse_block
from helpers.sources.records import FileFormat, detect, read_records

BATCH_ROWS = 4096
LIST_FIELDS = ("authors", "affiliations", "keywords", "mesh", "publication_types")
INT_FIELDS = ("source_index", "year")
RECORD_FIELDS = tuple(f.name for f in fields(Record))
KEY_FIELDS = tuple(f.name for f in fields(LinkKey))


def record_schema() -> pa.Schema:
    """The Arrow schema of the record fields."""
    kinds = {name: pa.list_(pa.string()) for name in LIST_FIELDS} | {name: pa.int64() for name in INT_FIELDS}
    return pa.schema([pa.field(name, kinds.get(name, pa.string())) for name in RECORD_FIELDS])


RECORD_SCHEMA = record_schema()


@dataclass
class Piece:
    """What one batch of records gave: the Arrow batch (None when no record), the records' keys,
    and the deletions and errors met among them, in file order."""

    batch: pa.RecordBatch | None
    keys: list[tuple]
    others: list[Deletion | RecordError]


def to_piece(entries: Sequence[Record | Deletion | RecordError]) -> Piece:
    """An entry list as a Piece (keys as plain tuples: they cross process boundaries cheaply)."""
    records = [e for e in entries if isinstance(e, Record)]
    others = [e for e in entries if not isinstance(e, Record)]
    batch = None
    if records:
        columns = [[getattr(r, name) for r in records] for name in RECORD_FIELDS]
        batch = pa.RecordBatch.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, RECORD_SCHEMA, strict=True)], schema=RECORD_SCHEMA
        )
    keys = [tuple(getattr(k, name) for name in KEY_FIELDS) for k in map(link_key, records)]
    return Piece(batch, keys, others)


def _block_piece(block: Block) -> Piece:
    """Parse and key one PubMed XML block (runs in a worker process)."""
    return to_piece(parse_block(block))


def _xml_pieces(path: Path, name: str, pool: Executor | None, window: int) -> Iterator[Piece]:
    pending: deque = deque()
    for block in iter_blocks(path, name):
        if isinstance(block, RecordError):
            while pending:
                yield pending.popleft().result()
            yield Piece(None, [], [block])
            continue
        if pool is None:
            yield _block_piece(block)
            continue
        pending.append(pool.submit(_block_piece, block))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _streamed_pieces(entries: Iterator) -> Iterator[Piece]:
    chunk: list = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) >= BATCH_ROWS:
            yield to_piece(chunk)
            chunk = []
    if chunk:
        yield to_piece(chunk)


def read_pieces(
    path: Path, name: str, pool: Executor | None = None, window: int = 4
) -> tuple[FileFormat, Iterator[Piece]]:
    """(format, pieces in file order) of one input file; no pieces when the file is skipped."""
    fmt = detect(path)
    if fmt.format == "pubmed-xml":
        return fmt, _xml_pieces(path, name, pool, window)
    fmt, entries = read_records(path, name)
    return fmt, _streamed_pieces(entries)


def key_of(values: tuple) -> LinkKey:
    """A LinkKey back from its tuple."""
    return LinkKey(*values)
