"""Annotate documents with the vocabulary's concepts.

``annotate(docs)`` takes ``(doc_id, text)`` pairs and returns :class:`Mention` records:
which concept, where (character offsets into the document text), in which sentence, and
whether the mention is negated. ``annotate_columns(docs)`` returns the same mentions as
columns (one list per field of :data:`MENTION_COLUMNS`) and ``annotate_frame(docs)`` as a
DataFrame; neither builds one object per mention, so they are the fast path for large
corpora.

How it works (one pass per batch of documents, no per-character Python loops):

1. The documents of a batch are joined into one string and folded 1:1 (letters
   lower-cased, every other char a space) with a byte-level ``translate``; runs of
   whitespace/hyphens (``CAR-\\nT``) are collapsed to one space, with a small offset table
   to map back to the original text.
2. One Aho-Corasick automaton (pyahocorasick) holds every surface variant with a leading
   space (`` sle``), so every hit starts a word; ``iter_long`` keeps the leftmost-longest
   hit and the end of the word is checked. The automaton also holds negation cues,
   terminators and context words. The whole batch is scanned in one call, and all
   offsets stay in batch coordinates until the output columns are built.
3. Sentence boundaries are found once per batch (document starts and ends are
   boundaries too), so a mention's sentence is one ``bisect`` and each sentence is
   sliced once, however many mentions it holds.
4. Per document, only where needed: case-sensitive forms are checked against the original
   text, short forms the document defines itself (Schwartz-Hearst: ``systemic sclerosis
   (SSc)``) are mapped to the long form's concept, ambiguous forms (``RA``, ``MS``,
   ``CRS``...) are kept only when defined or supported by context, coordinated ranges
   (``first to fifth generation``) yield one mention per end, and NegEx-style cues within
   the sentence set ``negated``.
"""

from __future__ import annotations

import re
import weakref
from bisect import bisect_left, bisect_right
from functools import lru_cache
from itertools import accumulate, chain, repeat
from operator import sub
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

import ahocorasick

from helpers.vocab import (
    ABBREVIATION,
    AMBIGUOUS,
    EXCLUDE,
    SYNONYM,
    Vocabulary,
    fold,
    fold_chars,
    fold_keep_case,
    variants,
)
from helpers.vocab import load_vocabulary as _load_vocabulary

__all__ = ["Mention", "annotate", "annotate_columns", "annotate_frame", "mentions_frame",
           "load_vocabulary", "MENTION_COLUMNS"]

MENTION_COLUMNS = [
    "doc_id", "concept", "category", "text", "sentence", "sentence_index", "start", "end",
    "negated",
]


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
    """Load the vocabulary (default: ``helpers.paths.VOCABULARY``, i.e. ``seeds/vocabulary``)."""
    return _load_vocabulary(path)


# --------------------------------------------------------------------------- cues

NEG_PRE = (
    "no", "not", "without", "none", "neither", "nor", "never", "absence of", "absent",
    "free of", "free from", "lack of", "lacked", "denied", "negative for", "ruled out",
    "no evidence of", "no signs of", "no sign of", "did not", "failed to", "cannot",
)
NEG_POST = (
    "not observed", "not seen", "not detected", "not reported", "not found",
    "not occur", "not occurred", "not develop", "not developed", "was absent",
    "were absent", "was ruled out", "were ruled out", "was excluded", "were excluded",
    "not noted", "not documented", "did not occur", "did not recur", "does not occur",
)
NEG_PSEUDO = (
    "not only", "no longer", "not necessarily", "no change", "no increase",
    "no significant change", "not significantly", "no difference", "without further",
    "not yet", "whether or not",
)
NEG_TERMINATORS = (
    "but", "however", "although", "though", "whereas", "except", "apart from",
    "aside from", "yet", "which", "who", "while", "whilst", "nevertheless", "despite",
    "in contrast", "instead",
)
PRE_WINDOW = 5   # words allowed between a pre-cue and the mention
POST_WINDOW = 3  # words allowed between the mention and a post-cue

_COORDINATORS = frozenset({"and", "or", "nor", "and/or", "of", "any"})
_PRE, _POST, _TERM, _PSEUDO = 1, 2, 4, 8
_MODE_SYN, _MODE_ABBR, _MODE_AMBIG, _MODE_EXCL = 0, 1, 2, 3
_MODES = {SYNONYM: _MODE_SYN, ABBREVIATION: _MODE_ABBR, AMBIGUOUS: _MODE_AMBIG,
          EXCLUDE: _MODE_EXCL}

# --------------------------------------------------------------------------- text layout

_SEPARATOR_CHARS = frozenset(" \t\n\r\f\v\u00a0-/\u2010\u2011\u2012\u2013\u2014\u2015")
_SEPARATOR_CLASS = "[ \\t\\n\\r\\f\\v\\u00a0\\-/\\u2010-\\u2015]"
# A line break next to another separator: the only line breaks that start a run.
_RUN_NEWLINE = re.compile(r"\n(?:(?=" + _SEPARATOR_CLASS + r")|(?<=" + _SEPARATOR_CLASS + r"\n))")
_ABBREV_BEFORE_DOT = (
    "e.g", "i.e", "et al", "vs", "cf", "ca", "approx", "Fig", "Figs", "fig", "figs",
    "Ref", "Refs", "No", "no", "Nos", "Vol", "vol", "pp", "Dr", "Prof", "Mr", "Mrs", "Ms",
    "St", "Jr", "Eq", "Eqs", "Suppl", "Inc", "Ltd", "Co", "resp", "incl", "min", "max",
    "U.S", "viz", "etc",
)


