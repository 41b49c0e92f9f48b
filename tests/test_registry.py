"""ClinicalTrials.gov importers (API v2 JSON, website CSV) and the merge with curated trials."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.codes import TRIAL_COLUMNS
from helpers.core.errors import IngestError
from helpers.evidence.tables import load_trials, validate_trials
from helpers.evidence.trials import AUDIT_COLUMNS, merge_trials, with_provenance
from helpers.sources.registry import (
    IMPORT_COLUMNS,
    find_registry_exports,
    map_phase,
    map_status,
    read_ctgov,
    read_ctgov_csv,
    read_ctgov_json,
    read_registry_exports,
)

FIXTURES = Path(__file__).parent / "fixtures" / "registry"
JSON_EXPORT = FIXTURES / "ctgov_studies.json"
CSV_EXPORT = FIXTURES / "ctgov_export.csv"
MALFORMED = FIXTURES / "malformed"
CURATED = Path(__file__).parent / "fixtures" / "evidence" / "trials_valid.csv"
SOURCES = Path(__file__).parent / "fixtures" / "evidence" / "sources_valid.csv"
JSON_NAME = "tests/fixtures/registry/ctgov_studies.json"
CSV_NAME = "tests/fixtures/registry/ctgov_export.csv"
CSV_HEADER = CSV_EXPORT.read_text(encoding="utf-8").splitlines()[0].split(",")


def _study(nct_id: str) -> dict:
    studies = json.loads(JSON_EXPORT.read_text(encoding="utf-8"))["studies"]
    return next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == nct_id)


def _csv_record(nct_id: str) -> dict[str, str]:
    with CSV_EXPORT.open(encoding="utf-8", newline="") as handle:
        return next(r for r in csv.DictReader(handle) if r["NCT Number"] == nct_id)


def _write_csv(path: Path, records: list[dict[str, str]], header=CSV_HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), lineterminator="\n")
        writer.writeheader()
        writer.writerows([{h: r.get(h, "") for h in header} for r in records])
    return path


def _same(a: object, b: object) -> bool:
    """Equal values, or both empty (NA)."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return a == b


def _write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------- JSON


def test_json_maps_registry_fields() -> None:
    df = read_ctgov_json(JSON_EXPORT)
    assert list(df.columns) == list(IMPORT_COLUMNS)
    assert list(df["registry_id"]) == ["NCT00000001", "NCT00000004"]
    row = df.set_index("registry_id").loc["NCT00000004"]
    p = _study("NCT00000004")["protocolSection"]
    assert row["title"] == p["identificationModule"]["briefTitle"]
    assert row["status"] == p["statusModule"]["overallStatus"] == "RECRUITING"
    assert row["phase"] == "PHASE1/PHASE2"
    assert row["sponsor"] == p["sponsorCollaboratorsModule"]["leadSponsor"]["name"]
    assert row["sponsor_type"] == "industry"
    assert row["countries"] == "China;United States"  # unique, sorted
    assert row["conditions"] == ";".join(p["conditionsModule"]["conditions"])
    assert row["start_date"] == p["statusModule"]["startDateStruct"]["date"]
    assert row["enrollment"] == p["designModule"]["enrollmentInfo"]["count"]
    assert row["min_age"] == "12 Years" and row["paediatric_eligible"] == "yes"
    assert row["source_url"] == "https://clinicaltrials.gov/study/NCT00000004"
    assert row["interventions"] == "Anti-CD19 CAR-T cells;Fludarabine"
    assert row["source_file"] == JSON_NAME
    # curated-only fields: derived where the intervention names say so, else empty
    assert row["targets"] == "CD19" and row["cell_type"] == "CAR-T"
    assert pd.isna(row["diseases"]) and pd.isna(row["product"]) and pd.isna(row["cell_source"])
    assert df["enrollment"].dtype == "Int64" and df["title"].dtype == "string"


def test_json_adult_trial_and_other_sponsor() -> None:
    row = read_ctgov_json(JSON_EXPORT).set_index("registry_id").loc["NCT00000001"]
    assert row["sponsor_type"] == "academic"
    assert row["paediatric_eligible"] == "no"
    assert row["countries"] == "Germany;Italy"


def test_json_single_study_object_and_bare_list(tmp_path: Path) -> None:
    study = _study("NCT00000004")
    one = read_ctgov_json(_write_json(tmp_path / "one.json", study))
    many = read_ctgov_json(_write_json(tmp_path / "list.json", [study]))
    cols = [c for c in IMPORT_COLUMNS if c != "source_file"]
    pd.testing.assert_frame_equal(one[cols], many[cols])
    assert one.loc[0, "registry_id"] == "NCT00000004"


