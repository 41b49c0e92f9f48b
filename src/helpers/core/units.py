"""Values written with a unit in registry records: ages such as '18 Years'."""

from __future__ import annotations

import re

from helpers.core.patterns import linear

AGE_RE = linear(r"\s*(\d+(?:\.\d+)?)\s*(Year|Month|Week|Day|Hour|Minute)s?\s*", re.I)  # RE2: linear time


def age_in_years(min_age: str) -> float | None:
    """``'18 Years'`` -> 18.0, ``'6 Months'`` -> 0.5; None when not parseable."""
    match = AGE_RE.fullmatch(min_age)
    if match is None:
        return None
    per_year = {"year": 1, "month": 12, "week": 52.18, "day": 365.25, "hour": 8766, "minute": 525960}
    return float(match[1]) / per_year[match[2].lower()]
