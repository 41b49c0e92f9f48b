"""Step 3: sentence boundaries of a batch, with the regular expressions (the definition,
and the fallback for texts outside the BMP) and with array operations (what the batch
uses); heading and blank-line breaks included."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from helpers.core.patterns import linear
from helpers.text.concepts.folding import SEP, Lut, char_codes, run_end

_ABBREV_BEFORE_DOT = (
    "e.g",
    "i.e",
    "et al",
    "vs",
    "cf",
    "ca",
    "approx",
    "Fig",
    "Figs",
    "fig",
    "figs",
    "Ref",
    "Refs",
    "No",
    "no",
    "Nos",
    "Vol",
    "vol",
    "pp",
    "Dr",
    "Prof",
    "Mr",
    "Mrs",
    "Ms",
    "St",
    "Jr",
    "Eq",
    "Eqs",
    "Suppl",
    "Inc",
    "Ltd",
    "Co",
    "resp",
    "incl",
    "min",
    "max",
    "U.S",
    "viz",
)


def _lookbehinds(abbreviations: Iterable[str]) -> str:
    """Negative lookbehinds (one per width) for 'abbr.' not ending a sentence."""
    by_width: dict[int, list[str]] = {}
    for abbr in sorted(set(abbreviations)):
        by_width.setdefault(len(abbr) + 1, []).append(re.escape(abbr) + r"\.")
    return "".join(r"(?<!\b(?:" + "|".join(alts) + "))" for _, alts in sorted(by_width.items()))


_LOOKBEHINDS = _lookbehinds(_ABBREV_BEFORE_DOT)
_SENT_TAIL = (
    r"[\"')\]\u201d\u2019]?"
    r"(?:[ \t]*\n\s*|\s+(?=[A-Z0-9\"'(\[\u201c\u2018\u03b1-\u03c9]))"
)
# A sentence ends at [.!?] (not after an abbreviation), an optional closing quote or
# bracket, then a line break or white space and a capital/digit/opening quote. As two
# patterns, each starting with a literal (the regex engine jumps from one '.' to the next;
# the lookbehinds only run where a space follows); a match never holds a second [.!?], so
# they find what '[.!?]' + _LOOKBEHINDS + _SENT_TAIL finds. :func:`sentence_ends` does the
# same with array operations.
# Engines (helpers.core.patterns): the two end patterns and _HEADING_BREAK need lookaround and stay
# on re; they are linear there: an attempt starts only at a '.', '!', '?' or line break and reads
# the white space after it, up to the next character that is not white space, where no other
# attempt starts. _BLANK_LINE_RE runs on RE2.
_DOT_END_RE = re.compile(r"\.(?=[\"')\]\u201d\u2019]?\s)" + _LOOKBEHINDS + _SENT_TAIL)
_MARK_END_RE = re.compile(r"[!?]" + _SENT_TAIL)
_BLANK_LINE_RE = linear(r"\n[ \t]*\n\s*")
_SHORT_LINE = 30  # a line this short, followed by a capital or a bullet, is a heading
_HEADING_BREAK = re.compile(r"\n(?=[ \t]*[A-Z\-\u2022*])")


def sentence_ends_re(text: str) -> list[int]:
    """Sentence ends in ``text`` (unsorted, may repeat), with the regular expressions.

    ``SEP`` starts a line. This is the definition; :func:`sentence_ends` computes the
    same with array operations (and falls back to this for texts outside the BMP).
    """
    ends = [mt.end() for mt in _DOT_END_RE.finditer(text)]
    if "!" in text or "?" in text:
        ends += [mt.end() for mt in _MARK_END_RE.finditer(text)]
    if "\n" in text:
        ends += [mt.end() for mt in _BLANK_LINE_RE.finditer(text)]
        ends += _heading_ends(text)
    return ends


def sentence_bounds(text: str) -> list[int]:
    """Sorted start offsets of the sentences after the first one."""
    codes = char_codes(text + SEP)
    return np.unique(sentence_ends(text + SEP, codes, np.empty(0, np.int64))).tolist()


def _heading_ends(text: str) -> list[int]:
    """Line breaks after short lines (titles, headings, list items)."""
    out = []
    for mt in _HEADING_BREAK.finditer(text):
        i = mt.start()
        lo = max(0, i - _SHORT_LINE - 1)
        start = max(text.rfind("\n", lo, i), text.rfind(SEP, lo, i)) + 1
        if (start or lo == 0) and i - start <= _SHORT_LINE:
            out.append(i + 1)
    return out


_ABBREV_CODES = [np.array([ord(c) for c in a], dtype=np.int64) for a in sorted(set(_ABBREV_BEFORE_DOT))]
_WINDOW = max(map(len, _ABBREV_CODES)) + 2  # chars looked at before a '.'
_ABBREV_BY_LAST: dict[int, list[np.ndarray]] = {}
for _abbr in _ABBREV_CODES:
    _ABBREV_BY_LAST.setdefault(int(_abbr[-1]), []).append(_abbr)


def _after_abbreviation(codes: np.ndarray, at: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Per '.' position in ``at``: it closes one of ``_ABBREV_BEFORE_DOT`` ('e.g.', 'et al.',
    'Fig.'), as a whole word (``word`` is the word-char lookup)."""
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
    return abbreviation


def sentence_ends(text: str, codes: np.ndarray, line_starts: np.ndarray, lines: np.ndarray | None = None) -> np.ndarray:
    """Sentence ends in ``text`` (unsorted, may repeat) with array operations: the same
    as :func:`sentence_ends_re`. ``codes`` are the code points of ``text``, whose last
    char must be ``SEP``; ``line_starts`` are the positions of the other ``SEP``.
    """
    if codes.dtype == np.uint32:
        return np.array(sentence_ends_re(text), dtype=np.int64)
    space, word, blank = Lut.get("space"), Lut.get("word"), Lut.get("blank")
    found = []
    # [.!?], an optional closing quote/bracket, then a line break or spaces and a capital
    marks = np.flatnonzero(codes == 46)
    if "!" in text or "?" in text:
        marks = np.sort(np.concatenate((marks, np.flatnonzero((codes == 33) | (codes == 63)))))
    if len(marks):
        after = marks + 1 + Lut.get("quote")[codes[marks + 1]]
        stop = run_end(codes, after, space)
        newline = codes[run_end(codes, after, blank)] == 10
        ok = newline | (space[codes[after]] & Lut.get("capital")[codes[stop]])
        # '.' after an abbreviation ('e.g.', 'et al.', 'Fig.') ends no sentence
        dots = np.flatnonzero(ok & (codes[marks] == 46))
        at = marks[dots]
        if len(at):
            ok[dots[_after_abbreviation(codes, at, word)]] = False
        found.append(stop[ok])
    if lines is None:
        lines = np.flatnonzero(codes == 10)
    if len(lines):
        nxt = run_end(codes, lines + 1, blank)
        # a blank line: line break, spaces/tabs, line break (and all the space after)
        two = codes[nxt] == 10
        found.append(run_end(codes, nxt[two], space))
        # a heading: a line of at most _SHORT_LINE chars, then a capital or a bullet
        heading = Lut.get("line")[codes[nxt]]
        if heading.any():
            at = lines[heading]
            breaks = np.concatenate((lines, line_starts))
            breaks.sort()
            k = np.searchsorted(breaks, at, side="left")
            start = np.where(k > 0, breaks[np.maximum(k - 1, 0)] + 1, 0)
            found.append(at[at - start <= _SHORT_LINE] + 1)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)
