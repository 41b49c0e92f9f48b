"""Figures of the clinical evidence: evidence map, forest plot, safety bars.

Each function takes a result of :mod:`helpers.synthesis.clinical` and returns a matplotlib Figure
drawn in the workbook style, sized for a ~1100 px wide page. Nothing is random: the same
table gives the same picture. Plotted artists carry a ``gid`` (``bubble:…``, ``report:…``,
``pooled:…``, ``bar:…``) so tests and readers of the SVG can find them."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import PercentFormatter

from helpers.core.codes import REPORT_TYPES
from helpers.report.figures import PALETTE, styled
from helpers.synthesis import clinical

# one colour per report type, in the order of seeds/evidence/schema.yaml
TYPE_COLOURS = dict(zip(REPORT_TYPES.codes, [PALETTE[i] for i in (5, 1, 0, 4, 2, 6)], strict=True))
TOX_NAMES = {"CRS": "CRS (cytokine release syndrome)", "ICANS": "ICANS (immune effector cell-associated neurotoxicity)"}
ANY_COLOUR, SEVERE_COLOUR, MUTED = PALETTE[0], PALETTE[3], "#8a8a8a"
N_X, PCT_X, WEIGHT_X = 1.03, 1.11, 1.32  # forest: columns of n/N, % (CI) and weight, in axes fractions
MAX_BUBBLE_AREA = 1800.0  # pt², the largest cell
MIN_BUBBLE_AREA = 40.0


def _empty(message: str, size: tuple[float, float] = (8.0, 1.6)) -> plt.Figure:
    fig, ax = plt.subplots(figsize=size)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, color=MUTED, transform=ax.transAxes)
    return fig


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _type_colour(report_type: str) -> str:
    return TYPE_COLOURS.get(report_type, PALETTE[7])


def _nice_sizes(max_value: int) -> list[int]:
    """Up to three round reference values for the size legend, the largest <= max_value."""
    candidates = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    below = [c for c in candidates if c <= max_value] or [max(1, max_value)]
    picks = sorted({below[0], below[len(below) // 2], below[-1]})
    return picks


@styled
def evidence_map(table: pd.DataFrame, title: str = "Evidence map: patients by disease and CAR target") -> plt.Figure:
    """Bubble matrix of ``clinical.evidence_map``: area = patients (overlap counted once),
    colour = dominant report type; each bubble is labelled with patients and reports."""
    if table.empty:
        return _empty("No report matches these parameters.")
    diseases = clinical.disease_order(table["disease"])
    targets = clinical.target_order(table["target"])
    width = min(10.5, 2.0 * len(targets) + 5.0)
    height = 0.95 * len(diseases) + 1.6
    fig, ax = plt.subplots(figsize=(width, max(height, 3.6)))
    top = max(int(table["patients"].max()), 1)

    def area(n: float) -> float:
        return max(MIN_BUBBLE_AREA, MAX_BUBBLE_AREA * float(n) / top)

    for rtype in [t for t in REPORT_TYPES if t in set(table["dominant_report_type"])]:
        part = table[table["dominant_report_type"] == rtype]
        ax.scatter(
            [targets.index(t) for t in part["target"]],
            [diseases.index(d) for d in part["disease"]],
            s=[area(n) for n in part["patients"]],
            color=_type_colour(rtype),
            alpha=0.85,
            edgecolors="white",
            linewidths=0.8,
            zorder=3,
            gid=f"bubble:{rtype}",
        )
    for r in table.itertuples(index=False):
        radius = math.sqrt(area(r.patients) / math.pi)
        ax.annotate(
            f"{_plural(r.patients, 'patient')} · {_plural(r.reports, 'report')}",
            (targets.index(r.target), diseases.index(r.disease)),
            xytext=(0, -(radius + 3)),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            color="#333333",
        )
    ax.set_xticks(range(len(targets)), labels=targets)
    ax.set_yticks(range(len(diseases)), labels=diseases)
    ax.set_xlim(-0.6, len(targets) - 0.4)
    ax.set_ylim(len(diseases) - 0.45, -0.6)
    ax.xaxis.tick_top()
    ax.set_xlabel("CAR target")
    ax.xaxis.set_label_position("top")
    ax.grid(True, color="#e6e6e6", zorder=0)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    colour_handles = [
        Line2D([], [], marker="o", linestyle="", markersize=9, color=_type_colour(t), label=t)
        for t in REPORT_TYPES
        if t in set(table["dominant_report_type"])
    ]
    size_handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color="#bbbbbb",
            markersize=math.sqrt(area(v)),
            label=_plural(v, "patient"),
        )
        for v in _nice_sizes(top)
    ]
    first = ax.legend(
        handles=colour_handles,
        title="dominant report type",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        alignment="left",
    )
    ax.add_artist(first)
    first.set_clip_on(False)  # add_artist clips to the axes; this legend sits outside them
    ax.legend(
        handles=size_handles,
        title="patients (area)",
        loc="lower left",
        bbox_to_anchor=(1.02, 0.0),
        frameon=False,
        labelspacing=1.8,
        borderpad=1.0,
        handlelength=3.2,
        handletextpad=1.0,
        alignment="left",
    )
    ax.set_title(title, loc="left", pad=24)
    fig.subplots_adjust(
        left=0.9 / width, right=1 - 2.3 / width, top=1 - 1.0 / fig.get_figheight(), bottom=0.5 / fig.get_figheight()
    )
    return fig


def _forest_rows(eff: clinical.Efficacy) -> list[tuple[str, object]]:
    """('header', (disease, measure)) | ('report', row) | ('pooled', row) | ('gap', None), top to bottom."""
    rows: list[tuple[str, object]] = []
    pooled = {(p.disease, p.measure, p.window): p for p in eff.pooled.itertuples(index=False)}
    for key, cell in eff.reports.groupby(["disease", "measure", "window"], sort=False):
        if rows:
            rows.append(("gap", None))
        rows.append(("header", key))
        rows += [("report", r) for r in cell.itertuples(index=False)]
        if key in pooled:
            rows.append(("pooled", pooled[key]))
    return rows


def _pct_text(p: float, low: float, high: float) -> str:
    return f"{100 * p:.0f}% ({100 * low:.0f}–{100 * high:.0f})"


def _forest_header_label(disease: str, measure: str, window: str) -> str:
    """The bold label that opens a disease / measure / timepoint-window group."""
    name = clinical.disease_name(disease)
    return f"{name if disease == clinical.MIXED else disease} · {measure} · {window}"


def _forest_report(ax: plt.Axes, y: float, r: object) -> str:
    """Draw one report's CI line, marker and n/N, % columns at height y; returns its row label."""
    colour = _type_colour(r.report_type)
    dropped = r.pool_status.startswith("not pooled: same cohort")
    ax.plot([r.ci_low, r.ci_high], [y, y], color=colour, linewidth=1.4, zorder=2)
    ax.plot(
        [r.proportion],
        [y],
        marker="s",
        markersize=7,
        linestyle="",
        zorder=3,
        clip_on=False,
        markerfacecolor="white" if dropped else colour,
        markeredgecolor=colour,
        markeredgewidth=1.4,
        gid=f"report:{r.report_id}",
    )
    ax.text(
        N_X,
        y,
        f"{r.responders}/{r.evaluable}",
        transform=ax.get_yaxis_transform(),
        va="center",
        ha="left",
        fontsize=8.5,
    )
    ax.text(
        PCT_X,
        y,
        _pct_text(r.proportion, r.ci_low, r.ci_high),
        transform=ax.get_yaxis_transform(),
        va="center",
        ha="left",
        fontsize=8.5,
    )
    if not pd.isna(r.weight):
        ax.text(WEIGHT_X, y, f"{r.weight:.0f}%", transform=ax.get_yaxis_transform(), va="center", fontsize=8.5)
    return f"{r.label}{'  †' if dropped else ''}"


