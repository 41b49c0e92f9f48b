"""Step 2: the Aho-Corasick matcher of a vocabulary (every surface variant, negation cue
and context word in one automaton, plus lookup tables as arrays) and the scan of a batch
into candidate mentions."""

from __future__ import annotations

import weakref
from functools import lru_cache
from itertools import chain
from operator import contains

import ahocorasick
import numpy as np

from helpers.text.concepts.folding import Batch, char_codes, ends_with_any
from helpers.text.concepts.negation import NEG_POST, NEG_PRE, NEG_PSEUDO, NEG_TERMINATORS, POST, PRE, PSEUDO, TERM
from helpers.text.vocabulary import (
    ABBREVIATION,
    AMBIGUOUS,
    EXCLUDE,
    SYNONYM,
    Vocabulary,
    fold,
    fold_keep_case,
    variants,
)

MODE_SYN, MODE_ABBR, MODE_AMBIG, MODE_EXCL = 0, 1, 2, 3
_MODES = {SYNONYM: MODE_SYN, ABBREVIATION: MODE_ABBR, AMBIGUOUS: MODE_AMBIG, EXCLUDE: MODE_EXCL}
ELLIPSIS_ENDINGS = (" to ", " and ", " or ", " through ")
PAIR = 1 << 21  # key id * PAIR + code point: one number for the pair


