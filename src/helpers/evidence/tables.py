"""Curated evidence tables: load, validate (pandera, lazy) and reshape.

The column contract is ``seeds/evidence/schema.yaml``. Validation runs in two
pandera passes so every problem in a file is reported at once, in one SchemaError:

1. a *cell* pass on the raw strings (required, type, enum, pattern, range, unique);
2. a *row* pass on the typed frame (cross-column rules such as n <= N).

Cells that fail the first pass become NA before the second, so one bad cell is
reported once. Row numbers are the CSV file's line numbers (header = line 1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from helpers.core.atomic import write_atomically
from helpers.core.codes import (
    CELL_STATUSES,
    CLINICAL,
    CODE_SETS,
    DISEASES,
    EFFICACY_MEASURES,
    OUTCOME_NEEDS,
    OUTCOMES,
    RISK_OF_BIAS,
    SEARCHES,
    SOURCES,
    TRIAL_COLUMNS,
    TRIALS,
    Column,
    TableSchema,
)
from helpers.core.errors import IngestError, SchemaError
from helpers.core.paths import EVIDENCE, display_path
from helpers.core.patterns import linear
from helpers.core.units import age_in_years

EVIDENCE_DIR = EVIDENCE

REGISTRY_ID_PATTERNS: dict[str, str] = {
    "ClinicalTrials.gov": r"NCT\d{8}",
    "ChiCTR": r"ChiCTR(?:-[A-Z]{2,5}-)?\d{8,10}",
    "EudraCT": r"\d{4}-\d{6}-\d{2}",
    "CTIS (EU CT)": r"\d{4}-\d{6}-\d{2}-\d{2}",
    "ISRCTN": r"ISRCTN\d{8}",
    "DRKS": r"DRKS\d{8}",
    "jRCT": r"jRCT[a-z]?\d{9,10}",
    "ANZCTR": r"ACTRN\d{14}",
    "CTRI": r"CTRI/\d{4}/\d{2,3}/\d{6}",
    "CRiS": r"KCT\d{7}",
}
# Cell patterns: unbounded ones run on RE2 (linear time, see helpers.core.patterns); REGISTRY_ID_RE
# and the date pattern have no unbounded repetition and stay on re.
REGISTRY_ID_RE = re.compile("|".join(f"(?:{p})" for p in REGISTRY_ID_PATTERNS.values()))
REGISTRY_ID_HELP = (
    "NCT + 8 digits, ChiCTR..., EudraCT 2022-000123-45, CTIS 2023-503456-12-00, ISRCTN/DRKS/jRCT/ACTRN/CTRI/KCT ids"
)

# ---------------------------------------------------------------- cell checks


@dataclass(frozen=True)
class CellRule:
    """One element-wise rule on a raw (string) cell; ``hint`` says what to write."""

    hint: str
    test: Callable[[str], bool]


@dataclass(frozen=True)
class ColumnSpec:
    """How one CSV column is typed and checked."""

    name: str
    kind: str = "str"  # "str" | "int" | "float"
    required: bool = False
    unique: bool = False
    rules: tuple[CellRule, ...] = field(default_factory=tuple)


def _fullmatch(pattern: str) -> Callable[[str], bool]:
    regex = linear(pattern)
    return lambda value: regex.fullmatch(value) is not None


def _one_of(allowed: Sequence[str], what: str = "") -> CellRule:
    listed = ", ".join(f"'{a}'" for a in allowed)
    return CellRule(f"{what}must be one of {listed}", lambda value: value in allowed)


def _int_between(low: int, high: int | None = None) -> CellRule:
    def test(value: str) -> bool:
        if not (value.isascii() and value.isdigit()):
            return False
        return low <= int(value) and (high is None or int(value) <= high)

    text = f"from {low} to {high}" if high is not None else f">= {low}"
    return CellRule(f"must be a whole number {text} (digits only)", test)


def _split_ok(value: str) -> bool:
    """A ';'-list with no empty items and no spaces around ';'."""
    items = value.split(";")
    return all(item and item == item.strip() for item in items)


def _list_of(test: Callable[[str], bool], hint: str) -> CellRule:
    return CellRule(
        f"must be a ';'-separated list (no spaces around ';', no empty items) of {hint}",
        lambda value: _split_ok(value) and all(test(item) for item in value.split(";")),
    )


DISEASE_PAIR_RE = linear(r"(?P<code>[A-Za-z0-9]+):(?P<n>\d+|\?)")
FOLLOW_UP_RE = linear(r"\d+(\.\d)?")
STATUS_TOKENS = tuple(c for c in CELL_STATUSES if c != "stated")


def parse_diseases(cell: str) -> list[tuple[str, int | None]]:
    """Parse ``SLE:8;SSc:4`` into ``[("SLE", 8), ("SSc", 4)]`` (``SLE:?``: count not stated -> None);
    ValueError when malformed."""
    pairs: list[tuple[str, int | None]] = []
    for item in cell.split(";"):
        match = DISEASE_PAIR_RE.fullmatch(item)
        if match is None or match["code"] not in DISEASES:
            raise ValueError(f"bad disease item {item!r}")
        pairs.append((match["code"], None if match["n"] == "?" else int(match["n"])))
    codes = [code for code, _ in pairs]
    if len(set(codes)) != len(codes):
        raise ValueError("a disease code appears twice")
    return pairs


def _diseases_ok(cell: str) -> bool:
    try:
        parse_diseases(cell)
    except ValueError:
        return False
    return True


def _follow_up_ok(value: str) -> bool:
    return FOLLOW_UP_RE.fullmatch(value) is not None


def _date_ok(value: str) -> bool:
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value)
    if match is None:
        return False
    month_ok = 1 <= int(match[2]) <= 12
    return month_ok and (match[3] is None or 1 <= int(match[3]) <= 31)


REGISTRY_ID_RULE = CellRule(
    f"must be a registry id ({REGISTRY_ID_HELP})", lambda v: REGISTRY_ID_RE.fullmatch(v) is not None
)

# Checks the schema file cannot say (formats); everything else (types, codes, ranges,
# required, unique) comes from seeds/evidence/schema.yaml through helpers.core.codes.
FORMAT_RULES: dict[tuple[str, str], CellRule] = {
    ("clinical_reports", "report_id"): CellRule(
        "must be surname + 4-digit year + optional letter, lower-case ascii "
        "(e.g. 'mackensen2022', 'muller2024a'), unique in the table",
        _fullmatch(r"[a-z]+\d{4}[a-z]?"),
    ),
    ("clinical_reports", "first_author"): CellRule(
        "must be 'Surname Initials' as on PubMed (e.g. 'Mackensen A'; 'Wang' when the source "
        "shows no initials), without dots or commas",
        _fullmatch(r"[^\W\d_][\w'’ -]*?(?: [A-Z]{1,4})?"),
    ),
    ("clinical_reports", "pmid"): CellRule("must be the PubMed id, digits only", _fullmatch(r"[1-9]\d{0,8}")),
    ("clinical_reports", "doi"): CellRule(
        "must be a bare DOI starting '10.' (no 'https://doi.org/' prefix)", _fullmatch(r"10\.\d{4,9}/\S+")
    ),
    ("clinical_reports", "nct_id"): _list_of(
        lambda v: REGISTRY_ID_RE.fullmatch(v) is not None, f"registry ids ({REGISTRY_ID_HELP})"
    ),
    ("clinical_reports", "pmcid"): CellRule("must be 'PMC' + digits (e.g. 'PMC10958299')", _fullmatch(r"PMC\d{4,9}")),
    ("clinical_reports", "authors"): _list_of(
        _fullmatch(r"(?:[^\W\d_][\w'’ -]*?(?: [A-Z]{1,4})?|et al)"), "'Surname Initials' names, ';'-separated"
    ),
    ("clinical_reports", "diseases"): CellRule(
        "must be CODE:n pairs separated by ';' (e.g. 'SLE:8;SSc:4'), each code once, codes " + DISEASES.listing(),
        _diseases_ok,
    ),
    ("clinical_reports", "costim_domain"): _list_of(bool, "domains, e.g. 'CD28;4-1BB'"),
    ("clinical_reports", "overlap_group"): CellRule(
        "must be a lower-case key such as 'erlangen-cd19'", _fullmatch(r"[a-z0-9][a-z0-9-]*")
    ),
    ("trials", "registry_id"): REGISTRY_ID_RULE,
    ("trials", "countries"): _list_of(bool, "English country names"),
    ("trials", "conditions"): _list_of(bool, "conditions as registered"),
    ("trials", "targets"): _list_of(
        _fullmatch(r"[A-Za-z0-9-]+(?:/[A-Za-z0-9-]+)*"), "targets such as CD19, BCMA, CD19/BCMA"
    ),
    ("trials", "start_date"): CellRule("must be YYYY-MM or YYYY-MM-DD", _date_ok),
    ("trials", "min_age"): CellRule(
        "must be as registered, e.g. '18 Years', '6 Months'", _fullmatch(r"\d+ (Years?|Months?|Weeks?|Days?)")
    ),
    ("trials", "status_date"): CellRule("must be YYYY-MM or YYYY-MM-DD", _date_ok),
    ("trials", "secondary_ids"): _list_of(bool, "registry ids, ';'-separated"),
    ("outcomes", "population"): _list_of(
        lambda v: v == "all" or v in DISEASES, "'all' or disease codes " + DISEASES.listing()
    ),
    ("outcomes", "value"): CellRule("must be a number (e.g. 15.2)", _fullmatch(r"-?\d+(?:\.\d+)?")),
    ("outcomes", "timepoint_months"): CellRule(
        "must be months >= 0 with at most 1 decimal (convert days /30.44, weeks /4.35)", _follow_up_ok
    ),
    ("outcomes", "source_url"): CellRule("must be one http(s) URL", _fullmatch(r"https?://[^\s;]+")),
    ("sources", "url"): CellRule("must be one http(s) URL", _fullmatch(r"https?://[^\s;]+")),
    ("risk_of_bias", "source_url"): CellRule("must be one http(s) URL", _fullmatch(r"https?://[^\s;]+")),
    ("sources", "read_on"): CellRule("must be YYYY-MM-DD", _date_ok),
    ("searches", "date"): CellRule("must be YYYY-MM-DD", _date_ok),
}


def _schema_rules(table: TableSchema, col: Column) -> tuple[CellRule, ...]:
    """The cell rules of one column: its format rule, else the rule its type and codes imply."""
    if (table.name, col.name) in FORMAT_RULES:
        return (FORMAT_RULES[table.name, col.name],)
    if col.type == "int":
        low, high = col.range or (0, None)
        return (_int_between(low if low is not None else 0, high),)
    if col.codes is not None:
        codes = CODE_SETS[col.codes]
        if col.list:
            return (_list_of(lambda v, codes=codes: v in codes, "codes " + codes.listing()),)
        return (_one_of(codes.codes),)
    return ()


def specs_for(table: TableSchema) -> tuple[ColumnSpec, ...]:
    """The column specs (type, required, unique, rules) of an evidence table, from its schema."""
    return tuple(ColumnSpec(c.name, c.type, c.required, c.unique, _schema_rules(table, c)) for c in table.columns)


CLINICAL_SPECS = specs_for(CLINICAL)
TRIAL_SPECS = specs_for(TRIALS)

# ---------------------------------------------------------------- row checks


@dataclass(frozen=True)
class RowRule:
    """A cross-column rule: ``bad(df)`` marks failing rows; ``column`` is where to fix."""

    rule_id: str
    column: str
    bad: Callable[[pd.DataFrame], pd.Series]
    hint: Callable[[pd.Series], str]


def _gt(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    return (df[a] > df[b]).fillna(False).astype(bool)


def _le_rule(a: str, b: str) -> RowRule:
    return RowRule(
        f"{a}<={b}",
        a,
        lambda df: _gt(df, a, b),
        lambda row: f"must be <= {b} ({row[b]}); check both counts against the source",
    )


def _disease_sum(cell: object) -> object:
    if pd.isna(cell):
        return pd.NA
    try:
        counts = [n for _, n in parse_diseases(str(cell))]
        return pd.NA if None in counts else sum(counts)
    except ValueError:
        return pd.NA


def _diseases_sum_bad(df: pd.DataFrame) -> pd.Series:
    sums = df["diseases"].map(_disease_sum).astype("Int64")
    return (sums != df["n_patients"]).fillna(False).astype(bool)


def _type_size_bad(df: pd.DataFrame) -> pd.Series:
    case_report = (df["report_type"] == "case report") & (df["n_patients"] != 1)
    series = (df["report_type"] == "case series") & (df["n_patients"] < 2)
    return (case_report | series).fillna(False).astype(bool)


CLINICAL_ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "diseases sum",
        "diseases",
        _diseases_sum_bad,
        lambda row: f"counts must add up to n_patients ({row['n_patients']})",
    ),
    RowRule(
        "report_type size",
        "report_type",
        _type_size_bad,
        lambda row: (
            f"does not fit n_patients ({row['n_patients']}): 'case report' is 1 patient, 'case series' 2 or more"
        ),
    ),
)

NEEDS_WHEN_STATED = OUTCOME_NEEDS  # from the schema file
FACT_COLUMNS = ("n", "N", "max_grade", "grade3plus_n", "value", "text", "tier", "source_url")


def _missing_when_stated(df: pd.DataFrame) -> pd.Series:
    def bad(row: pd.Series) -> bool:
        if row["status"] != "stated":
            return False
        needs = NEEDS_WHEN_STATED.get(str(row["outcome_class"]), ()) + ("tier", "source_url")
        return any(all(pd.isna(row[c]) for c in need.split("|")) for need in needs)

    return df.apply(bad, axis=1).astype(bool) if len(df) else pd.Series(False, index=df.index, dtype=bool)


def _value_when_not_stated(df: pd.DataFrame) -> pd.Series:
    return ((df["status"] != "stated") & df[list(FACT_COLUMNS)].notna().any(axis=1)).fillna(False).astype(bool)


def _needs_hint(row: pd.Series) -> str:
    needs = NEEDS_WHEN_STATED.get(str(row["outcome_class"]), ()) + ("tier", "source_url")
    return (
        f"a stated {row['outcome_class']} row needs {', '.join(n.replace('|', ' or ') for n in needs)}; "
        "fill them from the source or set status to 'not reported'"
    )


MEASURED_CLASSES = ("efficacy", "disease_activity")


def _unknown_measure(df: pd.DataFrame) -> pd.Series:
    measured = df["outcome_class"].isin(MEASURED_CLASSES) & df["measure"].notna()
    return (measured & ~df["measure"].isin(EFFICACY_MEASURES.codes)).fillna(False).astype(bool)


OUTCOME_ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "measure code",
        "measure",
        _unknown_measure,
        lambda row: "must be one of " + ", ".join(f"'{c}'" for c in EFFICACY_MEASURES.codes),
    ),
    RowRule("stated needs values", "status", _missing_when_stated, _needs_hint),
    RowRule(
        "values need stated",
        "status",
        _value_when_not_stated,
        lambda row: f"is '{row['status']}' but the row holds values; set status to 'stated' or clear them",
    ),
    RowRule(
        "main only on efficacy",
        "main",
        lambda df: ((df["main"] == "yes") & (df["outcome_class"] != "efficacy")).fillna(False).astype(bool),
        lambda row: "'yes' is only for the report's main efficacy row",
    ),
    _le_rule("n", "N"),
    _le_rule("grade3plus_n", "n"),
    RowRule(
        "max_grade vs n",
        "max_grade",
        lambda df: (
            (((df["max_grade"] == 0) & (df["n"] > 0)) | ((df["max_grade"] > 0) & (df["n"] == 0)))
            .fillna(False)
            .astype(bool)
        ),
        lambda row: f"must be 0 exactly when n is 0 (n = {row['n']})",
    ),
    RowRule(
        "max_grade vs grade3plus_n",
        "max_grade",
        lambda df: (
            (((df["max_grade"] >= 3) & (df["grade3plus_n"] == 0)) | ((df["max_grade"] < 3) & (df["grade3plus_n"] > 0)))
            .fillna(False)
            .astype(bool)
        ),
        lambda row: f"must be >= 3 exactly when grade3plus_n > 0 (grade3plus_n = {row['grade3plus_n']})",
    ),
)


def _paediatric_bad(df: pd.DataFrame) -> pd.Series:
    def bad(row: pd.Series) -> bool:
        if pd.isna(row["min_age"]) or pd.isna(row["paediatric_eligible"]):
            return False
        years = age_in_years(str(row["min_age"]))
        return years is not None and (years < 18) != (row["paediatric_eligible"] == "yes")

    if df.empty:
        return pd.Series(False, index=df.index, dtype=bool)
    return df.apply(bad, axis=1).astype(bool)


TRIAL_ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "paediatric vs min_age",
        "paediatric_eligible",
        _paediatric_bad,
        lambda row: f"does not fit min_age '{row['min_age']}': 'yes' exactly when the minimum age is < 18",
    ),
)

# ---------------------------------------------------------------- reading


def _header_problems(header: list[str], columns: Sequence[str]) -> list[str]:
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    problems = [f"missing column '{c}'" for c in missing]
    problems += [f"unexpected column '{c}'" for c in extra]
    dupes = sorted({c for c in header if header.count(c) > 1})
    problems += [f"column '{c}' appears more than once" for c in dupes]
    if not problems and list(header) != list(columns):
        problems.append("columns are out of order")
    return problems


def read_raw_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV as stripped strings (empty -> NA), indexed by the record's first line number."""
    name = display_path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise SchemaError(f"{name}: the file is empty; write the header row:\n{','.join(columns)}")
            problems = _header_problems([h.strip() for h in header], columns)
            if problems:
                raise SchemaError(
                    f"{name}, line 1 (header): "
                    + "; ".join(problems)
                    + f". The header must be exactly:\n{','.join(columns)}"
                )
            records, lines, ragged = [], [], []
            next_line = reader.line_num + 1
            for record in reader:
                if any(cell.strip() for cell in record):
                    if len(record) != len(columns):
                        ragged.append(
                            f"  - {name}, line {next_line}: {len(record)} fields instead of "
                            f"{len(columns)}; quote values that contain a comma"
                        )
                    else:
                        records.append([cell.strip() for cell in record])
                        lines.append(next_line)
                next_line = reader.line_num + 1
    except FileNotFoundError as exc:
        raise IngestError(
            f"{name}: file not found; create it (header row as in "
            "seeds/evidence/schema.yaml) or pass the path of the table"
        ) from exc
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8") from exc
    except csv.Error as exc:
        raise SchemaError(f"{name}: CSV syntax error ({exc}); check the quoting") from exc
    if ragged:
        raise SchemaError(f"{name}: {len(ragged)} malformed rows:\n" + "\n".join(ragged))
    frame = pd.DataFrame(records, columns=list(columns), index=pd.Index(lines, name="line"), dtype="string")
    return frame.replace("", pd.NA)


