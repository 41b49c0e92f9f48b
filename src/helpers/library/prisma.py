"""PRISMA 2020 flow counts (template for new reviews) from the library, its manifest and the screening decisions.

Two columns, as in the template: *databases and registers* (the export files of database searches)
and *other methods* (websites, citation searching...; the files or source labels the caller names).

- **Identified**: per source label (the file name unless ``sources`` maps it), the records the library
  holds plus the records the manifest lists as unreadable. Nothing read is left out of a count.
- **Removed before screening**: duplicates (records minus distinct works among the records that are not
  withdrawn), withdrawn or retracted records (a ``DeleteCitation`` named them), unreadable records (one
  per manifest error row, with its file and reason). A work found in both columns is screened in the
  databases column; its other-methods records count there as duplicates.
- **Screening onwards** comes from the decisions (``record_id`` or ``cluster_id``, ``decision``,
  ``reason``, ``by``, ``date``; the latest decision per work wins). A record-exclusion reason is a record
  excluded on title and abstract; a report-exclusion reason is a report read in full (``not_retrieved``:
  a report not retrieved); include and maybe are reports sought and assessed (maybe: awaiting a decision).
  Without decisions the screening boxes hold ``None`` ("not yet screened"), never 0.

Every count is checked (a non-negative whole number) and the flow must add up; a count that is
malformed or does not add up becomes a :class:`Problem` naming the box, where it came from and what to
do, and that box is marked unreliable; the counts are still returned so the flow can be drawn.
"""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.core.codes import (
    PRISMA_BOXES,
    PRISMA_COLUMNS,
    PRISMA_REMOVALS,
    RECORD_EXCLUSIONS,
    REPORT_EXCLUSIONS,
    SCREENING_DECISIONS,
)
from helpers.core.errors import HelpersError, IngestError
from helpers.core.paths import display_path

Tally = tuple[tuple[str, int], ...]  # (label or reason code, n) in a fixed order
DATABASES, OTHER = PRISMA_COLUMNS.codes
SHARED = ""  # the column of the boxes both columns flow into (studies and reports included)
NOT_SCREENED = "not yet screened"
NOT_RETRIEVED = "not_retrieved"
NO_REASON = "no reason given"
LIBRARY_COLUMNS = ("source_file", "source_index", "cluster_id", "withdrawn")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FlowError(HelpersError):
    """The PRISMA counts are unreliable (raised only on request, by :meth:`PrismaCounts.raise_if_unreliable`)."""


@dataclass(frozen=True)
class Problem:
    """A count that is malformed or does not add up: the box it makes unreliable, where, and what to do."""

    column: str  # a PRISMA column code, or SHARED
    box: str  # a PRISMA box code
    where: str
    message: str

    def __str__(self) -> str:
        column = PRISMA_COLUMNS.label(self.column) if self.column else "included"
        return f"{self.where}: {self.message} [{PRISMA_BOXES.label(self.box)}, {column}]"


def _box(code: str) -> dict:
    return {"box": code}


@dataclass(frozen=True)
class FlowColumn:
    """The boxes of one column; ``None`` where the count is not known yet (not yet screened)."""

    identified: Tally = field(default=(), metadata=_box("identified"))  # (source label, records)
    duplicates: int | None = field(default=0, metadata=_box("removed"))
    withdrawn: int | None = field(default=0, metadata=_box("removed"))
    unreadable: Tally = field(default=(), metadata=_box("removed"))  # (file: reason, records)
    screened: int | None = field(default=None, metadata=_box("screened"))
    awaiting_screening: int | None = field(default=None, metadata=_box("screened"))
    excluded: Tally | None = field(default=None, metadata=_box("excluded"))  # (reason code, records)
    sought: int | None = field(default=None, metadata=_box("sought"))
    not_retrieved: int | None = field(default=None, metadata=_box("not_retrieved"))
    assessed: int | None = field(default=None, metadata=_box("assessed"))
    awaiting_assessment: int | None = field(default=None, metadata=_box("assessed"))
    reports_excluded: Tally | None = field(default=None, metadata=_box("reports_excluded"))  # (reason code, reports)
    included: int | None = field(default=None, metadata=_box("included"))  # reports included from this column

    @property
    def records(self) -> int:
        """Records identified in this column (all sources)."""
        return sum(n for _, n in self.identified)

    @property
    def removed(self) -> int:
        """Records removed before screening."""
        return (self.duplicates or 0) + (self.withdrawn or 0) + sum(n for _, n in self.unreadable)

    @property
    def excluded_total(self) -> int | None:
        """Records excluded at screening (None: not yet screened)."""
        return None if self.excluded is None else sum(n for _, n in self.excluded)

    @property
    def reports_excluded_total(self) -> int | None:
        """Reports excluded after reading them in full (None: not yet screened)."""
        return None if self.reports_excluded is None else sum(n for _, n in self.reports_excluded)