def _forest_pooled(ax: plt.Axes, y: float, p: object) -> str:
    """Draw a pooled estimate's diamond and bold n/N, % columns at height y; returns its row label."""
    h = 0.32
    if not pd.isna(p.pi_low):  # the prediction interval: where a new series' response would be expected
        ax.plot(
            [p.pi_low, p.pi_high], [y, y], color="#333333", linewidth=1.0, zorder=2, gid=f"pi:{p.disease}|{p.measure}"
        )
        for end in (p.pi_low, p.pi_high):
            ax.plot([end, end], [y - h / 2, y + h / 2], color="#333333", linewidth=1.0, zorder=2)
    ax.add_patch(
        Polygon(
            [(p.ci_low, y), (p.estimate, y + h), (p.ci_high, y), (p.estimate, y - h)],
            closed=True,
            facecolor="#333333",
            edgecolor="#333333",
            zorder=3,
            gid=f"pooled:{p.disease}|{p.measure}",
        )
    )
    ax.text(
        N_X,
        y,
        f"{p.responders}/{p.evaluable}",
        transform=ax.get_yaxis_transform(),
        va="center",
        ha="left",
        fontsize=8.5,
        fontweight="bold",
    )
    ax.text(
        PCT_X,
        y,
        _pct_text(p.estimate, p.ci_low, p.ci_high),
        transform=ax.get_yaxis_transform(),
        va="center",
        ha="left",
        fontsize=8.5,
        fontweight="bold",
    )
    if pd.isna(p.i2):
        return f"Summed, {p.reports} reports (not modelled)"
    return f"Pooled, {p.reports} reports (I² {100 * p.i2:.0f}%)"


