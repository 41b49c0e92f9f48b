"""Annotate documents with the vocabulary's concepts.

``annotate(docs)`` takes ``(doc_id, text)`` pairs and returns :class:`Mention` records:
which concept, where (character offsets into the document text), in which sentence, and
whether the mention is negated.

How it works (one pass per batch of documents, no per-character Python loops):

1. The batch text is folded 1:1 (letters lower-cased, every other char a space) with a
   byte-level ``translate``; runs of whitespace/hyphens (``CAR-\\nT``) are collapsed to
   one space, with a small offset table to map back to the original text.
2. One Aho-Corasick automaton (pyahocorasick) holds every surface variant with a leading
   space (`` sle``), so every hit starts a word; ``iter_long`` keeps the leftmost-longest
   hit and the end of the word is checked. The automaton also holds negation cues,
   terminators and context words.
3. Per document: case-sensitive forms are checked against the original text, short forms
   the document defines itself (Schwartz-Hearst: ``systemic sclerosis (SSc)``) are mapped
   to the long form's concept, ambiguous forms (``RA``, ``MS``, ``CRS``...) are kept only
   when defined or supported by context, coordinated ranges (``first to fifth
   generation``) yield one mention per end, and NegEx-style cues within the sentence set
   ``negated``.
"""

from __future__ import annotations

import re
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

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

__all__ = ["Mention", "annotate", "mentions_frame", "load_vocabulary", "MENTION_COLUMNS"]

MENTION_COLUMNS = [
    "doc_id", "concept", "category", "text", "sentence", "sentence_index", "start", "end",
    "negated",
]


@dataclass(frozen=True, slots=True)
class Mention:
    """One mention of a concept in a document (``text == doc[start:end]``)."""

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
    """Load the vocabulary (default: the repository's ``seeds/vocabulary``)."""
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

_RUN_SEEDS = ("\n", "\r", "\t", "  ")
_SEPARATOR_CHARS = frozenset(" \t\n\r\f\v\u00a0-/\u2010\u2011\u2012\u2013\u2014\u2015")
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
_SENT_END_RE = re.compile(
    r"[.!?]" + _LOOKBEHINDS + r"[\"')\]\u201d\u2019]?"
    r"(?:[ \t]*\n\s*|\s+(?=[A-Z0-9\"'(\[\u201c\u2018\u03b1-\u03c9]))"
)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n\s*")
_SHORT_LINE = 30  # a line this short, followed by a capital or a bullet, is a heading
_LINE_STARTS = re.compile(r"[ \t]*[A-Z\-\u2022*]")
_SEP = "\x00"  # joins documents of a batch; folds to one space, never inside a run
_BATCH_CHARS = 4_000_000
_PAREN_SF = re.compile(r"[ \t]*\(([^()\n]{1,12})\)")
_PLAIN_SF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{0,9}$")
_ELLIPSIS_ENDINGS = (" to ", " and ", " or ", " through ")
_ELLIPSIS_WORD = re.compile(r"(\w+)[\s\-\u2010-\u2015]+(?:to|and|or|through)[\s\-\u2010-\u2015]+$",
                            re.IGNORECASE)


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
        for key in sorted(keys):
            slot = keys[key]
            pid = len(self.klen)
            padded = f" {key}"
            self.automaton.add_word(padded, pid)
            self.key_of[key] = pid
            self.klen.append(len(padded))
            terms = tuple(sorted((c, m, frozenset(a) if a else None)
                                 for c, (m, a) in slot["terms"].items()))
            self.term.append(terms)
            self.cue.append(slot["cue"])
            self.ctx.append(tuple(sorted(slot["ctx"])))
            self.kind.append((1 if terms else 0) | (2 if slot["cue"] else 0)
                             | (4 if slot["ctx"] else 0))
        self.automaton.make_automaton()
        self.is_term = [bool(k & 1) for k in self.kind]
        # fast path: a pure single-concept case-insensitive synonym
        self.simple = [
            t[0][0] if len(t) == 1 and t[0][1] == _MODE_SYN and k == 1 else -1
            for t, k in zip(self.term, self.kind)
        ]


