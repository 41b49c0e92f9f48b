"""The registered-trial landscape: pure functions on the trials frame (``trials.csv`` columns).

Flow: the snapshot's trials (the curated table merged with any ClinicalTrials.gov exports in
``seeds/registry/``, see ``helpers.evidence.trials``) -> ``filter_trials()`` (disease, target,
statuses, snapshot date) -> counts. Nothing here reads a file.

Every count keeps the trials whose field is empty in a row (or column) labelled
``"not stated"``: an empty cell means the source did not state the fact, and it is shown,
never dropped or guessed. Multi-valued cells (``diseases``, ``targets``, ``countries``) count
a trial once under each of its values (a basket trial counts under each of its diseases).
Shares are ``k/n`` over the trials that state the field; the trials that do not are reported
next to them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.core.codes import (
    CELL_SOURCES,
    DISEASES,
    SPONSOR_TYPES,
    TARGETS,
    TRIAL_COLUMNS,
    TRIAL_PHASES,
    TRIAL_STATUSES,
)
from helpers.core.errors import ParameterError
from helpers.core.units import age_in_years
from helpers.synthesis.regions import REGIONS, region_of, trial_regions

NOT_STATED = "not stated"
ALL = "all"

# Targets drawn as their own line in the per-year figure; every other construct is "other targets".
MAIN_TARGETS = TARGETS.featured
OTHER_TARGETS = "other targets"

EXCLUSION_REASONS = (
    "started after the snapshot date",
    "disease not selected",
    "disease not stated",
    "target not selected",
    "target not stated",
    "status not selected",
    "status not stated",
)


# ---------------------------------------------------------------- cells


def split_cell(value: object) -> list[str]:
    """A ';'-list cell as its items (empty cell -> [])."""
    if value is None or pd.isna(value):
        return []
    return [item.strip() for item in str(value).split(";") if item.strip()]


def _stated(value: object) -> bool:
    return bool(split_cell(value))


def start_day(value: object) -> dt.date | None:
    """``2024-03-28`` -> that date; ``2024-03`` -> 2024-03-01 (month precision); else None."""
    if value is None or pd.isna(value):
        return None
    match = re.fullmatch(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?\s*", str(value))
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None


def start_year(value: object) -> int | None:
    """The year of a start date, or None when the date is missing or unreadable."""
    day = start_day(value)
    return None if day is None else day.year


def target_group(target: str) -> str:
    """A CAR construct as drawn in the per-year figure: the main targets, else 'other targets'."""
    return target if target in MAIN_TARGETS else OTHER_TARGETS


def phase_label(phase: str) -> str:
    """A registry phase code in words ('PHASE1/PHASE2' -> 'phase 1/2')."""
    return TRIAL_PHASES.label(phase)


# ---------------------------------------------------------------- selection


@dataclass(frozen=True)
class Selection:
    """The trials kept by the parameters, and every excluded trial with its reason."""

    trials: pd.DataFrame
    excluded: pd.DataFrame  # registry_id, reason
    disease: str = ALL
    target: str = ALL
    statuses: tuple[str, ...] = ()
    snapshot_date: str | None = None
    total: int = 0  # trials before filtering

    @property
    def label(self) -> str:
        """The parameters in words, e.g. 'disease SLE, target CD19, all statuses'."""
        parts = [
            "all diseases" if self.disease == ALL else f"disease {self.disease}",
            "all targets" if self.target == ALL else f"target {self.target}",
            "all statuses" if not self.statuses else "status " + ", ".join(self.statuses),
        ]
        return ", ".join(parts)

    def excluded_count(self, reason: str) -> int:
        """How many trials were excluded for this reason."""
        return int((self.excluded["reason"] == reason).sum())


def _check_snapshot(snapshot_date: str | None) -> dt.date | None:
    if snapshot_date is None:
        return None
    try:
        return dt.date.fromisoformat(str(snapshot_date))
    except ValueError:
        raise ParameterError(f"parameter 'snapshot_date' = {snapshot_date!r}: not a date; write YYYY-MM-DD") from None


def known_targets(trials: pd.DataFrame) -> list[str]:
    """Every CAR construct named in the table, sorted."""
    return sorted({t for cell in trials["targets"] for t in split_cell(cell)})


def filter_trials(
    trials: pd.DataFrame,
    disease: str = ALL,
    target: str = ALL,
    statuses: Sequence[str] = (),
    snapshot_date: str | None = None,
) -> Selection:
    """Keep the trials matching the parameters; every other trial is listed with one reason.

    * ``snapshot_date`` (YYYY-MM-DD): a trial whose start date is after it is excluded (a
      ``YYYY-MM`` start counts as the first of the month); trials without a start date are kept.
    * ``disease``: a code (SLE, SSc...) or "all"; a basket trial matches each of its diseases.
    * ``target``: a CAR construct exactly as in ``targets`` (case-insensitive: ``CD19`` does not
      match the dual ``CD19/BCMA``) or "all".
    * ``statuses``: ClinicalTrials.gov statuses; empty = all (trials without a status are kept).

    Reasons are checked in that order; the first that applies is recorded. The parameters are
    trusted: notebooks validate them first (``helpers.report.params``).
    """
    snapshot = _check_snapshot(snapshot_date)
    wanted_target = None if target == ALL else str(target).strip().upper()
    reasons = []
    for row in trials.itertuples(index=False):
        reasons.append(_reason(row, snapshot, disease, wanted_target, tuple(statuses)))
    reasons_s = pd.Series(reasons, index=trials.index, dtype=object)
    kept = trials.loc[reasons_s.isna()].sort_values("registry_id", kind="stable").reset_index(drop=True)
    excluded = pd.DataFrame(
        {
            "registry_id": trials.loc[reasons_s.notna(), "registry_id"].astype(str),
            "reason": reasons_s[reasons_s.notna()].astype(str),
        }
    )
    order = {r: i for i, r in enumerate(EXCLUSION_REASONS)}
    excluded = (
        excluded.assign(_o=excluded["reason"].map(order))
        .sort_values(["_o", "registry_id"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    return Selection(kept, excluded, disease, target, tuple(statuses), snapshot_date, total=len(trials))


def _reason(
    row: object, snapshot: dt.date | None, disease: str, target: str | None, statuses: tuple[str, ...]
) -> str | None:
    """The first exclusion reason that applies to a trial row, or None when it is kept."""
    return (
        _start_reason(row, snapshot)
        or _disease_reason(row, disease)
        or _target_reason(row, target)
        or _status_reason(row, statuses)
    )


def _start_reason(row: object, snapshot: dt.date | None) -> str | None:
    """The snapshot-date reason, or None (a trial without a start date is kept)."""
    start = start_day(row.start_date)
    if snapshot is not None and start is not None and start > snapshot:
        return "started after the snapshot date"
    return None


def _disease_reason(row: object, disease: str) -> str | None:
    """The disease reason when a disease is selected and the trial lacks it, else None."""
    if disease == ALL:
        return None
    codes = split_cell(row.diseases)
    if not codes:
        return "disease not stated"
    return None if disease in codes else "disease not selected"


def _target_reason(row: object, target: str | None) -> str | None:
    """The target reason when a target (upper case) is selected and the trial lacks it, else None."""
    if target is None:
        return None
    items = [t.upper() for t in split_cell(row.targets)]
    if not items:
        return "target not stated"
    return None if target in items else "target not selected"


def _status_reason(row: object, statuses: tuple[str, ...]) -> str | None:
    """The status reason when statuses are selected and the trial's is missing or not among them, else None."""
    if not statuses:
        return None
    if not _stated(row.status):
        return "status not stated"
    return None if str(row.status) in statuses else "status not selected"


