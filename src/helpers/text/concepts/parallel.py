"""Batches analysed in a pool of processes (``workers=N``): the workers return the arrays
of :class:`~helpers.text.concepts.pipeline.Layout`, this process builds the fields."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from helpers.text.concepts.folding import SEP, Batch
from helpers.text.concepts.matcher import Matcher, prepare
from helpers.text.concepts.pipeline import MENTION_COLUMNS, Layout, analyse, build, gc_paused
from helpers.text.vocabulary import Vocabulary

_WORKER_MATCHER: Matcher | None = None


def annotated_in_pool(
    m: Matcher, vocab: Vocabulary, batches: list[list[tuple[str, str]]], workers: int, into: dict[str, list] | None
) -> Iterator[dict[str, list]]:
    """Batches analysed in a pool of processes (arrays come back: cheap to send); the
    Python objects of the fields are built here, in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the compiled matcher instead of rebuilding it
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(batches)), mp_context=context, initializer=_init_worker, initargs=(vocab,)
    ) as pool:
        for docs_batch, lay in zip(batches, pool.map(_analyse_in_worker, batches), strict=True):
            cols = into if into is not None else {c: [] for c in MENTION_COLUMNS}
            if lay is not None:
                texts = [text for _, text in docs_batch]
                ids = np.array([doc_id for doc_id, _ in docs_batch], dtype=object)
                build(m, SEP + SEP.join(texts) + SEP, ids, lay, cols)
            yield cols


def _init_worker(vocab: Vocabulary) -> None:
    global _WORKER_MATCHER
    _WORKER_MATCHER = prepare(vocab)


def _analyse_in_worker(docs: list[tuple[str, str]]) -> Layout | None:
    with gc_paused():
        return analyse(_WORKER_MATCHER, Batch(docs))