def test_json_minimal_study_gives_empty_cells(tmp_path: Path) -> None:
    data = {"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT00000009"}}}]}
    row = read_ctgov_json(_write_json(tmp_path / "min.json", data)).iloc[0]
    empty = [c for c in TRIAL_COLUMNS if c not in ("registry_id", "source_url")]
    assert all(pd.isna(row[c]) for c in empty)


def test_json_and_csv_of_the_same_study_agree(tmp_path: Path) -> None:
    """The same synthetic study written in both public formats gives the same row."""
    p = _study("NCT00000004")["protocolSection"]
    record = {
        "NCT Number": "NCT00000004",
        "Study Title": p["identificationModule"]["briefTitle"],
        "Study URL": "https://clinicaltrials.gov/study/NCT00000004",
        "Study Status": "RECRUITING",
        "Conditions": "|".join(p["conditionsModule"]["conditions"]),
        "Interventions": "BIOLOGICAL: Anti-CD19 CAR-T cells|DRUG: Fludarabine",
        "Sponsor": p["sponsorCollaboratorsModule"]["leadSponsor"]["name"],
        "Age": "CHILD, ADULT, OLDER_ADULT",
        "Phases": "PHASE1|PHASE2",
        "Enrollment": "24",
        "Funder Type": "INDUSTRY",
        "Start Date": "2024-03",
        "Locations": "Synthetic Hospital North, Beijing, China|Synthetic Hospital South, Guangzhou, "
        "Guangdong, China|Synthetic Medical Center, Houston, Texas, 77030, United States",
    }
    from_csv = read_ctgov_csv(_write_csv(tmp_path / "same.csv", [record])).iloc[0]
    from_json = read_ctgov_json(JSON_EXPORT).set_index("registry_id", drop=False).loc["NCT00000004"]
    for column in TRIAL_COLUMNS:
        if column == "min_age":  # the CSV export has age groups, not the minimum age
            assert pd.isna(from_csv[column])
            continue
        assert _same(from_csv[column], from_json[column]), column


# ---------------------------------------------------------------- CSV


def test_csv_maps_registry_fields() -> None:
    df = read_ctgov_csv(CSV_EXPORT).set_index("registry_id")
    assert list(df.index) == ["NCT00000002", "NCT00000005"]
    a = df.loc["NCT00000002"]
    src = _csv_record("NCT00000002")
    assert a["title"] == src["Study Title"] and a["sponsor"] == src["Sponsor"]
    assert a["status"] == "RECRUITING" and a["phase"] == "PHASE1/PHASE2"
    assert a["enrollment"] == int(src["Enrollment"]) and a["sponsor_type"] == "industry"
    assert a["countries"] == "China;United States"
    assert a["conditions"] == src["Conditions"].replace("|", ";")
    assert a["start_date"] == src["Start Date"] and a["source_url"] == src["Study URL"]
    assert pd.isna(a["min_age"]) and a["paediatric_eligible"] == "yes"  # CHILD age group
    assert a["targets"] == "CD19/BCMA" and a["cell_type"] == "CAR-T"
    assert a["source_file"] == CSV_NAME
    b = df.loc["NCT00000005"]
    assert b["phase"] == "EARLY_PHASE1" and b["sponsor_type"] == "academic"
    assert b["paediatric_eligible"] == "no" and b["countries"] == "China"
    assert (b["targets"], b["cell_type"], b["cell_source"]) == ("CD20", "CAR-NK", "allogeneic")


def test_csv_classic_spellings(tmp_path: Path) -> None:
    records = [
        {
            "NCT Number": "NCT00000011",
            "Study Status": "Active, not recruiting",
            "Phases": "Phase 1|Phase 2",
            "Age": "6 Years to 17 Years   (Child)",
            "Start Date": "May 2023",
            "Funder Type": "Industry",
            "Enrollment": "12",
        },
        {
            "NCT Number": "NCT00000012",
            "Study Status": "Unknown status",
            "Phases": "Not Applicable",
            "Age": "18 Years and older   (Adult, Older Adult)",
            "Start Date": "March 7, 2022",
            "Funder Type": "Other|Industry",
        },
    ]
    df = read_ctgov_csv(_write_csv(tmp_path / "classic.csv", records)).set_index("registry_id")
    assert tuple(
        df.loc["NCT00000011", ["status", "phase", "min_age", "paediatric_eligible", "start_date", "sponsor_type"]]
    ) == ("ACTIVE_NOT_RECRUITING", "PHASE1/PHASE2", "6 Years", "yes", "2023-05", "industry")
    assert tuple(
        df.loc["NCT00000012", ["status", "phase", "min_age", "paediatric_eligible", "start_date", "sponsor_type"]]
    ) == ("UNKNOWN", "NA", "18 Years", "no", "2022-03-07", "academic")


