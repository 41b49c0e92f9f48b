"""Which region a trial site's country is in, as ClinicalTrials.gov spells country names."""

from __future__ import annotations

import pandas as pd

REGIONS = ("East Asia", "North America", "Europe", "other")
EAST_ASIA = (
    "China",
    "Hong Kong",
    "Japan",
    "Korea, Republic of",
    "Korea, Democratic People's Republic of",
    "South Korea",
    "Macau",
    "Macao",
    "Mongolia",
    "Taiwan",
)
NORTH_AMERICA = ("United States", "Canada")  # Mexico and the Caribbean count as "other" (Latin America)
EUROPE = (
    "Albania",
    "Andorra",
    "Austria",
    "Belarus",
    "Belgium",
    "Bosnia and Herzegovina",
    "Bulgaria",
    "Croatia",
    "Cyprus",
    "Czech Republic",
    "Czechia",
    "Denmark",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Hungary",
    "Iceland",
    "Ireland",
    "Italy",
    "Kosovo",
    "Latvia",
    "Liechtenstein",
    "Lithuania",
    "Luxembourg",
    "Malta",
    "Moldova",
    "Moldova, Republic of",
    "Monaco",
    "Montenegro",
    "Netherlands",
    "North Macedonia",
    "Norway",
    "Poland",
    "Portugal",
    "Romania",
    "Russia",
    "Russian Federation",
    "San Marino",
    "Serbia",
    "Slovakia",
    "Slovenia",
    "Spain",
    "Sweden",
    "Switzerland",
    "Ukraine",
    "United Kingdom",
)
REGION_OF = {
    **{c: "East Asia" for c in EAST_ASIA},
    **{c: "North America" for c in NORTH_AMERICA},
    **{c: "Europe" for c in EUROPE},
}


def region_of(country: str) -> str:
    """The region of a country name as ClinicalTrials.gov spells it (East Asia, North America, Europe, other)."""
    return REGION_OF.get(country.strip(), "other")


def _split(cell: object) -> list[str]:
    return [] if cell is None or pd.isna(cell) else [c.strip() for c in str(cell).split(";") if c.strip()]


def trial_regions(cell: object) -> list[str]:
    """The regions of a trial's countries, in REGIONS order."""
    found = {region_of(c) for c in _split(cell)}
    return [r for r in REGIONS if r in found]