@dataclass(frozen=True)
class PrismaCounts:
    """The PRISMA 2020 flow: both columns, the studies and reports included, and what is unreliable."""

    databases: FlowColumn
    other: FlowColumn = FlowColumn()
    studies: int | None = None  # studies included in the review
    reports: int | None = None  # reports of included studies
    screened_yet: bool = False
    files: tuple[tuple[str, str, str, str], ...] = ()  # (source label, file, status, reason): files with no records
    problems: tuple[Problem, ...] = ()

    def column(self, code: str) -> FlowColumn:
        """The column by its code (``databases`` or ``other``)."""
        return self.databases if code == DATABASES else self.other

    @property
    def unreliable(self) -> frozenset[tuple[str, str]]:
        """(column, box) of every box a problem makes unreliable."""
        return frozenset((p.column, p.box) for p in self.problems)

    def is_unreliable(self, box: str, column: str | None = None) -> bool:
        """Whether a box (in a column, or in any column) is unreliable."""
        return any(p.box == box and (column is None or p.column == column) for p in self.problems)

    def raise_if_unreliable(self) -> None:
        """Raise :class:`FlowError` listing every problem (for builds that must not publish a broken flow)."""
        if self.problems:
            raise FlowError("the PRISMA counts are unreliable:\n" + "\n".join(f"- {p}" for p in self.problems))


# ---------------------------------------------------------------- validation


def malformed(value: object) -> str | None:
    """Why value is not a count (a whole number of 0 or more), or None when it is one."""
    if isinstance(value, bool):
        return f"{value!r} is yes/no, not a number"
    if isinstance(value, numbers.Integral):
        return None if int(value) >= 0 else f"{int(value)} is negative"
    if isinstance(value, float) and math.isnan(value):
        return "it is missing (NaN)"
    if isinstance(value, numbers.Real):
        return f"{value!r} is not a whole number"
    return f"{value!r} is {type(value).__name__}, not a number"


def _whole(text: object) -> int | None:
    """A count read from text ('12' -> 12), or None when it is not a whole number of 0 or more."""
    if isinstance(text, str) and text.strip().isdigit():
        return int(text.strip())
    return int(text) if malformed(text) is None else None


def _field_problems(column: str, flow: FlowColumn) -> list[Problem]:
    found = []
    for f in fields(flow):
        value, box = getattr(flow, f.name), f.metadata["box"]
        where = f"{column}.{f.name}"
        if value is None:
            continue
        if isinstance(value, tuple):
            for item in value:
                if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                    found.append(Problem(column, box, where, f"{item!r} is not a (label, count) pair"))
                elif why := malformed(item[1]):
                    found.append(Problem(column, box, where, f"the count of {item[0]!r}: {why}"))
        elif why := malformed(value):
            found.append(Problem(column, box, where, why))
    return found