def _forest_tick_labels(ax: plt.Axes, labels: list[tuple[float, str, str]]) -> None:
    """Put the row labels on the y axis: group headers bold, pooled rows italic."""
    ax.set_yticks([y for y, _, _ in labels], labels=[t for _, t, _ in labels])
    for tick, (_, _, kind) in zip(ax.get_yticklabels(), labels, strict=True):
        if kind == "header":
            tick.set_fontweight("bold")
            tick.set_color("#12395b")
        elif kind == "pooled":
            tick.set_fontstyle("italic")


def _forest_legend_handles(eff: clinical.Efficacy) -> list[Line2D]:
    """Legend entries for the report types shown, the same-cohort marker and the pooled diamond."""
    types = [t for t in REPORT_TYPES if t in set(eff.reports["report_type"])]
    handles = [Line2D([], [], marker="s", linestyle="-", color=_type_colour(t), label=t) for t in types]
    if eff.reports["pool_status"].str.startswith("not pooled: same cohort").any():
        handles.append(
            Line2D(
                [],
                [],
                marker="s",
                linestyle="-",
                color=MUTED,
                markerfacecolor="white",
                label="† same cohort as another report here: left out of pooling",
            )
        )
    if not eff.pooled.empty:
        method = eff.pooled["method"].iloc[0]
        handles.append(Line2D([], [], marker="D", linestyle="", color="#333333", label=f"pooled ({method})"))
        if eff.pooled["pi_low"].notna().any():
            handles.append(Line2D([], [], marker="|", linestyle="-", color="#333333", label="95% prediction interval"))
    return handles


@styled
def forest(
    eff: clinical.Efficacy, title: str = "Response by disease, measure and timepoint (95% Wilson CI)"
) -> plt.Figure:
    """Per-report response proportions with Wilson CIs, grouped by disease and measure, with a
    random-effects diamond where reports were pooled. Hollow markers: left out of the pool
    because another report of the same cohort was kept."""
    if eff.reports.empty:
        return _empty("No report in this selection states responders and evaluable patients.")
    rows = _forest_rows(eff)
    height = 0.27 * len(rows) + 2.0
    fig, ax = plt.subplots(figsize=(12.0, height))
    labels = []
    for i, (kind, item) in enumerate(rows):
        y = -i
        if kind == "header":
            labels.append((y, _forest_header_label(*item), kind))  # type: ignore[misc]
        elif kind == "report":
            labels.append((y, _forest_report(ax, y, item), kind))
        elif kind == "pooled":
            labels.append((y, _forest_pooled(ax, y, item), kind))
    _forest_tick_labels(ax, labels)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-len(rows) + 0.4, 1.0)
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("patients meeting the report's response measure")
    ax.grid(True, axis="x", color="#ececec", zorder=0)
    ax.spines["left"].set_visible(False)
    ax.text(N_X, 0.6, "n/N", transform=ax.get_yaxis_transform(), ha="left", fontsize=8.5, fontweight="bold")
    ax.text(PCT_X, 0.6, "% (95% CI)", transform=ax.get_yaxis_transform(), ha="left", fontsize=8.5, fontweight="bold")
    if eff.reports["weight"].notna().any():
        ax.text(WEIGHT_X, 0.6, "weight", transform=ax.get_yaxis_transform(), ha="left", fontsize=8.5, fontweight="bold")
    fig.legend(
        handles=_forest_legend_handles(eff), loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False
    )
    ax.set_title(title, loc="left")
    fig.subplots_adjust(left=0.31, right=0.76, bottom=1.15 / height, top=1 - 0.4 / height)
    return fig


