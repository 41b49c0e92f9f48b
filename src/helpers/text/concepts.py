"""Annotate documents with the vocabulary's concepts.

``annotate(docs)`` takes ``(doc_id, text)`` pairs and returns :class:`Mention` records:
which concept, where (character offsets into the document text), in which sentence, and
whether the mention is negated. ``annotate_columns(docs)`` returns the same mentions as
columns (one list per field of :data:`MENTION_COLUMNS`) and ``annotate_frame(docs)`` as a
DataFrame; they build no object per mention, so they are the fast path for large corpora.
All three take ``workers=N`` to analyse batches of documents in N processes.

How it works, per batch of documents (about ``_BATCH_CHARS`` chars), with array
operations (numpy) instead of per-character or per-mention Python loops where it can:

1. The documents are joined into one string (``_SEP`` between them) and folded 1:1
   (letters lower-cased, every other char a space) through a code-point table; runs of
   whitespace/hyphens (``CAR-\\nT``) are collapsed to one space, with a small offset
   table to map back to the original text. All offsets stay in this batch string until the
   output is built.
2. One Aho-Corasick automaton (pyahocorasick) holds every surface variant with a leading
   space (`` sle``), so every hit starts a word; ``iter_long`` keeps the leftmost-longest
   hit and the end of the word is checked. The automaton also holds negation cues,
   terminators and context words. Plain synonyms and short forms written in an accepted
   case are classified as arrays; the rest (ambiguous or excluded forms, hits that fail
   the word end) one by one.
3. Sentence boundaries are found once per batch (document starts and ends are
   boundaries too), so a mention's sentence is a ``searchsorted`` and each sentence is
   sliced once, however many mentions it holds.
4. Per document, only where needed: short forms the document defines itself
   (Schwartz-Hearst: ``systemic sclerosis (SSc)``) are mapped to the long form's
   concept, ambiguous forms (``RA``, ``MS``, ``CRS``...) are kept only when defined or
   supported by context, and coordinated ranges (``first to fifth generation``) yield one
   mention per end. NegEx-style cues within the sentence set ``negated``: the nearest cue
   of each mention is found with arrays, the word-level checks run for those only.
5. The fields are built from the arrays in bulk (with the cyclic garbage collector
   paused: nothing built here forms a cycle).

The regular expressions and string scans that define the sentence splitting and the runs
stay here, as the reference the array versions are tested against and as the fallback for
texts outside the BMP; ``fold_chars`` is the reference of the fold table, and
``tests/test_concepts.py`` holds the one-mention-at-a-time NegEx the arrays must match.
"""

from __future__ import annotations

import gc
import re
import weakref
from bisect import bisect_left, bisect_right
from contextlib import contextmanager
from functools import lru_cache
from itertools import accumulate, chain, repeat
from operator import contains
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

import ahocorasick
import numpy as np