def test_csv_with_only_nct_column(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "ids.csv", [{"NCT Number": "NCT00000013"}], header=["NCT Number"])
    row = read_ctgov_csv(path).iloc[0]
    assert row["registry_id"] == "NCT00000013"
    assert row["source_url"] == "https://clinicaltrials.gov/study/NCT00000013"
    assert pd.isna(row["status"]) and pd.isna(row["enrollment"])


@pytest.mark.parametrize(
    "phases,expected",
    [
        (["PHASE2", "PHASE1"], "PHASE1/PHASE2"),
        (["EARLY_PHASE1"], "EARLY_PHASE1"),
        (["NA"], "NA"),
        ([], pd.NA),
        (["PHASE2", "PHASE3"], "PHASE2/PHASE3"),
    ],
)
def test_phase_mapping(phases, expected) -> None:
    result = map_phase(phases)
    assert (pd.isna(result) and pd.isna(expected)) or result == expected


def test_status_outside_the_enum_is_kept_verbatim_for_validation() -> None:
    # expanded-access statuses are not guessed into a trial status
    assert map_status("AVAILABLE") == "AVAILABLE"
    assert map_status("Not yet recruiting") == "NOT_YET_RECRUITING"


# ---------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "file,needles",
    [
        ("not_json.json", ["malformed/not_json.json", "not valid JSON", "download"]),
        ("no_studies.json", ["malformed/no_studies.json", 'no "studies" list', "'study'"]),
        ("missing_nctid.json", ["malformed/missing_nctid.json, studies[1]", "nctId is missing", "re-export"]),
        ("no_nct_column.csv", ["malformed/no_nct_column.csv", "no 'NCT Number' column", "export again"]),
    ],
)
def test_malformed_exports(file: str, needles: list[str]) -> None:
    with pytest.raises(IngestError) as info:
        read_ctgov(MALFORMED / file)
    for needle in needles:
        assert needle in str(info.value)


def test_csv_row_without_nct_names_line(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "gap.csv", [{"NCT Number": "NCT00000014"}, {"NCT Number": "", "Study Title": "no id"}])
    with pytest.raises(IngestError, match=r"gap.csv, line 3: NCT Number is 'empty'"):
        read_ctgov_csv(path)


def test_json_wrong_field_type_names_study(tmp_path: Path) -> None:
    study = _study("NCT00000001")
    study["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "fifteen"
    path = _write_json(tmp_path / "bad.json", {"studies": [study]})
    with pytest.raises(IngestError, match=r"studies\[0\] \(NCT00000001\): field .*enrollmentInfo.count is str"):
        read_ctgov_json(path)


def test_json_bad_nct_and_duplicates(tmp_path: Path) -> None:
    bad = {"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT123"}}}]}
    with pytest.raises(IngestError, match="studies\\[0\\].*'NCT123'"):
        read_ctgov_json(_write_json(tmp_path / "bad.json", bad))
    study = _study("NCT00000001")
    with pytest.raises(IngestError, match="NCT00000001 appear"):
        read_ctgov_json(_write_json(tmp_path / "dup.json", {"studies": [study, study]}))


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="unknown export type '.xml'"):
        read_ctgov(tmp_path / "x.xml")


# ---------------------------------------------------------------- folders


