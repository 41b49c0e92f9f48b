"""Figures of the trial landscape (inputs: the tables of ``helpers.synthesis.landscape``).

One style (``helpers.report.figures.style``), sized for a page about 1100 px wide, no random
elements. Trials whose field is empty are drawn, in grey and labelled "not stated", never
dropped.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.core.codes import DISEASES
from helpers.report.figures import PALETTE, styled
from helpers.synthesis.landscape import MAIN_TARGETS, NOT_STATED, OTHER_TARGETS, REGIONS

GREY = "#bdbdbd"
GREY_TEXT = "#6b6b6b"
HATCH = "///"
WIDTH = 10.0  # inches at 100 dpi: fits a ~1100 px page with margins
TARGET_COLORS = {
    **dict(zip(MAIN_TARGETS, PALETTE, strict=False)),
    OTHER_TARGETS: PALETTE[4],
    f"target {NOT_STATED}": GREY,
}
REGION_COLORS = {
    "East Asia": PALETTE[3],
    "North America": PALETTE[0],
    "Europe": PALETTE[2],
    "other": PALETTE[4],
    NOT_STATED: GREY,
}
SOURCE_COLORS = {"autologous": PALETTE[0], "allogeneic": PALETTE[1], NOT_STATED: GREY}


def _grey_bar(bar: matplotlib.patches.Patch) -> None:
    bar.set_facecolor(GREY)
    bar.set_hatch(HATCH)
    bar.set_edgecolor("white")


def _label_bars(ax: plt.Axes, bars, values, horizontal: bool = False) -> None:
    for bar, value in zip(bars, values, strict=True):
        if horizontal:
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {int(value)}", va="center", fontsize=8)
        else:
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height(),
                str(int(value)),
                ha="center",
                va="bottom",
                fontsize=8,
            )


def _finish(fig: plt.Figure) -> plt.Figure:
    fig.tight_layout()
    return fig


@styled
def cumulative_by_target(
    table: pd.DataFrame, title: str = "Registered trials started, cumulative, by CAR target"
) -> plt.Figure:
    """Lines: trials started up to each year per target group (``landscape.cumulative_starts``);
    right panel: trials with no start date, per group (grey: not on the time axis)."""
    dated = table[table["start year"] != NOT_STATED]
    undated = table[table["start year"] == NOT_STATED]
    groups = [c for c in table.columns if c not in ("start year", "all trials")]
    fig, (ax, side) = plt.subplots(1, 2, figsize=(WIDTH, 4.0), gridspec_kw={"width_ratios": [3.2, 1]})
    if dated.empty:
        ax.text(
            0.5, 0.5, "no trial states a start date", ha="center", va="center", transform=ax.transAxes, color=GREY_TEXT
        )
        ax.set_xticks([])
    else:
        years = dated["start year"].astype(int).to_numpy()
        for g in groups:
            values = dated[g].to_numpy()
            if values[-1] == 0:
                continue
            style = {"color": TARGET_COLORS.get(g, PALETTE[5]), "marker": "o", "markersize": 3.5, "linewidth": 1.8}
            if g.endswith(NOT_STATED):
                style["linestyle"] = ":"
            ax.plot(years, values, label=f"{g} ({int(values[-1])})", **style)
        total = dated["all trials"].to_numpy()
        ax.plot(years, total, color="#222222", linestyle="--", linewidth=1.2, label=f"all trials ({int(total[-1])})")
        ax.set_xticks(years, labels=[str(y) for y in years])
        ax.set_ylim(0, max(1, int(total[-1])) * 1.08)
        ax.legend(loc="upper left", frameon=False, title="target (trials dated)", alignment="left")
    ax.set_xlabel("start year (as registered)")
    ax.set_ylabel("trials started, cumulative")
    ax.set_title(title, loc="left")
    counts = [int(undated[g].iloc[0]) if not undated.empty else 0 for g in groups]
    bars = side.barh(range(len(groups)), counts, color=GREY, hatch=HATCH, edgecolor="white")
    _label_bars(side, bars, counts, horizontal=True)
    side.set_yticks(range(len(groups)), labels=groups)
    side.invert_yaxis()
    side.set_xlim(0, max(counts + [1]) * 1.3)
    side.set_title(
        f"start date {NOT_STATED}: {int(undated['all trials'].iloc[0]) if not undated.empty else 0} trials",
        loc="left",
        color=GREY_TEXT,
    )
    side.set_xlabel("trials")
    return _finish(fig)


@styled
def phase_bars(table: pd.DataFrame, title: str = "Registered phase") -> plt.Figure:
    """Bars per phase (``landscape.phase_counts``); 'not stated' in grey."""
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    labels = table["label"].tolist()
    values = table["trials"].to_numpy()
    bars = ax.bar(range(len(labels)), values, color=PALETTE[0], width=0.7)
    for bar, label in zip(bars, labels, strict=True):
        if label == NOT_STATED:
            _grey_bar(bar)
        elif label == "not applicable":
            bar.set_facecolor("#8fb8d8")
    _label_bars(ax, bars, values)
    ax.set_xticks(range(len(labels)), labels=labels)
    ax.set_ylabel("trials")
    ax.set_ylim(0, max(values.max() if len(values) else 1, 1) * 1.15)
    ax.set_title(title + ' ("not applicable" = registered without a phase)', loc="left")
    return _finish(fig)


@styled
def country_bars(
    countries: pd.DataFrame, regions: pd.DataFrame, title: str = "Trials with a site in each country and region"
) -> plt.Figure:
    """Countries (``landscape.country_counts``, coloured by region) and regions
    (``landscape.region_counts``); a multi-country trial counts under each; 'not stated' in grey."""
    height = max(3.4, 0.26 * len(countries) + 1.4)
    fig, (ax, rax) = plt.subplots(1, 2, figsize=(WIDTH, height), gridspec_kw={"width_ratios": [1.6, 1]})
    names = countries["country"].tolist()
    values = countries["trials"].to_numpy()
    bars = ax.barh(range(len(names)), values, color=[REGION_COLORS.get(r, PALETTE[5]) for r in countries["region"]])
    for bar, name in zip(bars, names, strict=True):
        if name == NOT_STATED:
            _grey_bar(bar)
    _label_bars(ax, bars, values, horizontal=True)
    ax.set_yticks(range(len(names)), labels=names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(values.max() if len(values) else 1, 1) * 1.15)
    ax.set_xlabel("trials")
    ax.set_title(title, loc="left")
    present = set(countries["region"])
    handles = [matplotlib.patches.Patch(color=REGION_COLORS[r], label=r) for r in REGIONS if r in present]
    if handles:
        ax.legend(handles=handles, loc="upper right", frameon=False, title="region")
    rnames = regions["region"].tolist()
    rvalues = regions["trials"].to_numpy()
    rbars = rax.barh(range(len(rnames)), rvalues, color=[REGION_COLORS.get(r, PALETTE[5]) for r in rnames])
    for bar, name in zip(rbars, rnames, strict=True):
        if name == NOT_STATED:
            _grey_bar(bar)
    _label_bars(rax, rbars, rvalues, horizontal=True)
    rax.set_yticks(range(len(rnames)), labels=rnames)
    rax.invert_yaxis()
    rax.set_xlim(0, max(rvalues.max() if len(rvalues) else 1, 1) * 1.2)
    rax.set_xlabel("trials")
    rax.set_title("by region", loc="left")
    return _finish(fig)


@styled
def disease_target_heatmap(
    matrix: pd.DataFrame, title: str = "Trials by disease and CAR target (basket trials under each disease)"
) -> plt.Figure:
    """Diseases x targets (``landscape.disease_target_matrix``) with the count in each cell;
    the 'not stated' row and column in grey."""
    values = matrix.to_numpy(dtype=float)
    rows, cols = matrix.shape
    fig, ax = plt.subplots(figsize=(min(WIDTH, 0.78 * cols + 3.4), 0.42 * rows + 1.9))
    stated = values.copy()
    stated[[i for i, d in enumerate(matrix.index) if d == NOT_STATED], :] = np.nan
    stated[:, [j for j, t in enumerate(matrix.columns) if t == NOT_STATED]] = np.nan
    top = np.nanmax(stated) if np.isfinite(stated).any() else 1.0
    ax.imshow(np.where(np.isnan(stated), np.nan, stated), cmap="Blues", vmin=0, vmax=max(top, 1) * 1.15, aspect="auto")
    grey_mask = np.where(np.isnan(stated), 1.0, np.nan)
    ax.imshow(grey_mask, cmap=matplotlib.colors.ListedColormap(["#ececec"]), aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if np.isnan(stated[r, c]):
            color = GREY_TEXT
        else:
            color = "white" if v > 0.6 * top else "#222222"
        ax.text(c, r, str(int(v)) if v else "·", ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(cols), labels=list(matrix.columns), rotation=35, ha="right")
    ax.set_yticks(range(rows), labels=[_disease_label(d) for d in matrix.index])
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title, loc="left")
    return _finish(fig)


@styled
def cell_source_by_year(
    table: pd.DataFrame, title: str = "Autologous vs allogeneic cells, by start year"
) -> plt.Figure:
    """Stacked bars per start year (``landscape.cell_source_by_year``); cell source not stated in
    grey; trials with no start date in a separate bar on the right."""
    fig, ax = plt.subplots(figsize=(8.6, 3.6))
    labels = [("no start date" if y == NOT_STATED else y) for y in table["start year"]]
    x = np.arange(len(labels), dtype=float)
    if len(x) and table["start year"].iloc[-1] == NOT_STATED:
        x[-1] += 0.6  # set the undated bar apart
    bottom = np.zeros(len(labels))
    for source in ("autologous", "allogeneic", NOT_STATED):
        values = table[source].to_numpy()
        bars = ax.bar(
            x,
            values,
            bottom=bottom,
            color=SOURCE_COLORS[source],
            width=0.7,
            label=f"{source if source != NOT_STATED else 'cell source not stated'} ({int(values.sum())})",
        )
        if source == NOT_STATED:
            for bar in bars:
                _grey_bar(bar)
        for xi, b, v in zip(x, bottom, values, strict=True):
            if v and v >= 0.04 * table["all"].max():
                ax.text(
                    xi,
                    b + v / 2,
                    str(int(v)),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if source != NOT_STATED else "#333333",
                )
        bottom += values
    ax.set_xticks(x, labels=labels)
    ax.set_ylabel("trials")
    ax.set_ylim(0, max(bottom.max() if len(bottom) else 1, 1) * 1.1)
    ax.legend(frameon=False, loc="upper left")
    ax.set_title(title, loc="left")
    return _finish(fig)


def _disease_label(code: str) -> str:
    name = DISEASES.short(code)
    return name if name == code or name.startswith(code) else f"{code} ({name})"


@styled
def _stacked_share(table: pd.DataFrame, label_col: str, colors: list[str], title: str) -> plt.Figure:
    """One horizontal bar split into the table's rows; counts inside, names in the legend below."""
    fig, ax = plt.subplots(figsize=(WIDTH, 1.9))
    total = int(table["trials"].sum())
    left = 0
    for (label, value), color in zip(zip(table[label_col], table["trials"], strict=True), colors, strict=True):
        grey = NOT_STATED in str(label)
        bar = ax.barh(
            [0], [value], left=left, color=color, height=0.6, edgecolor="white", label=f"{label}: {int(value)}"
        )[0]
        if grey:
            _grey_bar(bar)
        if value and value / max(total, 1) >= 0.03:
            ax.text(
                left + value / 2,
                0,
                str(int(value)),
                ha="center",
                va="center",
                fontsize=8.5,
                color="#222222" if grey else "white",
            )
        left += value
    ax.set_xlim(0, max(total, 1))
    ax.set_ylim(-0.45, 0.45)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(0, -0.45),
        ncol=len(table),
        frameon=False,
        title=f"trials (all {total})",
        alignment="left",
    )
    ax.set_title(title, loc="left")
    return _finish(fig)