def select(trials: pd.DataFrame, params: object) -> Selection:
    """``filter_trials`` with a validated ``TrialParams``."""
    return filter_trials(trials, params.disease, params.target, params.statuses, params.snapshot_date)


def exclusion_table(selection: Selection) -> pd.DataFrame:
    """How many trials each parameter left out (reason, trials, registry ids), plus the kept total."""
    rows = []
    for reason in EXCLUSION_REASONS:
        ids = selection.excluded.loc[selection.excluded["reason"] == reason, "registry_id"].tolist()
        if ids:
            rows.append((reason, len(ids), "; ".join(ids)))
    rows.append(("kept in this landscape", len(selection.trials), "—"))
    return pd.DataFrame(rows, columns=["outcome", "trials", "registry ids"])


# ---------------------------------------------------------------- counts


def _value_counts(trials: pd.DataFrame, column: str, multi: bool = False) -> tuple[dict[str, int], int]:
    """(value -> trials, trials with the cell empty). A trial counts once per distinct value."""
    counts: dict[str, int] = {}
    not_stated = 0
    for cell in trials[column]:
        items = split_cell(cell) if multi else ([str(cell).strip()] if _stated(cell) else [])
        if not items:
            not_stated += 1
        for item in dict.fromkeys(items):
            counts[item] = counts.get(item, 0) + 1
    return counts, not_stated