@styled
def safety_bars(table: pd.DataFrame, title: str | None = None) -> plt.Figure:
    """CRS and ICANS (any grade and grade >= 3) per group of ``clinical.safety``: bars with
    Wilson CIs, 'n/N' printed; groups where no report states the outcome say 'not reported'."""
    if table.empty:
        return _empty("No report matches these parameters.")
    by = table.columns[0]
    groups = list(dict.fromkeys(table[by]))
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 0.62 * len(groups) + 1.5), sharey=True)
    bar_h = 0.36
    for ax, tox in zip(axes, ("CRS", "ICANS"), strict=True):
        for gi, group in enumerate(groups):
            for offset, (grade, colour) in zip(
                (-bar_h / 2, bar_h / 2), (("any grade", ANY_COLOUR), ("grade ≥3", SEVERE_COLOUR)), strict=True
            ):
                r = table[(table[by] == group) & (table["outcome"] == f"{tox} {grade}")].iloc[0]
                y = gi + offset
                if not r["denominator"]:
                    ax.text(
                        0.01, y, "not reported", va="center", ha="left", fontsize=8, color=MUTED, fontstyle="italic"
                    )
                    continue
                ax.barh(y, r["rate"], height=bar_h * 0.92, color=colour, zorder=2, gid=f"bar:{tox} {grade}:{group}")
                ax.plot([r["rate"]], [y], marker="o", markersize=4, color=colour, zorder=4, clip_on=False)
                ax.plot([r["ci_low"], r["ci_high"]], [y, y], color="#333333", linewidth=0.9, zorder=3)
                ax.text(
                    float(r["ci_high"]) + 0.02,
                    y,
                    f"{r['events']}/{r['denominator']}",
                    va="center",
                    ha="left",
                    fontsize=8,
                )
        ax.set_title(TOX_NAMES[tox], loc="left")
        ax.set_xlim(0, 1.22)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("patients with the event (bar) and 95% Wilson CI (line)")
        ax.grid(True, axis="x", color="#ececec", zorder=0)
        ax.tick_params(axis="y", length=0)
        if clinical.ALL_REPORTS in groups:
            ax.axhline(groups.index(clinical.ALL_REPORTS) - 0.5, color="#bbbbbb", linewidth=0.8)
    axes[0].set_yticks(range(len(groups)), labels=groups)
    axes[0].set_ylim(len(groups) - 0.5, -0.5)
    for tick in axes[0].get_yticklabels():
        if tick.get_text() == clinical.ALL_REPORTS:
            tick.set_fontweight("bold")
    handles = [Patch(color=ANY_COLOUR, label="any grade"), Patch(color=SEVERE_COLOUR, label="grade ≥3")]
    fig.legend(handles=handles, loc="upper right", ncol=2, frameon=False, bbox_to_anchor=(0.98, 1.0))
    fig.suptitle(
        title or f"CRS and ICANS by {by} (each overlapping cohort counted once)", x=0.01, ha="left", fontsize=10
    )
    fig.tight_layout()
    return fig


def _sensitivity_row(ax: plt.Axes, y: float, item: object, main: float | None) -> tuple[str, float | None]:
    """Draw one analysis at height y; returns its label and the main estimate of the cell."""
    is_main = item.analysis == "main analysis"
    if pd.isna(item.estimate):
        ax.text(0.02, y, "not estimable (fewer than 2 reports)", va="center", fontsize=8.5, color=MUTED)
    else:
        colour = "#333333" if is_main else PALETTE[0]
        ax.plot([item.ci_low, item.ci_high], [y, y], color=colour, linewidth=1.4)
        ax.plot([item.estimate], [y], marker="D" if is_main else "o", color=colour, markersize=6)
        text = f"{100 * item.estimate:.0f}% ({100 * item.ci_low:.0f}–{100 * item.ci_high:.0f})"
        ax.text(1.02, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=8.5)
        if is_main:
            main = item.estimate
    if main is not None and not is_main:
        ax.plot([main, main], [y - 0.4, y + 0.4], color="#999999", linestyle="--", linewidth=0.8)
    return f"{item.analysis} (k = {item.reports})", main


@styled
def sensitivity_plot(table: pd.DataFrame, title: str = "Sensitivity of each pooled estimate") -> plt.Figure:
    """One row per analysis of ``sensitivity.sensitivity``: estimate with its 95% CI, grouped by pooled
    cell; the main analysis is bold with a dashed reference line; analyses left with fewer than two
    reports say 'not estimable'."""
    if table.empty:
        return _empty("Nothing is pooled in this selection, so there is no sensitivity analysis.")
    rows: list[tuple[str, object]] = []
    for key, cell in table.groupby(["disease", "measure", "window"], sort=False):
        if rows:
            rows.append(("gap", None))
        rows.append(("header", key))
        rows += [("analysis", r) for r in cell.itertuples(index=False)]
    height = 0.26 * len(rows) + 1.4
    fig, ax = plt.subplots(figsize=(11.0, height))
    labels, main = [], None
    for i, (kind, item) in enumerate(rows):
        y = -i
        if kind == "header":
            labels.append((y, " · ".join(item), kind))  # type: ignore[arg-type]
            main = None
        elif kind == "analysis":
            label, main = _sensitivity_row(ax, y, item, main)
            labels.append((y, label, "main" if item.analysis == "main analysis" else kind))
    ax.set_yticks([y for y, _, _ in labels], labels=[t for _, t, _ in labels])
    for tick, (_, _, kind) in zip(ax.get_yticklabels(), labels, strict=True):
        if kind in ("header", "main"):
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 1)
    ax.set_ylim(-len(rows) + 0.4, 0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("pooled response (95% CI)")
    ax.grid(True, axis="x", color="#ececec", zorder=0)
    ax.spines["left"].set_visible(False)
    ax.set_title(title, loc="left")
    fig.subplots_adjust(left=0.36, right=0.84, bottom=0.7 / height, top=1 - 0.35 / height)
    return fig