def _lookbehinds(abbreviations: Iterable[str]) -> str:
    """Negative lookbehinds (one per width) for 'abbr.' not ending a sentence."""
    by_width: dict[int, list[str]] = {}
    for abbr in sorted(set(abbreviations)):
        by_width.setdefault(len(abbr) + 1, []).append(re.escape(abbr) + r"\.")
    return "".join(
        r"(?<!\b(?:" + "|".join(alts) + "))" for _, alts in sorted(by_width.items())
    )


_LOOKBEHINDS = _lookbehinds(_ABBREV_BEFORE_DOT)
_SENT_TAIL = (r"[\"')\]\u201d\u2019]?"
              r"(?:[ \t]*\n\s*|\s+(?=[A-Z0-9\"'(\[\u201c\u2018\u03b1-\u03c9]))")
# The sentence end, as one pattern (the definition)...
_SENT_END_RE = re.compile(r"[.!?]" + _LOOKBEHINDS + _SENT_TAIL)
# ...and as the two patterns actually run: each starts with a literal, so the regex engine
# jumps from one '.' to the next; the abbreviation lookbehinds only run where a space
# follows. A match never holds a second [.!?], so the union of their matches is the same.
_DOT_END_RE = re.compile(r"\.(?=[\"')\]\u201d\u2019]?\s)" + _LOOKBEHINDS + _SENT_TAIL)
_MARK_END_RE = re.compile(r"[!?]" + _SENT_TAIL)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n\s*")
_SHORT_LINE = 30  # a line this short, followed by a capital or a bullet, is a heading
_LINE_STARTS = re.compile(r"[ \t]*[A-Z\-\u2022*]")
_HEADING_BREAK = re.compile(r"\n(?=[ \t]*[A-Z\-\u2022*])")
_SEP = "\x00"  # joins documents of a batch; folds to one space, never inside a run
_BATCH_CHARS = 4_000_000
_PAREN_SF = re.compile(r"[ \t]*\(([^()\n]{1,12})\)")
_PAREN_OPEN = re.compile(r"\((?=[^()\n]{1,12}\))")  # a '(' where _PAREN_SF can end
_PLAIN_SF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{0,9}$")
_ELLIPSIS_ENDINGS = (" to ", " and ", " or ", " through ")
_ELLIPSIS_WORD = re.compile(r"(\w+)[\s\-\u2010-\u2015]+(?:to|and|or|through)[\s\-\u2010-\u2015]+$",
                            re.IGNORECASE)
_NO_CUT = 1 << 62  # past any offset


# --------------------------------------------------------------------------- matcher