def paediatric_bar(table: pd.DataFrame, share: object | None = None) -> plt.Figure:
    """Open to children / adults only / minimum age not stated (``landscape.paediatric_table``)."""
    title = "Trials open to children (minimum age under 18 years)"
    if share is not None and share.n:
        title += f": {share.k}/{share.n} ({100 * share.k / share.n:.0f}%) of the trials with a stated minimum age"
    return _stacked_share(table, "eligibility", [PALETTE[2], PALETTE[0], GREY], title)


def sponsor_bar(table: pd.DataFrame, title: str = "Lead sponsor: industry or academic") -> plt.Figure:
    """Industry / academic / not stated (``landscape.sponsor_counts``)."""
    colors = [PALETTE[1] if t == "industry" else PALETTE[0] if t == "academic" else GREY for t in table["sponsor type"]]
    return _stacked_share(table, "sponsor type", colors, title)


@styled
def comparison_chart(
    comparison: pd.DataFrame, title: str = "This snapshot against the published landscape"
) -> plt.Figure:
    """Published share vs this snapshot's (95% Wilson CI; denominators = trials stating the field)
    for every measure this snapshot can compute (``landscape.compare_with_published``)."""
    rows = comparison[comparison["this snapshot n"].notna()].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(WIDTH, 0.75 * max(len(rows), 1) + 1.4))
    y = np.arange(len(rows))
    pub = rows["published share"].astype(float).to_numpy() * 100
    ours = rows["this snapshot share"].astype(float).to_numpy() * 100
    low = rows["ci low"].astype(float).to_numpy() * 100
    high = rows["ci high"].astype(float).to_numpy() * 100
    source = str(rows["source"].iloc[0]) if len(rows) else "published"
    ax.barh(y - 0.19, pub, height=0.36, color=PALETTE[1], label=f"{source}")
    ax.barh(
        y + 0.19,
        ours,
        height=0.36,
        color=PALETTE[0],
        label="this snapshot (95% CI)",
        xerr=[ours - low, high - ours],
        error_kw={"ecolor": "#333333", "capsize": 3, "linewidth": 1},
    )
    for i, rec in rows.iterrows():
        ax.text(
            pub[i] + 1, y[i] - 0.19, f"{int(rec['published k'])}/{int(rec['published n'])}", va="center", fontsize=7.5
        )
        ax.text(
            high[i] + 1,
            y[i] + 0.19,
            f"{int(rec['this snapshot k'])}/{int(rec['this snapshot n'])} ({int(rec['not stated'])} not stated)",
            va="center",
            fontsize=7.5,
            color="#333333",
        )
    ax.set_yticks(y, labels=rows["label"].tolist())
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xticks(range(0, 101, 20), labels=[f"{v}%" for v in range(0, 101, 20)])
    ax.set_xlabel("share of trials (this snapshot: of the trials that state the field)")
    ax.legend(frameon=False, loc="lower right")
    ax.set_title(title, loc="left")
    return _finish(fig)