def _ordered(counts: dict[str, int], order: Sequence[str] = (), keep_zero: bool = False) -> list[tuple[str, int]]:
    """Known values in their order (zeros too when keep_zero), then the rest by count desc, name."""
    head = [(v, counts.get(v, 0)) for v in order if keep_zero or counts.get(v, 0)]
    rest = sorted(((v, n) for v, n in counts.items() if v not in order), key=lambda x: (-x[1], x[0]))
    return head + rest


def _table(pairs: list[tuple[str, int]], not_stated: int, label: str, total: int) -> pd.DataFrame:
    rows = [*pairs, (NOT_STATED, not_stated)]
    frame = pd.DataFrame(rows, columns=[label, "trials"])
    frame["trials"] = frame["trials"].astype(int)
    frame["share of all trials"] = [round(n / total, 3) if total else 0.0 for n in frame["trials"]]
    return frame


def target_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials per CAR construct (a trial testing two products counts under each), + not stated."""
    counts, missing = _value_counts(trials, "targets", multi=True)
    return _table(_ordered(counts), missing, "target", len(trials))


def disease_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials per disease (a basket trial counts under each of its diseases), + not stated."""
    counts, missing = _value_counts(trials, "diseases", multi=True)
    return _table(_ordered(counts, DISEASES.codes), missing, "disease", len(trials))


def basket_trials(trials: pd.DataFrame) -> int:
    """Trials that enrol two or more of the disease codes."""
    return int(sum(len(set(split_cell(c))) >= 2 for c in trials["diseases"]))


def phase_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials per registered phase (every standard phase, zeros included), + not stated."""
    counts, missing = _value_counts(trials, "phase")
    pairs = _ordered(counts, TRIAL_PHASES.codes, keep_zero=True)
    frame = _table(pairs, missing, "phase", len(trials))
    frame.insert(1, "label", [phase_label(p) if p != NOT_STATED else NOT_STATED for p in frame["phase"]])
    return frame


def status_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials per registry status, + not stated."""
    counts, missing = _value_counts(trials, "status")
    return _table(_ordered(counts, TRIAL_STATUSES.codes), missing, "status", len(trials))


def country_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials with a site in each country (a multi-country trial counts under each), + not stated."""
    counts, missing = _value_counts(trials, "countries", multi=True)
    frame = _table(_ordered(counts), missing, "country", len(trials))
    frame.insert(1, "region", [region_of(c) if c != NOT_STATED else NOT_STATED for c in frame["country"]])
    return frame


def region_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials with a site in each region (multi-region trials count in each), + not stated.

    Column ``only this region`` counts the trials whose sites are all in that region.
    """
    per_trial = [trial_regions(c) for c in trials["countries"]]
    rows = []
    for region in REGIONS:
        rows.append((region, sum(region in r for r in per_trial), sum(r == [region] for r in per_trial)))
    rows.append((NOT_STATED, sum(not r for r in per_trial), 0))
    frame = pd.DataFrame(rows, columns=["region", "trials", "only this region"])
    frame["share of all trials"] = [round(n / len(trials), 3) if len(trials) else 0.0 for n in frame["trials"]]
    return frame