class _Matcher:
    """Compiled automaton + lookup tables for one vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.codes = list(vocab.concepts)
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.categories = [vocab.concepts[c].category for c in self.codes]
        self.scope_sentence = [vocab.concepts[c].context_scope == "sentence" for c in self.codes]
        self.ctx_via = [
            frozenset([i] + [self.index[r] for r in vocab.concepts[c].context_concepts])
            for i, c in enumerate(self.codes)
        ]
        keys: dict[str, dict] = {}
        for form in vocab.forms:
            self._add_form(keys, form.text, form.kind, self.index[form.code])
        for i, code in enumerate(self.codes):
            for word in vocab.concepts[code].context:
                for v in variants(word):
                    self._slot(keys, fold(v))["ctx"].add(i)
        for cues, flag in ((NEG_PRE, _PRE), (NEG_POST, _POST), (NEG_TERMINATORS, _TERM),
                           (NEG_PSEUDO, _PSEUDO)):
            for cue in cues:
                self._slot(keys, fold(cue))["cue"] |= flag
        self._compile(keys)
        self._vocab_short_forms: dict[str, bool] = {}

    @staticmethod
    def _slot(keys: dict[str, dict], key: str) -> dict:
        slot = keys.get(key)
        if slot is None:
            slot = keys[key] = {"terms": {}, "ctx": set(), "cue": 0}
        return slot

    def _add_form(self, keys: dict[str, dict], text: str, kind: str, concept: int) -> None:
        mode = _MODES[kind]
        case_sensitive = mode in (_MODE_ABBR, _MODE_AMBIG)
        for v in variants(text, case_sensitive=case_sensitive):
            key = fold(v)
            if not key:
                continue
            terms = self._slot(keys, key)["terms"]
            old = terms.get(concept)
            accepted = {fold_keep_case(v)} if case_sensitive else None
            if old is None:
                terms[concept] = (mode, accepted)
            elif old[1] is None or accepted is None:
                terms[concept] = (min(old[0], mode), None)
            else:
                terms[concept] = (old[0], old[1] | accepted)

    def _compile(self, keys: dict[str, dict]) -> None:
        self.automaton = ahocorasick.Automaton()
        self.klen: list[int] = []
        self.kind: list[int] = []        # bit 1: term, bit 2: cue, bit 4: context
        self.term: list[tuple] = []      # ((concept, mode, accepted|None), ...)
        self.cue: list[int] = []
        self.ctx: list[tuple[int, ...]] = []
        self.key_of: dict[str, int] = {}
        self.multi: list[bool] = []      # the key has more than one word
        for key in sorted(keys):
            slot = keys[key]
            pid = len(self.klen)
            padded = f" {key}"
            self.automaton.add_word(padded, pid)
            self.key_of[key] = pid
            self.klen.append(len(padded))
            self.multi.append(" " in key)
            terms = tuple(sorted((c, m, frozenset(a) if a else None)
                                 for c, (m, a) in slot["terms"].items()))
            self.term.append(terms)
            self.cue.append(slot["cue"])
            self.ctx.append(tuple(sorted(slot["ctx"])))
            self.kind.append((1 if terms else 0) | (2 if slot["cue"] else 0)
                             | (4 if slot["ctx"] else 0))
        self.automaton.make_automaton()
        self.is_term = [bool(k & 1) for k in self.kind]
        # a pure single-concept case-insensitive synonym
        self.simple = [
            t[0][0] if len(t) == 1 and t[0][1] == _MODE_SYN and k == 1 else -1
            for t, k in zip(self.term, self.kind)
        ]
        # fast path of the scan: a simple synonym of one word (no coordination check)
        self.fast = [-1 if multi else c for c, multi in zip(self.simple, self.multi)]

    def is_vocabulary_form(self, sf: str) -> bool:
        """True when the short form ``sf`` folds to a term key of the vocabulary."""
        known = self._vocab_short_forms.get(sf)
        if known is None:
            pid = self.key_of.get(fold(sf))
            known = self._vocab_short_forms[sf] = pid is not None and bool(self.term[pid])
        return known


_MATCHERS: "weakref.WeakKeyDictionary[Vocabulary, _Matcher]" = weakref.WeakKeyDictionary()


def _matcher(vocab: Vocabulary) -> _Matcher:
    m = _MATCHERS.get(vocab)
    if m is None:
        m = _MATCHERS[vocab] = _Matcher(vocab)
    return m


# --------------------------------------------------------------------------- batches


class _Batch:
    """Documents joined into one string and folded once, with the offset map back.

    Offsets into ``orig`` (the joined text) are "batch offsets"; document ``i`` starts at
    ``starts[i]`` and ends at ``ends[i]`` (the separator after it).
    """

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        self.docs = docs
        texts = [d[1] for d in docs]
        self.orig = _SEP + _SEP.join(texts) + _SEP
        lengths = [len(t) + 1 for t in texts]
        self.starts: list[int] = list(accumulate(lengths[:-1], initial=1))
        self.ends: list[int] = [s + n - 1 for s, n in zip(self.starts, lengths)]
        self.cut_norm: list[int] = []
        self.cut_shift: list[int] = []
        self.run_ends: list[int] = []
        self.norm = self._collapse(fold_chars(self.orig))

    def _collapse(self, base: str) -> str:
        """Replace runs of whitespace/hyphens (``CAR-\n T``) by one space."""
        runs = _find_runs(self.orig)
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

    def doc_of(self, o: int) -> int:
        """Index of the document holding batch offset ``o``."""
        return bisect_right(self.starts, o) - 1


def _find_runs(text: str) -> list[tuple[int, int]]:
    """Spans of 2+ separator chars (whitespace, hyphens, '/') that hold a line break, a tab
    or a double space: the only runs a term can be split by (``CAR-\nT``)."""
    seeds: list[int] = []
    if "\n" in text:
        seeds = [mt.start() for mt in _RUN_NEWLINE.finditer(text)]
    for seed in ("\r", "\t", "  "):
        i = text.find(seed)
        while i >= 0:
            seeds.append(i)
            i = text.find(seed, i + len(seed))
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


def _sentence_ends(text: str) -> list[int]:
    """Sentence ends in ``text`` (unsorted, may repeat); ``_SEP`` starts a line."""
    ends = [mt.end() for mt in _DOT_END_RE.finditer(text)]
    if "!" in text or "?" in text:
        ends += [mt.end() for mt in _MARK_END_RE.finditer(text)]
    if "\n" in text:
        ends += [mt.end() for mt in _BLANK_LINE_RE.finditer(text)]
        ends += _heading_ends(text)
    return ends


def _sentence_bounds(text: str) -> list[int]:
    """Sorted start offsets of the sentences after the first one."""
    return sorted(set(_sentence_ends(text)))


def _heading_ends(text: str) -> list[int]:
    """Line breaks after short lines (titles, headings, list items)."""
    out = []
    for mt in _HEADING_BREAK.finditer(text):
        i = mt.start()
        lo = max(0, i - _SHORT_LINE - 1)
        start = max(text.rfind("\n", lo, i), text.rfind(_SEP, lo, i)) + 1
        if (start or lo == 0) and i - start <= _SHORT_LINE:
            out.append(i + 1)
    return out


def _batches(docs: Iterable[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    size = 0
    for doc_id, text in docs:
        if _SEP in text:
            text = text.replace(_SEP, " ")
        batch.append((str(doc_id), text))
        size += len(text)
        if size >= _BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1 << 14)
def _schwartz_hearst(short: str, long: str) -> bool:
    """True when ``short`` is a plausible abbreviation of ``long`` (Schwartz & Hearst 2003)."""
    s, l = short.lower(), long.lower()
    si, li = len(s) - 1, len(l) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (l[li] != c or (si == 0 and li > 0 and l[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        li -= 1
        si -= 1
    return True


def _looks_like_short_form(sf: str) -> bool:
    return bool(_PLAIN_SF.match(sf)) and any(c.isupper() for c in sf) and len(sf) >= 2


_fold = lru_cache(maxsize=1 << 14)(fold)


# --------------------------------------------------------------------------- public API


def annotate_columns(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None
                     ) -> dict[str, list]:
    """Mentions in ``(doc_id, text)`` pairs as columns: ``{field: [value per mention]}``.

    The keys are :data:`MENTION_COLUMNS`; row ``i`` of every list is one mention, in the
    order :func:`annotate` returns them (input document order, then start, end, concept).
    No per-mention object is built: use this (or :func:`annotate_frame`) for large corpora.
    """
    m = _matcher(vocab if vocab is not None else load_vocabulary())
    cols: dict[str, list] = {c: [] for c in MENTION_COLUMNS}
    for docs_batch in _batches(docs):
        _annotate_batch(m, docs_batch, cols)
    return cols


def annotate(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None) -> list[Mention]:
    """Mentions of the vocabulary's concepts in ``(doc_id, text)`` pairs.

    Mentions come in input document order, and by (start, end, concept) within a document.
    """
    return _mentions(annotate_columns(docs, vocab))


def annotate_frame(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None):
    """Mentions as a DataFrame, like ``mentions_frame(annotate(docs, vocab))`` but built
    from the columns directly."""
    return _frame(annotate_columns(docs, vocab))


def _mentions(cols: dict[str, list]) -> list[Mention]:
    rows = zip(*[cols[c] for c in MENTION_COLUMNS])
    return list(map(tuple.__new__, repeat(Mention), rows))


def mentions_frame(mentions: Iterable[Mention]):
    """Mentions as a DataFrame, columns :data:`MENTION_COLUMNS`, sorted by doc, offsets, concept."""
    rows = [
        (x.doc_id, x.concept, x.category, x.text, x.sentence, x.sentence_index, x.start,
         x.end, x.negated)
        for x in mentions
    ]
    cols = dict(zip(MENTION_COLUMNS, map(list, zip(*rows)))) if rows else {}
    return _frame({c: cols.get(c, []) for c in MENTION_COLUMNS})


def _frame(cols: dict[str, list]):
    import pandas as pd

    frame = pd.DataFrame({c: cols[c] for c in MENTION_COLUMNS}, columns=MENTION_COLUMNS)
    frame = frame.astype({"sentence_index": "int64", "start": "int64", "end": "int64",
                          "negated": "bool"})
    frame = frame.sort_values(["doc_id", "start", "end", "concept"], kind="mergesort")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- per batch


class _Cands:
    """Candidate mentions of a batch as parallel lists (batch offsets, scan order)."""

    __slots__ = ("start", "end", "concept", "mode", "aux", "coord", "special")

    def __init__(self) -> None:
        self.start: list[int] = []
        self.end: list[int] = []
        self.concept: list = []          # concept index, or a tuple of them (ambiguous)
        self.mode: list[int] = []
        self.aux: list[tuple[int, int, int]] = []      # cue/context hits (start, end, pid)
        self.coord: list[tuple[int, int, int]] = []    # (cand, folded start, folded end)
        self.special: list[int] = []     # cands that are ambiguous or excluded

    def rows(self, a: int, z: int) -> list[tuple]:
        return list(zip(self.start[a:z], self.end[a:z], self.concept[a:z], self.mode[a:z]))


def _annotate_batch(m: _Matcher, docs: Sequence[tuple[str, str]], cols: dict[str, list]) -> None:
    """Annotate one batch and append its mentions to ``cols``."""
    batch = _Batch(docs)
    cands = _scan(m, batch)
    if not cands.start:
        return
    orig, starts, ends = batch.orig, batch.starts, batch.ends
    cs, ce, cc, cm = cands.start, cands.end, cands.concept, cands.mode
    lo = list(map(bisect_left, repeat(cs), starts))
    lo.append(len(cs))
    bounds = sorted(set(_sentence_ends(orig) + starts + ends))

    special = {batch.doc_of(cs[i]) for i in cands.special}
    defs_by_doc, blocked_by_doc = _definitions(batch, cands)
    extras, coordinated = _ellipsis(m, batch, cands) if cands.coord else ({}, set())
    redo = special | set(extras)
    more_by_doc: dict[int, list[tuple]] = {}
    for d, defs in defs_by_doc.items():
        more = _defined_elsewhere(m, orig, defs, cands, lo[d], lo[d + 1], ends[d])
        if more:
            more_by_doc[d] = more
            redo.add(d)
        elif d not in redo:
            _apply_definitions(orig, defs, cands, lo[d], lo[d + 1])

    counts = list(map(sub, lo[1:], lo[:-1]))
    if not redo:
        fs, fe, fc = cs, ce, cc
    else:  # documents that need the full per-document resolution
        fs, fe, fc = [], [], []
        prev = 0
        for d in sorted(redo):
            a, z = lo[d], lo[d + 1]
            fs += cs[prev:a]
            fe += ce[prev:a]
            fc += cc[prev:a]
            rows = cands.rows(a, z)
            defs = defs_by_doc.get(d, {})
            if d in more_by_doc:
                rows = sorted(set(rows + more_by_doc[d]))
            if d in special or defs:
                ctx = _context_hits(m, cands.aux, starts[d], ends[d]) if d in special else {}
                rows = _resolve(m, rows, defs, blocked_by_doc.get(d, set()), ctx, orig, bounds)
            if d in coordinated:  # (also drops duplicates, as it always has)
                rows = sorted(set(rows + extras.get(d, [])))
            fs += [r[0] for r in rows]
            fe += [r[1] for r in rows]
            fc += [r[2] for r in rows]
            counts[d] = len(rows)
            prev = z
        fs += cs[prev:]
        fe += ce[prev:]
        fc += cc[prev:]
    if fs:
        _emit(m, batch, fs, fe, fc, counts, bounds, _cues(m, cands.aux), cols)


def _scan(m: _Matcher, batch: _Batch) -> _Cands:
    """Whole-word, leftmost-longest hits of the whole batch, in batch offsets.

    Term candidates go to the parallel lists of :class:`_Cands` (case-checked); cue and
    context hits to ``aux``; multi-word synonyms preceded by 'to/and/or' (possible
    coordinated ranges) to ``coord``; ambiguous or excluded candidates to ``special``.

    Keys carry a leading space; ``iter_long`` (C) keeps the leftmost-longest hit and the
    trailing word boundary is checked here. A hit that fails it is re-scanned for a
    shorter key at the same place (``car t cell`` in ``car t cellular``). Hits come in
    increasing order, so the folded -> original offset shift is tracked with a pointer
    into the table of collapsed runs.
    """
    kind, klen, fast, simple, terms, multi = m.kind, m.klen, m.fast, m.simple, m.term, m.multi
    norm, orig = batch.norm, batch.orig
    out = _Cands()
    cs, ce, cc, cm = out.start, out.end, out.concept, out.mode
    add_s, add_e, add_c, add_m = cs.append, ce.append, cc.append, cm.append
    aux, coord = out.aux, out.coord
    cut_norm, cut_shift = batch.cut_norm, batch.cut_shift
    ncut = len(cut_norm)
    ci, shift = 0, 0
    nxt = cut_norm[0] if ncut else _NO_CUT
    for end, pid in m.automaton.iter_long(norm):
        e = end + 1
        if norm[e] != " ":
            hit = _shorter_hit(m, norm, end - klen[pid] + 1, e)
            if hit is None:
                continue
            e, pid = hit
        ws = e - klen[pid] + 1  # first char of the word
        if e < nxt:
            s, de = ws + shift, e + shift
        else:
            while ws >= nxt:
                ci += 1
                nxt = cut_norm[ci] if ci < ncut else _NO_CUT
            shift = cut_shift[ci - 1] if ci else 0
            s = ws + shift
            while e >= nxt:
                ci += 1
                nxt = cut_norm[ci] if ci < ncut else _NO_CUT
            shift = cut_shift[ci - 1] if ci else 0
            de = e + shift
        c = fast[pid]
        if c >= 0:
            add_s(s)
            add_e(de)
            add_c(c)
            add_m(_MODE_SYN)
            continue
        k = kind[pid]
        if k != 1:
            if k & 6:
                aux.append((s, de, pid))
            if not k & 1:
                continue
        c = simple[pid]
        mode = _MODE_SYN
        if c < 0:
            cand = _check_case(terms[pid], orig, s, de)
            if cand is None:
                continue
            c, mode = cand
            if mode >= _MODE_AMBIG:
                out.special.append(len(cs))
        if multi[pid] and norm.endswith(_ELLIPSIS_ENDINGS, 0, ws):
            coord.append((len(cs), ws, e))
        add_s(s)
        add_e(de)
        add_c(c)
        add_m(mode)
    return out


def _shorter_hit(m: _Matcher, seg: str, start: int, stop: int) -> tuple[int, int] | None:
    """Longest key starting at ``start`` and ending on a word boundary before ``stop``."""
    best = None
    for end, pid in m.automaton.iter(seg[start:stop]):
        if end + 1 == m.klen[pid] and seg[start + end + 1] == " ":
            if best is None or m.klen[pid] > m.klen[best[1]]:
                best = (start + end + 1, pid)
    return best


def _check_case(entries: tuple, text: str, s: int, e: int) -> tuple | None:
    """(concept, mode) for a key with case-sensitive / ambiguous / exclusion entries."""
    surface = text[s:e]
    folded = None
    ambiguous: list[int] = []
    for concept, mode, accepted in entries:
        if accepted is not None and surface not in accepted:
            if folded is None:
                folded = fold_keep_case(surface)
            if folded not in accepted:
                continue
        if mode == _MODE_AMBIG:
            ambiguous.append(concept)
        elif mode == _MODE_EXCL:
            return (-1, mode)
        else:
            return (concept, mode)
    if ambiguous:
        return (tuple(ambiguous), _MODE_AMBIG)
    return None


def _context_hits(m: _Matcher, aux: list[tuple[int, int, int]], a: int, z: int
                  ) -> dict[int, list[int]]:
    """Context hits in batch offsets [a, z): concept -> [start, ...]."""
    ctx: dict[int, list[int]] = {}
    kind, ctxs = m.kind, m.ctx
    for s, _, pid in aux[bisect_left(aux, (a,)):bisect_left(aux, (z,))]:
        if kind[pid] & 4:
            for c in ctxs[pid]:
                ctx.setdefault(c, []).append(s)
    return ctx


def _cues(m: _Matcher, aux: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Negation cue hits (start, end, flags), inner pre-cues dropped."""
    kind, flags = m.kind, m.cue
    cues = [(s, e, flags[pid]) for s, e, pid in aux if kind[pid] & 2]
    return _drop_inner_cues(cues) if cues else cues


