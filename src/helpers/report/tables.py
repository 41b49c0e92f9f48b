"""HTML fragments for notebooks and reports. All document text is escaped: it is data, never markup."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

import pandas as pd

NOT_REPORTED = "not reported"


def cell_text(value: object) -> str:
    """One way to show a value: empty/NA as 'not reported', floats rounded, lists joined."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return NOT_REPORTED
    if isinstance(value, (list, tuple)):
        return "; ".join(cell_text(v) for v in value) if value else NOT_REPORTED
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if text.strip() else NOT_REPORTED


def html_table(df: pd.DataFrame, caption: str | None = None, sortable: bool = True, css_class: str = "wb-table") -> str:
    """An escaped HTML table; 'sortable' tables get click-to-sort headers in the published site."""
    classes = css_class + (" sortable" if sortable else "")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            text = cell_text(v)
            cls = (
                ' class="na"'
                if text == NOT_REPORTED
                else (' class="num"' if _is_number(v) else (' class="long"' if len(text) > 60 else ""))
            )
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="{classes}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def side_by_side(columns: Sequence[tuple[str, str | None]]) -> str:
    """Texts in columns next to each other (e.g. abstracts), each under its escaped heading."""
    cols = "".join(
        f'<div class="wb-col"><h4>{html.escape(head)}</h4><p>{html.escape(body) if body else NOT_REPORTED}</p></div>'
        for head, body in columns
    )
    return f'<div class="wb-columns">{cols}</div>'


def bullet_list(items: Iterable[str]) -> str:
    """The items as an escaped HTML bullet list."""
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def paragraph(text: str) -> str:
    """The text as an escaped narrative paragraph."""
    return f'<p class="wb-narrative">{html.escape(text)}</p>'


def seed_check(problems: list) -> str:
    """The seed integrity check as HTML: a clear line per changed or missing seed."""
    if not problems:
        return "<p>All shipped seeds match <code>seeds/manifest.csv</code> (sha256).</p>"
    items = "".join(
        f'<li class="wb-status-error">{html.escape(p.file)}: {html.escape(p.problem)}</li>' for p in problems
    )
    return f"<p>Seed integrity problems (these files were not used):</p><ul>{items}</ul>"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def show_html(fragment: str) -> None:
    """Display an HTML fragment built by the helpers in this module (already escaped)."""
    from IPython.display import HTML, display

    display(HTML(fragment))


def heading(text: str, level: int = 2) -> str:
    """An escaped heading (for titles built from data, e.g. a disease name)."""
    return f"<h{level}>{html.escape(text)}</h{level}>"
