"""Loaders and schemas of the curated evidence tables (synthetic fixtures only)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.codes import CLINICAL as CLINICAL_TABLE
from helpers.core.codes import CLINICAL_COLUMNS, OUTCOMES, TRIAL_COLUMNS
from helpers.core.errors import IngestError, SchemaError
from helpers.evidence import tables as evidence
from helpers.evidence.outcomes import load_outcomes
from helpers.evidence.tables import (
    explode_diseases,
    load_clinical_reports,
    load_table_with_status,
    load_trials,
    validate_trials,
)

FIXTURES = Path(__file__).parent / "fixtures" / "evidence"
CLINICAL = FIXTURES / "clinical_reports_valid.csv"
TRIALS = FIXTURES / "trials_valid.csv"
INVALID = FIXTURES / "clinical_reports_invalid.csv"
OUTCOME_FILE = FIXTURES / "outcomes_valid.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]], columns) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _variant(tmp_path: Path, source: Path, row: int, **changes: str) -> Path:
    """Copy of a fixture with some cells of one data row changed (row 0 = line 2)."""
    rows = _rows(source)
    rows[row].update(changes)
    columns = {CLINICAL: CLINICAL_COLUMNS, TRIALS: TRIAL_COLUMNS, OUTCOME_FILE: OUTCOMES.names}[source]
    return _write(tmp_path / source.name, rows, columns)


# ---------------------------------------------------------------- valid tables


def test_clinical_reports_load_typed_and_sorted() -> None:
    df = load_clinical_reports(CLINICAL)
    assert list(df.columns) == list(CLINICAL_COLUMNS)
    assert list(df["report_id"]) == sorted(r["report_id"] for r in _rows(CLINICAL))
    assert df["n_patients"].dtype == "Int64" and df["year"].dtype == "Int64"
    assert df["report_id"].dtype == "string"
    assert isinstance(df.index, pd.RangeIndex)


def test_status_words_become_na_beside_their_status() -> None:
    df, status = load_table_with_status(CLINICAL_TABLE, FIXTURES / "clinical_reports_valid.csv")
    source = {r["report_id"]: r for r in _rows(FIXTURES / "clinical_reports_valid.csv")}
    for i, report_id in enumerate(df["report_id"]):
        for column in ("pmid", "paediatric", "product", "notes"):
            cell = source[report_id][column]
            if cell in ("not reported", "not applicable", "not checked"):
                assert pd.isna(df.loc[i, column]) and status.loc[i, column] == cell, (report_id, column)
            else:
                assert str(df.loc[i, column]) == cell and status.loc[i, column] == "stated"


def test_blank_or_whitespace_cell_is_refused_in_a_complete_table(tmp_path: Path) -> None:
    path = _variant(tmp_path, CLINICAL, 0, journal="   ", product=" SYN-CD19 ")
    with pytest.raises(SchemaError, match=r"line 2, column 'journal': is blank; write the value, 'not reported'"):
        load_clinical_reports(path)


def test_default_path_is_the_repo_seed_folder(monkeypatch, tmp_path: Path) -> None:
    assert Path(evidence.__file__).resolve().parents[3] / "seeds" / "evidence" == evidence.EVIDENCE_DIR
    shutil.copy(CLINICAL, tmp_path / "clinical_reports.csv")
    shutil.copy(TRIALS, tmp_path / "trials.csv")
    shutil.copy(OUTCOME_FILE, tmp_path / "outcomes.csv")
    monkeypatch.setattr(evidence, "EVIDENCE_DIR", tmp_path)
    assert len(load_clinical_reports()) == len(_rows(CLINICAL))
    assert len(load_trials()) == len(_rows(TRIALS))
    assert len(load_outcomes()) == len(_rows(OUTCOME_FILE))


def test_missing_file_is_an_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="nope.csv: file not found"):
        load_clinical_reports(tmp_path / "nope.csv")


def test_explode_diseases_long_table() -> None:
    df = load_clinical_reports(CLINICAL)
    long = explode_diseases(df)
    assert list(long.columns) == ["report_id", "disease", "n"]
    assert long["n"].dtype == "Int64"
    expected = sorted(
        (r["report_id"], item.split(":")[0], int(item.split(":")[1]))
        for r in _rows(CLINICAL)
        for item in r["diseases"].split(";")
    )
    assert list(long.itertuples(index=False, name=None)) == expected
    totals = long.groupby("report_id")["n"].sum()
    assert (totals == df.set_index("report_id")["n_patients"]).all()


def test_explode_diseases_rejects_unvalidated_cells() -> None:
    frame = pd.DataFrame({"report_id": ["x2024"], "diseases": ["SLE:2;Lupus:1"]})
    with pytest.raises(SchemaError, match="report x2024: diseases 'SLE:2;Lupus:1'"):
        explode_diseases(frame)


def test_phase_na_is_a_value_not_a_missing_cell(tmp_path: Path) -> None:
    path = _variant(tmp_path, TRIALS, 0, phase="NA")
    df = load_trials(path).set_index("registry_id")
    assert df.loc["NCT00000001", "phase"] == "NA"


def test_explode_diseases_empty_frame() -> None:
    empty = load_clinical_reports(CLINICAL).iloc[0:0]
    assert explode_diseases(empty).empty


# ---------------------------------------------------------------- invalid rows


def test_invalid_fixture_reports_every_problem_in_one_error() -> None:
    with pytest.raises(SchemaError) as info:
        load_clinical_reports(INVALID)
    message = str(info.value)
    name = "tests/fixtures/evidence/clinical_reports_invalid.csv"
    expected = [
        "line 2, column 'report_id', value 'alpha2022'",  # duplicate id
        "line 2, column 'diseases', value 'SLE:4;SSc:3': counts must add up to n_patients (6)",
        "line 3, column 'year', value '2018'",
        # the note on line 3 spans two lines, so the third record starts on line 5
        "line 5, column 'report_id', value 'alpha2022'",
        "line 5, column 'diseases', value 'RA:2;XYZ:1'",
        "line 5, column 'target', value 'CD22'",
    ]
    for fragment in expected:
        assert f"{name}, {fragment}" in message
    assert message.count("\n  - ") == len(expected)
    assert "6 problem(s)" in message


@pytest.mark.parametrize(
    "changes,column,value,hint",
    [
        ({"year": "2027"}, "year", "2027", "from 2019 to 2026"),
        ({"pmid": "PMID123"}, "pmid", "PMID123", "digits only"),
        ({"pmcid": "12345"}, "pmcid", "12345", "'PMC' + digits"),
        ({"doi": "https://doi.org/10.5555/x"}, "doi", "https://doi.org/10.5555/x", "no 'https://doi.org/' prefix"),
        ({"nct_id": "NCT123"}, "nct_id", "NCT123", "registry ids"),
        ({"nct_id": "NCT00000001; NCT00000002"}, "nct_id", "NCT00000001; NCT00000002", "no spaces around ';'"),
        ({"report_type": "trial"}, "report_type", "trial", "'case report'"),
        ({"indication": "cancer"}, "indication", "cancer", "'lymphoma'"),
        ({"diseases": "SLE:4;SSc"}, "diseases", "SLE:4;SSc", "CODE:n pairs"),
        ({"diseases": "SLE:4;SLE:2"}, "diseases", "SLE:4;SLE:2", "each code once"),
        ({"diseases": "SLE:3;SSc:2"}, "diseases", "SLE:3;SSc:2", "add up to n_patients (6)"),
        ({"n_patients": "0"}, "n_patients", "0", ">= 1"),
        ({"report_id": "Alpha2022"}, "report_id", "Alpha2022", "lower-case ascii"),
        ({"paediatric": "adults"}, "paediatric", "adults", "'yes', 'no', 'mixed'"),
        ({"cell_type": "CAR T"}, "cell_type", "CAR T", "'CAR-T'"),
        ({"first_author": "Mackensen A."}, "first_author", "Mackensen A.", "without dots"),
        ({"authors": "Alpha A;;Beta B"}, "authors", "Alpha A;;Beta B", "no empty items"),
        ({"report_type": "case report"}, "report_type", "case report", "'case report' is 1 patient"),
    ],
)
def test_one_bad_cell_is_named(tmp_path: Path, changes, column, value, hint) -> None:
    path = _variant(tmp_path, CLINICAL, 0, **changes)
    with pytest.raises(SchemaError) as info:
        load_clinical_reports(path)
    message = str(info.value)
    assert f"clinical_reports_valid.csv, line 2, column '{column}', value '{value}'" in message
    line = next(item for item in message.splitlines() if f"column '{column}'" in item)
    assert hint in line


# rows of outcomes_valid.csv: 0 = alpha2022 efficacy (4/4), 2 = its CRS (4/6, max grade 2)
@pytest.mark.parametrize(
    "row,changes,column,value,hint",
    [
        (0, {"n": "5"}, "n", "5", "<= N (4)"),
        (0, {"measure": "remission"}, "measure", "remission", "'DORIS remission'"),
        (2, {"max_grade": "6"}, "max_grade", "6", "from 0 to 5"),
        (2, {"max_grade": "0"}, "max_grade", "0", "0 exactly when n is 0"),
        (2, {"max_grade": "3"}, "max_grade", "3", ">= 3 exactly when grade3plus_n > 0"),
        (2, {"grade3plus_n": "5", "max_grade": "3"}, "grade3plus_n", "5", "<= n (4)"),
        (2, {"status": "not reported"}, "status", "not reported", "set status to 'stated' or clear them"),
        (2, {"source_url": ""}, "status", "stated", "needs n or grade3plus_n or text, tier, source_url"),
        (2, {"main": "yes"}, "main", "yes", "only for the report's main efficacy row"),
        (2, {"population": "everyone"}, "population", "everyone", "'all' or disease codes"),
        (2, {"source_url": "www.example.org"}, "source_url", "www.example.org", "http(s) URL"),
        (7, {"timepoint_months": "12.55"}, "timepoint_months", "12.55", "at most 1 decimal"),
    ],
)
def test_one_bad_outcome_cell_is_named(tmp_path: Path, row, changes, column, value, hint) -> None:
    path = _variant(tmp_path, OUTCOME_FILE, row, **changes)
    with pytest.raises(SchemaError) as info:
        load_outcomes(path)
    line = next(item for item in str(info.value).splitlines() if f"column '{column}'" in item)
    assert f"outcomes_valid.csv, line {row + 2}, column '{column}', value '{value}'" in line
    assert hint in line


def test_valid_rows_are_not_blamed(tmp_path: Path) -> None:
    path = _variant(tmp_path, CLINICAL, 1, year="2030")
    with pytest.raises(SchemaError) as info:
        load_clinical_reports(path)
    assert "1 problem(s)" in str(info.value)
    assert "line 3, column 'year', value '2030'" in str(info.value)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = _variant(tmp_path, CLINICAL, 2, report_id="alpha2022")
    message = str(pytest.raises(SchemaError, load_clinical_reports, path).value)
    assert "line 2, column 'report_id', value 'alpha2022': appears on more than one row" in message
    assert "line 4, column 'report_id', value 'alpha2022': appears on more than one row" in message


@pytest.mark.parametrize(
    "header_change,needle",
    [
        (lambda cols: cols[:-1], "missing column 'notes'"),
        (lambda cols: [*cols, "extra"], "unexpected column 'extra'"),
        (lambda cols: [cols[1], cols[0], *cols[2:]], "columns are out of order"),
    ],
)
def test_header_must_match_contract(tmp_path: Path, header_change, needle) -> None:
    columns = header_change(list(CLINICAL_COLUMNS))
    rows = [{c: r.get(c, "") for c in columns} for r in _rows(CLINICAL)]
    path = _write(tmp_path / "bad.csv", rows, columns)
    with pytest.raises(SchemaError, match="line 1 \\(header\\)") as info:
        load_clinical_reports(path)
    assert needle in str(info.value)


def test_ragged_row_names_line(tmp_path: Path) -> None:
    text = CLINICAL.read_text(encoding="utf-8").splitlines()
    text[2] = text[2] + ",one too many"
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    n = len(CLINICAL_COLUMNS)
    with pytest.raises(SchemaError, match=rf"line 3: {n + 1} fields instead of {n}"):
        load_clinical_reports(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(SchemaError, match="the file is empty"):
        load_clinical_reports(path)


def test_header_only_gives_empty_table(tmp_path: Path) -> None:
    path = _write(tmp_path / "clinical_reports.csv", [], CLINICAL_COLUMNS)
    df = load_clinical_reports(path)
    assert df.empty and list(df.columns) == list(CLINICAL_COLUMNS)


# ---------------------------------------------------------------- trials


def test_trials_load() -> None:
    df = load_trials(TRIALS)
    assert list(df.columns) == list(TRIAL_COLUMNS)
    assert list(df["registry_id"]) == sorted(r["registry_id"] for r in _rows(TRIALS))
    assert df["enrollment"].dtype == "Int64"
    chictr = df.set_index("registry_id").loc["ChiCTR2300000003"]
    assert pd.isna(chictr["enrollment"]) and pd.isna(chictr["phase"])  # written 'not reported' in the file


@pytest.mark.parametrize(
    "registry_id",
    [
        "NCT12345678",
        "ChiCTR2300072345",
        "2022-000123-45",
        "2023-503456-12-00",
        "ISRCTN12345678",
        "DRKS00012345",
        "jRCT2031230001",
        "ACTRN12623000123456",
    ],
)
def test_registry_id_formats_accepted(tmp_path: Path, registry_id: str) -> None:
    path = _variant(tmp_path, TRIALS, 0, registry_id=registry_id)
    assert registry_id in set(load_trials(path)["registry_id"])


@pytest.mark.parametrize(
    "changes,column,value,hint",
    [
        ({"registry_id": "NCT1234567"}, "registry_id", "NCT1234567", "NCT + 8 digits"),
        ({"registry_id": "NCT00000002"}, "registry_id", "NCT00000002", "more than one row"),
        ({"status": "Recruiting"}, "status", "Recruiting", "'RECRUITING'"),
        ({"phase": "PHASE2/PHASE3"}, "phase", "PHASE2/PHASE3", "'PHASE1/PHASE2'"),
        ({"sponsor_type": "government"}, "sponsor_type", "government", "'industry', 'academic'"),
        ({"diseases": "SLE;Lupus"}, "diseases", "SLE;Lupus", "codes SLE"),
        ({"start_date": "2023-13"}, "start_date", "2023-13", "YYYY-MM"),
        ({"enrollment": "12.5"}, "enrollment", "12.5", "whole number"),
        ({"min_age": "18"}, "min_age", "18", "'18 Years'"),
        ({"paediatric_eligible": "yes"}, "paediatric_eligible", "yes", "min_age '18 Years'"),
        ({"countries": "Germany;"}, "countries", "Germany;", "no empty items"),
        ({"status_date": "2024-13-01"}, "status_date", "2024-13-01", "YYYY-MM"),
    ],
)
def test_trial_cell_errors(tmp_path: Path, changes, column, value, hint) -> None:
    path = _variant(tmp_path, TRIALS, 0, **changes)
    with pytest.raises(SchemaError) as info:
        load_trials(path)
    line = next(item for item in str(info.value).splitlines() if f"column '{column}'" in item)
    assert f"trials_valid.csv, line 2, column '{column}', value '{value}'" in line
    assert hint in line


def test_validate_trials_round_trip_and_errors() -> None:
    df = load_trials(TRIALS)
    pd.testing.assert_frame_equal(validate_trials(df), df)
    broken = df.copy()
    broken.loc[1, "status"] = "DONE"
    with pytest.raises(SchemaError, match=r"merged, line 3, column 'status', value 'DONE'"):
        validate_trials(broken, source="merged")


def test_error_classes() -> None:
    from helpers.core.errors import HelpersError

    assert issubclass(SchemaError, HelpersError) and issubclass(IngestError, HelpersError)
