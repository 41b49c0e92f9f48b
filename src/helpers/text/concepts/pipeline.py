"""One batch from text to mentions: the scan, the per-document resolution (definitions,
ambiguity, coordinated ranges), the sentences and negation as arrays (:class:`Layout`),
and step 5, the fields built from them in bulk."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from helpers.text.concepts.abbreviations import apply_definitions, defined_elsewhere, definitions
from helpers.text.concepts.ambiguity import context_hits, coordinated_docs, ellipsis, resolve
from helpers.text.concepts.folding import Batch, Lut, run_end, run_start, sorted_unique
from helpers.text.concepts.matcher import Cands, Matcher, scan
from helpers.text.concepts.negation import cue_hits, negations
from helpers.text.concepts.sentences import sentence_ends

MENTION_COLUMNS = [
    "doc_id",
    "concept",
    "category",
    "text",
    "sentence",
    "sentence_index",
    "start",
    "end",
    "negated",
]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while bulk-building acyclic objects.

    Every new tuple/record counts towards the collector's thresholds, and each collection
    walks the objects built so far: for a million mentions that is several times the work
    of building them. Nothing built here forms a cycle (refcounting frees it all), so the
    collector has nothing to find until the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def annotate_batch(m: Matcher, docs: Sequence[tuple[str, str]], cols: dict[str, list]) -> None:
    """Annotate one batch and append its mentions to ``cols``."""
    batch = Batch(docs)
    lay = analyse(m, batch)
    if lay is not None:
        build(m, batch.orig, batch.ids, lay, cols)


def analyse(m: Matcher, batch: Batch) -> Layout | None:
    """The mentions of a batch, as arrays (None when there are none)."""
    cands = scan(m, batch)
    if not len(cands):
        return None
    orig, starts, ends = batch.orig, batch.starts, batch.ends
    starts_a = batch.starts_a
    codes = batch.codes
    separators = np.concatenate(([0], starts_a[1:] - 1, [len(orig) - 1]))
    bounds_a = sorted_unique(
        np.concatenate((sentence_ends(orig, codes, separators, batch.lines), starts_a, np.array(ends, dtype=np.int64)))
    )
    lo = np.searchsorted(cands.start_a, starts_a, side="left").tolist()
    lo.append(len(cands))

    special = set((np.searchsorted(starts_a, cands.start_a[cands.special], side="right") - 1).tolist())
    defs_by_doc, blocked_by_doc = definitions(batch, cands, codes)
    extras = ellipsis(m, batch, cands) if len(cands.ranges[0]) else {}
    redo = special | set(extras)
    more_by_doc = _defined_elsewhere_by_doc(m, orig, defs_by_doc, cands, lo, ends)
    redo.update(more_by_doc)
    # (a document whose short forms are the vocabulary's own, for the same concept, keeps
    # every candidate as it is)
    simple = [
        d
        for d, defs in defs_by_doc.items()
        if d not in redo and any(m.definition_may_change(sf, c) for sf, (c, _) in defs.items())
    ]
    if simple:
        apply_definitions(orig, defs_by_doc, simple, cands, lo)

    counts = np.diff(np.array(lo, dtype=np.int64))
    fs, fe, fc = cands.start_a, cands.end_a, cands.concept_a
    if redo:  # documents that need the full per-document resolution
        coordinated = coordinated_docs(batch, cands, lo, redo) if len(cands.coord[0]) else set()
        bounds = bounds_a.tolist()
        pieces: list[tuple[np.ndarray, ...]] = []
        prev = 0
        for d in sorted(redo):
            a, z = lo[d], lo[d + 1]
            pieces.append((fs[prev:a], fe[prev:a], fc[prev:a]))
            rows = cands.rows(a, z)
            defs = defs_by_doc.get(d, {})
            if d in more_by_doc:
                rows = sorted(set(rows + more_by_doc[d]))
            if d in special or defs:
                ctx = context_hits(m, cands.aux, starts[d], ends[d]) if d in special else {}
                rows = resolve(m, rows, defs, blocked_by_doc.get(d, set()), ctx, orig, bounds)
            if d in coordinated:  # (also drops duplicates, as it always has)
                rows = sorted(set(rows + extras.get(d, [])))
            pieces.append(tuple(np.array([r[k] for r in rows], dtype=np.int64) for k in range(3)))
            counts[d] = len(rows)
            prev = z
        pieces.append((fs[prev:], fe[prev:], fc[prev:]))
        fs, fe, fc = (np.concatenate([p[k] for p in pieces]) for k in range(3))
    if not len(fs):
        return None
    return _layout(batch, fs, fe, fc, counts, bounds_a, cue_hits(m, cands))


def _defined_elsewhere_by_doc(
    m: Matcher,
    orig: str,
    defs_by_doc: dict[int, dict[str, tuple[int, int]]],
    cands: Cands,
    lo: list[int],
    ends: list[int],
) -> dict[int, list[tuple]]:
    """Per document with any, the extra candidates :func:`defined_elsewhere` finds for its definitions."""
    more_by_doc: dict[int, list[tuple]] = {}
    for d, defs in defs_by_doc.items():
        more = defined_elsewhere(m, orig, defs, cands, lo[d], lo[d + 1], ends[d])
        if more:
            more_by_doc[d] = more
    return more_by_doc


class Layout(NamedTuple):
    """A batch's mentions as arrays, enough to build every field (see :func:`build`)."""

    start: np.ndarray  # batch offsets
    end: np.ndarray
    concept: np.ndarray
    counts: np.ndarray  # mentions per document
    doc_start: np.ndarray  # batch offset of each document
    sentence_index: np.ndarray  # per mention
    sentence_start: np.ndarray  # per sentence holding mentions (stripped)
    sentence_end: np.ndarray
    sentence_runs: np.ndarray  # mentions per such sentence, in order
    negated: np.ndarray  # per mention (bool)


