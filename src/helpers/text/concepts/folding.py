"""Step 1: documents joined into one batch string and folded 1:1, runs of white space and
hyphens (``CAR-\\nT``) collapsed to one space, with the offset map back; and the array
helpers over code points (lookup tables, runs of chars in a table, sorted merges) that
the other steps use.

:func:`find_runs` keeps the string scan that defines the runs (the reference of the array
version, and the fallback for texts outside the BMP); ``fold_chars`` is the reference of
the fold table.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, repeat

import numpy as np

from helpers.text.vocabulary import FOLD_WHOLE, fold_chars, fold_code_table

_SEPARATOR_CHARS = frozenset(" \t\n\r\f\v\u00a0-/\u2010\u2011\u2012\u2013\u2014\u2015")
_SEPARATOR_CLASS = "[ \\t\\n\\r\\f\\v\\u00a0\\-/\\u2010-\\u2015]"
# A line break next to another separator: the only line breaks that start a run. (re: lookaround;
# both patterns do bounded work per position, see helpers.core.patterns.)
_RUN_NEWLINE = re.compile(r"\n(?:(?=" + _SEPARATOR_CLASS + r")|(?<=" + _SEPARATOR_CLASS + r"\n))")
_DOUBLE_SPACE = re.compile("  ")  # (the regex engine finds it faster than str.find)
SEP = "\x00"  # joins documents of a batch; folds to one space, never inside a run
BATCH_CHARS = 2_000_000  # (big enough for few calls, small enough to stay in the cache)


class Batch:
    """Documents joined into one string and folded once, with the offset map back.

    Offsets into ``orig`` (the joined text) are "batch offsets"; document ``i`` starts at
    ``starts[i]`` and ends at ``ends[i]`` (the separator after it).
    """

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        self.docs = docs
        texts = [d[1] for d in docs]
        self.orig = SEP + SEP.join(texts) + SEP
        lengths = [len(t) + 1 for t in texts]
        self.starts: list[int] = list(accumulate(lengths[:-1], initial=1))
        self.ends: list[int] = [s + n - 1 for s, n in zip(self.starts, lengths, strict=True)]
        self.starts_a = np.array(self.starts, dtype=np.int64)
        self.ids = np.array([d[0] for d in docs], dtype=object)
        self.codes = char_codes(self.orig)  # its code points
        self.lines = np.flatnonzero(self.codes == 10)  # its line breaks
        self.cut_norm: list[int] = []
        self.cut_shift: list[int] = []
        self.run_ends: list[int] = []
        self.norm_codes: np.ndarray | None = None  # code points of norm (set by the scan)
        self.norm = self._collapse(fold_text(self.orig, self.codes))

    def _collapse(self, base: str) -> str:
        """Replace runs of whitespace/hyphens (``CAR-\n T``) by one space."""
        runs = find_runs(self.orig, self.codes, self.lines)
        if not runs:
            return base
        pieces, prev, removed = [], 0, 0
        for a, b in runs:
            pieces.append(base[prev:a])
            pieces.append(" ")
            self.cut_norm.append(a - removed + 1)
            removed += b - a - 1
            self.cut_shift.append(removed)
            self.run_ends.append(b)
            prev = b
        pieces.append(base[prev:])
        return "".join(pieces)

    def to_norm(self, o: int) -> int:
        """Original offset (never inside a collapsed run) -> folded offset."""
        k = bisect_right(self.run_ends, o)
        return o - (self.cut_shift[k - 1] if k else 0)

    def shift_at(self, n: int) -> int:
        """What to add to folded offset ``n`` to get the original offset."""
        k = bisect_right(self.cut_norm, n)
        return self.cut_shift[k - 1] if k else 0

    def doc_of(self, o: int) -> int:
        """Index of the document holding batch offset ``o``."""
        return bisect_right(self.starts, o) - 1


def fold_text(text: str, codes: np.ndarray) -> str:
    """:func:`~helpers.text.vocabulary.fold_chars` of ``text`` (whose code points are ``codes``):
    through the BMP fold table when the text is not ASCII."""
    if codes.dtype == np.uint16:
        folded = np.take(fold_code_table(), codes)
        if folded.max() != FOLD_WHOLE:
            return folded.tobytes().decode("utf-16-le")
    return fold_chars(text)


def find_runs(text: str, codes: np.ndarray | None = None, lines: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Spans of 2+ separator chars (whitespace, hyphens, '/') that hold a line break, a tab
    or a double space: the only runs a term can be split by (``CAR-\nT``).

    With ``codes`` (the code points of ``text``, which starts and ends with a char that is
    no separator) and ``lines`` (its line breaks), with array operations.
    """
    if codes is not None and codes.dtype != np.uint32:
        return _find_runs_codes(text, codes, lines)
    seeds: list[int] = []
    if "\n" in text:
        seeds = [mt.start() for mt in _RUN_NEWLINE.finditer(text)]
    for seed in ("\r", "\t"):
        i = text.find(seed)
        while i >= 0:
            seeds.append(i)
            i = text.find(seed, i + 1)
    seeds += [mt.start() for mt in _DOUBLE_SPACE.finditer(text)]
    runs: list[tuple[int, int]] = []
    n = len(text)
    for p in sorted(set(seeds)):
        if runs and p < runs[-1][1]:
            continue
        a, b = p, p + 1
        while a > 0 and text[a - 1] in _SEPARATOR_CHARS:
            a -= 1
        while b < n and text[b] in _SEPARATOR_CHARS:
            b += 1
        if b - a >= 2:
            runs.append((a, b))
    return runs