_MATCHERS: "weakref.WeakKeyDictionary[Vocabulary, _Matcher]" = weakref.WeakKeyDictionary()


def _matcher(vocab: Vocabulary) -> _Matcher:
    m = _MATCHERS.get(vocab)
    if m is None:
        m = _MATCHERS[vocab] = _Matcher(vocab)
    return m


# --------------------------------------------------------------------------- batches


class _Batch:
    """Documents joined into one string and folded once, with the offset map back."""

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        self.docs = docs
        texts = [d[1] for d in docs]
        self.orig = _SEP + _SEP.join(texts) + _SEP
        self.starts: list[int] = []
        pos = 1
        for t in texts:
            self.starts.append(pos)
            pos += len(t) + 1
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

    def shift_at(self, n: int) -> int:
        """What to add to folded offset ``n`` to get the original offset."""
        k = bisect_right(self.cut_norm, n)
        return self.cut_shift[k - 1] if k else 0


class _DocView:
    """One document: its text, its folded slice ``seg`` and the offset map between them.

    ``seg[0]`` is the separator before the document, so ``seg[i + 1]`` is ``text[i]``
    unless a collapsed run lies in between.
    """

    __slots__ = ("doc_id", "text", "seg", "base", "o0", "const", "batch")

    def __init__(self, batch: _Batch, i: int) -> None:
        self.doc_id, self.text = batch.docs[i]
        self.batch = batch
        self.o0 = batch.starts[i]
        n0 = batch.to_norm(self.o0)
        n1 = batch.to_norm(self.o0 + len(self.text))
        self.base = n0 - 1
        self.seg = batch.norm[self.base:n1 + 1]
        self.const = not batch.cut_norm or (
            bisect_right(batch.cut_norm, n0) == bisect_right(batch.cut_norm, n1))

    def rel(self, i: int) -> int:
        """Segment index -> document offset."""
        if self.const:
            return i - 1
        n = self.base + i
        return n + self.batch.shift_at(n) - self.o0

    def seg_index(self, off: int) -> int:
        """Document offset -> segment index."""
        if self.const:
            return off + 1
        return self.batch.to_norm(self.o0 + off) - self.base


def _find_runs(text: str) -> list[tuple[int, int]]:
    """Spans of 2+ separator chars (whitespace, hyphens, '/') that hold a line break, a tab
    or a double space: the only runs a term can be split by (``CAR-\nT``)."""
    seeds: set[int] = set()
    for seed in _RUN_SEEDS:
        i = text.find(seed)
        while i >= 0:
            seeds.add(i)
            i = text.find(seed, i + len(seed))
    runs: list[tuple[int, int]] = []
    n = len(text)
    for p in sorted(seeds):
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


def _sentence_bounds(text: str) -> list[int]:
    """Sorted start offsets of the sentences after the first one."""
    ends = [m.end() for m in _SENT_END_RE.finditer(text)]
    if "\n" in text:
        lines = [m.end() for m in _BLANK_LINE_RE.finditer(text)] + _heading_ends(text)
        if lines:
            ends = sorted(set(ends).union(lines))
    return ends


def _heading_ends(text: str) -> list[int]:
    """Line breaks after short lines (titles, headings, list items)."""
    out = []
    start, i = 0, text.find("\n")
    while i >= 0:
        if i - start <= _SHORT_LINE and _LINE_STARTS.match(text, i + 1):
            out.append(i + 1)
        start, i = i + 1, text.find("\n", i + 1)
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


# --------------------------------------------------------------------------- per document


def annotate(docs: Iterable[tuple[str, str]], vocab: Vocabulary | None = None) -> list[Mention]:
    """Mentions of the vocabulary's concepts in ``(doc_id, text)`` pairs.

    Mentions come in input document order, and by (start, end, concept) within a document.
    """
    m = _matcher(vocab if vocab is not None else load_vocabulary())
    out: list[Mention] = []
    for docs_batch in _batches(docs):
        batch = _Batch(docs_batch)
        for i in range(len(docs_batch)):
            out.extend(_annotate_doc(m, _DocView(batch, i)))
    return out


