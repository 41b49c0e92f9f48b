"""Step 4b: ambiguous forms (``RA``, ``MS``, ``CRS``...) kept only when defined or supported
by context, and coordinated ranges (``first to fifth generation``) that yield one mention
per end."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

import numpy as np

from helpers.text.concepts.abbreviations import apply_definition
from helpers.text.concepts.folding import Batch, Lut, ends_with_any, run_start
from helpers.text.concepts.matcher import ELLIPSIS_ENDINGS, MODE_ABBR, MODE_AMBIG, MODE_SYN, PAIR, Cands, Matcher

# re, not RE2: searched with pos/endpos in at most 40 characters of the batch string (RE2's
# binding would encode the whole batch on each call); the window bounds the work.
_ELLIPSIS_WORD = re.compile(r"(\w+)[\s\-\u2010-\u2015]+(?:to|and|or|through)[\s\-\u2010-\u2015]+$", re.IGNORECASE)


def context_hits(m: Matcher, aux: list[tuple[int, int, int]], a: int, z: int) -> dict[int, list[int]]:
    """Context hits in batch offsets [a, z): concept -> [start, ...]."""
    ctx: dict[int, list[int]] = {}
    kind, ctxs = m.kind, m.ctx
    for s, _, pid in aux[bisect_left(aux, (a,)) : bisect_left(aux, (z,))]:
        if kind[pid] & 4:
            for c in ctxs[pid]:
                ctx.setdefault(c, []).append(s)
    return ctx


def resolve(
    m: Matcher,
    cands: list[tuple],
    defs: dict[str, tuple[int, int]],
    blocked: set[str],
    ctx: dict[int, list[int]],
    text: str,
    bounds: list[int],
) -> list[tuple]:
    """Accepted candidates: exclusions dropped, definitions applied, ambiguous forms kept
    (with one concept) only when defined or supported by context."""
    out = [c for c in cands if c[3] < MODE_AMBIG]
    if defs:
        out = [apply_definition(o, text, defs) if o[3] == MODE_ABBR else o for o in out]
    ambiguous = [c for c in cands if c[3] == MODE_AMBIG]
    if not ambiguous:
        return out
    present = {o[2] for o in out}
    for s, e, concepts, _ in ambiguous:
        surface = text[s:e]
        defined = defs.get(surface) or (defs.get(surface[:-1]) if surface.endswith("s") else None)
        if defined is not None and defined[1] <= s:
            out.append((s, e, defined[0], MODE_ABBR))
            continue
        if surface in blocked or (surface.endswith("s") and surface[:-1] in blocked):
            continue
        ok = [k for k in concepts if _has_context(m, k, s, present, out, ctx, bounds)]
        if len(ok) == 1:
            out.append((s, e, ok[0], MODE_AMBIG))
    out.sort()
    return out


def _has_context(
    m: Matcher, k: int, s: int, present: set[int], out: list[tuple], ctx: dict[int, list[int]], bounds: list[int]
) -> bool:
    """Context for concept ``k``: its context words, or mentions of it / its context
    concepts, in the document (or, for sentence-scoped concepts, in the same sentence)."""
    via = m.ctx_via[k]
    if not m.scope_sentence[k]:
        return bool(via & present) or k in ctx
    positions = [o[0] for o in out if o[2] in via] + ctx.get(k, [])
    here = bisect_right(bounds, s)
    return any(bisect_right(bounds, p) == here for p in positions)


def ellipsis(m: Matcher, batch: Batch, cands: Cands) -> dict[int, list[tuple]]:
    """'first to fifth generation' -> also 'first generation', on the word 'first'.

    ``cands.ranges`` holds (candidate, folded start, folded end) of multi-word synonyms
    after to/and/or (in the batch) whose last words can end another synonym; returns
    doc -> extra candidates.
    """
    orig, norm, key_of = batch.orig, batch.norm, m.key_of
    extra: dict[int, list[tuple]] = {}
    for i, ws, we in _range_heads(m, batch, cands.ranges):
        # cheap test first: the word two before, taken across document ends
        before = norm[max(0, ws - 41) : ws - 1].rsplit(None, 2)
        tail = norm[ws:we].split(" ", 1)[1]
        if len(before) < 2 or before[-2] + " " + tail not in key_of:
            continue
        s, concept = int(cands.start_a[i]), int(cands.concept_a[i])
        d = batch.doc_of(s)
        base = batch.to_norm(batch.starts[d]) - 1  # the separator before the document
        if not norm.endswith(ELLIPSIS_ENDINGS, base, ws):
            continue
        before = norm[max(base, ws - 41) : ws - 1].split()
        if len(before) < 2:
            continue
        pid = key_of.get(" ".join([before[-2]] + norm[ws:we].split()[1:]))
        if pid is None or len(m.term[pid]) != 1 or m.term[pid][0][1] != MODE_SYN:
            continue
        other = m.term[pid][0][0]
        mt = _ELLIPSIS_WORD.search(orig, max(batch.starts[d], s - 40), s)
        if mt and other != concept and m.categories[other] == m.categories[concept]:
            extra.setdefault(d, []).append((mt.start(1), mt.end(1), other, MODE_SYN))
    return extra


def _range_heads(m: Matcher, batch: Batch, ranges: tuple[np.ndarray, ...]) -> list[tuple[int, int, int]]:
    """The (cand, folded start, folded end) of ``ranges`` whose word before to/and/or
    ends with the last char of a word that can replace their first one."""
    rows, ws, we, pid = ranges
    chars = batch.norm_codes
    at = ws.copy()
    for ending in ELLIPSIS_ENDINGS:  # (at most one of them ends at a position)
        at[ends_with_any(chars, ws, (ending,))] -= len(ending)
    # the char before the ending: spaces, then the word's last char
    at = run_start(chars, at, Lut.get("blank"), floor=1) - 1
    pair = pid * PAIR + chars[np.maximum(at, 0)].astype(np.int64)
    keep = np.flatnonzero((at > 0) & np.isin(pair, m.range_pairs))
    return list(zip(rows[keep].tolist(), ws[keep].tolist(), we[keep].tolist(), strict=True))


def coordinated_docs(batch: Batch, cands: Cands, lo: list[int], docs: Iterable[int]) -> set[int]:
    """Those of ``docs`` that hold a multi-word candidate right after to/and/or."""
    norm, (index, starts, _) = batch.norm, cands.coord
    out = set()
    for d in docs:
        base = batch.to_norm(batch.starts[d]) - 1
        a, z = np.searchsorted(index, [lo[d], lo[d + 1]]).tolist()
        for ws in starts[a:z].tolist():
            if norm.endswith(ELLIPSIS_ENDINGS, base, ws):
                out.add(d)
                break
    return out
