"""The column tables of ``seeds/evidence/README.md``, generated from ``seeds/evidence/schema.yaml``.

The README holds one generated block per table, between ``<!-- columns: NAME -->`` and
``<!-- /columns -->``; everything else in it is written by hand. ``python -m helpers schema
--write`` regenerates the blocks; a test fails when they drift from the schema.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.core.atomic import write_atomically
from helpers.core.codes import CODE_SETS, TABLES, Column, TableSchema
from helpers.core.errors import SchemaError
from helpers.core.paths import EVIDENCE, display_path

README = EVIDENCE / "README.md"
BLOCK_RE = re.compile(r"(<!-- columns: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /columns -->)", re.S)


def _type_text(col: Column) -> str:
    parts = [{"str": "text", "int": "whole number", "float": "number"}[col.type]]
    if col.list:
        parts.append("`;`-list")
    if col.required:
        parts.append("required")
    if col.unique:
        parts.append("unique")
    return ", ".join(parts)


def _allowed_text(col: Column) -> str:
    parts = []
    if col.codes is not None:
        codes = ", ".join(f"`{c}`" for c in CODE_SETS[col.codes].codes)
        parts.append(("codes " if col.list else "one of ") + codes)
    if col.range is not None:
        low, high = col.range
        parts.append(f"from {low}" + (f" to {high}" if high is not None else " up"))
    if col.doc:
        parts.append(col.doc)
    return "; ".join(parts).replace("|", "\\|")


def columns_markdown(table: TableSchema) -> str:
    """The Markdown table of one evidence table's columns (name, type, allowed values and format)."""
    lines = ["| column | type | allowed / format |", "|---|---|---|"]
    lines += [f"| {c.name} | {_type_text(c)} | {_allowed_text(c)} |" for c in table.columns]
    return "\n".join(lines) + "\n"


def render_readme(text: str, where: str = "README.md") -> str:
    """text with every generated block replaced by the table the schema gives now."""
    names = [m["name"] for m in BLOCK_RE.finditer(text)]
    missing = sorted(set(TABLES) - set(names))
    unknown = sorted(set(names) - set(TABLES))
    if missing or unknown:
        raise SchemaError(
            f"{where}: needs one `<!-- columns: NAME -->` ... `<!-- /columns -->` block per table "
            f"({', '.join(TABLES)}); missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    return BLOCK_RE.sub(lambda m: m.group(1) + columns_markdown(TABLES[m["name"]]) + m.group(4), text)


def readme_is_current(path: Path = README) -> bool:
    """Whether the README's column tables say what the schema says."""
    text = path.read_text(encoding="utf-8")
    return render_readme(text, display_path(path)) == text


def write_readme(path: Path = README) -> bool:
    """Regenerate the README's column tables; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    new = render_readme(text, display_path(path))
    if new != text:
        write_atomically(path, new)
    return new != text
