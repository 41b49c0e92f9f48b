"""CSV that is safe to open in a spreadsheet: no cell from document text becomes a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets (CSV injection). As OWASP recommends, such a
text cell gets a leading apostrophe, which spreadsheets show as text and do not display;
numbers (numeric columns, and text cells that are a plain number such as ``-0.5``) are left
as they are.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from helpers.core.atomic import write_atomically

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")  # no nested quantifier


def neutralise(value: object) -> object:
    """value, with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df whose text cells and column names cannot run as spreadsheet formulas."""
    out = df.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map(neutralise, na_action="ignore")
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write df as UTF-8 CSV (no index, LF line ends), spreadsheet-safe and atomically."""
    buffer = io.StringIO()
    safe_frame(df).to_csv(buffer, index=False, lineterminator="\n")
    return write_atomically(path, buffer.getvalue())
