"""NegEx-style negation: the cue lists (the matcher's automaton holds them), the cue hits
of a batch, and whether each mention is negated within its sentence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # (the matcher imports the cues from here)
    from helpers.text.concepts.matcher import Cands, Matcher

NEG_PRE = (
    "no",
    "not",
    "without",
    "none",
    "neither",
    "nor",
    "never",
    "absence of",
    "absent",
    "free of",
    "free from",
    "lack of",
    "lacked",
    "denied",
    "negative for",
    "ruled out",
    "no evidence of",
    "no signs of",
    "no sign of",
    "did not",
    "failed to",
    "cannot",
)
NEG_POST = (
    "not observed",
    "not seen",
    "not detected",
    "not reported",
    "not found",
    "not occur",
    "not occurred",
    "not develop",
    "not developed",
    "was absent",
    "were absent",
    "was ruled out",
    "were ruled out",
    "was excluded",
    "were excluded",
    "not noted",
    "not documented",
    "did not occur",
    "did not recur",
    "does not occur",
)
NEG_PSEUDO = (
    "not only",
    "no longer",
    "not necessarily",
    "no change",
    "no increase",
    "no significant change",
    "not significantly",
    "no difference",
    "without further",
    "not yet",
    "whether or not",
)
NEG_TERMINATORS = (
    "but",
    "however",
    "although",
    "though",
    "whereas",
    "except",
    "apart from",
    "aside from",
    "yet",
    "which",
    "who",
    "while",
    "whilst",
    "nevertheless",
    "despite",
    "in contrast",
    "instead",
)
PRE_WINDOW = 5  # words allowed between a pre-cue and the mention
POST_WINDOW = 3  # words allowed between the mention and a post-cue

_COORDINATORS = frozenset({"and", "or", "nor", "and/or", "of", "any"})
PRE, POST, TERM, PSEUDO = 1, 2, 4, 8  # cue flags (bits; a key may be several kinds of cue)


def cue_hits(m: Matcher, cands: Cands) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Negation cue hits as arrays (start, end, flags), sorted, inner pre-cues dropped."""
    is_cue = (m.kind_a[cands.aux_pid] & 2) != 0
    start, end = cands.aux_start[is_cue], cands.aux_end[is_cue]
    flags = m.cue_a[cands.aux_pid[is_cue]]
    phrase = (flags & (POST | PSEUDO)) != 0
    if phrase.any():
        # a pre-cue inside a post-cue or pseudo-negation phrase is not a cue: one lies
        # inside when the phrases starting at or before it reach (at most) its end
        reach = np.maximum.accumulate(end[phrase])
        j = np.searchsorted(start[phrase], start, side="right")
        keep = phrase | (j == 0) | (reach[np.maximum(j - 1, 0)] < end)
        start, end, flags = start[keep], end[keep], flags[keep]
    return start, end, flags


def negations(
    text: str,
    fs: np.ndarray,
    fe: np.ndarray,
    ss: np.ndarray,
    se: np.ndarray,
    cues: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> list[bool]:
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
    pre, post, term = ((flags & f) != 0 for f in (PRE, POST, TERM))
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
    t_start, t_end = cue_start[term], cue_end[term]
    has_pre &= ~_terminated(t_start, t_end, pre_end, fs)
    has_post &= ~_terminated(t_start, t_end, fe, post_start)
    todo = np.flatnonzero(has_pre)
    prev_end = np.where(todo > 0, fe[np.maximum(todo - 1, 0)], -1)  # the mention before
    rows = zip(todo.tolist(), pre_end[todo].tolist(), fs[todo].tolist(), prev_end.tolist(), strict=True)
    for i, a, s, prev in rows:
        between = text[a:s]
        if ";" in between or ":" in between or len(between.split(None, PRE_WINDOW)) > PRE_WINDOW:
            continue
        if prev <= a:
            if "," not in between:
                negated[i] = True
        elif coordinated(text[prev:s]):
            negated[i] = True
    todo = np.flatnonzero(has_post)
    for i, e, b in zip(todo.tolist(), fe[todo].tolist(), post_start[todo].tolist(), strict=True):
        if not negated[i]:
            between = text[e:b]
            if not (";" in between or ":" in between or len(between.split(None, POST_WINDOW)) > POST_WINDOW):
                negated[i] = True
    return negated


def _terminated(t_start: np.ndarray, t_end: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: a terminator lies between ``a`` and ``b`` (the first one starting at or
    after ``a`` ends by ``b``)."""
    if not len(t_start):
        return np.zeros(len(a), dtype=bool)
    k = np.searchsorted(t_start, a, side="left")
    return (k < len(t_start)) & (t_end[np.minimum(k, len(t_start) - 1)] <= b)


def coordinated(between: str) -> bool:
    """Text between two mentions that keeps them in one negation scope."""
    words = between.replace(",", " , ").split()
    return len(words) <= 4 and any(w == "," or w.lower() in _COORDINATORS for w in words)
