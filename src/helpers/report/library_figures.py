"""Figures of the literature library page (notebook 06), in the workbook style."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from helpers.report.figures import PALETTE, styled
from helpers.synthesis.library import NO_YEAR


@styled
def works_per_year(table: pd.DataFrame, title: str = "Works per publication year") -> plt.Figure:
    """Bars of works per year (``synthesis.library.per_year``), each labelled with its count;
    works with no year stated in grey at the end."""
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    labels = table["year"].astype(str).tolist()
    values = table["works"].astype(int).tolist()
    colours = ["#b8b8b8" if label == NO_YEAR else PALETTE[0] for label in labels]
    bars = ax.bar(range(len(labels)), values, color=colours, width=0.7)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(
            str(value),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(range(len(labels)), labels=labels)
    ax.set_ylabel("works")
    ax.set_ylim(0, max(values or [1]) * 1.18)
    ax.set_title(title + " (a work found in several exports counts once)", loc="left")
    fig.tight_layout()
    return fig