def _find_runs_codes(text: str, codes: np.ndarray, lines: np.ndarray) -> list[tuple[int, int]]:
    """:func:`find_runs` with array operations: the maximal separator runs (2+ chars)
    around each line break next to a separator, each tab or carriage return, and each
    double space."""
    sep = Lut.get("separator")
    seeds = [lines[sep[codes[lines - 1]] | sep[codes[lines + 1]]]]
    for ch in ("\r", "\t"):
        if ch in text:
            seeds.append(np.flatnonzero(codes == ord(ch)))
    space = codes == 32
    seeds.append(np.flatnonzero(space[:-1] & space[1:]))
    seed = sorted_unique(np.concatenate(seeds))
    if not len(seed):
        return []
    a, b = run_start(codes, seed, sep), run_end(codes, seed + 1, sep)
    keep = b - a >= 2
    a, b = a[keep], b[keep]
    first = np.ones(len(a), dtype=bool)  # one per run (a is sorted: the seeds are)
    first[1:] = a[1:] != a[:-1]
    return list(zip(a[first].tolist(), b[first].tolist(), strict=True))


class Lut:
    """Lookup tables over the Basic Multilingual Plane, built on first use."""

    _tables: dict[str, np.ndarray] = {}

    @classmethod
    def get(cls, name: str) -> np.ndarray:
        """The table ``name`` (indexed by code point): whether each char is in the class."""
        table = cls._tables.get(name)
        if table is None:
            if name in ("space", "word"):  # the regex \s; \w (and \b)
                test = str.isspace if name == "space" else str.isalnum
                table = np.fromiter(map(test, map(chr, range(0x10000))), dtype=bool, count=0x10000)
                if name == "word":
                    table[ord("_")] = True
            else:
                members = {
                    "quote": _CLOSERS,
                    "capital": _SENTENCE_STARTS,
                    "blank": " \t",
                    "line": _LINE_START_CHARS,
                    "separator": _SEPARATOR_CHARS,
                }[name]
                table = np.zeros(0x10000, dtype=bool)
                table[[ord(ch) for ch in members]] = True
            cls._tables[name] = table
        return table


# the char classes of the sentence splitter (:mod:`.sentences`)
_CLOSERS = "\"')]\u201d\u2019"  # may follow the end mark
_SENTENCE_STARTS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"'([\u201c\u2018" + "".join(
    chr(c) for c in range(0x3B1, 0x3CA)
)
_LINE_START_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-\u2022*"


