"""Annotate documents with the vocabulary's concepts.

``annotate(docs)`` takes ``(doc_id, text)`` pairs and returns :class:`Mention` records:
which concept, where (character offsets into the document text), in which sentence, and
whether the mention is negated. ``annotate_columns(docs)`` returns the same mentions as
columns (one list per field of :data:`MENTION_COLUMNS`) and ``annotate_frame(docs)`` as a
DataFrame; they build no object per mention, so they are the fast path for large corpora.
All three take ``workers=N`` to analyse batches of documents in N processes
(:mod:`.parallel`).

How it works, per batch of documents (about ``folding.BATCH_CHARS`` chars), with array
operations (numpy) instead of per-character or per-mention Python loops where it can
(:func:`.pipeline.analyse` runs the steps):

1. :mod:`.folding`: the documents are joined into one string (``SEP`` between them) and
   folded 1:1 (letters lower-cased, every other char a space) through a code-point
   table; runs of whitespace/hyphens (``CAR-\\nT``) are collapsed to one space, with a
   small offset table to map back to the original text. All offsets stay in this batch
   string until the output is built.
2. :mod:`.matcher`: one Aho-Corasick automaton (pyahocorasick) holds every surface
   variant with a leading space (`` sle``), so every hit starts a word; ``iter_long``
   keeps the leftmost-longest hit and the end of the word is checked. The automaton also
   holds negation cues, terminators and context words. Plain synonyms and short forms
   written in an accepted case are classified as arrays; the rest (ambiguous or excluded
   forms, hits that fail the word end) one by one.
3. :mod:`.sentences`: sentence boundaries are found once per batch (document starts and
   ends are boundaries too), so a mention's sentence is a ``searchsorted`` and each
   sentence is sliced once, however many mentions it holds.
4. Per document, only where needed: short forms the document defines itself
   (Schwartz-Hearst: ``systemic sclerosis (SSc)``) are mapped to the long form's
   concept (:mod:`.abbreviations`), ambiguous forms (``RA``, ``MS``, ``CRS``...) are kept
   only when defined or supported by context, and coordinated ranges (``first to fifth
   generation``) yield one mention per end (:mod:`.ambiguity`). NegEx-style cues within
   the sentence set ``negated`` (:mod:`.negation`): the nearest cue of each mention is
   found with arrays, the word-level checks run for those only.
5. :mod:`.pipeline`: the fields are built from the arrays in bulk (with the cyclic garbage
   collector paused: nothing built here forms a cycle). :mod:`.api` holds the public
   functions.

The regular expressions and string scans that define the sentence splitting
(:mod:`.sentences`) and the runs (:mod:`.folding`) stay, as the reference the array
versions are tested against and as the fallback for texts outside the BMP; ``fold_chars``
is the reference of the fold table, and ``tests/test_concepts.py`` holds the
one-mention-at-a-time NegEx the arrays must match.

Modules, in import order (each imports only from those before it): ``folding``,
``sentences``, ``negation``, ``matcher``, ``abbreviations``, ``ambiguity``, ``pipeline``,
``parallel``, ``api``.
"""

from __future__ import annotations

from helpers.text.concepts.api import (
    MENTION_COLUMNS,
    Mention,
    annotate,
    annotate_columns,
    annotate_frame,
    load_vocabulary,
    mentions_frame,
)
from helpers.text.concepts.matcher import prepare

# (the NegEx cue lists and windows stay importable from here)
from helpers.text.concepts.negation import (  # noqa: F401
    NEG_POST,
    NEG_PRE,
    NEG_PSEUDO,
    NEG_TERMINATORS,
    POST_WINDOW,
    PRE_WINDOW,
)

__all__ = [
    "Mention",
    "annotate",
    "annotate_columns",
    "annotate_frame",
    "mentions_frame",
    "load_vocabulary",
    "MENTION_COLUMNS",
    "prepare",
]
