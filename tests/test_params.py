"""Parameters are validated once, against the snapshot, case-insensitively, with a one-line message."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from helpers.core.codes import DISEASES, TRIAL_STATUSES
from helpers.core.errors import ParameterError
from helpers.core.paths import NOTEBOOKS
from helpers.evidence.snapshot import load_snapshot
from helpers.report import build
from helpers.report.params import (
    ClinicalParams,
    CorpusParams,
    CoverageParams,
    DiseaseReportParams,
    LibraryParams,
    TrialParams,
    validate,
)

BIN = sys.executable.rsplit("/", 1)[0]


@pytest.fixture(scope="module")
def snap():
    return load_snapshot()


def clinical(snap, **changes):
    values = {"disease": "all", "target": "all", "earliest_year": 2019, "include_conference_abstracts": True}
    return validate(ClinicalParams, snap, **{**values, **changes})


def test_codes_are_matched_case_insensitively_and_canonicalised(snap):
    params = clinical(snap, disease="ssc", target="cd19/bcma")
    assert (params.disease, params.target) == ("SSc", "CD19/BCMA")
    assert clinical(snap, disease="ALL").disease == "all"
    trial = validate(
        TrialParams, snap, disease="sle", target="all", statuses=["recruiting"], snapshot_date="2026-01-01"
    )
    assert trial.disease == "SLE" and trial.statuses == ("RECRUITING",)


def test_unknown_values_name_the_parameter_and_list_the_allowed_ones(snap):
    with pytest.raises(ParameterError) as err:
        clinical(snap, disease="lupus")
    message = str(err.value)
    assert "parameter 'disease' = 'lupus'" in message and all(code in message for code in DISEASES)
    with pytest.raises(ParameterError, match="parameter 'target' = 'CD999'") as err:
        clinical(snap, target="CD999")
    assert all(t in str(err.value) for t in snap.known_targets())
    with pytest.raises(ParameterError, match=r"parameter 'statuses' = \('OPEN',\): unknown status 'OPEN'") as err:
        validate(TrialParams, snap, disease="all", target="all", statuses=["OPEN"], snapshot_date="2026-01-01")
    assert all(s in str(err.value) for s in TRIAL_STATUSES)
    assert "\n" not in message


def test_every_bad_parameter_is_named_at_once(snap):
    with pytest.raises(ParameterError) as err:
        clinical(snap, disease="x", target="y", earliest_year=1990)
    assert all(f"parameter '{p}'" in str(err.value) for p in ("disease", "target", "earliest_year"))


def test_a_target_is_checked_against_the_snapshot():
    with pytest.raises(ParameterError, match="without the snapshot"):
        validate(
            ClinicalParams, None, disease="all", target="CD19", earliest_year=2019, include_conference_abstracts=True
        )


def test_disease_report_needs_one_disease(snap):
    with pytest.raises(ParameterError, match="one disease"):
        validate(DiseaseReportParams, snap, disease="all", target="all")
    assert validate(DiseaseReportParams, snap, disease="iim", target="all").disease == "IIM"


def test_documents_folder_and_categories(tmp_path):
    with pytest.raises(ParameterError, match="parameter 'seeds_folder'.*does not exist"):
        validate(CorpusParams, seeds_folder=str(tmp_path / "nope"), max_mb=20.0)
    params = validate(CoverageParams, seeds_folder=str(tmp_path), categories=["Diseases", "targets"], min_mentions=1)
    assert params.categories == ("diseases", "targets")
    with pytest.raises(ParameterError, match="unknown category 'drugs'"):
        validate(CoverageParams, seeds_folder=str(tmp_path), categories=["drugs"], min_mentions=1)


def test_library_folder_decisions_and_categories(tmp_path):
    values = {"library_folder": str(tmp_path), "categories": ["TARGETS"], "top_journals": 10, "example_clusters": 5}
    assert validate(LibraryParams, **values).categories == ("targets",)
    with pytest.raises(ParameterError, match="parameter 'library_folder'.*does not exist") as err:
        validate(LibraryParams, **{**values, "library_folder": str(tmp_path / "nope"), "categories": ["drugs"]})
    assert "unknown category 'drugs'" in str(err.value)  # every bad parameter named at once
    decisions = tmp_path / "decisions.csv"
    with pytest.raises(ParameterError, match="parameter 'decisions'"):
        validate(LibraryParams, **values, decisions=str(decisions))
    decisions.write_text("record_id,decision\n", encoding="utf-8")
    assert validate(LibraryParams, **values, decisions=str(decisions)).decisions == str(decisions)


def test_output_dir_is_absolute_or_empty(tmp_path, snap):
    assert clinical(snap).outputs is None
    assert clinical(snap, output_dir=str(tmp_path)).outputs == tmp_path
    with pytest.raises(ParameterError, match="parameter 'output_dir'"):
        clinical(snap, output_dir="relative/folder")


def test_parameter_error_renders_as_one_line_in_ipython():
    err = ParameterError("ClinicalParams: parameter 'disease' = 'x': unknown disease")
    assert err._render_traceback_() == ["ParameterError: ClinicalParams: parameter 'disease' = 'x': unknown disease"]


@pytest.mark.pipeline
def test_help_notebook_shows_each_parameter_type():
    for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        proc = subprocess.run(
            [f"{BIN}/papermill", "--help-notebook", str(nb)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        declared = dict(re.findall(r"^  (\w+): (\S+) \(default", proc.stdout, re.M))
        parameters = build.declared_parameters(nb)
        assert set(declared) == {*parameters, "output_dir"}, nb.name
        assert declared["output_dir"] == "str"
        for name, value in parameters.items():
            assert declared[name] == type(value).__name__, (nb.name, name)


@pytest.mark.pipeline
def test_a_papermill_user_sees_one_line_for_a_bad_parameter(tmp_path):
    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [f"{BIN}/papermill", "05-disease-report.ipynb", str(out), "-p", "disease", "XYZ", "--cwd", str(NOTEBOOKS)],
        cwd=NOTEBOOKS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    executed = json.loads(out.read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1
    assert errors[0]["traceback"] == [
        "ParameterError: DiseaseReportParams: parameter 'disease' = 'XYZ': unknown disease 'XYZ'; use one of: "
        "'all', " + ", ".join(DISEASES.codes)
    ]
    assert "pydantic" not in proc.stderr and "validation error" not in proc.stderr