def run_start(codes: np.ndarray, at: np.ndarray, table: np.ndarray, floor: int = 0) -> np.ndarray:
    """For each position, the first position (not below ``floor``) from which every char
    up to it (excluded) is in ``table``."""
    codes = _in_table_range(codes)
    out = at.copy()
    active = np.flatnonzero(out > floor)
    active = active[table[codes[out[active] - 1]]]
    for _ in range(_VECTOR_STEPS):
        if not len(active):
            return out
        out[active] -= 1
        active = active[out[active] > floor]
        active = active[table[codes[out[active] - 1]]]
    if len(active):  # long runs: the chars outside the table, from below the lowest one
        pos = out[active]
        lo = int(pos.min())
        while lo > floor and table[codes[lo - 1]]:
            lo = max(floor, lo - _CHUNK)
        outside = np.flatnonzero(~table[codes[lo : int(pos.max())]]) + lo
        k = np.searchsorted(outside, pos, side="left")
        out[active] = np.where(k > 0, outside[np.maximum(k - 1, 0)] + 1, lo)
    return out


def run_end(codes: np.ndarray, at: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each position, the first position at or after it whose char is not in ``table``
    (or the end of ``codes``)."""
    codes = _in_table_range(codes)
    out = at.copy()
    last = len(codes)
    active = np.flatnonzero(out < last)
    active = active[table[codes[out[active]]]]
    for _ in range(_VECTOR_STEPS):
        if not len(active):
            return out
        out[active] += 1
        active = active[out[active] < last]
        active = active[table[codes[out[active]]]]
    if len(active):  # long runs: the chars outside the table, up past the highest one
        pos = out[active]
        lo, hi = int(pos.min()), int(pos.max())
        while hi < last and table[codes[hi]]:
            hi = min(last, hi + _CHUNK)
        outside = np.flatnonzero(~table[codes[lo:hi]]) + lo
        k = np.searchsorted(outside, pos, side="left")
        out[active] = np.where(k < len(outside), outside[np.minimum(k, len(outside) - 1)], hi)
    return out


def _in_table_range(codes: np.ndarray) -> np.ndarray:
    """Code points outside the BMP as U+FFFF, which no table holds (no such char is white
    space, a separator or a quote; \\w is not asked of them: see :func:`.sentences.sentence_ends`)."""
    return np.minimum(codes, 0xFFFF) if codes.dtype == np.uint32 else codes


_VECTOR_STEPS = 8  # chars a run is followed one at a time, for all positions at once
_CHUNK = 4096


def split_batches(docs: Iterable[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """``(doc_id, text)`` pairs in lists of about ``BATCH_CHARS`` chars; ids made str,
    ``SEP`` in a text made a space."""
    batch: list = []
    size = 0
    for doc in docs:
        batch.append(doc)
        size += len(doc[1])
        if size >= BATCH_CHARS:
            yield _clean(batch)
            batch, size = [], 0
    if batch:
        yield _clean(batch)


def _clean(batch: list) -> list[tuple[str, str]]:
    ids = [d[0] for d in batch]
    texts = [d[1] for d in batch]
    if set(map(type, ids)) != {str}:
        ids = list(map(str, ids))
    if any(map(str.__contains__, texts, repeat(SEP))):
        texts = [t.replace(SEP, " ") if SEP in t else t for t in texts]
    return list(zip(ids, texts, strict=True))


def char_codes(text: str) -> np.ndarray:
    """The code points of ``text`` as an array (one item per char)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    data = text.encode("utf-16-le")
    if len(data) == 2 * len(text):
        return np.frombuffer(data, dtype=np.uint16)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def ends_with_any(chars: np.ndarray, at: np.ndarray, endings: Sequence[str]) -> np.ndarray:
    """Which positions ``at`` are preceded by one of ``endings`` (``str.endswith``)."""
    found = np.zeros(len(at), dtype=bool)
    for ending in endings:
        n = len(ending)
        here = at >= n
        for j, ch in enumerate(ending):
            here &= chars[np.maximum(at - n + j, 0)] == ord(ch)
        found |= here
    return found


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for a few sorted runs of integers (a merge, not a hash)."""
    values = np.sort(values, kind="stable")
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]