def _scan(m: _Matcher, doc: _DocView) -> tuple[list[tuple], list[tuple], list[tuple], bool]:
    """Whole-word, leftmost-longest hits of one document.

    Returns the term candidates ``(start, end, concept | (concepts...), mode)`` in document
    offsets (case-checked), the other hits ``(seg_start, seg_end, pid)`` (cues, context),
    the multi-word candidates preceded by 'to/and/or' (possible coordinated ranges), and
    whether any candidate needs resolution (ambiguous or excluded).

    Keys carry a leading space; ``iter_long`` (C) keeps the leftmost-longest hit and the
    trailing word boundary is checked here. A hit that fails it is re-scanned for a
    shorter key at the same place (``car t cell`` in ``car t cellular``).
    """
    kind, klen, simple, terms = m.kind, m.klen, m.simple, m.term
    seg, text = doc.seg, doc.text
    rel = None if doc.const else doc.rel
    cands: list[tuple] = []
    aux: list[tuple] = []
    ellipses: list[tuple] = []
    special = False
    for end, pid in m.automaton.iter_long(seg):
        e = end + 1
        if seg[e] != " ":
            hit = _shorter_hit(m, seg, end - klen[pid] + 1, e)
            if hit is None:
                continue
            e, pid = hit
        s = e - klen[pid]
        k = kind[pid]
        if k != 1:
            if k & 6:
                aux.append((s, e, pid))
            if not k & 1:
                continue
        ds, de = (s, e - 1) if rel is None else (rel(s + 1), rel(e))
        c = simple[pid]
        if c >= 0:
            cand = (ds, de, c, _MODE_SYN)
        else:
            cand = _check_case(terms[pid], text, ds, de)
            if cand is None:
                continue
            special = special or cand[3] >= _MODE_AMBIG
        cands.append(cand)
        if seg.endswith(_ELLIPSIS_ENDINGS, 0, s + 1) and seg.find(" ", s + 1, e) > 0:
            ellipses.append((cand, s, e))
    return cands, aux, ellipses, special


def _shorter_hit(m: _Matcher, seg: str, start: int, stop: int) -> tuple[int, int] | None:
    """Longest key starting at ``start`` and ending on a word boundary before ``stop``."""
    best = None
    for end, pid in m.automaton.iter(seg[start:stop]):
        if end + 1 == m.klen[pid] and seg[start + end + 1] == " ":
            if best is None or m.klen[pid] > m.klen[best[1]]:
                best = (start + end + 1, pid)
    return best


def _annotate_doc(m: _Matcher, doc: _DocView) -> list[Mention]:
    cands, aux, ellipses, special = _scan(m, doc)
    if not cands:
        return []
    cues, ctx = _aux_hits(m, doc, aux) if aux else ([], {})
    text = doc.text
    defs, blocked = _definitions(text, cands) if "(" in text else ({}, set())
    if defs:
        more = _defined_elsewhere(m, text, defs, cands)
        if more:
            cands = sorted(set(cands + more))
    if special or defs:
        cands = _resolve(m, cands, defs, blocked, ctx, text)
    if ellipses:
        cands = sorted(set(cands + _ellipsis(m, doc, ellipses)))
    return _emit(m, doc, cands, cues)


def _check_case(entries: tuple, text: str, s: int, e: int) -> tuple | None:
    """Candidate for a key with case-sensitive / ambiguous / exclusion entries."""
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
            return (s, e, -1, mode)
        else:
            return (s, e, concept, mode)
    if ambiguous:
        return (s, e, tuple(ambiguous), _MODE_AMBIG)
    return None


