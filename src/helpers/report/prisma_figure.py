"""The PRISMA 2020 flow diagram (new reviews: databases and registers, and other methods) from the counts.

Standard layout: phase labels on the left (Identification, Screening, Included), the databases-and-
registers column with its excluded boxes to the right, and the other-methods column when it has records.
Every number comes from :class:`helpers.library.prisma.PrismaCounts`; a box without a count yet says
"not yet screened", and a box a problem makes unreliable is drawn dashed in red with a note.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from helpers.core.codes import (
    PRISMA_BOXES,
    PRISMA_COLUMNS,
    PRISMA_PHASES,
    PRISMA_REMOVALS,
    RECORD_EXCLUSIONS,
    REPORT_EXCLUSIONS,
)
from helpers.library.prisma import DATABASES, NOT_SCREENED, OTHER, SHARED, FlowColumn, PrismaCounts, Tally
from helpers.report.figures import PALETTE, styled
from helpers.report.narrative import fmt_int

BODY_PT = 9  # the smallest text is 8 pt at the saved size (notes); no text is scaled down
LINE_IN = BODY_PT / 72 * 1.3  # inches per line of body text
PAD_IN = 0.1
GAP_IN = 0.38  # vertical room for an arrow between rows
MAIN_W, SIDE_W, PHASE_W, COLUMN_GAP = 2.9, 2.9, 0.34, 0.45
HEADER_H = 0.5
INCLUDED_MIN_H = 0.9
FILL = {DATABASES: "#fdf1cf", OTHER: "#ececec"}
EDGE, WARN, PHASE_FILL = "#333333", PALETTE[3], "#cfe0f1"
UNRELIABLE = "unreliable: see the counts table"


@dataclass(frozen=True)
class Box:
    """One box of the diagram: where it sits and what it says."""

    key: tuple[str, str]  # (column, box code)
    row: int
    side: bool  # an excluded / removed box, right of the column's main boxes
    x: float
    width: float
    heading: str
    lines: tuple[str, ...]
    unreliable: bool

    def wrapped(self) -> list[tuple[str, bool]]:
        """(line, is heading) after wrapping to the box width."""
        chars = max(20, int((self.width - 2 * PAD_IN) / (0.58 * BODY_PT / 72)))
        out = [(w, True) for w in textwrap.wrap(self.heading, chars)]
        for line in self.lines:
            out += [(w, False) for w in textwrap.wrap(line, chars, subsequent_indent="  ")]
        if self.unreliable:
            out.append((UNRELIABLE, False))
        return out

    def height(self) -> float:
        """The box height in inches."""
        return len(self.wrapped()) * LINE_IN + 2 * PAD_IN


def _n(value: int | None) -> str:
    return NOT_SCREENED if value is None else f"n\u00a0=\u00a0{fmt_int(value)}"  # no break inside "n = 12"


def _reasons(tally: Tally | None) -> tuple[str, ...]:
    if tally is None:
        return ()
    label = {**RECORD_EXCLUSIONS.labels, **REPORT_EXCLUSIONS.labels}
    return tuple(f"{label.get(code, code)} ({_n(n)})" for code, n in tally)


def _identified(c: FlowColumn) -> tuple[str, ...]:
    lines = tuple(f"{source} ({_n(n)})" for source, n in c.identified)
    return (*lines, f"Total ({_n(c.records)})") if len(lines) > 1 else lines


def _removed(c: FlowColumn) -> tuple[str, ...]:
    counts = (c.duplicates, c.withdrawn, sum(n for _, n in c.unreadable))
    return tuple(f"{PRISMA_REMOVALS.label(code)} ({_n(n)})" for code, n in zip(PRISMA_REMOVALS, counts, strict=True))


def _waiting(total: int | None, waiting: int | None, to_screen: bool = False) -> tuple[str, ...]:
    """The count, and how many await a decision (for the screened box: how many there are to screen)."""
    if total is None and to_screen:
        return (f"{NOT_SCREENED}: {fmt_int(waiting or 0)} records to screen",)
    return (f"({_n(total)})", *([f"{fmt_int(waiting)} awaiting a decision"] if waiting else []))


def _listing(heading: str, total: int | None, tally: Tally | None) -> tuple[str, tuple[str, ...]]:
    """(heading with the total, one line per reason) of an excluded box."""
    lines = _reasons(tally)
    return f"{heading} ({_n(total)}){':' if lines else ''}", lines


def _column_boxes(code: str, c: FlowColumn, counts: PrismaCounts, x_main: float, x_side: float) -> list[Box]:
    """The boxes of one column, its main boxes at x_main and its side boxes at x_side."""
    label = PRISMA_BOXES.label
    specs = [
        (0, "identified", False, f"{label('identified')} from:", _identified(c)),
        (0, "removed", True, f"{label('removed')}:", _removed(c)),
        (2, "sought", False, label("sought"), (f"({_n(c.sought)})",)),
        (2, "not_retrieved", True, label("not_retrieved"), (f"({_n(c.not_retrieved)})",)),
        (3, "assessed", False, label("assessed"), _waiting(c.assessed, c.awaiting_assessment)),
        (
            3,
            "reports_excluded",
            True,
            *_listing(label("reports_excluded"), c.reports_excluded_total, c.reports_excluded),
        ),
    ]
    if code == DATABASES:
        screened = _waiting(c.screened, c.awaiting_screening, True)
        specs += [
            (1, "screened", False, label("screened"), screened),
            (1, "excluded", True, *_listing(label("excluded"), c.excluded_total, c.excluded)),
        ]
    elif not c.removed:
        specs = [s for s in specs if s[1] != "removed"]
    return [
        Box(
            (code, box),
            row,
            side,
            x_side if side else x_main,
            SIDE_W if side else MAIN_W,
            heading,
            lines,
            counts.is_unreliable(box, code),
        )
        for row, box, side, heading, lines in specs
    ]


def _included(counts: PrismaCounts, x: float) -> Box:
    lines = (
        f"{PRISMA_BOXES.label('included')} ({'not counted' if counts.studies is None else _n(counts.studies)})",
        f"Reports of included studies ({_n(counts.reports)})",
    )
    return Box((SHARED, "included"), 4, False, x, MAIN_W, "", lines, counts.is_unreliable("included", SHARED))


def _layout(counts: PrismaCounts) -> tuple[list[Box], list[float], list[float], float]:
    """(boxes, top of each row, height of each row, figure width) in inches."""
    x_db = PHASE_W + 0.25
    boxes = _column_boxes(DATABASES, counts.databases, counts, x_db, x_db + MAIN_W + COLUMN_GAP)
    width = x_db + MAIN_W + COLUMN_GAP + SIDE_W
    if counts.other.identified:
        x_other = width + 0.5
        boxes += _column_boxes(OTHER, counts.other, counts, x_other, x_other + MAIN_W + COLUMN_GAP)
        width = x_other + MAIN_W + COLUMN_GAP + SIDE_W
    boxes.append(_included(counts, x_db))
    heights = [max([b.height() for b in boxes if b.row == r], default=0.0) for r in range(5)]
    heights[-1] = max(heights[-1], INCLUDED_MIN_H)  # room for the rotated phase label
    tops, y = [], HEADER_H + 0.3
    for h in heights:
        tops.append(y)
        y += h + GAP_IN
    return boxes, tops, heights, width + 0.1


def _draw_box(ax: plt.Axes, box: Box, top: float, height: float) -> None:
    fill = FILL.get(box.key[0], "#ffffff") if box.key[1] == "identified" else "#ffffff"
    ax.add_patch(
        FancyBboxPatch(
            (box.x, top),
            box.width,
            height,
            boxstyle="square,pad=0",
            facecolor=fill,
            edgecolor=WARN if box.unreliable else EDGE,
            linestyle="--" if box.unreliable else "-",
            linewidth=1.0,
        )
    )
    y = top + PAD_IN
    for line, heading in box.wrapped():
        warn = line == UNRELIABLE
        ax.text(
            box.x + PAD_IN,
            y,
            line,
            va="top",
            ha="left",
            fontsize=8 if warn else BODY_PT,
            fontweight="bold" if heading else "normal",
            color=WARN if warn else "#222222",
        )
        y += LINE_IN


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], style: str = "arc3") -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": EDGE,
            "linewidth": 1.0,
            "shrinkA": 0,
            "shrinkB": 0,
            "connectionstyle": style,
        },
    )


def _connect(ax: plt.Axes, boxes: list[Box], tops: list[float], heights: list[float]) -> None:
    """Down the main boxes of each column, across to its side boxes, and into the included box."""
    included = next(b for b in boxes if b.key[0] == SHARED)
    for code in PRISMA_COLUMNS:
        mains = sorted((b for b in boxes if b.key[0] == code and not b.side), key=lambda b: b.row)
        if not mains:
            continue
        for upper, lower in zip(mains, mains[1:], strict=False):
            x = upper.x + upper.width / 2
            _arrow(ax, (x, tops[upper.row] + heights[upper.row]), (x, tops[lower.row]))
        for side in (b for b in boxes if b.key[0] == code and b.side):
            main = next(m for m in mains if m.row == side.row)
            y = tops[side.row] + heights[side.row] / 2
            _arrow(ax, (main.x + main.width, y), (side.x, y))
        last = mains[-1]
        x, y = last.x + last.width / 2, tops[last.row] + heights[last.row]
        if code == DATABASES:
            _arrow(ax, (x, y), (x, tops[included.row]))
        else:
            end = (included.x + included.width, tops[included.row] + heights[included.row] / 2)
            _arrow(ax, (x, y), end, "angle,angleA=90,angleB=0,rad=0")


def _phases(ax: plt.Axes, tops: list[float], heights: list[float]) -> None:
    spans = dict(zip(PRISMA_PHASES.codes, ((0, 0), (1, 3), (4, 4)), strict=True))
    for phase, (first, last) in spans.items():
        top, bottom = tops[first], tops[last] + heights[last]
        ax.add_patch(
            FancyBboxPatch(
                (0.05, top),
                PHASE_W,
                bottom - top,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor=PHASE_FILL,
                edgecolor="none",
            )
        )
        ax.text(
            0.05 + PHASE_W / 2,
            (top + bottom) / 2,
            PRISMA_PHASES.label(phase),
            rotation=90,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color="#0d3b66",
        )


def _headers(ax: plt.Axes, boxes: list[Box]) -> None:
    for code in PRISMA_COLUMNS:
        mine = [b for b in boxes if b.key[0] == code]
        if not mine:
            continue
        left, right = min(b.x for b in mine), max(b.x + b.width for b in mine)
        ax.add_patch(
            FancyBboxPatch(
                (left, 0.1),
                right - left,
                HEADER_H,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor=FILL[code],
                edgecolor=EDGE,
                linewidth=1.0,
            )
        )
        ax.text(
            (left + right) / 2,
            0.1 + HEADER_H / 2,
            PRISMA_COLUMNS.label(code),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color="#222222",
        )


@styled
def prisma_flow(counts: PrismaCounts) -> plt.Figure:
    """The PRISMA 2020 flow diagram of the counts (save it with :func:`helpers.report.figures.save`)."""
    boxes, tops, heights, width = _layout(counts)
    height = tops[-1] + heights[-1] + 0.15
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    _headers(ax, boxes)
    _phases(ax, tops, heights)
    for box in boxes:
        _draw_box(ax, box, tops[box.row], heights[box.row])
    _connect(ax, boxes, tops, heights)
    return fig
