"""Input files read into record batches and linkage keys, in file order, on one or more cores.

A library build needs two things of every record: its fields, which go to disk at once as an
Arrow batch, and its linkage key (:class:`helpers.library.dedup.LinkKey`), which stays in memory
for de-duplication. PubMed XML is cut into blocks (:func:`helpers.sources.pubmed_xml.iter_blocks`)
that worker processes parse and key in parallel while this process decompresses, cuts and writes;
a bounded window of blocks in flight keeps memory flat. Every other format is read in this process.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from helpers.library.batches import KEY_FIELDS, Piece, block_piece, to_piece
from helpers.library.dedup import LinkKey
from helpers.sources.pubmed_xml import RecordError, iter_blocks
from helpers.sources.records import FileFormat, detect, read_records

BATCH_ROWS = 4096
LIST_FIELDS = ("authors", "affiliations", "keywords", "mesh", "publication_types")
INT_FIELDS = ("source_index", "year")


def _xml_pieces(path: Path, name: str, pool: Executor | None, window: int) -> Iterator[Piece]:
    pending: deque = deque()
    for block in iter_blocks(path, name):
        if isinstance(block, RecordError):
            while pending:
                yield pending.popleft().result()
            yield Piece(None, [], [block])
            continue
        if pool is None:
            yield block_piece(block)
            continue
        pending.append(pool.submit(block_piece, block))
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


# KeyStore.add unpacks key tuples by position: this is the order it expects.
KEY_ORDER = ("member", "doi", "pmid", "pmcid", "title", "kind", "year", "surname", "journal", "volume", "page")
if KEY_FIELDS[: len(KEY_ORDER)] != KEY_ORDER:
    raise ImportError(f"LinkKey fields changed ({KEY_FIELDS}); update KeyStore.add")


class KeyStore:
    """The linkage keys of a build, compact: values that repeat across records (surname, journal,
    year, volume, page, kind) are stored once, and each record's member name ('file#position') is
    not kept but derived from its file number and position when clusters are named."""

    def __init__(self) -> None:
        self.keys: list[LinkKey] = []
        self.files: list[str] = []
        self.file_of = array("l")
        self.index_of = array("l")
        self.hashes = array("q")  # group memberships: the hash of a group name ...
        self.owners = array("l")  # ... and the position of the record it is of
        self._shared: dict = {}

    def add(self, name: str, piece: Piece) -> None:
        """Keep the keys (and group memberships) of a piece of records of the file ``name`` (as given)."""
        if not self.files or self.files[-1] != name:
            self.files.append(name)
        offset = len(self.keys)
        same = self._shared.setdefault
        self.keys += [
            LinkKey("", doi, pmid, pmcid, title, same(kind, kind), same(year, year), same(surname, surname),
                    same(journal, journal), same(volume, volume), same(page, page), *rest)
            for _, doi, pmid, pmcid, title, kind, year, surname, journal, volume, page, *rest in piece.keys
        ]  # fmt: skip
        if piece.batch is not None:
            self.index_of.frombytes(piece.batch.column("source_index").to_numpy().astype(np.int64).tobytes())
        self.file_of.frombytes(np.full(len(piece.keys), len(self.files) - 1, dtype=np.int64).tobytes())
        self.hashes.extend(piece.hashes)
        self.owners.frombytes((np.frombuffer(piece.owners, dtype=np.int64) + offset).tobytes())

    def members(self) -> Sequence[str]:
        """Every record's member name, computed on demand."""
        return _Members(self)


class _Members(Sequence):
    def __init__(self, store: KeyStore) -> None:
        self.store = store

    def __len__(self) -> int:
        return len(self.store.keys)

    def __getitem__(self, pos):  # type: ignore[override]
        if isinstance(pos, slice):
            return [self[i] for i in range(*pos.indices(len(self)))]
        return f"{self.store.files[self.store.file_of[pos]]}#{self.store.index_of[pos]:09d}"