def _target_order(trials: pd.DataFrame) -> list[str]:
    counts, _ = _value_counts(trials, "targets", multi=True)
    return [t for t, _ in _ordered(counts)]


def disease_target_matrix(trials: pd.DataFrame) -> pd.DataFrame:
    """Diseases (rows) x CAR constructs (columns): trials in each cell; 'not stated' row and column.

    A basket trial is counted under each of its diseases, a trial testing two products under
    each target, so cells add up to more than the number of trials.
    """
    diseases = [d for d in DISEASES if any(d in split_cell(c) for c in trials["diseases"])] + [NOT_STATED]
    targets = _target_order(trials) + [NOT_STATED]
    matrix = pd.DataFrame(0, index=pd.Index(diseases, name="disease"), columns=targets, dtype=int)
    for d_cell, t_cell in zip(trials["diseases"], trials["targets"], strict=True):
        for d in dict.fromkeys(split_cell(d_cell) or [NOT_STATED]):
            if d not in matrix.index:  # an unknown code from an export
                matrix.loc[d] = 0
            for t in dict.fromkeys(split_cell(t_cell) or [NOT_STATED]):
                matrix.loc[d, t] += 1
    matrix.columns.name = "target"
    return matrix


def year_labels(trials: pd.DataFrame) -> list[str]:
    """Every calendar year from the first to the last start year (as text), no gaps."""
    years = sorted({y for y in (start_year(v) for v in trials["start_date"]) if y is not None})
    return [str(y) for y in range(years[0], years[-1] + 1)] if years else []


def cumulative_starts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials started up to and including each year, per target group (CD19, CD19/BCMA, BCMA,
    other targets, target not stated) and for all trials (each trial once).

    The last row, ``start year`` = 'not stated', holds the trials with no start date (not cumulative).
    """
    groups = [*MAIN_TARGETS, OTHER_TARGETS, f"target {NOT_STATED}"]
    years = year_labels(trials)
    started = pd.DataFrame(0, index=[*years, NOT_STATED], columns=[*groups, "all trials"], dtype=int)
    for date, cell in zip(trials["start_date"], trials["targets"], strict=True):
        year = start_year(date)
        row = NOT_STATED if year is None else str(year)
        members = {target_group(t) for t in split_cell(cell)} or {f"target {NOT_STATED}"}
        for g in members:
            started.loc[row, g] += 1
        started.loc[row, "all trials"] += 1
    cumulative = started.loc[years].cumsum()
    frame = pd.concat([cumulative, started.loc[[NOT_STATED]]])
    frame.index.name = "start year"
    return frame.reset_index()


def starts_per_year(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials started in each year (not cumulative), all targets; last row = start date not stated."""
    years = year_labels(trials)
    per = {y: 0 for y in [*years, NOT_STATED]}
    for date in trials["start_date"]:
        year = start_year(date)
        per[NOT_STATED if year is None else str(year)] += 1
    return pd.DataFrame(list(per.items()), columns=["start year", "trials started"])


def cell_source_by_year(trials: pd.DataFrame) -> pd.DataFrame:
    """Autologous / allogeneic / source not stated, per start year; last row = start date not stated."""
    cols = [*CELL_SOURCES.codes, NOT_STATED]
    years = year_labels(trials)
    table = pd.DataFrame(0, index=[*years, NOT_STATED], columns=cols, dtype=int)
    for date, source in zip(trials["start_date"], trials["cell_source"], strict=True):
        year = start_year(date)
        src = str(source) if _stated(source) and str(source) in CELL_SOURCES else NOT_STATED
        table.loc[NOT_STATED if year is None else str(year), src] += 1
    table["all"] = table.sum(axis=1)
    table.index.name = "start year"
    return table.reset_index()