# ---------------------------------------------------------------- validation


def _cell_schema(specs: Sequence[ColumnSpec]) -> pa.DataFrameSchema:
    columns = {
        spec.name: pa.Column(
            pd.StringDtype(),
            checks=[pa.Check(rule.test, element_wise=True, name=rule.hint) for rule in spec.rules],
            nullable=not spec.required,
            unique=spec.unique,
        )
        for spec in specs
    }
    return pa.DataFrameSchema(columns, strict=True, ordered=True)


def _row_schema(rules: Sequence[RowRule]) -> pa.DataFrameSchema:
    checks = [pa.Check(lambda df, r=rule: ~r.bad(df), name=rule.rule_id) for rule in rules]
    return pa.DataFrameSchema(checks=checks)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])


def _cell_messages(failures: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(line, column, message) for each failing cell."""
    out = []
    for row in failures.itertuples(index=False):
        if pd.isna(row.index):
            out.append((0, str(row.column), f"column '{row.column}': {row.check} ({row.failure_case})"))
            continue
        if row.check == "not_nullable":
            hint = "is empty but required; fill it from the source"
        elif row.check == "field_uniqueness":
            hint = "appears on more than one row; ids must be unique (add a letter: 'muller2024a')"
        else:
            hint = str(row.check)
        value = "" if pd.isna(row.failure_case) else str(row.failure_case)
        out.append((int(row.index), str(row.column), f"column '{row.column}', value '{value}': {hint}"))
    return out


def _blank_failed_cells(raw: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    cleaned = raw.copy()
    for row in failures.itertuples(index=False):
        if not pd.isna(row.index) and row.column in cleaned.columns and row.check != "field_uniqueness":
            cleaned.loc[int(row.index), row.column] = pd.NA
    return cleaned


def _typed(raw: pd.DataFrame, specs: Sequence[ColumnSpec]) -> pd.DataFrame:
    """Convert validated strings to their column types (string / Int64 / Float64)."""
    typed = raw.copy()
    for spec in specs:
        if spec.kind == "int":
            typed[spec.name] = pd.to_numeric(raw[spec.name], errors="coerce").astype("Int64")
        elif spec.kind == "float":
            typed[spec.name] = pd.to_numeric(raw[spec.name], errors="coerce").astype("Float64")
        else:
            typed[spec.name] = raw[spec.name].astype("string")
    return typed


def _row_messages(failures: pd.DataFrame, rules: Sequence[RowRule], typed: pd.DataFrame) -> list[tuple[int, str, str]]:
    by_id = {rule.rule_id: rule for rule in rules}
    seen = sorted(
        {
            (int(r.index), str(r.check))
            for r in failures.itertuples(index=False)
            if not pd.isna(r.index) and str(r.check) in by_id
        }
    )
    out = []
    for line, rule_id in seen:
        rule = by_id[rule_id]
        row = typed.loc[line].astype(object).where(typed.loc[line].notna(), "empty")
        out.append((line, rule.column, f"column '{rule.column}', value '{row[rule.column]}': {rule.hint(row)}"))
    return out


def validate_table(
    raw: pd.DataFrame, specs: Sequence[ColumnSpec], rules: Sequence[RowRule], source: str, keep_index: bool = False
) -> pd.DataFrame:
    """Validate a raw string frame (index = line numbers); return it typed or raise SchemaError."""
    cell_failures = _failures(_cell_schema(specs), raw)
    typed = _typed(_blank_failed_cells(raw, cell_failures), specs)
    row_failures = _failures(_row_schema(rules), typed)
    messages = _cell_messages(cell_failures) + _row_messages(row_failures, rules, typed)
    if messages:
        order = {spec.name: i for i, spec in enumerate(specs)}
        messages.sort(key=lambda m: (m[0], order.get(m[1], len(order)), m[2]))
        lines = [f"  - {source}, line {line}, {text}" for line, _, text in messages]
        raise SchemaError(
            f"{source}: {len(lines)} problem(s); fix them in the CSV "
            "(line numbers count the header as line 1):\n" + "\n".join(lines)
        )
    if keep_index:
        return typed
    key = specs[0].name
    return typed.sort_values(key, kind="stable").reset_index(drop=True)


RULES: dict[str, tuple[tuple[ColumnSpec, ...], tuple[RowRule, ...]]] = {
    CLINICAL.name: (CLINICAL_SPECS, CLINICAL_ROW_RULES),
    TRIALS.name: (TRIAL_SPECS, TRIAL_ROW_RULES),
    OUTCOMES.name: (specs_for(OUTCOMES), OUTCOME_ROW_RULES),
    SOURCES.name: (specs_for(SOURCES), ()),
    SEARCHES.name: (specs_for(SEARCHES), ()),
    RISK_OF_BIAS.name: (specs_for(RISK_OF_BIAS), ()),
}
TABLE_SCHEMAS = {t.name: t for t in (CLINICAL, TRIALS, OUTCOMES, SOURCES, SEARCHES, RISK_OF_BIAS)}


def split_status(raw: pd.DataFrame, table: TableSchema, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, status) of a table's raw cells: in a complete table a status word becomes NA beside its status.

    In a complete table no cell may be blank: each holds a value or says why it has none
    (``not reported``: the source was read and does not say; ``not applicable``; ``not checked``).
    """
    status = pd.DataFrame("stated", index=raw.index, columns=raw.columns).mask(raw.isna(), "blank")
    values = raw.copy()
    if not table.complete:
        return values, status
    for token in STATUS_TOKENS:
        hit = raw.apply(lambda col, t=token: col.str.casefold().eq(t)).fillna(False).astype(bool)
        status = status.mask(hit, token)
        values = values.mask(hit, pd.NA)
    if table.complete:
        blank = raw.isna()
        problems = [
            f"  - {source}, line {line}, column '{column}': is blank; write the value, "
            f"'not reported' (the source was read and does not say), 'not applicable' or 'not checked'"
            for line, column in blank.stack().loc[lambda s: s].index
        ]
        if problems:
            raise SchemaError(f"{source}: {len(problems)} blank cell(s):\n" + "\n".join(problems))
    return values, status


def load_table_with_status(table: TableSchema, path: Path | str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(validated frame, status per cell) of an evidence table, both sorted by the first column."""
    file = Path(path) if path is not None else EVIDENCE_DIR / table.file
    specs, rules = RULES[table.name]
    raw = read_raw_csv(file, [spec.name for spec in specs])
    values, status = split_status(raw, table, display_path(file))
    frame = validate_table(values, specs, rules, display_path(file), keep_index=True)
    order = frame.sort_values(specs[0].name, kind="stable").index
    tidy = frame.loc[order].reset_index(drop=True)
    return tidy, status.loc[order].reset_index(drop=True)


def load_table(table: TableSchema, path: Path | str | None = None) -> pd.DataFrame:
    """A validated evidence table (status words read as NA), sorted by its first column."""
    return load_table_with_status(table, path)[0]


def load_clinical_reports(path: Path | str | None = None) -> pd.DataFrame:
    """Load and validate ``clinical_reports.csv``; sorted by report_id."""
    return load_table(CLINICAL, path)


def load_trials(path: Path | str | None = None) -> pd.DataFrame:
    """Load and validate ``trials.csv``; sorted by registry_id."""
    return load_table(TRIALS, path)


def _as_raw_strings(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A typed frame back to CSV-like strings, indexed as the lines it would be written to."""
    raw = pd.DataFrame(index=pd.RangeIndex(2, len(df) + 2, name="line"))
    for column in columns:
        values = df[column].reset_index(drop=True) if column in df.columns else pd.Series(pd.NA, index=range(len(df)))
        raw[column] = [pd.NA if pd.isna(v) else str(v) for v in values]
    return raw.astype("string")


def validate_trials(df: pd.DataFrame, source: str = "trials table") -> pd.DataFrame:
    """Validate an in-memory trials frame (e.g. after ``registry.merge_trials``)."""
    return validate_table(_as_raw_strings(df, TRIAL_COLUMNS), TRIAL_SPECS, TRIAL_ROW_RULES, source)


def explode_diseases(df: pd.DataFrame) -> pd.DataFrame:
    """Long table (report_id, disease, n), one row per disease of each report, sorted."""
    rows = []
    for report_id, cell in zip(df["report_id"], df["diseases"], strict=True):
        if pd.isna(cell):
            continue
        try:
            rows += [(report_id, code, n) for code, n in parse_diseases(str(cell))]
        except ValueError as exc:
            raise SchemaError(
                f"report {report_id}: diseases {cell!r} ({exc}); "
                "load the table with load_clinical_reports to see every problem"
            ) from exc
    long = pd.DataFrame(rows, columns=["report_id", "disease", "n"])
    long = long.astype({"report_id": "string", "disease": "string", "n": "Int64"})
    return long.sort_values(["report_id", "disease"], kind="stable").reset_index(drop=True)


def write_table(frame: pd.DataFrame, path: Path, table: TableSchema, status: pd.DataFrame | None = None) -> Path:
    """Write a curated evidence table (columns in schema order) only if the written file validates.

    In a complete table a missing value is written as its status word (pass the status frame the
    loader returned; without it, ``not checked``). The new file is checked with the same rules as
    the loaders before it replaces the old one,
    atomically and under a lock: an invalid frame raises SchemaError and leaves the old file as it was.
    """
    specs, row_rules = RULES[table.name]
    out = frame.reindex(columns=list(table.names)).astype(object)
    if table.complete:
        # a missing value is written with its status (from ``status``, as loaded), else 'not checked'
        words = status.reindex(index=out.index, columns=out.columns) if status is not None else None
        for column in out.columns:
            missing = out[column].isna()
            fill = words[column].where(words[column].isin(STATUS_TOKENS), "not checked") if words is not None else None
            out.loc[missing, column] = fill[missing] if fill is not None else "not checked"
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")

    def check(tmp: Path) -> None:
        values, _ = split_status(read_raw_csv(tmp, table.names), table, display_path(path))
        validate_table(values, specs, row_rules, display_path(path))

    return write_atomically(path, buffer.getvalue(), validate=check)