from helpers.text.vocabulary import (
    ABBREVIATION,
    AMBIGUOUS,
    EXCLUDE,
    SYNONYM,
    FOLD_WHOLE,
    Vocabulary,
    fold,
    fold_chars,
    fold_code_table,
    fold_keep_case,
    variants,
)
from helpers.text.vocabulary import load_vocabulary as _load_vocabulary

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
    """Load the vocabulary (default: ``helpers.core.paths.VOCABULARY``, i.e. ``seeds/vocabulary``)."""
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
_DOUBLE_SPACE = re.compile("  ")  # (the regex engine finds it faster than str.find)
_ABBREV_BEFORE_DOT = (
    "e.g", "i.e", "et al", "vs", "cf", "ca", "approx", "Fig", "Figs", "fig", "figs",
    "Ref", "Refs", "No", "no", "Nos", "Vol", "vol", "pp", "Dr", "Prof", "Mr", "Mrs", "Ms",
    "St", "Jr", "Eq", "Eqs", "Suppl", "Inc", "Ltd", "Co", "resp", "incl", "min", "max",
    "U.S", "viz",
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
# A sentence ends at [.!?] (not after an abbreviation), an optional closing quote or
# bracket, then a line break or white space and a capital/digit/opening quote. As two
# patterns, each starting with a literal (the regex engine jumps from one '.' to the next;
# the lookbehinds only run where a space follows); a match never holds a second [.!?], so
# they find what '[.!?]' + _LOOKBEHINDS + _SENT_TAIL finds. :func:`_sentence_ends` does the
# same with array operations.
_DOT_END_RE = re.compile(r"\.(?=[\"')\]\u201d\u2019]?\s)" + _LOOKBEHINDS + _SENT_TAIL)
_MARK_END_RE = re.compile(r"[!?]" + _SENT_TAIL)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n\s*")
_SHORT_LINE = 30  # a line this short, followed by a capital or a bullet, is a heading
_HEADING_BREAK = re.compile(r"\n(?=[ \t]*[A-Z\-\u2022*])")
_SEP = "\x00"  # joins documents of a batch; folds to one space, never inside a run
_BATCH_CHARS = 2_000_000  # (big enough for few calls, small enough to stay in the cache)
_PLAIN_SF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{0,9}$")
_ELLIPSIS_ENDINGS = (" to ", " and ", " or ", " through ")
_ELLIPSIS_WORD = re.compile(r"(\w+)[\s\-\u2010-\u2015]+(?:to|and|or|through)[\s\-\u2010-\u2015]+$",
                            re.IGNORECASE)
_PAIR = 1 << 21    # key id * _PAIR + code point: one number for the pair


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
        self._may_change: dict[tuple[str, int], bool] = {}

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
        # a single-concept case-sensitive short form: its accepted spellings
        self.accepted = [t[0][2] if len(t) == 1 and t[0][1] == _MODE_ABBR and k == 1 else None
                         for t, k in zip(self.term, self.kind)]
        self._array_tables(sorted(keys))

    def _array_tables(self, keys: list[str]) -> None:
        """The tables as arrays indexed by key id, for the batch scan."""
        self.klen_a = np.array(self.klen, dtype=np.int64)
        self.kind_a = np.array(self.kind, dtype=np.int64)
        self.cue_a = np.array(self.cue, dtype=np.int64)
        self.multi_a = np.array(self.multi, dtype=bool)
        self.codes_a = np.array(self.codes, dtype=object)
        self.categories_a = np.array(self.categories, dtype=object)
        # a key whose only entry is a case-insensitive synonym (a context word or cue too)
        self.plain_a = np.array([t[0][0] if len(t) == 1 and t[0][1] == _MODE_SYN else -1
                                 for t in self.term], dtype=np.int64)
        # a single-concept short form: its concept; and its spellings as the upper-case
        # letters of the key (bit j: char j is upper case), when every one is ASCII
        self.abbr_a = np.array([t[0][0] if a is not None else -1
                                for t, a in zip(self.term, self.accepted)], dtype=np.int64)
        masks, mask_ok = [], []
        for pid, (key, accepted) in enumerate(zip(keys, self.accepted)):
            ok = (accepted is not None and len(key) < 21
                  and all(a.isascii() and a.lower() == key for a in accepted))
            mask_ok.append(ok)
            if ok:
                masks += [pid * _PAIR + sum(1 << j for j, ch in enumerate(a) if ch.isupper())
                          for a in accepted]
        self.accepted_masks = np.unique(np.array(masks, dtype=np.int64))
        self.mask_ok_a = np.array(mask_ok, dtype=bool)
        # multi-word keys whose last words also end a one-synonym key ('fifth generation',
        # 'first generation'): the only ones a coordinated range can extend, each with the
        # last chars of the words that can replace its first one ('X to fifth generation'
        # needs an X ending with 't')
        heads: dict[str, set[int]] = {}  # last words -> last chars of the first word
        for key, pid in self.key_of.items():
            if " " in key and len(self.term[pid]) == 1 and self.term[pid][0][1] == _MODE_SYN:
                head, tail = key.split(" ", 1)
                heads.setdefault(tail, set()).add(ord(head[-1]))
        pairs = []
        for key, pid in self.key_of.items():
            if " " in key:
                pairs += [pid * _PAIR + c for c in heads.get(key.split(" ", 1)[1], ())]
        self.range_pairs = np.unique(np.array(pairs, dtype=np.int64))
        self.range_a = np.zeros(len(self.klen), dtype=bool)
        self.range_a[self.range_pairs // _PAIR] = True

    def definition_may_change(self, sf: str, concept: int) -> bool:
        """Whether defining ``sf`` as ``concept`` can change the concept of a short-form
        candidate whose surface is ``sf``: not when every such candidate has that concept
        already (or when there can be none)."""
        key = (sf, concept)
        may = self._may_change.get(key)
        if may is None:
            pid = self.key_of.get(fold(sf))
            entries = self.term[pid] if pid is not None else ()
            may = bool(entries) and not (len(entries) == 1 and entries[0][0] == concept)
            self._may_change[key] = may
        return may

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
        self.starts_a = np.array(self.starts, dtype=np.int64)
        self.ids = np.array([d[0] for d in docs], dtype=object)
        self.codes = _char_codes(self.orig)          # its code points
        self.lines = np.flatnonzero(self.codes == 10)  # its line breaks
        self.cut_norm: list[int] = []
        self.cut_shift: list[int] = []
        self.run_ends: list[int] = []
        self.norm_codes: np.ndarray | None = None  # code points of norm (set by the scan)
        self.norm = self._collapse(_fold(self.orig, self.codes))

    def _collapse(self, base: str) -> str:
        """Replace runs of whitespace/hyphens (``CAR-\n T``) by one space."""
        runs = _find_runs(self.orig, self.codes, self.lines)
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


def _fold(text: str, codes: np.ndarray) -> str:
    """:func:`~helpers.text.vocabulary.fold_chars` of ``text`` (whose code points are ``codes``):
    through the BMP fold table when the text is not ASCII."""
    if codes.dtype == np.uint16:
        folded = np.take(fold_code_table(), codes)
        if folded.max() != FOLD_WHOLE:
            return folded.tobytes().decode("utf-16-le")
    return fold_chars(text)


def _find_runs(text: str, codes: np.ndarray | None = None, lines: np.ndarray | None = None
               ) -> list[tuple[int, int]]:
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
    """:func:`_find_runs` with array operations: the maximal separator runs (2+ chars)
    around each line break next to a separator, each tab or carriage return, and each
    double space."""
    sep = _Lut.get("separator")
    seeds = [lines[sep[codes[lines - 1]] | sep[codes[lines + 1]]]]
    for ch in ("\r", "\t"):
        if ch in text:
            seeds.append(np.flatnonzero(codes == ord(ch)))
    space = codes == 32
    seeds.append(np.flatnonzero(space[:-1] & space[1:]))
    seed = _sorted_unique(np.concatenate(seeds))
    if not len(seed):
        return []
    a, b = _run_start(codes, seed, sep), _run_end(codes, seed + 1, sep)
    keep = b - a >= 2
    a, b = a[keep], b[keep]
    first = np.ones(len(a), dtype=bool)  # one per run (a is sorted: the seeds are)
    first[1:] = a[1:] != a[:-1]
    return list(zip(a[first].tolist(), b[first].tolist()))


def _sentence_ends_re(text: str) -> list[int]:
    """Sentence ends in ``text`` (unsorted, may repeat), with the regular expressions.

    ``_SEP`` starts a line. This is the definition; :func:`_sentence_ends` computes the
    same with array operations (and falls back to this for texts outside the BMP).
    """
    ends = [mt.end() for mt in _DOT_END_RE.finditer(text)]
    if "!" in text or "?" in text:
        ends += [mt.end() for mt in _MARK_END_RE.finditer(text)]
    if "\n" in text:
        ends += [mt.end() for mt in _BLANK_LINE_RE.finditer(text)]
        ends += _heading_ends(text)
    return ends


def _sentence_bounds(text: str) -> list[int]:
    """Sorted start offsets of the sentences after the first one."""
    codes = _char_codes(text + _SEP)
    return np.unique(_sentence_ends(text + _SEP, codes, np.empty(0, np.int64))).tolist()


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


class _Lut:
    """Lookup tables over the Basic Multilingual Plane, built on first use."""

    _tables: dict[str, np.ndarray] = {}

    @classmethod
    def get(cls, name: str) -> np.ndarray:
        table = cls._tables.get(name)
        if table is None:
            if name in ("space", "word"):  # the regex \s; \w (and \b)
                test = str.isspace if name == "space" else str.isalnum
                table = np.fromiter(map(test, map(chr, range(0x10000))), dtype=bool,
                                    count=0x10000)
                if name == "word":
                    table[ord("_")] = True
            else:
                members = {"quote": _CLOSERS, "capital": _SENTENCE_STARTS, "blank": " \t",
                           "line": _LINE_START_CHARS, "separator": _SEPARATOR_CHARS}[name]
                table = np.zeros(0x10000, dtype=bool)
                table[[ord(ch) for ch in members]] = True
            cls._tables[name] = table
        return table


_CLOSERS = "\"')]\u201d\u2019"  # may follow the end mark
_SENTENCE_STARTS = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"'([\u201c\u2018"
                    + "".join(chr(c) for c in range(0x3B1, 0x3CA)))
_LINE_START_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-\u2022*"
_ABBREV_CODES = [np.array([ord(c) for c in a], dtype=np.int64)
                 for a in sorted(set(_ABBREV_BEFORE_DOT))]
_WINDOW = max(map(len, _ABBREV_CODES)) + 2  # chars looked at before a '.'
_ABBREV_BY_LAST: dict[int, list[np.ndarray]] = {}
for _abbr in _ABBREV_CODES:
    _ABBREV_BY_LAST.setdefault(int(_abbr[-1]), []).append(_abbr)


def _run_start(codes: np.ndarray, at: np.ndarray, table: np.ndarray, floor: int = 0
               ) -> np.ndarray:
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
        outside = np.flatnonzero(~table[codes[lo:int(pos.max())]]) + lo
        k = np.searchsorted(outside, pos, side="left")
        out[active] = np.where(k > 0, outside[np.maximum(k - 1, 0)] + 1, lo)
    return out


def _run_end(codes: np.ndarray, at: np.ndarray, table: np.ndarray) -> np.ndarray:
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
    space, a separator or a quote; \\w is not asked of them: see :func:`_sentence_ends`)."""
    return np.minimum(codes, 0xFFFF) if codes.dtype == np.uint32 else codes


_VECTOR_STEPS = 8  # chars a run is followed one at a time, for all positions at once
_CHUNK = 4096


def _sentence_ends(text: str, codes: np.ndarray, line_starts: np.ndarray,
                   lines: np.ndarray | None = None) -> np.ndarray:
    """Sentence ends in ``text`` (unsorted, may repeat) with array operations: the same
    as :func:`_sentence_ends_re`. ``codes`` are the code points of ``text``, whose last
    char must be ``_SEP``; ``line_starts`` are the positions of the other ``_SEP``.
    """
    if codes.dtype == np.uint32:
        return np.array(_sentence_ends_re(text), dtype=np.int64)
    space, word, blank = _Lut.get("space"), _Lut.get("word"), _Lut.get("blank")
    found = []
    # [.!?], an optional closing quote/bracket, then a line break or spaces and a capital
    marks = np.flatnonzero(codes == 46)
    if "!" in text or "?" in text:
        marks = np.sort(np.concatenate((marks, np.flatnonzero((codes == 33) | (codes == 63)))))
    if len(marks):
        after = marks + 1 + _Lut.get("quote")[codes[marks + 1]]
        stop = _run_end(codes, after, space)
        newline = codes[_run_end(codes, after, blank)] == 10
        ok = newline | (space[codes[after]] & _Lut.get("capital")[codes[stop]])
        # '.' after an abbreviation ('e.g.', 'et al.', 'Fig.') ends no sentence
        dots = np.flatnonzero(ok & (codes[marks] == 46))
        at = marks[dots]
        if len(at):
            window = [codes[np.maximum(at - k, 0)] for k in range(_WINDOW)]
            abbreviation = np.zeros(len(at), dtype=bool)
            for last, group in _ABBREV_BY_LAST.items():
                rows = np.flatnonzero(window[1] == last)
                if not len(rows):
                    continue
                near = [w[rows] for w in window]
                for abbr in group:
                    n = len(abbr)
                    hit = at[rows] >= n
                    for j in range(n - 1):
                        hit &= near[n - j] == abbr[j]
                    # '\b' before it: the text starts there or a non-word char
                    hit &= (at[rows] == n) | ~word[near[n + 1]]
                    abbreviation[rows[hit]] = True
            ok[dots[abbreviation]] = False
        found.append(stop[ok])
    if lines is None:
        lines = np.flatnonzero(codes == 10)
    if len(lines):
        nxt = _run_end(codes, lines + 1, blank)
        # a blank line: line break, spaces/tabs, line break (and all the space after)
        two = codes[nxt] == 10
        found.append(_run_end(codes, nxt[two], space))
        # a heading: a line of at most _SHORT_LINE chars, then a capital or a bullet
        heading = _Lut.get("line")[codes[nxt]]
        if heading.any():
            at = lines[heading]
            breaks = np.concatenate((lines, line_starts))
            breaks.sort()
            k = np.searchsorted(breaks, at, side="left")
            start = np.where(k > 0, breaks[np.maximum(k - 1, 0)] + 1, 0)
            found.append(at[at - start <= _SHORT_LINE] + 1)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def _batches(docs: Iterable[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """``(doc_id, text)`` pairs in lists of about ``_BATCH_CHARS`` chars; ids made str,
    ``_SEP`` in a text made a space."""
    batch: list = []
    size = 0
    for doc in docs:
        batch.append(doc)
        size += len(doc[1])
        if size >= _BATCH_CHARS:
            yield _clean(batch)
            batch, size = [], 0
    if batch:
        yield _clean(batch)


def _clean(batch: list) -> list[tuple[str, str]]:
    ids = [d[0] for d in batch]
    texts = [d[1] for d in batch]
    if set(map(type, ids)) != {str}:
        ids = list(map(str, ids))
    if any(map(str.__contains__, texts, repeat(_SEP))):
        texts = [t.replace(_SEP, " ") if _SEP in t else t for t in texts]
    return list(zip(ids, texts))


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


_fold_keep_case = lru_cache(maxsize=1 << 14)(fold_keep_case)


def _looks_like_short_form(sf: str) -> bool:
    return bool(_PLAIN_SF.match(sf)) and any(c.isupper() for c in sf) and len(sf) >= 2



# --------------------------------------------------------------------------- public API


def annotate_columns(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None,
                     *, workers: int | None = None) -> dict[str, list]:
    """Mentions in ``(doc_id, text)`` pairs as columns: ``{field: [value per mention]}``.

    The keys are :data:`MENTION_COLUMNS`; row ``i`` of every list is one mention, in the
    order :func:`annotate` returns them (input document order, then start, end, concept).
    No per-mention object is built: use this (or :func:`annotate_frame`) for large corpora.

    ``workers`` > 1 analyses batches of documents (about ``_BATCH_CHARS`` chars each) in
    that many processes, while this one builds the fields from their results; the result
    is the same. It pays off only for many megabytes of text and idle processors.
    """
    cols: dict[str, list] = {c: [] for c in MENTION_COLUMNS}
    with _gc_paused():
        for _ in _annotated_batches(docs, vocab, workers, into=cols):
            pass
    return cols


def annotate(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None,
             *, workers: int | None = None) -> list[Mention]:
    """Mentions of the vocabulary's concepts in ``(doc_id, text)`` pairs.

    Mentions come in input document order, and by (start, end, concept) within a document.
    ``workers``: see :func:`annotate_columns`.
    """
    out: list[Mention] = []
    with _gc_paused():
        for part in _annotated_batches(docs, vocab, workers):
            out += _mentions(part)  # (while the batch's objects are still in the cache)
    return out


def annotate_frame(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None,
                   *, workers: int | None = None):
    """Mentions as a DataFrame, like ``mentions_frame(annotate(docs, vocab))`` but built
    from the columns directly."""
    return _frame(annotate_columns(docs, vocab, workers=workers))


def _annotated_batches(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None,
                       workers: int | None, into: dict[str, list] | None = None
                       ) -> Iterator[dict[str, list]]:
    """The mentions of each batch of documents, as columns, in order (appended to
    ``into`` if given, else each batch in new columns)."""
    vocab = vocab if vocab is not None else load_vocabulary()
    m = _matcher(vocab)
    batches: Iterable[list[tuple[str, str]]] = _batches(docs)
    if workers is not None and workers > 1:
        batches = list(batches)
        if len(batches) > 1:
            yield from _annotated_in_pool(m, vocab, batches, workers, into)
            return
    for docs_batch in batches:
        cols = into if into is not None else {c: [] for c in MENTION_COLUMNS}
        _annotate_batch(m, docs_batch, cols)
        yield cols


_WORKER_MATCHER: _Matcher | None = None


def _annotated_in_pool(m: _Matcher, vocab: Vocabulary, batches: list[list[tuple[str, str]]],
                       workers: int, into: dict[str, list] | None
                       ) -> Iterator[dict[str, list]]:
    """Batches analysed in a pool of processes (arrays come back: cheap to send); the
    Python objects of the fields are built here, in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the compiled matcher instead of rebuilding it
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context,
                             initializer=_init_worker, initargs=(vocab,)) as pool:
        for docs_batch, lay in zip(batches, pool.map(_analyse_in_worker, batches)):
            cols = into if into is not None else {c: [] for c in MENTION_COLUMNS}
            if lay is not None:
                texts = [text for _, text in docs_batch]
                ids = np.array([doc_id for doc_id, _ in docs_batch], dtype=object)
                _build(m, _SEP + _SEP.join(texts) + _SEP, ids, lay, cols)
            yield cols


