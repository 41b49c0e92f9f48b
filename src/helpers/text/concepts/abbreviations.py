"""Step 4a: short forms a document defines itself (Schwartz-Hearst: ``systemic sclerosis
(SSc)``), short forms blocked by a non-vocabulary long form, and their application to the
document's candidates."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

import numpy as np

from helpers.text.concepts.folding import Batch, Lut, run_start
from helpers.text.concepts.matcher import MODE_ABBR, MODE_AMBIG, MODE_EXCL, Cands, Matcher
from helpers.text.vocabulary import fold

_PLAIN_SF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{0,9}$")


@lru_cache(maxsize=1 << 14)
def _schwartz_hearst(short: str, long: str) -> bool:
    """True when ``short`` is a plausible abbreviation of ``long`` (Schwartz & Hearst 2003)."""
    s, lf = short.lower(), long.lower()
    si, li = len(s) - 1, len(lf) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (lf[li] != c or (si == 0 and li > 0 and lf[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        li -= 1
        si -= 1
    return True


def _looks_like_short_form(sf: str) -> bool:
    return bool(_PLAIN_SF.match(sf)) and any(c.isupper() for c in sf) and len(sf) >= 2


def definitions(
    batch: Batch, cands: Cands, chars: np.ndarray
) -> tuple[dict[int, dict[str, tuple[int, int]]], dict[int, set[str]]]:
    """Short forms each document defines: doc -> {SF: (concept, position)}, doc -> blocked.

    ``long form (SF)`` after a vocabulary mention defines SF as that concept; an ambiguous
    form in parentheses after text that is not a vocabulary mention but matches it
    (``adeno-associated virus (AAV)``) is blocked for the document. Only the '(' where one
    of the two can happen are visited: those closing within 12 chars right after a
    candidate and spaces/tabs (a definition), and those right before an ambiguous one.
    """
    orig = batch.orig
    defs_by_doc: dict[int, dict[str, tuple[int, int]]] = {}
    at = paren_opens(chars)
    if len(at):
        # the candidate a '(' follows: the last one ending before it, ending where the
        # run of spaces/tabs before the '(' starts (its last char is never a space)
        gap_start = run_start(chars, at, Lut.get("blank"))
        ends = cands.end_a
        j = np.searchsorted(ends, at, side="right") - 1
        jj = np.maximum(j, 0)
        modes = cands.mode_a[jj]
        hit = (j >= 0) & (ends[jj] == gap_start) & (modes != MODE_AMBIG) & (modes != MODE_EXCL)
        at, j = at[hit], j[hit]
        docs = np.searchsorted(batch.starts_a, at, side="right") - 1
        rows = zip(
            at.tolist(),
            docs.tolist(),
            cands.start_a[j].tolist(),
            ends[j].tolist(),
            cands.concept_a[j].tolist(),
            strict=True,
        )
        for p, d, s, e, concept in rows:
            forms = _definition_forms(orig[p + 1 : orig.find(")", p + 1)], orig[s:e])
            if forms is not None:
                defs = defs_by_doc.get(d)
                if defs is None:
                    defs = defs_by_doc[d] = {}
                defs.setdefault(forms[0], (concept, e))
                defs.setdefault(forms[1], (concept, e))
    blocked_by_doc = _blocked_forms(batch, cands)
    for d, blocked in blocked_by_doc.items():
        defs = defs_by_doc.get(d)
        if defs:
            for sf in blocked:
                defs.pop(sf, None)
    return {d: defs for d, defs in defs_by_doc.items() if defs}, blocked_by_doc


def _blocked_forms(batch: Batch, cands: Cands) -> dict[int, set[str]]:
    """Per document, the ambiguous forms written '(SF)' right after text that is no
    vocabulary mention but reads as their long form."""
    orig, starts = batch.orig, batch.starts
    blocked_by_doc: dict[int, set[str]] = {}
    blocking = [i for i in cands.special if cands.mode_a[i] == MODE_AMBIG and orig[cands.start_a[i] - 1] == "("]
    if blocking:
        cs, ce = cands.start, cands.end
    for k in blocking:
        p = cs[k] - 1
        j = bisect_right(ce, p) - 1
        # a candidate of an earlier document is never 'after': the separator is no space
        if j >= 0 and not orig[ce[j] : p].strip():
            continue
        if orig.startswith(")", ce[k]):
            d = batch.doc_of(p)
            sf = orig[cs[k] : ce[k]]
            if _defined_by_text(sf, orig[max(starts[d], p - 80) : p]):
                blocked_by_doc.setdefault(d, set()).add(sf)
    return blocked_by_doc


def paren_opens(chars: np.ndarray) -> np.ndarray:
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
    # re (lookaround): a literal of at most 12 characters and one-character lookarounds, so an
    # attempt does bounded work (helpers.core.patterns)
    return re.compile(r"(?<![\w])" + re.escape(sf) + r"s?(?![\w])")


def defined_elsewhere(
    m: Matcher, text: str, defs: dict[str, tuple[int, int]], cands: Cands, a: int, z: int, stop: int
) -> list[tuple]:
    """Later uses (before ``stop``) of defined short forms that the vocabulary does not
    list; ``cands[a:z]`` are the document's candidates."""
    found: list[tuple] = []
    taken = None
    for sf, (concept, pos) in sorted(defs.items()):
        if m.is_vocabulary_form(sf):
            continue
        if taken is None:
            taken = set(zip(cands.start[a:z], cands.end[a:z], strict=True))
        for mt in _short_form_pattern(sf).finditer(text, pos, stop):
            if (mt.start(), mt.end()) not in taken:
                found.append((mt.start(), mt.end(), concept, MODE_ABBR))
    return found


def apply_definitions(
    text: str, defs_by_doc: dict[int, dict[str, tuple[int, int]]], docs: list[int], cands: Cands, lo: list[int]
) -> None:
    """In place, on the candidates of ``docs`` (``lo[d]:lo[d + 1]``): :func:`apply_definition`
    to every abbreviation."""
    cs, ce, cc = cands.start, cands.end, cands.concept_a
    abbr = np.flatnonzero(cands.mode_a == MODE_ABBR)
    a = np.searchsorted(abbr, [lo[d] for d in docs]).tolist()
    z = np.searchsorted(abbr, [lo[d + 1] for d in docs]).tolist()
    abbr = abbr.tolist()
    for d, p, q in zip(docs, a, z, strict=True):
        defs = defs_by_doc[d]
        for i in abbr[p:q]:
            defined = defs.get(text[cs[i] : ce[i]])
            if defined is not None and defined[1] <= cs[i] and defined[0] != cc[i]:
                cands.set_concept(i, defined[0])


def apply_definition(o: tuple, text: str, defs: dict[str, tuple[int, int]]) -> tuple:
    """A vocabulary short form the document defines as another concept follows the document."""
    defined = defs.get(text[o[0] : o[1]])
    if defined is not None and defined[1] <= o[0] and defined[0] != o[2]:
        return (o[0], o[1], defined[0], o[3])
    return o
