"""Figures for concept coverage: documents x concepts heatmap, UpSet-style disease overlap."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap

from helpers.report.figures import PALETTE, styled
from helpers.text.vocabulary import Vocabulary

_CMAP = LinearSegmentedColormap.from_list("wb", ["#ffffff", "#cfe0f1", "#1b6ca8", "#0d3b66"])


@styled
def coverage_heatmap(counts: pd.DataFrame, vocab: Vocabulary) -> plt.Figure:
    """Documents (rows) x concepts (columns), cells = affirmed mentions, grouped by category."""
    n_docs, n_con = counts.shape
    fig, ax = plt.subplots(figsize=(max(7.0, 0.34 * n_con + 3.0), 1.0 + 0.55 * n_docs + 1.6))
    values = counts.to_numpy(dtype=float)
    vmax = max(1.0, float(values.max()) if values.size else 1.0)
    ax.imshow(values, cmap=_CMAP, vmin=0, vmax=vmax, aspect="auto")
    labels = [vocab.concepts[c].code for c in counts.columns]
    ax.set_xticks(np.arange(n_con), labels=labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(np.arange(n_docs), labels=list(counts.index))
    for (r, c), v in np.ndenumerate(values):
        if v:
            ax.text(
                c, r, str(int(v)), ha="center", va="center", fontsize=7, color="white" if v > vmax / 2 else "#222222"
            )
    cats = [vocab.concepts[c].category for c in counts.columns]
    start, group = 0, 0
    for i in range(1, n_con + 1):
        if i == n_con or cats[i] != cats[start]:
            if i < n_con:
                ax.plot([i - 0.5, i - 0.5], [n_docs - 0.5, -0.5], color="#333333", linewidth=1.2)
            # alternate heights so labels of narrow neighbouring groups do not overlap
            ax.text(
                start - 0.4,
                -0.65 - 0.45 * (group % 2),
                cats[start],
                ha="left",
                va="bottom",
                fontsize=8,
                fontweight="bold",
            )
            start, group = i, group + 1
    ax.set_ylim(n_docs - 0.5, -1.7)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    ax.set_title("Affirmed mentions per document and concept (negated mentions excluded)", pad=18)
    fig.tight_layout()
    return fig


@styled
def upset_diseases(sets: pd.DataFrame, vocab: Vocabulary) -> plt.Figure:
    """UpSet-style plot: which combinations of documents discuss each disease.

    `sets` is diseases x documents (bool). Bars = number of diseases per combination,
    dot matrix = the documents in the combination, labels = the diseases."""
    docs = list(sets.columns)
    combos: dict[tuple[bool, ...], list[str]] = {}
    for disease, row in sets.iterrows():
        combos.setdefault(tuple(bool(x) for x in row), []).append(vocab.concepts[disease].code)
    order = sorted(combos, key=lambda k: (-len(combos[k]), -sum(k), [not x for x in k]))
    n = len(order)
    fig, (top, bottom) = plt.subplots(
        2,
        1,
        figsize=(max(6.0, 1.1 * n + 3.5), 2.6 + 0.45 * len(docs)),
        gridspec_kw={"height_ratios": [3, max(1.0, 0.5 * len(docs))]},
        sharex=True,
    )
    sizes = [len(combos[k]) for k in order]
    top.bar(range(n), sizes, color=PALETTE[0], width=0.6)
    for i, k in enumerate(order):
        top.text(
            i, sizes[i] + 0.05, f"{sizes[i]}\n" + ", ".join(sorted(combos[k])), ha="center", va="bottom", fontsize=7.5
        )
    top.set_ylabel("diseases")
    top.set_ylim(0, max(sizes) * 1.6 + 0.5 if sizes else 1)
    top.set_yticks(range(0, (max(sizes) if sizes else 0) + 1))
    top.set_title("Disease coverage across documents (UpSet-style)")
    for i, k in enumerate(order):
        ys = [j for j, inside in enumerate(k) if inside]
        bottom.scatter([i] * len(docs), range(len(docs)), color="#dddddd", s=60, zorder=1)
        bottom.scatter([i] * len(ys), ys, color="#222222", s=60, zorder=2)
        if len(ys) > 1:
            bottom.plot([i, i], [min(ys), max(ys)], color="#222222", linewidth=2, zorder=1)
    bottom.set_yticks(range(len(docs)), labels=docs)
    bottom.set_ylim(len(docs) - 0.5, -0.5)
    bottom.set_xticks([])
    for side in ("left", "bottom"):
        bottom.spines[side].set_visible(False)
    bottom.tick_params(length=0)
    fig.tight_layout()
    return fig