def _init_worker(vocab: Vocabulary) -> None:
    global _WORKER_MATCHER
    _WORKER_MATCHER = _matcher(vocab)


def _analyse_in_worker(docs: list[tuple[str, str]]) -> _Layout | None:
    with _gc_paused():
        return _analyse(_WORKER_MATCHER, _Batch(docs))


def _mentions(cols: dict[str, list]) -> list[Mention]:
    rows = zip(*[cols[c] for c in MENTION_COLUMNS])
    with _gc_paused():
        return list(map(tuple.__new__, repeat(Mention), rows))


@contextmanager
def _gc_paused() -> Iterator[None]:
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
    """Candidate mentions of a batch as arrays (batch offsets, in scan order; as lists on
    demand), and the cue/context hits."""

    __slots__ = ("start_a", "end_a", "concept_a", "mode_a", "ambiguous", "aux_start",
                 "aux_end", "aux_pid", "coord", "ranges", "special", "_aux", "_lists")

    def __init__(self) -> None:
        none = np.empty(0, dtype=np.int64)
        self.start_a = self.end_a = self.concept_a = none  # (-2: ambiguous, -1: excluded)
        self.mode_a = none
        self.ambiguous: dict[int, tuple[int, ...]] = {}  # cand -> its concepts
        self.aux_start = self.aux_end = self.aux_pid = none  # cue/context hits
        # multi-word candidates after to/and/or: (cand, folded start, folded end), and
        # those that may extend a coordinated range: (cand, folded start, folded end, key)
        self.coord: tuple[np.ndarray, ...] = (none, none, none)
        self.ranges: tuple[np.ndarray, ...] = (none, none, none, none)
        self.special: list[int] = []     # cands that are ambiguous or excluded
        self._aux: list[tuple[int, int, int]] | None = None
        self._lists: tuple[list, list, list, list] | None = None

    def __len__(self) -> int:
        return len(self.start_a)

    def _as_lists(self) -> tuple[list, list, list, list]:
        if self._lists is None:
            concept = self.concept_a.tolist()
            for row, concepts in self.ambiguous.items():
                concept[row] = concepts
            self._lists = (self.start_a.tolist(), self.end_a.tolist(), concept,
                           self.mode_a.tolist())
        return self._lists

    @property
    def start(self) -> list[int]:
        return self._as_lists()[0]

    @property
    def end(self) -> list[int]:
        return self._as_lists()[1]

    @property
    def concept(self) -> list:
        """Concept index, or a tuple of them (ambiguous), -1 (excluded)."""
        return self._as_lists()[2]

    @property
    def mode(self) -> list[int]:
        return self._as_lists()[3]

    def set_concept(self, i: int, concept: int) -> None:
        self.concept_a[i] = concept
        if self._lists is not None:
            self._lists[2][i] = concept

    def rows(self, a: int, z: int) -> list[tuple]:
        return list(zip(self.start[a:z], self.end[a:z], self.concept[a:z], self.mode[a:z]))

    @property
    def aux(self) -> list[tuple[int, int, int]]:
        """Cue/context hits as (start, end, key id), sorted."""
        if self._aux is None:
            self._aux = list(zip(self.aux_start.tolist(), self.aux_end.tolist(),
                                 self.aux_pid.tolist()))
        return self._aux