def cell_source_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials per cell source (autologous, allogeneic; zeros included), + not stated."""
    counts, missing = _value_counts(trials, "cell_source")
    return _table(_ordered(counts, CELL_SOURCES.codes, keep_zero=True), missing, "cell source", len(trials))


def cell_type_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials per cell type, + not stated."""
    counts, missing = _value_counts(trials, "cell_type")
    return _table(_ordered(counts), missing, "cell type", len(trials))


@dataclass(frozen=True)
class Share:
    """k of n trials (n = trials that state the field); ``not_stated`` trials are outside n."""

    k: int
    n: int
    not_stated: int

    @property
    def share(self) -> float | None:
        """k/n, or None when no trial states the field."""
        return self.k / self.n if self.n else None


def min_age_years(value: object) -> float | None:
    """A registry minimum age in years, or None when it is missing or unreadable."""
    if value is None or pd.isna(value):
        return None
    return age_in_years(str(value))


def paediatric_share(trials: pd.DataFrame) -> Share:
    """Trials open to children (minimum age < 18 years) of the trials whose minimum age is stated."""
    ages = [min_age_years(v) for v in trials["min_age"]]
    known = [a for a in ages if a is not None]
    return Share(k=sum(a < 18 for a in known), n=len(known), not_stated=len(ages) - len(known))