def _layout(
    batch: Batch,
    fs: np.ndarray,
    fe: np.ndarray,
    fc: np.ndarray,
    counts: np.ndarray,
    bounds: np.ndarray,
    cues: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> Layout:
    """Sentences and negation of the mentions (batch offsets ``fs``/``fe``, concept ``fc``,
    ``counts[d]`` per document, in order)."""
    n = len(fs)
    starts = batch.starts_a
    # mention i lies in sentence [bounds[g - 1], bounds[g]), g = sent[i] (non-decreasing)
    sent = np.searchsorted(bounds, fs, side="right")
    first = np.searchsorted(bounds, starts, side="right")  # each document's first one
    run_starts = np.concatenate(([0], np.flatnonzero(np.diff(sent)) + 1))
    used = sent[run_starts]
    # each sentence is sliced once, without the white space around it (as str.strip())
    space = Lut.get("space")
    negated = negations(batch.orig, fs, fe, bounds[sent - 1], bounds[sent], cues)
    return Layout(
        fs,
        fe,
        fc,
        counts,
        starts,
        sent - np.repeat(first, counts),
        run_end(batch.codes, bounds[used - 1], space),
        run_start(batch.codes, bounds[used], space),
        np.diff(np.concatenate((run_starts, [n]))),
        np.array(negated, dtype=bool),
    )


def build(m: Matcher, orig: str, ids: np.ndarray, lay: Layout, cols: dict[str, list]) -> None:
    """Append the mentions of ``lay`` (a batch whose joined text is ``orig``, whose
    document ids are ``ids``) to the columns: the Python objects of every field."""
    start, end = lay.start.tolist(), lay.end.tolist()
    cut = map(slice, lay.sentence_start.tolist(), lay.sentence_end.tolist())
    sentences = np.array(list(map(orig.__getitem__, cut)), dtype=object)
    base = np.repeat(lay.doc_start, lay.counts)
    cols["doc_id"] += np.repeat(ids, lay.counts).tolist()
    cols["concept"] += m.codes_a[lay.concept].tolist()
    cols["category"] += m.categories_a[lay.concept].tolist()
    cols["text"] += map(orig.__getitem__, map(slice, start, end))
    cols["sentence"] += np.repeat(sentences, lay.sentence_runs).tolist()
    cols["sentence_index"] += lay.sentence_index.tolist()
    cols["start"] += (lay.start - base).tolist()
    cols["end"] += (lay.end - base).tolist()
    cols["negated"] += lay.negated.tolist()