def _annotate_batch(m: _Matcher, docs: Sequence[tuple[str, str]], cols: dict[str, list]) -> None:
    """Annotate one batch and append its mentions to ``cols``."""
    batch = _Batch(docs)
    lay = _analyse(m, batch)
    if lay is not None:
        _build(m, batch.orig, batch.ids, lay, cols)


def _analyse(m: _Matcher, batch: _Batch) -> _Layout | None:
    """The mentions of a batch, as arrays (None when there are none)."""
    cands = _scan(m, batch)
    if not len(cands):
        return None
    orig, starts, ends = batch.orig, batch.starts, batch.ends
    starts_a = batch.starts_a
    codes = batch.codes
    separators = np.concatenate(([0], starts_a[1:] - 1, [len(orig) - 1]))
    bounds_a = _sorted_unique(np.concatenate((
        _sentence_ends(orig, codes, separators, batch.lines), starts_a,
        np.array(ends, dtype=np.int64))))
    lo = np.searchsorted(cands.start_a, starts_a, side="left").tolist()
    lo.append(len(cands))

    special = set((np.searchsorted(starts_a, cands.start_a[cands.special], side="right")
                   - 1).tolist())
    defs_by_doc, blocked_by_doc = _definitions(batch, cands, codes)
    extras = _ellipsis(m, batch, cands) if len(cands.ranges[0]) else {}
    redo = special | set(extras)
    more_by_doc: dict[int, list[tuple]] = {}
    for d, defs in defs_by_doc.items():
        more = _defined_elsewhere(m, orig, defs, cands, lo[d], lo[d + 1], ends[d])
        if more:
            more_by_doc[d] = more
            redo.add(d)
    # (a document whose short forms are the vocabulary's own, for the same concept, keeps
    # every candidate as it is)
    simple = [d for d, defs in defs_by_doc.items() if d not in redo
              and any(m.definition_may_change(sf, c) for sf, (c, _) in defs.items())]
    if simple:
        _apply_definitions(orig, defs_by_doc, simple, cands, lo)

    counts = np.diff(np.array(lo, dtype=np.int64))
    fs, fe, fc = cands.start_a, cands.end_a, cands.concept_a
    if redo:  # documents that need the full per-document resolution
        coordinated = _coordinated_docs(batch, cands, lo, redo) if len(cands.coord[0]) else set()
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
                ctx = _context_hits(m, cands.aux, starts[d], ends[d]) if d in special else {}
                rows = _resolve(m, rows, defs, blocked_by_doc.get(d, set()), ctx, orig, bounds)
            if d in coordinated:  # (also drops duplicates, as it always has)
                rows = sorted(set(rows + extras.get(d, [])))
            pieces.append(tuple(np.array([r[k] for r in rows], dtype=np.int64) for k in range(3)))
            counts[d] = len(rows)
            prev = z
        pieces.append((fs[prev:], fe[prev:], fc[prev:]))
        fs, fe, fc = (np.concatenate([p[k] for p in pieces]) for k in range(3))
    if not len(fs):
        return None
    return _layout(batch, fs, fe, fc, counts, bounds_a, _cues(m, cands))