def paediatric_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Open to children / adults only / minimum age not stated (with how many of those carry a
    paediatric flag from the registry's age groups anyway)."""
    share = paediatric_share(trials)
    no_age_mask = [min_age_years(v) is None for v in trials["min_age"]]
    no_age = trials.loc[pd.Series(no_age_mask, index=trials.index, dtype=bool)]
    flagged = int(no_age["paediatric_eligible"].notna().sum())
    rows = [
        ("open to children (minimum age < 18 years)", share.k),
        ("adults only (minimum age >= 18 years)", share.n - share.k),
        (f"minimum age {NOT_STATED}", share.not_stated),
    ]
    frame = pd.DataFrame(rows, columns=["eligibility", "trials"])
    note = f"{flagged} of these carry a paediatric flag without a minimum age" if flagged else "—"
    frame["note"] = ["—", "—", note]
    return frame


def paediatric_min_ages(trials: pd.DataFrame) -> pd.DataFrame:
    """Registered minimum ages of the trials open to children, youngest first."""
    rows = sorted((min_age_years(a), str(a)) for a in trials["min_age"] if (min_age_years(a) or 99) < 18)
    counts: dict[str, int] = {}
    for _, label in rows:
        counts[label] = counts.get(label, 0) + 1
    return pd.DataFrame(list(counts.items()), columns=["minimum age", "trials"])


def sponsor_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Industry vs academic lead sponsors, + not stated."""
    counts, missing = _value_counts(trials, "sponsor_type")
    return _table(_ordered(counts, SPONSOR_TYPES.codes, keep_zero=True), missing, "sponsor type", len(trials))


def field_completeness(
    trials: pd.DataFrame, columns: Iterable[str] = TRIAL_COLUMNS, status: pd.DataFrame | None = None
) -> pd.DataFrame:
    """For each column: trials that state it and trials that do not, thinnest first.

    With ``status`` (the curated table's cell statuses, indexed by registry_id) the trials that do
    not state a field are split into *not reported* (the record was read and does not say) and
    *not checked*; a trial added from a registry export counts as read.
    """
    rows = []
    ids = list(trials["registry_id"])
    for column in columns:
        stated = int(sum(_stated(v) for v in trials[column]))
        row = {"field": column, "stated": stated, NOT_STATED: len(trials) - stated}
        if status is not None:
            words = status[column].reindex(ids).fillna("not reported") if column in status else None
            missing = (
                [w for w, v in zip(words, trials[column], strict=True) if not _stated(v)] if words is not None else []
            )
            row["not reported"] = sum(w != "not checked" for w in missing)  # read: not stated, or not applicable
            row["not checked"] = sum(w == "not checked" for w in missing)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["share stated"] = [round(s / len(trials), 3) if len(trials) else 0.0 for s in frame["stated"]]
    return frame.sort_values(["stated", "field"], kind="stable").reset_index(drop=True)


def tier_counts(trials: pd.DataFrame) -> dict[str, int]:
    """Trials whose facts rest on a primary source (registry record, congress abstract) vs secondary only."""
    tiers = trials["tier"].fillna("secondary") if "tier" in trials else pd.Series("secondary", index=trials.index)
    return {"primary": int((tiers == "primary").sum()), "secondary": int((tiers != "primary").sum())}


# ---------------------------------------------------------------- published comparators

# How this snapshot computes each published measure: (column, test on the cell, words).
MEASURES = {
    "phase_1": ("phase", lambda v: str(v) in ("EARLY_PHASE1", "PHASE1"), "phase 1 incl. early phase 1 (not phase 1/2)"),
    "phase_2": ("phase", lambda v: str(v) == "PHASE2", "phase 2 (not phase 1/2)"),
    "country_china": ("countries", lambda v: "China" in split_cell(v), "a site in China"),
    "country_us": ("countries", lambda v: "United States" in split_cell(v), "a site in the United States"),
    "country_china_and_us": (
        "countries",
        lambda v: {"China", "United States"} <= set(split_cell(v)),
        "sites in both China and the United States",
    ),
}


def measure_share(trials: pd.DataFrame, measure: str) -> Share | None:
    """This snapshot's k/n for a published measure (n = trials stating the field); None if not computable."""
    if measure not in MEASURES:
        return None
    column, test, _ = MEASURES[measure]
    stated = [v for v in trials[column] if _stated(v)]
    return Share(k=sum(bool(test(v)) for v in stated), n=len(stated), not_stated=len(trials) - len(stated))


def compare_with_published(trials: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Each published share next to this snapshot's (over trials stating the field), with a
    Wilson 95% CI for ours and the difference in percentage points; measures trials.csv
    cannot compute are kept with empty values and the reason."""
    from helpers.synthesis.proportions import wilson_ci

    rows = []
    for rec in published.itertuples(index=False):
        ours = measure_share(trials, rec.measure)
        base = {
            "source": rec.short_citation,
            "measure": rec.measure,
            "label": rec.label,
            "published k": int(rec.k),
            "published n": int(rec.n),
            "published share": round(rec.k / rec.n, 3),
        }
        if ours is None or not ours.n:
            why = rec.note if ours is None else "no trial in this selection states the field"
            rows.append(
                {
                    **base,
                    "this snapshot k": pd.NA,
                    "this snapshot n": pd.NA,
                    "not stated": pd.NA,
                    "this snapshot share": pd.NA,
                    "ci low": pd.NA,
                    "ci high": pd.NA,
                    "difference (points)": pd.NA,
                    "how counted here": why,
                }
            )
            continue
        low, high = wilson_ci(ours.k, ours.n)
        rows.append(
            {
                **base,
                "this snapshot k": ours.k,
                "this snapshot n": ours.n,
                "not stated": ours.not_stated,
                "this snapshot share": round(ours.share, 3),
                "ci low": round(low, 3),
                "ci high": round(high, 3),
                "difference (points)": round(100 * (ours.share - rec.k / rec.n), 1),
                "how counted here": MEASURES[rec.measure][2],
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- narrative


def _named_counts(table: pd.DataFrame, label: str, limit: int | None = None, min_n: int = 1) -> list[dict]:
    """Stated values with at least min_n trials, most frequent first (ties by name)."""
    stated = table[(table[label] != NOT_STATED) & (table["trials"] >= min_n)]
    pairs = sorted(
        ((str(v), int(n)) for v, n in zip(stated[label], stated["trials"], strict=True)), key=lambda x: (-x[1], x[0])
    )
    return [{"name": v, "n": n} for v, n in pairs[:limit]]


def _not_stated(table: pd.DataFrame, label: str) -> int:
    return int(table.loc[table[label] == NOT_STATED, "trials"].sum())


def narrative_context(
    selection: Selection, audit: pd.DataFrame | None = None, published: pd.DataFrame | None = None
) -> dict:
    """Every value the landscape narrative states, computed from the selected trials."""
    trials = selection.trials
    n = len(trials)
    added_ids = set() if audit is None or audit.empty else set(audit.loc[audit["change"] == "added", "registry_id"])
    targets = target_counts(trials)
    diseases = disease_counts(trials)
    phases = phase_counts(trials)
    countries = country_counts(trials)
    sponsors = sponsor_counts(trials)
    sources = cell_source_counts(trials)
    paed = paediatric_share(trials)
    phase_stated = int(phases.loc[phases["phase"] != NOT_STATED, "trials"].sum())
    early = int(phases.loc[phases["phase"].isin(["EARLY_PHASE1", "PHASE1"]), "trials"].sum())
    source = published if published is not None else pd.DataFrame(columns=["short_citation", "n"])
    comparison = compare_with_published(trials, source) if n else pd.DataFrame()
    compared = []
    for _, rec in comparison.iterrows():
        if pd.isna(rec["this snapshot n"]):
            continue
        compared.append(
            {
                "label": rec["label"],
                "pk": int(rec["published k"]),
                "pn": int(rec["published n"]),
                "k": int(rec["this snapshot k"]),
                "n": int(rec["this snapshot n"]),
            }
        )
    return {
        "n": n,
        "total": selection.total,
        "selection": selection.label,
        "filtered": selection.disease != ALL or selection.target != ALL or bool(selection.statuses),
        "snapshot_date": selection.snapshot_date or "",
        "after_snapshot": selection.excluded_count("started after the snapshot date"),
        "n_added": len(added_ids & set(trials["registry_id"].astype(str))),
        "targets": _named_counts(targets, "target", 4),
        "n_target_kinds": len(_named_counts(targets, "target")),
        "target_not_stated": _not_stated(targets, "target"),
        "diseases": _named_counts(diseases, "disease", 5),
        "disease_not_stated": _not_stated(diseases, "disease"),
        "baskets": basket_trials(trials),
        "phase_stated": phase_stated,
        "phase_early": early,
        "phase_not_stated": _not_stated(phases, "phase"),
        "phase_later": int(phases.loc[phases["phase"].isin(["PHASE2", "PHASE3"]), "trials"].sum()),
        "country_stated": n - _not_stated(countries, "country"),
        "countries": _named_counts(countries, "country", 4, min_n=2) or _named_counts(countries, "country", 3),
        "n_countries": len(_named_counts(countries, "country")),
        "paed_k": paed.k,
        "paed_n": paed.n,
        "paed_not_stated": paed.not_stated,
        "industry": int(sponsors.loc[sponsors["sponsor type"] == "industry", "trials"].sum()),
        "academic": int(sponsors.loc[sponsors["sponsor type"] == "academic", "trials"].sum()),
        "sponsor_not_stated": _not_stated(sponsors, "sponsor type"),
        "autologous": int(sources.loc[sources["cell source"] == "autologous", "trials"].sum()),
        "allogeneic": int(sources.loc[sources["cell source"] == "allogeneic", "trials"].sum()),
        "source_not_stated": _not_stated(sources, "cell source"),
        "start_not_stated": sum(start_year(v) is None for v in trials["start_date"]),
        "compared": compared,
        "published_citation": str(source["short_citation"].iloc[0]) if len(source) else "",
        "published_n": int(source["n"].iloc[0]) if len(source) else 0,
    }