def _sums(column: str, c: FlowColumn) -> list[Problem]:
    """The flow must add up: each box is what the box above passed on."""
    found = []

    def check(box: str, left: int, right: int, rule: str) -> None:
        if left != right:
            found.append(Problem(column, box, f"{column} flow", f"{rule} ({left:,} ≠ {right:,})"))

    to_screen = c.records - c.removed
    if to_screen < 0:
        found.append(
            Problem(column, "removed", f"{column} flow", f"more records removed ({c.removed:,}) than identified")
        )
    if column == DATABASES:
        if c.awaiting_screening is not None:
            check(
                "screened",
                (c.screened or 0) + c.awaiting_screening,
                to_screen,
                "records screened + awaiting screening should be records identified − removed",
            )
        if None not in (c.screened, c.excluded_total, c.sought):
            check(
                "sought",
                c.excluded_total + c.sought,
                c.screened,
                "records excluded + reports sought should be screened",
            )
    elif c.sought is not None:
        check("sought", c.sought, to_screen, "reports sought should be records identified − removed")
    if None not in (c.sought, c.not_retrieved, c.assessed):
        check("assessed", c.sought - c.not_retrieved, c.assessed, "reports sought − not retrieved should be assessed")
    parts = (c.assessed, c.reports_excluded_total, c.included, c.awaiting_assessment)
    if None not in parts:
        check(
            "reports_excluded",
            parts[1] + parts[2] + parts[3],
            parts[0],
            "reports excluded + included + awaiting a decision should be reports assessed",
        )
    return found


def _included_problems(counts: PrismaCounts) -> list[Problem]:
    """Reports included cover the works decided include; studies are no more than their reports."""
    found = []
    flowed = sum(counts.column(c).included or 0 for c in PRISMA_COLUMNS.codes)
    if counts.reports < flowed:
        message = (
            f"{counts.reports:,} reports of included studies, but {flowed:,} records were decided include; "
            "update the evidence tables or the decisions"
        )
        found.append(Problem(SHARED, "included", "reports included", message))
    if counts.studies is not None and counts.studies > counts.reports:
        message = f"{counts.studies:,} studies from {counts.reports:,} reports; a study has at least one report"
        found.append(Problem(SHARED, "included", "studies included", message))
    return found


def check_flow(counts: PrismaCounts) -> tuple[Problem, ...]:
    """Every count a non-negative whole number, and the flow adds up; the problems found (empty when sound)."""
    found: list[Problem] = []
    for code in PRISMA_COLUMNS.codes:
        bad = _field_problems(code, counts.column(code))
        found += bad or _sums(code, counts.column(code))  # sums over malformed counts would only repeat them
    for name in ("studies", "reports"):
        value = getattr(counts, name)
        if value is not None and (why := malformed(value)):
            found.append(Problem(SHARED, "included", f"{name} included", why))
    if counts.reports is not None and not any(p.box == "included" for p in found):
        found += _included_problems(counts)
    return tuple(found)


# ---------------------------------------------------------------- reading the library


def manifest_path(library: Path) -> Path:
    """``LIB.manifest.csv`` beside ``LIB.parquet``."""
    return library.with_name(library.name.removesuffix(".parquet") + ".manifest.csv")