def _scan(m: _Matcher, batch: _Batch) -> _Cands:
    """Whole-word, leftmost-longest hits of the whole batch, in batch offsets.

    Term candidates go to the arrays of :class:`_Cands` (case-checked); cue and context
    hits to ``aux_*``; multi-word candidates preceded by 'to/and/or' (possible coordinated
    ranges) to ``coord``/``ranges``; ambiguous or excluded candidates to ``special``.

    Keys carry a leading space; ``iter_long`` (C) keeps the leftmost-longest hit and the
    trailing word boundary is checked here. A hit that fails it is re-scanned for a
    shorter key at the same place (``car t cell`` in ``car t cellular``).

    The hits are classified with array operations (one row per hit): plain synonyms and
    single-concept short forms whose surface is an accepted spelling never reach a
    Python-level loop; the rest (ambiguous, excluded, shorter hits) do, one by one.
    """
    norm, orig = batch.norm, batch.orig
    out = _Cands()
    flat = np.fromiter(chain.from_iterable(m.automaton.iter_long(norm)), dtype=np.int64)
    if not len(flat):
        return out
    pid = flat[1::2].copy()
    e = flat[0::2] + 1                       # folded offset just after the word
    chars = batch.norm_codes = _char_codes(norm)
    ok = chars[e] == 32                      # the key ends a word
    ws = e - m.klen_a[pid] + 1               # folded offset of the word's first char
    if batch.cut_norm:
        cut = np.array(batch.cut_norm, dtype=np.int64)
        shifts = np.array([0] + batch.cut_shift, dtype=np.int64)
        start = ws + shifts[np.searchsorted(cut, ws, side="right")]
        stop = e + shifts[np.searchsorted(cut, e, side="right")]
    else:
        start, stop = ws.copy(), e.copy()
    kind = m.kind_a[pid]
    concept = np.where(ok, m.plain_a[pid], -1)
    valid = concept >= 0                     # a plain synonym: accepted as it is
    mode = np.zeros(len(pid), dtype=np.int64)
    # single-concept short forms: accepted when the surface is one of its spellings
    abbr = np.flatnonzero(ok & (m.abbr_a[pid] >= 0))
    if len(abbr):
        passed = _accepted_spellings(m, batch, abbr, pid, start, stop, e - ws)
        hit = abbr[passed]
        concept[hit] = m.abbr_a[pid[hit]]
        mode[hit] = _MODE_ABBR
        valid[hit] = True
    aux = ok & ((kind & 6) != 0)
    coord = np.zeros(len(pid), dtype=bool)
    # 'odrh': last letters of the endings, a cheap test before the real one
    before = chars[np.maximum(ws - 2, 0)]
    idx = np.flatnonzero(ok & m.multi_a[pid] & ((before == 111) | (before == 100)
                                                | (before == 114) | (before == 104)))
    if len(idx):
        coord[idx[_ends_with_any(chars, ws[idx], _ELLIPSIS_ENDINGS)]] = True

    # the rest, one by one: terms needing a full case check, and failed word ends
    ambiguous: dict[int, tuple] = {}
    is_abbr = m.abbr_a[pid] >= 0  # (done above, accepted or not)
    rest = np.flatnonzero((ok & ((kind & 1) != 0) & ~valid & ~is_abbr) | (~ok & m.multi_a[pid]))
    if len(rest):
        klen, kinds, simples, terms, multis = m.klen, m.kind, m.simple, m.term, m.multi
        shift_at = batch.shift_at
        rows = zip(rest.tolist(), pid[rest].tolist(), ok[rest].tolist(), e[rest].tolist(),
                   start[rest].tolist(), stop[rest].tolist())
        for i, p, fits, ei, si, di in rows:
            if not fits:
                hit_ = _shorter_hit(m, norm, ei - klen[p], ei)
                if hit_ is None:
                    continue
                ei, p = hit_
                wi = ei - klen[p] + 1
                si, di = wi + shift_at(wi), ei + shift_at(ei)
                pid[i], ws[i], e[i], start[i], stop[i] = p, wi, ei, si, di
                if kinds[p] & 6:
                    aux[i] = True
                coord[i] = multis[p] and norm.endswith(_ELLIPSIS_ENDINGS, 0, wi)
                if not kinds[p] & 1:
                    continue
                c = simples[p]
                if c >= 0:
                    concept[i], valid[i] = c, True
                    continue
            cand = _check_case(terms[p], orig, si, di)
            if cand is None:
                continue
            c, md = cand
            if md == _MODE_AMBIG:
                ambiguous[i] = c
                c = -2
            concept[i], mode[i], valid[i] = c, md, True

    sel = np.flatnonzero(valid)
    out.start_a, out.end_a, out.concept_a = start[sel], stop[sel], concept[sel]
    out.mode_a = modes = mode[sel]
    out.special = np.flatnonzero(modes >= _MODE_AMBIG).tolist()
    if ambiguous:
        rows = np.searchsorted(sel, np.array(sorted(ambiguous), dtype=np.int64)).tolist()
        out.ambiguous = dict(zip(rows, [ambiguous[i] for i in sorted(ambiguous)]))
    flagged = np.flatnonzero(coord[sel])
    if len(flagged):
        hits = sel[flagged]
        out.coord = (flagged, ws[hits], e[hits])
        ranges = np.flatnonzero(m.range_a[pid[hits]] & (modes[flagged] == _MODE_SYN))
        if len(ranges):
            hits = hits[ranges]
            out.ranges = (flagged[ranges], ws[hits], e[hits], pid[hits])
    asel = np.flatnonzero(aux)
    out.aux_start, out.aux_end, out.aux_pid = start[asel], stop[asel], pid[asel]
    return out