def test_find_registry_exports(tmp_path: Path) -> None:
    assert find_registry_exports(FIXTURES) == [CSV_EXPORT, JSON_EXPORT]
    for name in ("b.JSON", "a.csv", ".hidden.json", "notes.txt"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert [p.name for p in find_registry_exports(tmp_path)] == ["a.csv", "b.JSON"]
    assert find_registry_exports(tmp_path / "absent") == []


def test_read_registry_exports_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    shutil.copy(JSON_EXPORT, tmp_path / "a.json")
    shutil.copy(MALFORMED / "not_json.json", tmp_path / "b.json")
    shutil.copy(CSV_EXPORT, tmp_path / "c.csv")
    trials, manifest = read_registry_exports(tmp_path)
    assert list(trials["registry_id"]) == ["NCT00000001", "NCT00000002", "NCT00000004", "NCT00000005"]
    assert list(manifest["status"]) == ["parsed", "error", "parsed"]
    assert manifest["source_file"].str.endswith(("a.json", "b.json", "c.csv")).all()
    assert "not valid JSON" in manifest.loc[1, "reason"]


# ---------------------------------------------------------------- merge


@pytest.fixture()
def merged() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    curated = with_provenance(load_trials(CURATED), SOURCES)
    imported = pd.concat([read_ctgov_json(JSON_EXPORT), read_ctgov_csv(CSV_EXPORT)], ignore_index=True)
    trials, audit = merge_trials(curated, imported)
    return curated, trials, audit


def test_merge_registry_wins_curated_kept(merged) -> None:
    curated, trials, _ = merged
    t = trials.set_index("registry_id")
    c = curated.set_index("registry_id")
    p = _study("NCT00000001")["protocolSection"]
    assert t.loc["NCT00000001", "status"] == p["statusModule"]["overallStatus"]
    assert t.loc["NCT00000001", "enrollment"] == p["designModule"]["enrollmentInfo"]["count"]
    for field in ("diseases", "targets", "cell_type", "cell_source", "product", "source_url", "tier"):
        for trial in ("NCT00000001", "NCT00000002"):
            assert _same(t.loc[trial, field], c.loc[trial, field]), (trial, field)
    # the CSV export has no minimum age: the curated one stays
    assert t.loc["NCT00000002", "min_age"] == c.loc["NCT00000002", "min_age"]
    pd.testing.assert_series_equal(t.loc["ChiCTR2300000003"], c.loc["ChiCTR2300000003"])


def test_merge_adds_new_trials(merged) -> None:
    _, trials, _ = merged
    assert list(trials["registry_id"]) == sorted(trials["registry_id"])
    assert list(trials.columns) == [*TRIAL_COLUMNS, "source_url", "tier"]
    new = trials.set_index("registry_id").loc["NCT00000005"]
    # a trial only in an export: its source is its registry record
    assert (new["source_url"], new["tier"]) == (_csv_record("NCT00000005")["Study URL"], "primary")
    assert new["title"] == _csv_record("NCT00000005")["Study Title"]
    assert pd.isna(new["diseases"]) and pd.isna(new["product"])
    assert new["targets"] == "CD20"
    validate_trials(trials, source="merged trials")  # still a valid trials table


def test_merge_audit(merged) -> None:
    _, _, audit = merged
    assert list(audit.columns) == list(AUDIT_COLUMNS)
    rows = {tuple("" if pd.isna(v) else v for v in r) for r in audit.itertuples(index=False)}
    expected = {
        # curated (trials_valid.csv) -> registry (ctgov_studies.json)
        ("NCT00000001", "status", "RECRUITING", "ACTIVE_NOT_RECRUITING", JSON_NAME, "updated"),
        ("NCT00000001", "enrollment", "12", "15", JSON_NAME, "updated"),
        ("NCT00000001", "start_date", "2023-05", "2023-05-02", JSON_NAME, "updated"),
        ("NCT00000001", "countries", "Germany", "Germany;Italy", JSON_NAME, "updated"),
        # curated -> registry (ctgov_export.csv); countries equal as a set: no row
        ("NCT00000002", "status", "NOT_YET_RECRUITING", "RECRUITING", CSV_NAME, "updated"),
        ("NCT00000002", "enrollment", "30", "40", CSV_NAME, "updated"),
        # 'not reported' in the curated table; the CSV states them (Last Update Posted, Other IDs)
        ("NCT00000002", "status_date", "", "2025-02-01", CSV_NAME, "updated"),
        ("NCT00000002", "secondary_ids", "", "SYN-002", CSV_NAME, "updated"),
        # trials only in the exports
        ("NCT00000004", "registry_id", "", "NCT00000004", JSON_NAME, "added"),
        ("NCT00000004", "targets", "", "CD19", JSON_NAME, "derived"),
        ("NCT00000004", "cell_type", "", "CAR-T", JSON_NAME, "derived"),
        ("NCT00000005", "registry_id", "", "NCT00000005", CSV_NAME, "added"),
        ("NCT00000005", "targets", "", "CD20", CSV_NAME, "derived"),
        ("NCT00000005", "cell_type", "", "CAR-NK", CSV_NAME, "derived"),
        ("NCT00000005", "cell_source", "", "allogeneic", CSV_NAME, "derived"),
    }
    assert rows == expected
    assert len(audit) == len(expected)
    ids = list(audit["registry_id"])
    assert ids == sorted(ids)
    assert audit.groupby("registry_id")["change"].first().isin(["added", "updated"]).all()


def test_merge_is_idempotent(merged) -> None:
    _, trials, _ = merged
    imported = pd.concat([read_ctgov_json(JSON_EXPORT), read_ctgov_csv(CSV_EXPORT)], ignore_index=True)
    again, audit = merge_trials(trials, imported)
    pd.testing.assert_frame_equal(again, trials)
    assert audit.empty


def test_merge_duplicate_exports(tmp_path: Path) -> None:
    curated = load_trials(CURATED)
    first = read_ctgov_json(JSON_EXPORT)
    copy = first.assign(source_file="other.json")
    trials, _ = merge_trials(curated, pd.concat([first, copy], ignore_index=True))
    assert trials["registry_id"].is_unique
    conflicting = copy.assign(enrollment=pd.array([99, 99], dtype="Int64"))
    with pytest.raises(IngestError, match=f"NCT00000001 differs between exports \\(other.json, {JSON_NAME}\\)"):
        merge_trials(curated, pd.concat([first, conflicting], ignore_index=True))