def read_library(library: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(library rows: source_file, source_index, cluster_id, withdrawn; manifest rows as text) of a built library."""
    path = Path(library)
    hint = "build it with `python -m helpers library EXPORTS... --out LIB.parquet`"
    if not path.exists():
        raise IngestError(f"{display_path(path)}: no library here; {hint}")
    manifest = manifest_path(path)
    if not manifest.exists():
        raise IngestError(f"{display_path(manifest)}: the library's manifest is missing; {hint}")
    try:
        table = pq.read_table(path, columns=list(LIBRARY_COLUMNS))
        rows = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    except (pa.ArrowException, OSError, ValueError, KeyError) as exc:
        raise IngestError(f"{display_path(path)}: the library cannot be read ({exc}); {hint}") from None
    missing = [c for c in ("source_file", "source_index", "status", "records", "reason") if c not in rows.columns]
    if missing:
        raise IngestError(f"{display_path(manifest)}: no column {', '.join(missing)}; {hint}")
    return table.to_pandas(), rows


def included_counts(reports: pd.DataFrame) -> tuple[int, int]:
    """(studies, reports) of the included reports: reports sharing an ``overlap_group`` are one study."""
    groups = reports.get("overlap_group", pd.Series([None] * len(reports), index=reports.index))
    named = groups.dropna().astype(str).str.strip()
    named = named[(named != "") & (named.str.casefold() != "not applicable")]
    return named.nunique() + (len(reports) - len(named)), len(reports)


# ---------------------------------------------------------------- counting


@dataclass
class _Sources:
    """Each file's label and column, in first-seen order."""

    sources: Mapping[str, str]
    other_methods: Collection[str]
    order: dict[str, str] = field(default_factory=dict)

    def label(self, file: str) -> str:
        return self.order.setdefault(file, self.sources.get(file, file))

    def column(self, file: str) -> str:
        return OTHER if file in self.other_methods or self.label(file) in self.other_methods else DATABASES


def _file_row(row: object, held: int) -> tuple[bool, list[str]]:
    """(the file gave no records, what is wrong) of one manifest file row."""
    status, reason, wrong = str(row.status), str(row.reason), []
    n = _whole(row.records)
    if n is None:
        wrong.append(f"records is {row.records!r}, not a whole number; rebuild the library")
    elif n != held:
        wrong.append(f"the manifest counts {n:,} records, the library holds {held:,}; rebuild the library")
    if status == "error":
        wrong.append(f"the file could not be read ({reason}); its records are not counted; fix or re-export it")
    elif status != "skipped" and not status.startswith("parsed"):
        wrong.append(f"unknown status {status!r}; rebuild the library")
    return status in ("skipped", "error"), wrong


def _manifest(
    rows: pd.DataFrame, held: Mapping[str, int], src: _Sources, where: str
) -> tuple[Counter, dict[str, str], list[tuple[str, str, str, str]], list[Problem]]:
    """(unreadable records per file, the first reason per file, files that gave no records, problems)."""
    unreadable: Counter = Counter()
    reasons: dict[str, str] = {}
    empty, problems, listed = [], [], set()
    for i, row in enumerate(rows.itertuples(index=False), start=2):  # line 1 is the header
        file = str(row.source_file)
        src.label(file)
        if str(row.source_index).strip():  # a record that could not be read
            unreadable[file] += 1
            reasons.setdefault(file, str(row.reason) or str(row.status))
            continue
        listed.add(file)
        gave_nothing, wrong = _file_row(row, held.get(file, 0))
        if gave_nothing:
            empty.append((src.label(file), file, str(row.status), str(row.reason)))
        problems += [Problem(src.column(file), "identified", f"{where}, line {i} ({file})", w) for w in wrong]
    for file in sorted(set(held) - listed):
        message = f"{file} is in the library but not in its manifest; rebuild the library"
        problems.append(Problem(src.column(file), "identified", where, message))
    return unreadable, reasons, empty, problems


def _cluster_ids(records: pd.DataFrame, where: str) -> tuple[pd.Series, list[Problem]]:
    ids = records["cluster_id"]
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if not blank.any():
        return ids.astype(str), []
    own = records["source_file"].astype(str) + "#" + records["source_index"].astype(str)
    message = (
        f"{int(blank.sum()):,} record(s) have no cluster_id (each counted as its own work, so duplicates may be "
        "undercounted); rebuild the library"
    )
    problem = Problem(DATABASES, "removed", where, message)
    return ids.astype(str).where(~blank, own), [problem]


def _ordered(tally: Counter, codes: Iterable[str]) -> Tally:
    """Known codes in code-set order, then anything else alphabetically (kept, never dropped)."""
    known = [c for c in codes if tally.get(c)]
    return tuple((c, int(tally[c])) for c in known + sorted(set(tally) - set(known)))


def _decision_row(
    row: Mapping, id_column: str, cluster_of: Mapping[str, str], removed: Collection[str]
) -> tuple[str, str, str, str, list[tuple[str, str]]]:
    """(cluster id, decision, reason, date, [(box, message)]) of one decisions row; an empty id: not usable."""
    key = "" if pd.isna(row[id_column]) else str(row[id_column]).strip()
    decision = SCREENING_DECISIONS.canonical(str(row["decision"])) if pd.notna(row["decision"]) else None
    reason = "" if pd.isna(row.get("reason")) else str(row.get("reason", "")).strip()
    date = "" if pd.isna(row.get("date")) else str(row.get("date", "")).strip()
    if key not in cluster_of:
        return "", "", "", "", [("screened", f"record id {key!r} is not in the library; give a cluster_id or FILE#N")]
    if cluster_of[key] in removed:
        return "", "", "", "", [("screened", f"record {key!r} was removed before screening (withdrawn); not counted")]
    if decision is None:
        choices = SCREENING_DECISIONS.listing()
        return "", "", "", "", [("screened", f"decision {row['decision']!r} is not one of {choices}; not counted")]
    notes = []
    if date and not DATE_RE.fullmatch(date):
        notes.append(("screened", f"date {date!r} is not YYYY-MM-DD; the row counts in file order"))
        date = ""
    if decision == "exclude" and reason not in RECORD_EXCLUSIONS and reason not in REPORT_EXCLUSIONS:
        what = "no reason" if not reason else f"reason {reason!r}, which is not in the fixed list"
        choices = f"{RECORD_EXCLUSIONS.listing()}, {REPORT_EXCLUSIONS.listing()}"
        notes.append(("excluded", f"an exclusion with {what} (counted as such); use one of {choices}"))
        reason = reason or NO_REASON
    return cluster_of[key], decision, reason, date, notes


def latest_decisions(
    decisions: pd.DataFrame,
    cluster_of: Mapping[str, str],
    removed: Collection[str] = (),
    where: str = "decisions",
    column_of: Mapping[str, str] | None = None,
) -> tuple[dict[str, tuple[str, str]], list[Problem]]:
    """The latest usable decision per work: cluster id -> (decision, reason); and the rows that could not be used.

    ``cluster_of`` maps every id a decision may name (cluster ids, ``FILE#N`` record keys) to its cluster;
    a row dated earlier than the work's current decision does not overturn it, otherwise the later row wins."""
    id_column = next((c for c in ("record_id", "cluster_id") if c in decisions.columns), None)
    if id_column is None or "decision" not in decisions.columns:
        message = "needs a record_id (or cluster_id) and a decision column; no decision was counted"
        return {}, [Problem(DATABASES, "screened", where, message)]
    problems: list[Problem] = []
    latest: dict[str, tuple[str, str, str]] = {}
    for i, row in enumerate(decisions.to_dict("records"), start=1):
        cid, decision, reason, date, notes = _decision_row(row, id_column, cluster_of, removed)
        column = (column_of or {}).get(cid, DATABASES)
        for box, message in notes:
            box = box if column == DATABASES or box != "excluded" else "reports_excluded"
            problems.append(Problem(column, box, f"{where}, row {i}", message))
        if not cid:
            continue
        before = latest.get(cid, ("", "", ""))[2]
        if not (date and before and date < before):  # an older decision listed later does not overturn a newer one
            latest[cid] = (decision, reason, date or before)
    return {cid: (d, r) for cid, (d, r, _) in latest.items()}, problems


def _fate(column: str, decision: str | None, reason: str) -> str:
    """Where a work ends in its column: a FlowColumn field name (a reason code for exclusions)."""
    if decision is None:
        return "awaiting_screening" if column == DATABASES else "awaiting_assessment"
    if decision == "include":
        return "included"
    if decision != "exclude":
        return "awaiting_assessment"
    if reason == NOT_RETRIEVED:
        return NOT_RETRIEVED
    return "excluded" if column == DATABASES and reason not in REPORT_EXCLUSIONS else "reports_excluded"


def _screen(column: str, works: list[str], decided: Mapping[str, tuple[str, str]] | None) -> dict[str, object]:
    """The screening boxes of one column from the latest decision per work (None: not yet screened)."""
    if decided is None:
        return {"awaiting_screening": len(works)} if column == DATABASES else {"sought": len(works)}
    fates: Counter = Counter()
    reasons: dict[str, Counter] = {"excluded": Counter(), "reports_excluded": Counter()}
    for cid in works:
        decision, reason = decided.get(cid, (None, ""))
        fate = _fate(column, decision, reason)
        fates[fate] += 1
        if fate in reasons:
            reasons[fate][reason] += 1
    sought = len(works) - fates["awaiting_screening"] - fates["excluded"]
    out: dict[str, object] = {"sought": sought, "not_retrieved": fates[NOT_RETRIEVED]}
    out |= {"assessed": sought - fates[NOT_RETRIEVED], "awaiting_assessment": fates["awaiting_assessment"]}
    out |= {"included": fates["included"]}
    out["reports_excluded"] = _ordered(reasons["reports_excluded"], (*REPORT_EXCLUSIONS, *RECORD_EXCLUSIONS))
    if column == DATABASES:
        out |= {"screened": len(works) - fates["awaiting_screening"], "awaiting_screening": fates["awaiting_screening"]}
        out["excluded"] = _ordered(reasons["excluded"], RECORD_EXCLUSIONS.codes)
    return out


def flow_counts(
    records: pd.DataFrame,
    manifest: pd.DataFrame,
    *,
    decisions: pd.DataFrame | None = None,
    studies: object = None,
    reports: object = None,
    sources: Mapping[str, str] | None = None,
    other_methods: Collection[str] = (),
    where: str = "library",
    decisions_where: str = "decisions",
) -> PrismaCounts:
    """The PRISMA counts from library rows and manifest rows (as :func:`read_library` gives them).

    ``sources`` maps a source file to its label (PubMed, Embase...; default: the file name);
    ``other_methods`` names the files or labels of the other-methods column; ``studies`` and ``reports``
    are the included studies and their reports (:func:`included_counts` of the evidence table)."""
    src = _Sources(sources or {}, set(other_methods))
    missing = [c for c in LIBRARY_COLUMNS if c not in records.columns]
    if missing:
        raise IngestError(f"{where}: the library has no column {', '.join(missing)}; rebuild it")
    records = records.assign(source_file=records["source_file"].astype(str))
    held = records["source_file"].value_counts().to_dict()
    unreadable, why, empty, problems = _manifest(manifest, held, src, f"{manifest_path(Path(where)).name}")
    ids, id_problems = _cluster_ids(records, where)
    problems += id_problems
    withdrawn = records["withdrawn"].fillna(False).astype(bool)
    column_of = records["source_file"].map(src.column)
    live = pd.DataFrame({"cid": ids, "column": column_of})[~withdrawn]
    db_works = sorted(set(live.loc[live["column"] == DATABASES, "cid"]))
    other_works = sorted(set(live.loc[live["column"] == OTHER, "cid"]) - set(db_works))
    decided = None
    if decisions is not None:
        cluster_of = dict(zip(ids, ids, strict=True))
        keys = zip(records["source_file"], records["source_index"], ids, strict=True)
        cluster_of |= {f"{f}#{int(n)}": c for f, n, c in keys if pd.notna(n)}
        removed = set(ids[withdrawn]) - set(live["cid"])
        works_column = {c: DATABASES for c in db_works} | {c: OTHER for c in other_works}
        decided, decision_problems = latest_decisions(decisions, cluster_of, removed, decisions_where, works_column)
        problems += decision_problems
    flows = {}
    for column, works in ((DATABASES, db_works), (OTHER, other_works)):
        files = [f for f in src.order if src.column(f) == column]
        by_label: Counter = Counter()
        for f in files:
            by_label[src.label(f)] += held.get(f, 0) + unreadable.get(f, 0)
        mine = column_of == column
        flows[column] = FlowColumn(
            identified=tuple((label, int(by_label[label])) for label in dict.fromkeys(src.label(f) for f in files)),
            duplicates=int((mine & ~withdrawn).sum()) - len(works),
            withdrawn=int((mine & withdrawn).sum()),
            unreadable=tuple((f"{f}: {why[f]}", int(unreadable[f])) for f in files if unreadable.get(f)),
            **_screen(column, works, decided),
        )
    for name, value in (("studies", studies), ("reports", reports)):
        if value is not None and (reason := malformed(value)):
            problems.append(Problem(SHARED, "included", f"{name} included", f"{reason}; give a whole number"))
    studies = None if studies is None or malformed(studies) else int(studies)
    reports = None if reports is None or malformed(reports) else int(reports)
    if reports is None and decided is not None:
        reports = flows[DATABASES].included + flows[OTHER].included
    counts = PrismaCounts(flows[DATABASES], flows[OTHER], studies, reports, decided is not None, tuple(empty))
    return PrismaCounts(**{**counts.__dict__, "problems": (*problems, *check_flow(counts))})


def prisma_counts(library: Path | str, **options: object) -> PrismaCounts:
    """The PRISMA counts of a built library (``LIB.parquet`` + ``LIB.manifest.csv``); options as :func:`flow_counts`."""
    records, manifest = read_library(library)
    return flow_counts(records, manifest, where=display_path(Path(library)), **options)


# ---------------------------------------------------------------- the long table


def _row(box: str, column: str, label: str, n: int | None, note: str = "") -> dict:
    return {"box": box, "column": column, "label": label, "n": n, "note": note}


def _column_rows(code: str, c: FlowColumn, counts: PrismaCounts) -> list[dict]:
    label = PRISMA_BOXES.label
    pending = "" if counts.screened_yet else NOT_SCREENED
    notes: dict[str, list[str]] = {}
    for source, file, status, why in counts.files:
        notes.setdefault(source, []).append(f"{file}: {status} ({why})" if why else f"{file}: {status}")
    rows = [
        _row("identified", code, f"{label('identified')} from {s}", n, "; ".join(notes.get(s, ())))
        for s, n in c.identified
    ]
    rows += [
        _row("removed", code, PRISMA_REMOVALS.label(r), n)
        for r, n in zip(
            PRISMA_REMOVALS.codes, (c.duplicates, c.withdrawn, sum(n for _, n in c.unreadable)), strict=True
        )
    ]
    for where, n in c.unreadable:  # "file: first reason"
        file, _, why = where.partition(": ")
        rows.append(_row("removed", code, f"Unreadable records in {file}", n, why))
    if code == DATABASES:
        waiting = f"{c.awaiting_screening:,} awaiting a decision" if c.awaiting_screening else ""
        rows.append(_row("screened", code, label("screened"), c.screened, pending or waiting))
        rows.append(_row("excluded", code, label("excluded"), c.excluded_total, pending))
        rows += [_row("excluded", code, RECORD_EXCLUSIONS.label(r), n) for r, n in c.excluded or ()]
    rows.append(_row("sought", code, label("sought"), c.sought, pending if c.sought is None else ""))
    rows.append(_row("not_retrieved", code, label("not_retrieved"), c.not_retrieved, pending))
    waiting = f"{c.awaiting_assessment:,} awaiting a decision" if c.awaiting_assessment else ""
    rows.append(_row("assessed", code, label("assessed"), c.assessed, pending or waiting))
    rows.append(_row("reports_excluded", code, label("reports_excluded"), c.reports_excluded_total, pending))
    rows += [
        _row(
            "reports_excluded",
            code,
            REPORT_EXCLUSIONS.label(r) if r in REPORT_EXCLUSIONS else RECORD_EXCLUSIONS.label(r),
            n,
        )
        for r, n in c.reports_excluded or ()
    ]
    rows.append(_row("included", code, "Reports included from this column", c.included, pending))
    return rows


def prisma_table(counts: PrismaCounts) -> pd.DataFrame:
    """The counts as a long table (box, column, label, n, note) for CSV and HTML; problems are in the notes."""
    rows = []
    for code in PRISMA_COLUMNS.codes:
        c = counts.column(code)
        if code == OTHER and not c.identified:
            continue
        rows += _column_rows(code, c, counts)
    studies_note = "" if counts.studies is not None else "not counted"
    rows.append(_row("included", SHARED, PRISMA_BOXES.label("included"), counts.studies, studies_note))
    reports_note = "" if counts.reports is not None else NOT_SCREENED
    rows.append(_row("included", SHARED, "Reports of included studies", counts.reports, reports_note))
    table = pd.DataFrame(rows, columns=["box", "column", "label", "n", "note"])
    table["n"] = table["n"].astype("Int64")
    for p in counts.problems:
        at = (table["box"] == p.box) & (table["column"] == p.column)
        first = at.idxmax() if at.any() else None
        if first is None:
            continue
        note = table.at[first, "note"]
        table.at[first, "note"] = (note + "; " if note else "") + f"unreliable: {p.where}: {p.message}"
    return table