class Matcher:
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
        for cues, flag in ((NEG_PRE, PRE), (NEG_POST, POST), (NEG_TERMINATORS, TERM), (NEG_PSEUDO, PSEUDO)):
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
        case_sensitive = mode in (MODE_ABBR, MODE_AMBIG)
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
        self.kind: list[int] = []  # bit 1: term, bit 2: cue, bit 4: context
        self.term: list[tuple] = []  # ((concept, mode, accepted|None), ...)
        self.cue: list[int] = []
        self.ctx: list[tuple[int, ...]] = []
        self.key_of: dict[str, int] = {}
        self.multi: list[bool] = []  # the key has more than one word
        for key in sorted(keys):
            slot = keys[key]
            pid = len(self.klen)
            padded = f" {key}"
            self.automaton.add_word(padded, pid)
            self.key_of[key] = pid
            self.klen.append(len(padded))
            self.multi.append(" " in key)
            terms = tuple(sorted((c, m, frozenset(a) if a else None) for c, (m, a) in slot["terms"].items()))
            self.term.append(terms)
            self.cue.append(slot["cue"])
            self.ctx.append(tuple(sorted(slot["ctx"])))
            self.kind.append((1 if terms else 0) | (2 if slot["cue"] else 0) | (4 if slot["ctx"] else 0))
        self.automaton.make_automaton()
        self.is_term = [bool(k & 1) for k in self.kind]
        # a pure single-concept case-insensitive synonym
        self.simple = [
            t[0][0] if len(t) == 1 and t[0][1] == MODE_SYN and k == 1 else -1
            for t, k in zip(self.term, self.kind, strict=True)
        ]
        # a single-concept case-sensitive short form: its accepted spellings
        self.accepted = [
            t[0][2] if len(t) == 1 and t[0][1] == MODE_ABBR and k == 1 else None
            for t, k in zip(self.term, self.kind, strict=True)
        ]
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
        self.plain_a = np.array(
            [t[0][0] if len(t) == 1 and t[0][1] == MODE_SYN else -1 for t in self.term], dtype=np.int64
        )
        # a single-concept short form: its concept; and its spellings as the upper-case
        # letters of the key (bit j: char j is upper case), when every one is ASCII
        self.abbr_a = np.array(
            [t[0][0] if a is not None else -1 for t, a in zip(self.term, self.accepted, strict=True)], dtype=np.int64
        )
        masks, mask_ok = [], []
        for pid, (key, accepted) in enumerate(zip(keys, self.accepted, strict=True)):
            ok = accepted is not None and len(key) < 21 and all(a.isascii() and a.lower() == key for a in accepted)
            mask_ok.append(ok)
            if ok:
                masks += [pid * PAIR + sum(1 << j for j, ch in enumerate(a) if ch.isupper()) for a in accepted]
        self.accepted_masks = np.unique(np.array(masks, dtype=np.int64))
        self.mask_ok_a = np.array(mask_ok, dtype=bool)
        # multi-word keys whose last words also end a one-synonym key ('fifth generation',
        # 'first generation'): the only ones a coordinated range can extend, each with the
        # last chars of the words that can replace its first one ('X to fifth generation'
        # needs an X ending with 't')
        heads: dict[str, set[int]] = {}  # last words -> last chars of the first word
        for key, pid in self.key_of.items():
            if " " in key and len(self.term[pid]) == 1 and self.term[pid][0][1] == MODE_SYN:
                head, tail = key.split(" ", 1)
                heads.setdefault(tail, set()).add(ord(head[-1]))
        pairs = []
        for key, pid in self.key_of.items():
            if " " in key:
                pairs += [pid * PAIR + c for c in heads.get(key.split(" ", 1)[1], ())]
        self.range_pairs = np.unique(np.array(pairs, dtype=np.int64))
        self.range_a = np.zeros(len(self.klen), dtype=bool)
        self.range_a[self.range_pairs // PAIR] = True

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


_MATCHERS: weakref.WeakKeyDictionary[Vocabulary, Matcher] = weakref.WeakKeyDictionary()


def prepare(vocab: Vocabulary) -> Matcher:
    """The compiled :class:`Matcher` of ``vocab`` (automaton and tables), built on first use
    and cached while the vocabulary lives."""
    m = _MATCHERS.get(vocab)
    if m is None:
        m = _MATCHERS[vocab] = Matcher(vocab)
    return m


_fold_keep_case = lru_cache(maxsize=1 << 14)(fold_keep_case)


class Cands:
    """Candidate mentions of a batch as arrays (batch offsets, in scan order; as lists on
    demand), and the cue/context hits."""

    __slots__ = (
        "start_a",
        "end_a",
        "concept_a",
        "mode_a",
        "ambiguous",
        "aux_start",
        "aux_end",
        "aux_pid",
        "coord",
        "ranges",
        "special",
        "_aux",
        "_lists",
    )

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
        self.special: list[int] = []  # cands that are ambiguous or excluded
        self._aux: list[tuple[int, int, int]] | None = None
        self._lists: tuple[list, list, list, list] | None = None

    def __len__(self) -> int:
        return len(self.start_a)

    def _as_lists(self) -> tuple[list, list, list, list]:
        if self._lists is None:
            concept = self.concept_a.tolist()
            for row, concepts in self.ambiguous.items():
                concept[row] = concepts
            self._lists = (self.start_a.tolist(), self.end_a.tolist(), concept, self.mode_a.tolist())
        return self._lists

    @property
    def start(self) -> list[int]:
        """Start offsets (batch offsets)."""
        return self._as_lists()[0]

    @property
    def end(self) -> list[int]:
        """End offsets (batch offsets)."""
        return self._as_lists()[1]

    @property
    def concept(self) -> list:
        """Concept index, or a tuple of them (ambiguous), -1 (excluded)."""
        return self._as_lists()[2]

    @property
    def mode(self) -> list[int]:
        """Mode of each candidate (``MODE_SYN``, ``MODE_ABBR``, ``MODE_AMBIG``, ``MODE_EXCL``)."""
        return self._as_lists()[3]

    def set_concept(self, i: int, concept: int) -> None:
        """Set the concept of candidate ``i`` (in the array and the lists)."""
        self.concept_a[i] = concept
        if self._lists is not None:
            self._lists[2][i] = concept

    def rows(self, a: int, z: int) -> list[tuple]:
        """Candidates ``a:z`` as (start, end, concept, mode) tuples."""
        return list(zip(self.start[a:z], self.end[a:z], self.concept[a:z], self.mode[a:z], strict=True))

    @property
    def aux(self) -> list[tuple[int, int, int]]:
        """Cue/context hits as (start, end, key id), sorted."""
        if self._aux is None:
            self._aux = list(zip(self.aux_start.tolist(), self.aux_end.tolist(), self.aux_pid.tolist(), strict=True))
        return self._aux


def scan(m: Matcher, batch: Batch) -> Cands:  # noqa: C901 - one pass over the hits; splitting adds a call per hit
    """Whole-word, leftmost-longest hits of the whole batch, in batch offsets.

    Term candidates go to the arrays of :class:`Cands` (case-checked); cue and context
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
    out = Cands()
    flat = np.fromiter(chain.from_iterable(m.automaton.iter_long(norm)), dtype=np.int64)
    if not len(flat):
        return out
    pid = flat[1::2].copy()
    e = flat[0::2] + 1  # folded offset just after the word
    chars = batch.norm_codes = char_codes(norm)
    ok = chars[e] == 32  # the key ends a word
    ws = e - m.klen_a[pid] + 1  # folded offset of the word's first char
    if batch.cut_norm:
        cut = np.array(batch.cut_norm, dtype=np.int64)
        shifts = np.array([0] + batch.cut_shift, dtype=np.int64)
        start = ws + shifts[np.searchsorted(cut, ws, side="right")]
        stop = e + shifts[np.searchsorted(cut, e, side="right")]
    else:
        start, stop = ws.copy(), e.copy()
    kind = m.kind_a[pid]
    concept = np.where(ok, m.plain_a[pid], -1)
    valid = concept >= 0  # a plain synonym: accepted as it is
    mode = np.zeros(len(pid), dtype=np.int64)
    # single-concept short forms: accepted when the surface is one of its spellings
    abbr = np.flatnonzero(ok & (m.abbr_a[pid] >= 0))
    if len(abbr):
        passed = _accepted_spellings(m, batch, abbr, pid, start, stop, e - ws)
        hit = abbr[passed]
        concept[hit] = m.abbr_a[pid[hit]]
        mode[hit] = MODE_ABBR
        valid[hit] = True
    aux = ok & ((kind & 6) != 0)
    coord = np.zeros(len(pid), dtype=bool)
    # 'odrh': last letters of the endings, a cheap test before the real one
    before = chars[np.maximum(ws - 2, 0)]
    idx = np.flatnonzero(ok & m.multi_a[pid] & ((before == 111) | (before == 100) | (before == 114) | (before == 104)))
    if len(idx):
        coord[idx[ends_with_any(chars, ws[idx], ELLIPSIS_ENDINGS)]] = True

    # the rest, one by one: terms needing a full case check, and failed word ends
    ambiguous: dict[int, tuple] = {}
    is_abbr = m.abbr_a[pid] >= 0  # (done above, accepted or not)
    rest = np.flatnonzero((ok & ((kind & 1) != 0) & ~valid & ~is_abbr) | (~ok & m.multi_a[pid]))
    if len(rest):
        klen, kinds, simples, terms, multis = m.klen, m.kind, m.simple, m.term, m.multi
        shift_at = batch.shift_at
        rows = zip(
            rest.tolist(),
            pid[rest].tolist(),
            ok[rest].tolist(),
            e[rest].tolist(),
            start[rest].tolist(),
            stop[rest].tolist(),
            strict=True,
        )
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
                coord[i] = multis[p] and norm.endswith(ELLIPSIS_ENDINGS, 0, wi)
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
            if md == MODE_AMBIG:
                ambiguous[i] = c
                c = -2
            concept[i], mode[i], valid[i] = c, md, True

    sel = np.flatnonzero(valid)
    out.start_a, out.end_a, out.concept_a = start[sel], stop[sel], concept[sel]
    out.mode_a = modes = mode[sel]
    out.special = np.flatnonzero(modes >= MODE_AMBIG).tolist()
    if ambiguous:
        rows = np.searchsorted(sel, np.array(sorted(ambiguous), dtype=np.int64)).tolist()
        out.ambiguous = dict(zip(rows, [ambiguous[i] for i in sorted(ambiguous)], strict=True))
    flagged = np.flatnonzero(coord[sel])
    if len(flagged):
        hits = sel[flagged]
        out.coord = (flagged, ws[hits], e[hits])
        ranges = np.flatnonzero(m.range_a[pid[hits]] & (modes[flagged] == MODE_SYN))
        if len(ranges):
            hits = hits[ranges]
            out.ranges = (flagged[ranges], ws[hits], e[hits], pid[hits])
    asel = np.flatnonzero(aux)
    out.aux_start, out.aux_end, out.aux_pid = start[asel], stop[asel], pid[asel]
    return out


def _accepted_spellings(
    m: Matcher, batch: Batch, abbr: np.ndarray, pid: np.ndarray, start: np.ndarray, stop: np.ndarray, length: np.ndarray
) -> np.ndarray:
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
    ascii_ = (z - a) == n  # no collapsed run inside
    last = len(codes) - 1
    for j in range(width):
        c = codes[np.minimum(a + j, last)].astype(np.int64)
        inside = j < n
        ascii_ &= ~inside | (c < 128)
        mask |= (inside & (c >= 65) & (c <= 90)).astype(np.int64) << j
    passed = np.isin(pid[abbr] * PAIR + mask, m.accepted_masks)
    other = np.flatnonzero(~ascii_ | ~m.mask_ok_a[pid[abbr]])
    if len(other):
        rows = abbr[other]
        surfaces = list(map(orig.__getitem__, map(slice, start[rows].tolist(), stop[rows].tolist())))
        spellings = list(map(m.accepted.__getitem__, pid[rows].tolist()))
        found = list(map(contains, spellings, surfaces))
        for k, (surface, accepted) in enumerate(zip(surfaces, spellings, strict=True)):
            if not found[k]:  # e.g. 'CAR-\n T' for 'CAR T'
                found[k] = _fold_keep_case(surface) in accepted
        passed[other] = found
    return passed


def _shorter_hit(m: Matcher, seg: str, start: int, stop: int) -> tuple[int, int] | None:
    """Longest key starting at ``start`` and ending on a word boundary before ``stop``."""
    best = None
    for end, pid in m.automaton.iter(seg[start:stop]):
        whole_word = end + 1 == m.klen[pid] and seg[start + end + 1] == " "
        if whole_word and (best is None or m.klen[pid] > m.klen[best[1]]):
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
        if mode == MODE_AMBIG:
            ambiguous.append(concept)
        elif mode == MODE_EXCL:
            return (-1, mode)
        else:
            return (concept, mode)
    if ambiguous:
        return (tuple(ambiguous), MODE_AMBIG)
    return None