def _drop_inner_cues(cues: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """A pre-cue inside a post-cue or pseudo-negation phrase is not a cue.

    ``cues`` are sorted by start; a cue lies inside some phrase when the phrases starting
    at or before it reach (at their furthest) its end.
    """
    phrases = [(s, e) for s, e, f in cues if f & (_POST | _PSEUDO)]
    if not phrases:
        return cues
    pstarts = [s for s, _ in phrases]
    reach = list(accumulate((e for _, e in phrases), max))
    out = []
    for s, e, f in cues:
        if not f & (_POST | _PSEUDO):
            j = bisect_right(pstarts, s)
            if j and reach[j - 1] >= e:
                continue
        out.append((s, e, f))
    return out


# --------------------------------------------------------------------------- abbreviations


def _definitions(batch: _Batch, cands: _Cands
                 ) -> tuple[dict[int, dict[str, tuple[int, int]]], dict[int, set[str]]]:
    """Short forms each document defines: doc -> {SF: (concept, position)}, doc -> blocked.

    ``long form (SF)`` after a vocabulary mention defines SF as that concept; an ambiguous
    form in parentheses after text that is not a vocabulary mention but matches it
    (``adeno-associated virus (AAV)``) is blocked for the document. Only the '(' where one
    of the two can happen are visited: those closing within 12 chars (a definition) and
    those right before an ambiguous candidate.
    """
    orig, starts = batch.orig, batch.starts
    cs, ce, cc, cm = cands.start, cands.end, cands.concept, cands.mode
    parens = [mt.start() for mt in _PAREN_OPEN.finditer(orig)]
    ambiguous = [cs[i] - 1 for i in cands.special
                 if cm[i] == _MODE_AMBIG and orig[cs[i] - 1] == "("]
    if ambiguous:
        parens = sorted(set(parens).union(ambiguous))
    defs_by_doc: dict[int, dict[str, tuple[int, int]]] = {}
    blocked_by_doc: dict[int, set[str]] = {}
    n = len(cs)
    for p in parens:
        j = bisect_right(ce, p) - 1
        # a candidate of an earlier document is never 'after': the separator is no space
        after_mention = j >= 0 and not orig[ce[j]:p].strip()
        if after_mention:
            if cm[j] != _MODE_AMBIG and cc[j] >= 0:
                e = ce[j]
                mt = _PAREN_SF.match(orig, e)
                if mt is not None:
                    d = batch.doc_of(p)
                    _define(defs_by_doc.setdefault(d, {}), mt, orig[cs[j]:e], cc[j], e)
        elif ambiguous:
            k = bisect_left(cs, p + 1)
            if (k < n and cs[k] == p + 1 and cm[k] == _MODE_AMBIG
                    and orig.startswith(")", ce[k])):
                d = batch.doc_of(p)
                sf = orig[cs[k]:ce[k]]
                if _defined_by_text(sf, orig[max(starts[d], p - 80):p]):
                    blocked_by_doc.setdefault(d, set()).add(sf)
    for d, blocked in blocked_by_doc.items():
        defs = defs_by_doc.get(d)
        if defs:
            for sf in blocked:
                defs.pop(sf, None)
    return {d: defs for d, defs in defs_by_doc.items() if defs}, blocked_by_doc


def _define(defs: dict[str, tuple[int, int]], mt: re.Match | None, long: str, concept: int,
            pos: int) -> None:
    """Record '(SF)' after a long form when SF is a Schwartz-Hearst match of it."""
    if mt is None:
        return
    sf = mt.group(1).strip()
    core = sf[:-1] if len(sf) > 2 and sf.endswith("s") and sf[-2].isupper() else sf
    if not _looks_like_short_form(sf) or _fold(sf) == _fold(long):
        return
    if _schwartz_hearst(core, long):
        defs.setdefault(sf, (concept, pos))
        defs.setdefault(core, (concept, pos))


def _defined_by_text(sf: str, before: str) -> bool:
    """Schwartz-Hearst over the last few words before '(' (a non-vocabulary long form)."""
    words = before.split()
    n = min(len(sf) + 5, 2 * len(sf))
    return len(words) >= 1 and _schwartz_hearst(sf, " ".join(words[-n:]))


@lru_cache(maxsize=1024)
def _short_form_pattern(sf: str) -> re.Pattern:
    return re.compile(r"(?<![\w])" + re.escape(sf) + r"s?(?![\w])")


def _defined_elsewhere(m: _Matcher, text: str, defs: dict[str, tuple[int, int]],
                       cands: _Cands, a: int, z: int, stop: int) -> list[tuple]:
    """Later uses (before ``stop``) of defined short forms that the vocabulary does not
    list; ``cands[a:z]`` are the document's candidates."""
    found: list[tuple] = []
    taken = None
    for sf, (concept, pos) in sorted(defs.items()):
        if m.is_vocabulary_form(sf):
            continue
        if taken is None:
            taken = set(zip(cands.start[a:z], cands.end[a:z]))
        for mt in _short_form_pattern(sf).finditer(text, pos, stop):
            if (mt.start(), mt.end()) not in taken:
                found.append((mt.start(), mt.end(), concept, _MODE_ABBR))
    return found


def _apply_definitions(text: str, defs: dict[str, tuple[int, int]], cands: _Cands, a: int,
                       z: int) -> None:
    """In place, on ``cands[a:z]``: :func:`_apply_definition` to every abbreviation."""
    cs, ce, cc, cm = cands.start, cands.end, cands.concept, cands.mode
    for i in range(a, z):
        if cm[i] == _MODE_ABBR:
            defined = defs.get(text[cs[i]:ce[i]])
            if defined is not None and defined[1] <= cs[i] and defined[0] != cc[i]:
                cc[i] = defined[0]


# --------------------------------------------------------------------------- resolution


def _resolve(m: _Matcher, cands: list[tuple], defs: dict[str, tuple[int, int]],
             blocked: set[str], ctx: dict[int, list[int]], text: str,
             bounds: list[int]) -> list[tuple]:
    """Accepted candidates: exclusions dropped, definitions applied, ambiguous forms kept
    (with one concept) only when defined or supported by context."""
    out = [c for c in cands if c[3] < _MODE_AMBIG]
    if defs:
        out = [_apply_definition(o, text, defs) if o[3] == _MODE_ABBR else o for o in out]
    ambiguous = [c for c in cands if c[3] == _MODE_AMBIG]
    if not ambiguous:
        return out
    present = {o[2] for o in out}
    for s, e, concepts, _ in ambiguous:
        surface = text[s:e]
        defined = defs.get(surface) or (defs.get(surface[:-1]) if surface.endswith("s") else None)
        if defined is not None and defined[1] <= s:
            out.append((s, e, defined[0], _MODE_ABBR))
            continue
        if surface in blocked or (surface.endswith("s") and surface[:-1] in blocked):
            continue
        ok = [k for k in concepts if _has_context(m, k, s, present, out, ctx, bounds)]
        if len(ok) == 1:
            out.append((s, e, ok[0], _MODE_AMBIG))
    out.sort()
    return out


def _apply_definition(o: tuple, text: str, defs: dict[str, tuple[int, int]]) -> tuple:
    """A vocabulary short form the document defines as another concept follows the document."""
    defined = defs.get(text[o[0]:o[1]])
    if defined is not None and defined[1] <= o[0] and defined[0] != o[2]:
        return (o[0], o[1], defined[0], o[3])
    return o


def _has_context(m: _Matcher, k: int, s: int, present: set[int], out: list[tuple],
                 ctx: dict[int, list[int]], bounds: list[int]) -> bool:
    """Context for concept ``k``: its context words, or mentions of it / its context
    concepts, in the document (or, for sentence-scoped concepts, in the same sentence)."""
    via = m.ctx_via[k]
    if not m.scope_sentence[k]:
        return bool(via & present) or k in ctx
    positions = [o[0] for o in out if o[2] in via] + ctx.get(k, [])
    here = bisect_right(bounds, s)
    return any(bisect_right(bounds, p) == here for p in positions)


def _ellipsis(m: _Matcher, batch: _Batch, cands: _Cands
             ) -> tuple[dict[int, list[tuple]], set[int]]:
    """'first to fifth generation' -> also 'first generation', on the word 'first'.

    ``cands.coord`` holds (candidate, folded start, folded end) of multi-word candidates
    after to/and/or (in the batch); returns doc -> extra candidates, and the documents
    that hold such a candidate.
    """
    orig, norm, key_of = batch.orig, batch.norm, m.key_of
    extra: dict[int, list[tuple]] = {}
    docs: set[int] = set()
    for i, ws, we in cands.coord:
        s, concept = cands.start[i], cands.concept[i]
        d = batch.doc_of(s)
        base = batch.to_norm(batch.starts[d]) - 1  # the separator before the document
        if not norm.endswith(_ELLIPSIS_ENDINGS, base, ws):
            continue
        docs.add(d)
        if cands.mode[i] != _MODE_SYN or concept < 0:
            continue
        before = norm[max(base, ws - 41):ws - 1].split()
        if len(before) < 2:
            continue
        pid = key_of.get(" ".join([before[-2]] + norm[ws:we].split()[1:]))
        if pid is None or len(m.term[pid]) != 1 or m.term[pid][0][1] != _MODE_SYN:
            continue
        other = m.term[pid][0][0]
        mt = _ELLIPSIS_WORD.search(orig, max(batch.starts[d], s - 40), s)
        if mt and other != concept and m.categories[other] == m.categories[concept]:
            extra.setdefault(d, []).append((mt.start(1), mt.end(1), other, _MODE_SYN))
    return extra, docs


# --------------------------------------------------------------------------- output


def _emit(m: _Matcher, batch: _Batch, fs: list[int], fe: list[int], fc: list[int],
          counts: list[int], bounds: list[int], cues: list[tuple[int, int, int]],
          cols: dict[str, list]) -> None:
    """Append the mentions (batch offsets ``fs``/``fe``, concept ``fc``, ``counts[d]`` per
    document, in order) to the columns: sentence, negation, document offsets."""
    orig, starts = batch.orig, batch.starts
    n = len(fs)
    per_doc = chain.from_iterable
    base = list(per_doc(map(repeat, starts, counts)))
    sent = list(map(bisect_right, repeat(bounds), fs))      # sentence ends at bounds[g]
    first = map(bisect_right, repeat(bounds), starts)        # each document's first one
    # each sentence sliced (and stripped) once
    used = list(dict.fromkeys(sent))
    cut = map(slice, map(bounds.__getitem__, map((-1).__add__, used)), map(bounds.__getitem__, used))
    sentences = dict(zip(used, map(str.strip, map(orig.__getitem__, cut))))

    negated = [False] * n
    if cues:
        by_sentence: dict[int, list[tuple[int, int, int]]] = {}
        for cue in cues:
            by_sentence.setdefault(bisect_right(bounds, cue[0]), []).append(cue)
        for g, sentence_cues in by_sentence.items():
            ss, se = bounds[g - 1], bounds[g]
            for i in range(bisect_left(fs, ss), bisect_left(fs, se)):
                if _negated(orig, sentence_cues, fs[i], fe[i], ss, se, fe[i - 1] if i else -1):
                    negated[i] = True

    ids = [doc_id for doc_id, _ in batch.docs]
    cols["doc_id"] += per_doc(map(repeat, ids, counts))
    cols["concept"] += map(m.codes.__getitem__, fc)
    cols["category"] += map(m.categories.__getitem__, fc)
    cols["text"] += map(orig.__getitem__, map(slice, fs, fe))
    cols["sentence"] += map(sentences.__getitem__, sent)
    cols["sentence_index"] += map(sub, sent, per_doc(map(repeat, first, counts)))
    cols["start"] += map(sub, fs, base)
    cols["end"] += map(sub, fe, base)
    cols["negated"] += negated


def _negated(text: str, cues: list[tuple[int, int, int]], s: int, e: int, ss: int,
             se: int, prev_end: int) -> bool:
    """NegEx: a pre-cue shortly before, or a post-cue shortly after, in the same sentence.

    A pre-cue's scope runs to its first mention and on through mentions joined to it by
    'and/or/nor/,' (``without CRS or ICANS``); a comma before the first one closes it
    (``Without lymphodepletion, CAR-T expansion was poor``).
    """
    pre = post = None
    for cs, ce, f in cues:
        if f & _PRE and ss <= cs and ce <= s and (pre is None or cs > pre[0]):
            pre = (cs, ce)
        elif f & _POST and e <= cs and ce <= se and (post is None or cs < post[0]):
            post = (cs, ce)
    if pre is not None and _open_scope(text, cues, pre[1], s, PRE_WINDOW):
        if prev_end <= pre[1]:
            if "," not in text[pre[1]:s]:
                return True
        elif _coordinated(text[prev_end:s]):
            return True
    return post is not None and _open_scope(text, cues, e, post[0], POST_WINDOW)


def _coordinated(between: str) -> bool:
    """Text between two mentions that keeps them in one negation scope."""
    words = between.replace(",", " , ").split()
    return len(words) <= 4 and any(w == "," or w.lower() in _COORDINATORS for w in words)


def _open_scope(text: str, cues: list[tuple[int, int, int]], a: int, b: int,
                window: int) -> bool:
    """No terminator, ';' or ':' and at most ``window`` words between a and b."""
    between = text[a:b]
    if ";" in between or ":" in between or len(between.split()) > window:
        return False
    return not any(f & _TERM and a <= cs and ce <= b for cs, ce, f in cues)
