"""Records as Arrow batches with their linkage keys: what one PubMed XML block or one run of
streamed records becomes, in this process or in a worker process (which hands the batch back
through Arrow's own serialisation, cheaper than pickling records one by one)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import pyarrow as pa

from helpers.library.dedup import LinkKey, group_hashes, link_key
from helpers.sources.pubmed_xml import Block, Deletion, Record, RecordError, parse_block

LIST_FIELDS = ("authors", "affiliations", "keywords", "mesh", "publication_types")
INT_FIELDS = ("source_index", "year")
RECORD_FIELDS = tuple(f.name for f in fields(Record))
KEY_FIELDS = tuple(f.name for f in fields(LinkKey))
# The C allocator gives freed batches back to the system at once; Arrow's default pool keeps them.
POOL = pa.system_memory_pool()


def record_schema() -> pa.Schema:
    """The Arrow schema of the record fields."""
    kinds = {name: pa.list_(pa.string()) for name in LIST_FIELDS} | {name: pa.int64() for name in INT_FIELDS}
    return pa.schema([pa.field(name, kinds.get(name, pa.string())) for name in RECORD_FIELDS])


RECORD_SCHEMA = record_schema()


@dataclass
class Piece:
    """What one run of entries gave: the Arrow batch of its records (None when none), their keys as
    tuples, and the deletions and errors among them, in file order."""

    batch: pa.RecordBatch | None
    keys: list[tuple]
    others: list[Deletion | RecordError]
    hashes: array = field(default_factory=lambda: array("q"))  # the keys' group hashes ...
    owners: array = field(default_factory=lambda: array("l"))  # ... and which key (0-based here) each is of


def to_piece(entries: Sequence[Record | Deletion | RecordError]) -> Piece:
    """An entry list as a Piece."""
    records = [e for e in entries if isinstance(e, Record)]
    batch = None
    if records:
        arrays = [pa.array([getattr(r, f.name) for r in records], type=f.type, memory_pool=POOL) for f in RECORD_SCHEMA]
        batch = pa.RecordBatch.from_arrays(arrays, schema=RECORD_SCHEMA)
    linked = [link_key(r) for r in records]
    hashes, owners = array("q"), array("l")
    for i, key in enumerate(linked):
        found = group_hashes(key)
        hashes.extend(found)
        owners.extend([i] * len(found))
    keys = [tuple(getattr(k, name) for name in KEY_FIELDS) for k in linked]
    return Piece(batch, keys, [e for e in entries if not isinstance(e, Record)], hashes, owners)


def block_piece(block: Block) -> Piece:
    """Parse and key one PubMed XML block (runs in a worker process)."""
    return to_piece(parse_block(block))