def _aux_hits(m: _Matcher, doc: _DocView, aux: list[tuple[int, int, int]]
              ) -> tuple[list[tuple[int, int, int]], dict[int, list[int]]]:
    """Cue hits (start, end, flags) and context hits: concept -> [start, ...] (doc offsets)."""
    cues: list[tuple[int, int, int]] = []
    ctx: dict[int, list[int]] = {}
    kind, cueflags, ctxs, rel = m.kind, m.cue, m.ctx, doc.rel
    for s, e, pid in aux:
        ds = rel(s + 1)
        k = kind[pid]
        if k & 2:
            cues.append((ds, rel(e), cueflags[pid]))
        if k & 4:
            for c in ctxs[pid]:
                ctx.setdefault(c, []).append(ds)
    if cues:
        cues = _drop_inner_cues(cues)
    return cues, ctx


def _drop_inner_cues(cues: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """A pre-cue inside a post-cue or pseudo-negation phrase is not a cue."""
    phrases = [(s, e) for s, e, f in cues if f & (_POST | _PSEUDO)]
    if not phrases:
        return cues
    return [
        (s, e, f) for s, e, f in cues
        if f & (_POST | _PSEUDO) or not any(ps <= s and e <= pe for ps, pe in phrases)
    ]


def _definitions(text: str, cands: list[tuple]) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """Short forms the document defines, at each '(' in it.

    ``long form (SF)`` after a vocabulary mention defines SF as that concept (SF -> (concept,
    position)); an ambiguous form in parentheses after text that is not a vocabulary
    mention but matches it (``adeno-associated virus (AAV)``) is blocked for the document.
    """
    defs: dict[str, tuple[int, int]] = {}
    blocked: set[str] = set()
    starts = [c[0] for c in cands]
    ends = [c[1] for c in cands]
    p = text.find("(")
    while p >= 0:
        j = bisect_right(ends, p) - 1
        after_mention = j >= 0 and not text[ends[j]:p].strip()
        if after_mention and cands[j][3] != _MODE_AMBIG and cands[j][2] >= 0:
            s, e, concept, _ = cands[j]
            _define(defs, _PAREN_SF.match(text, e), text[s:e], concept, e)
        k = bisect_left(starts, p + 1)
        if (not after_mention and k < len(cands) and starts[k] == p + 1
                and cands[k][3] == _MODE_AMBIG and text.startswith(")", ends[k])):
            sf = text[starts[k]:ends[k]]
            if _defined_by_text(sf, text[max(0, p - 80):p]):
                blocked.add(sf)
        p = text.find("(", p + 1)
    for sf in blocked:
        defs.pop(sf, None)
    return defs, blocked


def _define(defs: dict[str, tuple[int, int]], mt: re.Match | None, long: str, concept: int,
            pos: int) -> None:
    """Record '(SF)' after a long form when SF is a Schwartz-Hearst match of it."""
    if mt is None:
        return
    sf = mt.group(1).strip()
    core = sf[:-1] if len(sf) > 2 and sf.endswith("s") and sf[-2].isupper() else sf
    if not _looks_like_short_form(sf) or fold(sf) == fold(long):
        return
    if _schwartz_hearst(core, long):
        defs.setdefault(sf, (concept, pos))
        defs.setdefault(core, (concept, pos))


def _defined_by_text(sf: str, before: str) -> bool:
    """Schwartz-Hearst over the last few words before '(' (a non-vocabulary long form)."""
    words = before.split()
    n = min(len(sf) + 5, 2 * len(sf))
    return len(words) >= 1 and _schwartz_hearst(sf, " ".join(words[-n:]))


def _defined_elsewhere(m: _Matcher, text: str, defs: dict[str, tuple[int, int]],
                       cands: list[tuple]) -> list[tuple]:
    """Later uses of defined short forms that the vocabulary does not list."""
    found: list[tuple] = []
    taken = {(c[0], c[1]) for c in cands}
    for sf, (concept, pos) in sorted(defs.items()):
        pid = m.key_of.get(fold(sf))
        if pid is not None and m.term[pid]:
            continue
        pattern = re.compile(r"(?<![\w])" + re.escape(sf) + r"s?(?![\w])")
        for mt in pattern.finditer(text, pos):
            if (mt.start(), mt.end()) not in taken:
                found.append((mt.start(), mt.end(), concept, _MODE_ABBR))
    return found


def _resolve(m: _Matcher, cands: list[tuple], defs: dict[str, tuple[int, int]],
             blocked: set[str], ctx: dict[int, list[int]], text: str) -> list[tuple[int, int, int]]:
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
        ok = [k for k in concepts if _has_context(m, k, s, e, present, out, ctx, text)]
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


def _has_context(m: _Matcher, k: int, s: int, e: int, present: set[int],
                 out: list[tuple[int, int, int]], ctx: dict[int, list[int]], text: str) -> bool:
    """Context for concept ``k``: its context words, or mentions of it / its context
    concepts, in the document (or, for sentence-scoped concepts, in the same sentence)."""
    via = m.ctx_via[k]
    if not m.scope_sentence[k]:
        return bool(via & present) or k in ctx
    positions = [o[0] for o in out if o[2] in via] + ctx.get(k, [])
    return any(_same_sentence(text, p, s) for p in positions)


def _same_sentence(text: str, a: int, b: int) -> bool:
    lo, hi = (a, b) if a < b else (b, a)
    return bisect_right(_sentence_bounds(text), lo) == bisect_right(_sentence_bounds(text), hi)


def _ellipsis(m: _Matcher, doc: _DocView, cands: list[tuple]) -> list[tuple[int, int, int]]:
    """'first to fifth generation' -> also 'first generation', on the word 'first'.

    ``cands`` are (candidate, seg_start, seg_end) of multi-word mentions after to/and/or.
    """
    text, seg, key_of = doc.text, doc.seg, m.key_of
    extra = []
    for (s, e, concept, mode), ss, se in cands:
        if mode != _MODE_SYN or concept < 0:
            continue
        before = seg[max(0, ss - 40):ss].split()
        if len(before) < 2:
            continue
        pid = key_of.get(" ".join([before[-2]] + seg[ss + 1:se].split()[1:]))
        if pid is None or len(m.term[pid]) != 1 or m.term[pid][0][1] != _MODE_SYN:
            continue
        other = m.term[pid][0][0]
        mt = _ELLIPSIS_WORD.search(text, max(0, s - 40), s)
        if mt and other != concept and m.categories[other] == m.categories[concept]:
            extra.append((mt.start(1), mt.end(1), other, _MODE_SYN))
    return extra


def _emit(m: _Matcher, doc: _DocView, resolved: list[tuple[int, int, int]],
          cues: list[tuple[int, int, int]]) -> list[Mention]:
    """Build the Mention records (sentence, negation) in (start, end, concept) order."""
    text, doc_id = doc.text, doc.doc_id
    bounds = _sentence_bounds(text)
    nb, size = len(bounds), len(text)
    codes, cats = m.codes, m.categories
    cue_sentences = {bisect_right(bounds, c[0]) for c in cues}
    sentences: dict[int, tuple[int, int, str]] = {}
    out = []
    prev_end = -1
    for s, e, c, _ in resolved:
        si = bisect_right(bounds, s)
        info = sentences.get(si)
        if info is None:
            ss = bounds[si - 1] if si else 0
            se = bounds[si] if si < nb else size
            info = sentences[si] = (ss, se, text[ss:se].strip())
        negated = si in cue_sentences and _negated(text, cues, s, e, info[0], info[1], prev_end)
        out.append(Mention(doc_id, codes[c], cats[c], text[s:e], info[2], si, s, e, negated))
        prev_end = e
    return out


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


# --------------------------------------------------------------------------- frames


def mentions_frame(mentions: Iterable[Mention]):
    """Mentions as a DataFrame, columns :data:`MENTION_COLUMNS`, sorted by doc, offsets, concept."""
    import pandas as pd

    rows = [
        (x.doc_id, x.concept, x.category, x.text, x.sentence, x.sentence_index, x.start,
         x.end, x.negated)
        for x in mentions
    ]
    frame = pd.DataFrame(rows, columns=MENTION_COLUMNS)
    frame = frame.astype({"sentence_index": "int64", "start": "int64", "end": "int64",
                          "negated": "bool"})
    frame = frame.sort_values(["doc_id", "start", "end", "concept"], kind="mergesort")
    return frame.reset_index(drop=True)