def _accepted_spellings(m: _Matcher, batch: _Batch, abbr: np.ndarray, pid: np.ndarray,
                        start: np.ndarray, stop: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Whether the surface of each short-form hit ``abbr`` is one of its key's accepted
    spellings (as :func:`_check_case`: as written, or once folded keeping the case).

    An ASCII surface as long as its key (no collapsed run inside) folds to the key with
    its own upper-case letters: it is accepted when those (a bit mask) are the upper-case
    letters of a spelling. The others are compared as strings.
    """
    orig, codes = batch.orig, batch.codes
    a, z, n = start[abbr], stop[abbr], length[abbr]
    width = int(n.max())
    mask = np.zeros(len(abbr), dtype=np.int64)
    ascii_ = (z - a) == n                       # no collapsed run inside
    last = len(codes) - 1
    for j in range(width):
        c = codes[np.minimum(a + j, last)].astype(np.int64)
        inside = j < n
        ascii_ &= ~inside | (c < 128)
        mask |= (inside & (c >= 65) & (c <= 90)).astype(np.int64) << j
    passed = np.isin(pid[abbr] * _PAIR + mask, m.accepted_masks)
    other = np.flatnonzero(~ascii_ | ~m.mask_ok_a[pid[abbr]])
    if len(other):
        rows = abbr[other]
        surfaces = list(map(orig.__getitem__, map(slice, start[rows].tolist(),
                                                  stop[rows].tolist())))
        spellings = list(map(m.accepted.__getitem__, pid[rows].tolist()))
        found = list(map(contains, spellings, surfaces))
        for k, (surface, accepted) in enumerate(zip(surfaces, spellings)):
            if not found[k]:  # e.g. 'CAR-\n T' for 'CAR T'
                found[k] = _fold_keep_case(surface) in accepted
        passed[other] = found
    return passed


def _char_codes(text: str) -> np.ndarray:
    """The code points of ``text`` as an array (one item per char)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    data = text.encode("utf-16-le")
    if len(data) == 2 * len(text):
        return np.frombuffer(data, dtype=np.uint16)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _ends_with_any(chars: np.ndarray, at: np.ndarray, endings: Sequence[str]) -> np.ndarray:
    """Which positions ``at`` are preceded by one of ``endings`` (``str.endswith``)."""
    found = np.zeros(len(at), dtype=bool)
    for ending in endings:
        n = len(ending)
        here = at >= n
        for j, ch in enumerate(ending):
            here &= chars[np.maximum(at - n + j, 0)] == ord(ch)
        found |= here
    return found


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
                folded = _fold_keep_case(surface)
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


def _cues(m: _Matcher, cands: _Cands) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Negation cue hits as arrays (start, end, flags), sorted, inner pre-cues dropped."""
    is_cue = (m.kind_a[cands.aux_pid] & 2) != 0
    start, end = cands.aux_start[is_cue], cands.aux_end[is_cue]
    flags = m.cue_a[cands.aux_pid[is_cue]]
    phrase = (flags & (_POST | _PSEUDO)) != 0
    if phrase.any():
        # a pre-cue inside a post-cue or pseudo-negation phrase is not a cue: one lies
        # inside when the phrases starting at or before it reach (at most) its end
        reach = np.maximum.accumulate(end[phrase])
        j = np.searchsorted(start[phrase], start, side="right")
        keep = phrase | (j == 0) | (reach[np.maximum(j - 1, 0)] < end)
        start, end, flags = start[keep], end[keep], flags[keep]
    return start, end, flags


# --------------------------------------------------------------------------- abbreviations


def _definitions(batch: _Batch, cands: _Cands, chars: np.ndarray
                 ) -> tuple[dict[int, dict[str, tuple[int, int]]], dict[int, set[str]]]:
    """Short forms each document defines: doc -> {SF: (concept, position)}, doc -> blocked.

    ``long form (SF)`` after a vocabulary mention defines SF as that concept; an ambiguous
    form in parentheses after text that is not a vocabulary mention but matches it
    (``adeno-associated virus (AAV)``) is blocked for the document. Only the '(' where one
    of the two can happen are visited: those closing within 12 chars right after a
    candidate and spaces/tabs (a definition), and those right before an ambiguous one.
    """
    orig, starts = batch.orig, batch.starts
    defs_by_doc: dict[int, dict[str, tuple[int, int]]] = {}
    blocked_by_doc: dict[int, set[str]] = {}
    at = _paren_opens(chars)
    if len(at):
        # the candidate a '(' follows: the last one ending before it, ending where the
        # run of spaces/tabs before the '(' starts (its last char is never a space)
        gap_start = _run_start(chars, at, _Lut.get("blank"))
        ends = cands.end_a
        j = np.searchsorted(ends, at, side="right") - 1
        jj = np.maximum(j, 0)
        modes = cands.mode_a[jj]
        hit = (j >= 0) & (ends[jj] == gap_start) & (modes != _MODE_AMBIG) & (modes != _MODE_EXCL)
        at, j = at[hit], j[hit]
        docs = np.searchsorted(batch.starts_a, at, side="right") - 1
        rows = zip(at.tolist(), docs.tolist(), cands.start_a[j].tolist(), ends[j].tolist(),
                   cands.concept_a[j].tolist())
        for p, d, s, e, concept in rows:
            forms = _definition_forms(orig[p + 1:orig.find(")", p + 1)], orig[s:e])
            if forms is not None:
                defs = defs_by_doc.get(d)
                if defs is None:
                    defs = defs_by_doc[d] = {}
                defs.setdefault(forms[0], (concept, e))
                defs.setdefault(forms[1], (concept, e))
    blocking = [i for i in cands.special if cands.mode_a[i] == _MODE_AMBIG
                and orig[cands.start_a[i] - 1] == "("]
    if blocking:
        cs, ce = cands.start, cands.end
    for k in blocking:
        p = cs[k] - 1
        j = bisect_right(ce, p) - 1
        # a candidate of an earlier document is never 'after': the separator is no space
        if j >= 0 and not orig[ce[j]:p].strip():
            continue
        if orig.startswith(")", ce[k]):
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


def _paren_opens(chars: np.ndarray) -> np.ndarray:
    """Positions of the '(' closed by ')' within 12 chars, none of them '(' or a line
    break (the regex ``\\((?=[^()\\n]{1,12}\\))``); the text must end with another char."""
    at = np.flatnonzero(chars == 40)
    if not len(at):
        return at
    last = len(chars) - 1
    found = np.zeros(len(at), dtype=bool)
    open_ = np.ones(len(at), dtype=bool)
    for k in range(1, 14):
        c = chars[np.minimum(at + k, last)]
        stop = open_ & ((c == 40) | (c == 41) | (c == 10))
        found |= stop & (c == 41) & (k >= 2)
        open_ &= ~stop
        if k == 13 or not open_.any():
            break
    return at[found]


@lru_cache(maxsize=1 << 14)
def _definition_forms(inside: str, long: str) -> tuple[str, str] | None:
    """(SF, SF without a plural 's') when '(inside)' defines a short form of ``long``."""
    sf = inside.strip()
    core = sf[:-1] if len(sf) > 2 and sf.endswith("s") and sf[-2].isupper() else sf
    if not _looks_like_short_form(sf) or fold(sf) == fold(long):
        return None
    if _schwartz_hearst(core, long):
        return sf, core
    return None


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


def _apply_definitions(text: str, defs_by_doc: dict[int, dict[str, tuple[int, int]]],
                       docs: list[int], cands: _Cands, lo: list[int]) -> None:
    """In place, on the candidates of ``docs`` (``lo[d]:lo[d + 1]``): :func:`_apply_definition`
    to every abbreviation."""
    cs, ce, cc = cands.start, cands.end, cands.concept_a
    abbr = np.flatnonzero(cands.mode_a == _MODE_ABBR)
    a = np.searchsorted(abbr, [lo[d] for d in docs]).tolist()
    z = np.searchsorted(abbr, [lo[d + 1] for d in docs]).tolist()
    abbr = abbr.tolist()
    for d, p, q in zip(docs, a, z):
        defs = defs_by_doc[d]
        for i in abbr[p:q]:
            defined = defs.get(text[cs[i]:ce[i]])
            if defined is not None and defined[1] <= cs[i] and defined[0] != cc[i]:
                cands.set_concept(i, defined[0])


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for a few sorted runs of integers (a merge, not a hash)."""
    values = np.sort(values, kind="stable")
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


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


def _ellipsis(m: _Matcher, batch: _Batch, cands: _Cands) -> dict[int, list[tuple]]:
    """'first to fifth generation' -> also 'first generation', on the word 'first'.

    ``cands.ranges`` holds (candidate, folded start, folded end) of multi-word synonyms
    after to/and/or (in the batch) whose last words can end another synonym; returns
    doc -> extra candidates.
    """
    orig, norm, key_of = batch.orig, batch.norm, m.key_of
    extra: dict[int, list[tuple]] = {}
    for i, ws, we in _range_heads(m, batch, cands.ranges):
        # cheap test first: the word two before, taken across document ends
        before = norm[max(0, ws - 41):ws - 1].rsplit(None, 2)
        tail = norm[ws:we].split(" ", 1)[1]
        if len(before) < 2 or before[-2] + " " + tail not in key_of:
            continue
        s, concept = int(cands.start_a[i]), int(cands.concept_a[i])
        d = batch.doc_of(s)
        base = batch.to_norm(batch.starts[d]) - 1  # the separator before the document
        if not norm.endswith(_ELLIPSIS_ENDINGS, base, ws):
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
    return extra


def _range_heads(m: _Matcher, batch: _Batch, ranges: tuple[np.ndarray, ...]
                 ) -> list[tuple[int, int, int]]:
    """The (cand, folded start, folded end) of ``ranges`` whose word before to/and/or
    ends with the last char of a word that can replace their first one."""
    rows, ws, we, pid = ranges
    chars = batch.norm_codes
    at = ws.copy()
    for ending in _ELLIPSIS_ENDINGS:  # (at most one of them ends at a position)
        at[_ends_with_any(chars, ws, (ending,))] -= len(ending)
    # the char before the ending: spaces, then the word's last char
    at = _run_start(chars, at, _Lut.get("blank"), floor=1) - 1
    pair = pid * _PAIR + chars[np.maximum(at, 0)].astype(np.int64)
    keep = np.flatnonzero((at > 0) & np.isin(pair, m.range_pairs))
    return list(zip(rows[keep].tolist(), ws[keep].tolist(), we[keep].tolist()))


def _coordinated_docs(batch: _Batch, cands: _Cands, lo: list[int], docs: Iterable[int]
                      ) -> set[int]:
    """Those of ``docs`` that hold a multi-word candidate right after to/and/or."""
    norm, (index, starts, _) = batch.norm, cands.coord
    out = set()
    for d in docs:
        base = batch.to_norm(batch.starts[d]) - 1
        a, z = np.searchsorted(index, [lo[d], lo[d + 1]]).tolist()
        for ws in starts[a:z].tolist():
            if norm.endswith(_ELLIPSIS_ENDINGS, base, ws):
                out.add(d)
                break
    return out


# --------------------------------------------------------------------------- output


class _Layout(NamedTuple):
    """A batch's mentions as arrays, enough to build every field (see :func:`_build`)."""

    start: np.ndarray           # batch offsets
    end: np.ndarray
    concept: np.ndarray
    counts: np.ndarray          # mentions per document
    doc_start: np.ndarray       # batch offset of each document
    sentence_index: np.ndarray  # per mention
    sentence_start: np.ndarray  # per sentence holding mentions (stripped)
    sentence_end: np.ndarray
    sentence_runs: np.ndarray   # mentions per such sentence, in order
    negated: np.ndarray         # per mention (bool)


def _layout(batch: _Batch, fs: np.ndarray, fe: np.ndarray, fc: np.ndarray,
            counts: np.ndarray, bounds: np.ndarray,
            cues: tuple[np.ndarray, np.ndarray, np.ndarray]) -> _Layout:
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
    space = _Lut.get("space")
    negated = _negations(batch.orig, fs, fe, bounds[sent - 1], bounds[sent], cues)
    return _Layout(fs, fe, fc, counts, starts, sent - np.repeat(first, counts),
                   _run_end(batch.codes, bounds[used - 1], space),
                   _run_start(batch.codes, bounds[used], space),
                   np.diff(np.concatenate((run_starts, [n]))),
                   np.array(negated, dtype=bool))


def _build(m: _Matcher, orig: str, ids: np.ndarray, lay: _Layout, cols: dict[str, list]) -> None:
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


def _negations(text: str, fs: np.ndarray, fe: np.ndarray, ss: np.ndarray, se: np.ndarray,
               cues: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[bool]:
    """NegEx for every mention (``fs``/``fe``, in sentences [``ss``, ``se``)): negated by
    a pre-cue shortly before it or a post-cue shortly after it, in its sentence.

    A pre-cue counts with at most PRE_WINDOW words, and no ';', ':' or terminator, between
    it and the mention; its scope runs to its first mention and on through mentions joined
    to it by 'and/or/nor/,' (``without CRS or ICANS``), and a comma before the first one
    closes it (``Without lymphodepletion, CAR-T expansion was poor``). A post-cue counts
    with at most POST_WINDOW words and no ';', ':' or terminator between.

    The nearest cues of each mention and the terminators between are found with array
    operations (cues never overlap, so their ends are sorted too); only the mentions with
    a cue go through the word-level checks. ``tests/test_concepts.py`` holds the same rule,
    one mention at a time.
    """
    n = len(fs)
    negated = [False] * n
    cue_start, cue_end, flags = cues
    pre, post, term = ((flags & f) != 0 for f in (_PRE, _POST, _TERM))
    if not (pre.any() or post.any()):
        return negated
    # the last pre-cue ending before the mention, in its sentence
    p_start, p_end = cue_start[pre], cue_end[pre]
    k = np.searchsorted(p_end, fs, side="right") - 1
    kk = np.maximum(k, 0)
    has_pre = (k >= 0) & (p_start[kk] >= ss) if len(p_end) else np.zeros(n, dtype=bool)
    pre_end = p_end[kk] if len(p_end) else np.zeros(n, dtype=np.int64)
    # the first post-cue starting after it, ending in the sentence
    q_start, q_end = cue_start[post], cue_end[post]
    k = np.searchsorted(q_start, fe, side="left")
    kk = np.minimum(k, max(len(q_start) - 1, 0))
    has_post = (k < len(q_start)) & (q_end[kk] <= se) if len(q_start) else np.zeros(n, dtype=bool)
    post_start = q_start[kk] if len(q_start) else np.zeros(n, dtype=np.int64)
    # a terminator between a and b: the first one starting at or after a ends by b
    t_start, t_end = cue_start[term], cue_end[term]

    def blocked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if not len(t_start):
            return np.zeros(len(a), dtype=bool)
        k = np.searchsorted(t_start, a, side="left")
        return (k < len(t_start)) & (t_end[np.minimum(k, len(t_start) - 1)] <= b)

    has_pre &= ~blocked(pre_end, fs)
    has_post &= ~blocked(fe, post_start)
    todo = np.flatnonzero(has_pre)
    prev_end = np.where(todo > 0, fe[np.maximum(todo - 1, 0)], -1)  # the mention before
    rows = zip(todo.tolist(), pre_end[todo].tolist(), fs[todo].tolist(), prev_end.tolist())
    for i, a, s, prev in rows:
        between = text[a:s]
        if ";" in between or ":" in between or len(between.split(None, PRE_WINDOW)) > PRE_WINDOW:
            continue
        if prev <= a:
            if "," not in between:
                negated[i] = True
        elif _coordinated(text[prev:s]):
            negated[i] = True
    todo = np.flatnonzero(has_post)
    for i, e, b in zip(todo.tolist(), fe[todo].tolist(), post_start[todo].tolist()):
        if not negated[i]:
            between = text[e:b]
            if not (";" in between or ":" in between
                    or len(between.split(None, POST_WINDOW)) > POST_WINDOW):
                negated[i] = True
    return negated


def _coordinated(between: str) -> bool:
    """Text between two mentions that keeps them in one negation scope."""
    words = between.replace(",", " , ").split()
    return len(words) <= 4 and any(w == "," or w.lower() in _COORDINATORS for w in words)
