"""Narrative text rendered from templates: every number and citation comes from the data.

Numbers are formatted one way everywhere (`fmt_int`, `fmt_pct`, `fmt_prop`, `fmt_ci`);
templates live in `templates/narrative/*.j2` and receive only values computed from tables."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

NARRATIVE_TEMPLATES = Path(__file__).resolve().parent / "templates" / "narrative"


def fmt_int(n: object) -> str:
    """Whole numbers as digits (no thousands separator below 10,000)."""
    return f"{int(n):,}" if int(n) >= 10000 else str(int(n))


def fmt_pct(x: float, digits: int = 0) -> str:
    """A proportion 0..1 as a percentage: 0.642 -> '64%'."""
    return f"{100 * float(x):.{digits}f}%"


def fmt_prop(k: int, n: int) -> str:
    """'12/15 (80%)'."""
    return f"{int(k)}/{int(n)} ({fmt_pct(k / n)})" if n else f"{int(k)}/{int(n)}"


def fmt_ci(low: float, high: float) -> str:
    """'95% CI 52%–96%'."""
    return f"95% CI {fmt_pct(low)}–{fmt_pct(high)}"


def join_words(items: list[str], conj: str = "and") -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def environment() -> Environment:
    """The Jinja environment for the narrative templates, with the number and list filters."""
    env = Environment(
        loader=FileSystemLoader(str(NARRATIVE_TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(int=fmt_int, pct=fmt_pct, prop=fmt_prop, words=join_words)
    env.globals.update(fmt_ci=fmt_ci, fmt_prop=fmt_prop)
    return env


def render(template: str, **context: object) -> str:
    """Render templates/narrative/<template> to plain text (escape it when putting it in HTML)."""
    text = environment().get_template(template).render(**context)
    return " ".join(text.split())


def render_lines(template: str, **context: object) -> list[str]:
    """Render a template whose statements are one per line; returns the non-empty statements."""
    text = environment().get_template(template).render(**context)
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]
