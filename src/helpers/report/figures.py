"""matplotlib figures in one style, saved deterministically (same data, same bytes)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

P = ParamSpec("P")
R = TypeVar("R")

STYLE = {
    "svg.hashsalt": "cart-workbook",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "path.simplify": False,
}
PALETTE = ["#1b6ca8", "#e07a1f", "#3a9d5d", "#c23b3b", "#7b5ea7", "#8c6d46", "#d16ba5", "#6b6b6b"]


@contextmanager
def style() -> Iterator[None]:
    """The workbook's figure style, for the duration of a with-block (global settings are restored)."""
    with matplotlib.style.context(["default", {**STYLE, "axes.prop_cycle": matplotlib.cycler(color=PALETTE)}]):
        yield


def styled(make: Callable[P, R]) -> Callable[P, R]:
    """Decorator: build the figure inside :func:`style`, so importing or calling changes no global state."""

    @functools.wraps(make)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with style():
            return make(*args, **kwargs)

    return wrapper


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write fig as SVG and PNG with no timestamps or software tags; returns the paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    with style():
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        fig.savefig(png, format="png", metadata={"Software": None})
    return [svg, png]


def png_bytes(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes in the workbook style (what a notebook shows inline)."""
    buffer = BytesIO()
    with style():
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


@styled
def completeness_heatmap(table: pd.DataFrame, title: str = "Metadata found per document") -> plt.Figure:
    """Documents x fields: dark = printed on the page, mid = supplied by a sidecar, light = absent."""
    values = table.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * table.shape[1] + 2.5), 0.5 * table.shape[0] + 1.6))
    cmap = matplotlib.colors.ListedColormap(["#eeeeee", "#f2b45a", "#1b6ca8"])
    norm = matplotlib.colors.BoundaryNorm([-0.25, 0.25, 0.75, 1.25], cmap.N)
    ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(
        np.arange(table.shape[1]), labels=[c.replace("_", " ") for c in table.columns], rotation=45, ha="right"
    )
    ax.set_yticks(np.arange(table.shape[0]), labels=list(table.index))
    for (r, c), v in np.ndenumerate(values):
        ax.text(
            c,
            r,
            {1.0: "✓", 0.5: "S", 0.0: "–"}[v],
            ha="center",
            va="center",
            color="white" if v == 1.0 else "#333333",
            fontsize=8,
        )
    ax.set_title(title)
    handles = [
        matplotlib.patches.Patch(color=c, label=lbl)
        for c, lbl in zip(
            ["#1b6ca8", "#f2b45a", "#eeeeee"], ["on the page", "from sidecar (curated)", "not on the page"], strict=True
        )
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    fig.tight_layout()
    return fig
