"""The public API: :func:`annotate`, :func:`annotate_columns`, :func:`annotate_frame`,
:func:`mentions_frame` and the :class:`Mention` record (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from helpers.text.concepts.folding import split_batches
from helpers.text.concepts.matcher import prepare
from helpers.text.concepts.parallel import annotated_in_pool
from helpers.text.concepts.pipeline import MENTION_COLUMNS, annotate_batch, gc_paused
from helpers.text.vocabulary import Vocabulary
from helpers.text.vocabulary import load_vocabulary as _load_vocabulary


class Mention(NamedTuple):
    """One mention of a concept in a document (``text == doc[start:end]``); immutable."""

    doc_id: str
    concept: str
    category: str
    text: str
    sentence: str
    sentence_index: int
    start: int
    end: int
    negated: bool


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """Load the vocabulary (default: ``helpers.core.paths.VOCABULARY``, i.e. ``seeds/vocabulary``)."""
    return _load_vocabulary(path)


def annotate_columns(
    docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None, *, workers: int | None = None
) -> dict[str, list]:
    """Mentions in ``(doc_id, text)`` pairs as columns: ``{field: [value per mention]}``.

    The keys are :data:`MENTION_COLUMNS`; row ``i`` of every list is one mention, in the
    order :func:`annotate` returns them (input document order, then start, end, concept).
    No per-mention object is built: use this (or :func:`annotate_frame`) for large corpora.

    ``workers`` > 1 analyses batches of documents (about ``folding.BATCH_CHARS`` chars each) in
    that many processes, while this one builds the fields from their results; the result
    is the same. It pays off only for many megabytes of text and idle processors.
    """
    cols: dict[str, list] = {c: [] for c in MENTION_COLUMNS}
    with gc_paused():
        for _ in _annotated_batches(docs, vocab, workers, into=cols):
            pass
    return cols


def annotate(
    docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None, *, workers: int | None = None
) -> list[Mention]:
    """Mentions of the vocabulary's concepts in ``(doc_id, text)`` pairs.

    Mentions come in input document order, and by (start, end, concept) within a document.
    ``workers``: see :func:`annotate_columns`.
    """
    out: list[Mention] = []
    with gc_paused():
        for part in _annotated_batches(docs, vocab, workers):
            out += _mentions(part)  # (while the batch's objects are still in the cache)
    return out


def annotate_frame(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None, *, workers: int | None = None):
    """Mentions as a DataFrame, like ``mentions_frame(annotate(docs, vocab))`` but built
    from the columns directly."""
    return _frame(annotate_columns(docs, vocab, workers=workers))


def _annotated_batches(
    docs: Iterable[tuple[str, str]], vocab: Vocabulary | None, workers: int | None, into: dict[str, list] | None = None
) -> Iterator[dict[str, list]]:
    """The mentions of each batch of documents, as columns, in order (appended to
    ``into`` if given, else each batch in new columns)."""
    vocab = vocab if vocab is not None else load_vocabulary()
    m = prepare(vocab)
    batches: Iterable[list[tuple[str, str]]] = split_batches(docs)
    if workers is not None and workers > 1:
        batches = list(batches)
        if len(batches) > 1:
            yield from annotated_in_pool(m, vocab, batches, workers, into)
            return
    for docs_batch in batches:
        cols = into if into is not None else {c: [] for c in MENTION_COLUMNS}
        annotate_batch(m, docs_batch, cols)
        yield cols


def _mentions(cols: dict[str, list]) -> list[Mention]:
    rows = zip(*[cols[c] for c in MENTION_COLUMNS], strict=True)
    with gc_paused():
        return list(map(tuple.__new__, repeat(Mention), rows))


def mentions_frame(mentions: Iterable[Mention]):
    """Mentions as a DataFrame, columns :data:`MENTION_COLUMNS`, sorted by doc, offsets, concept."""
    rows = [
        (x.doc_id, x.concept, x.category, x.text, x.sentence, x.sentence_index, x.start, x.end, x.negated)
        for x in mentions
    ]
    cols = dict(zip(MENTION_COLUMNS, map(list, zip(*rows, strict=True)), strict=True)) if rows else {}
    return _frame({c: cols.get(c, []) for c in MENTION_COLUMNS})


def _frame(cols: dict[str, list]):
    import pandas as pd

    frame = pd.DataFrame({c: cols[c] for c in MENTION_COLUMNS}, columns=MENTION_COLUMNS)
    frame = frame.astype({"sentence_index": "int64", "start": "int64", "end": "int64", "negated": "bool"})
    frame = frame.sort_values(["doc_id", "start", "end", "concept"], kind="mergesort")
    return frame.reset_index(drop=True)
