"""Trial landscape: registry exports in the folder, filters, counts with 'not stated', regions,
paediatric denominator, the published comparison, narrative numbers and figures.

Expected values are worked out here from the synthetic frames and the fixture files (read
independently of the code under test), never copied from the output being checked.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.codes import TRIAL_COLUMNS, TRIAL_STATUSES
from helpers.core.errors import ParameterError
from helpers.core.paths import REGISTRY_EXPORTS
from helpers.evidence.published import load_published_landscapes
from helpers.evidence.snapshot import load_snapshot
from helpers.evidence.tables import load_trials
from helpers.evidence.trials import current_trials
from helpers.report import landscape_figures as LF
from helpers.report.landscape_tables import export_summary
from helpers.report.narratives import landscape_narrative
from helpers.report.params import TrialParams, validate
from helpers.synthesis import landscape as L

FIXTURES = Path(__file__).parent / "fixtures"
REGISTRY = FIXTURES / "registry"
CURATED = FIXTURES / "evidence" / "trials_valid.csv"


def frame(*rows: dict) -> pd.DataFrame:
    """A trials frame (all TRIAL_COLUMNS, strings, empty = NA) from partial rows."""
    records = [{c: row.get(c, pd.NA) for c in TRIAL_COLUMNS} for row in rows]
    df = pd.DataFrame(records, columns=list(TRIAL_COLUMNS)).astype("string")
    df["enrollment"] = pd.to_numeric(df["enrollment"]).astype("Int64")
    return df


def trial(i: int, **fields: str) -> dict:
    return {"registry_id": f"NCT{i:08d}", "source_url": f"https://example.org/{i}", **fields}


def row_value(table: pd.DataFrame, label_col: str, label: str, col: str = "trials") -> int:
    return int(table.loc[table[label_col] == label, col].iloc[0])


# ---------------------------------------------------------------- registry exports in the folder


def _fixture_facts() -> dict[str, dict]:
    """NCT id -> {'countries': set, 'interventions': list} read straight from the two fixture exports."""
    facts: dict[str, dict] = {}
    for study in json.loads((REGISTRY / "ctgov_studies.json").read_text(encoding="utf-8"))["studies"]:
        p = study["protocolSection"]
        facts[p["identificationModule"]["nctId"]] = {
            "countries": {loc["country"] for loc in p.get("contactsLocationsModule", {}).get("locations", [])},
        }
    with (REGISTRY / "ctgov_export.csv").open(encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle):
            facts[rec["NCT Number"]] = {
                "countries": {site.rsplit(",", 1)[-1].strip() for site in rec["Locations"].split("|") if site.strip()},
            }
    return facts


@pytest.fixture
def export_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "registry"
    folder.mkdir()
    shutil.copy(REGISTRY_EXPORTS / "README.md", folder / "README.md")
    return folder


def test_empty_folder_with_readme_is_the_curated_table(export_folder):
    current = current_trials(export_folder, curated=CURATED)
    curated = load_trials(CURATED)
    assert current.manifest.empty and current.audit.empty  # the README is not an export
    assert current.trials["registry_id"].tolist() == curated["registry_id"].tolist()
    assert "No ClinicalTrials.gov exports" in export_summary(current)


def test_missing_folder_means_no_exports(tmp_path):
    current = current_trials(tmp_path / "does-not-exist", curated=CURATED)
    assert current.manifest.empty and len(current.trials) == len(load_trials(CURATED))


def test_shipped_registry_folder_has_its_readme():
    files = sorted(p.name for p in REGISTRY_EXPORTS.iterdir() if not p.name.startswith("."))
    assert "README.md" in files


def test_dropped_exports_change_counts_and_appear_in_audit(export_folder):
    before = current_trials(export_folder, curated=CURATED)
    shutil.copy(REGISTRY / "ctgov_studies.json", export_folder)
    shutil.copy(REGISTRY / "ctgov_export.csv", export_folder)
    after = current_trials(export_folder, curated=CURATED)

    facts = _fixture_facts()
    curated_ids = set(load_trials(CURATED)["registry_id"])
    new_ids = sorted(set(facts) - curated_ids)
    assert new_ids  # the fixtures hold studies that are not curated
    assert len(after.trials) == len(before.trials) + len(new_ids)
    assert sorted(after.audit.loc[after.audit["change"] == "added", "registry_id"]) == new_ids
    assert sorted(after.manifest["status"]) == ["parsed", "parsed"]
    assert set(after.manifest["source_file"].str.rsplit("/", n=1).str[-1]) == {"ctgov_studies.json", "ctgov_export.csv"}

    # countries: registry facts win for the exported studies, curated rows keep theirs
    curated = load_trials(CURATED).set_index("registry_id")
    expected_china = sum("China" in facts[i]["countries"] for i in facts)
    expected_china += sum("China" in L.split_cell(curated.loc[i, "countries"]) for i in curated_ids - set(facts))
    assert row_value(L.country_counts(after.trials), "country", "China") == expected_china
    assert row_value(L.country_counts(before.trials), "country", "China") != expected_china

    # added trials carry no curated disease codes: counted as not stated
    assert row_value(L.disease_counts(after.trials), "disease", L.NOT_STATED) == len(new_ids)
    assert row_value(L.disease_counts(before.trials), "disease", L.NOT_STATED) == 0
    summary = export_summary(after)
    assert f"added {len(new_ids)} trial(s)" in summary


def test_a_bad_export_is_listed_and_the_others_still_count(export_folder):
    shutil.copy(REGISTRY / "ctgov_studies.json", export_folder)
    shutil.copy(REGISTRY / "malformed" / "not_json.json", export_folder / "broken.json")
    current = current_trials(export_folder, curated=CURATED)
    status = dict(
        zip(current.manifest["source_file"].str.rsplit("/", n=1).str[-1], current.manifest["status"], strict=True)
    )
    assert status == {"broken.json": "error", "ctgov_studies.json": "parsed"}
    assert "NCT00000004" in set(current.trials["registry_id"])


# ---------------------------------------------------------------- filters


SYNTH = frame(
    trial(1, diseases="SLE", targets="CD19", status="RECRUITING", start_date="2021-05"),
    trial(2, diseases="SLE;SSc;IIM", targets="CD19/BCMA", status="COMPLETED", start_date="2023-02-10"),
    trial(3, diseases="SSc", targets="CD19", status="RECRUITING", start_date="2023-11-30"),
    trial(4, diseases="IIM", targets="BCMA", start_date="2027-01-01"),
    trial(5, diseases="SLE", status="NOT_YET_RECRUITING"),
    trial(6, targets="CD19", status="RECRUITING", start_date="2024-06"),
)


def ids(selection: L.Selection) -> list[int]:
    return [int(i[3:]) for i in selection.trials["registry_id"]]


def test_no_filter_keeps_everything():
    sel = L.filter_trials(SYNTH)
    assert ids(sel) == [1, 2, 3, 4, 5, 6] and sel.excluded.empty and sel.total == 6


def test_snapshot_date_excludes_later_starts_and_counts_them():
    sel = L.filter_trials(SYNTH, snapshot_date="2026-11-01")
    assert 4 not in ids(sel) and 5 in ids(sel)  # undated trial 5 is kept
    assert sel.excluded_count("started after the snapshot date") == 1
    # a YYYY-MM start counts as the first of the month
    assert 6 in ids(L.filter_trials(SYNTH, snapshot_date="2024-06-01"))
    assert 6 not in ids(L.filter_trials(SYNTH, snapshot_date="2024-05-31"))


def test_disease_filter_matches_basket_trials_and_counts_missing():
    sel = L.filter_trials(SYNTH, disease="SSc")
    assert ids(sel) == [2, 3]
    assert sel.excluded_count("disease not stated") == 1  # trial 6
    assert sel.excluded_count("disease not selected") == 3


def test_target_filter_is_exact_construct_and_case_insensitive():
    assert ids(L.filter_trials(SYNTH, target="CD19")) == [1, 3, 6]  # not the dual CD19/BCMA
    assert ids(L.filter_trials(SYNTH, target="cd19/bcma")) == [2]
    assert L.filter_trials(SYNTH, target="BCMA").excluded_count("target not stated") == 1


def _trial_params(**values):
    """validate(TrialParams) against the shipped snapshot, defaults as in the notebook."""
    defaults = dict(disease="all", target="all", statuses=[], snapshot_date="2026-11-01")
    return validate(TrialParams, load_snapshot(), **(defaults | values))


def test_unknown_target_is_rejected_by_the_parameter_model():
    with pytest.raises(ParameterError, match="parameter 'target'") as err:
        _trial_params(target="CD99")
    shipped_targets = {t for cell in load_trials()["targets"] for t in L.split_cell(cell)}
    assert shipped_targets and all(t in str(err.value) for t in shipped_targets)  # the message lists them
    assert _trial_params(target="cd19/bcma").target == "CD19/BCMA"


def test_status_filter_empty_means_all():
    sel = L.filter_trials(SYNTH, statuses=("RECRUITING",))
    assert ids(sel) == [1, 3, 6]
    assert sel.excluded_count("status not stated") == 1  # trial 4
    assert ids(L.filter_trials(SYNTH, statuses=())) == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ParameterError, match="statuses") as err:
        _trial_params(statuses=["OPEN"])
    assert all(s in str(err.value) for s in TRIAL_STATUSES)  # the message lists the registry's statuses
    assert _trial_params(statuses=["recruiting"]).statuses == ("RECRUITING",)


def test_filters_combine_and_every_trial_is_accounted_for():
    sel = L.filter_trials(SYNTH, disease="SLE", target="CD19", statuses=("RECRUITING",), snapshot_date="2026-11-01")
    assert ids(sel) == [1]
    assert len(sel.trials) + len(sel.excluded) == len(SYNTH)
    table = L.exclusion_table(sel)
    assert table["trials"].sum() == len(SYNTH)


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ParameterError, match="snapshot_date"):
        L.filter_trials(SYNTH, snapshot_date="01/11/2026")
    with pytest.raises(ParameterError, match="parameter 'snapshot_date'"):
        _trial_params(snapshot_date="01/11/2026")
    with pytest.raises(ParameterError, match="parameter 'disease'"):
        _trial_params(disease="Lupus")
    assert _trial_params(disease="sle").disease == "SLE"


# ---------------------------------------------------------------- counts


def test_cumulative_starts_fill_gap_years_and_keep_undated_apart():
    table = L.cumulative_starts(SYNTH).set_index("start year")
    assert list(table.index) == ["2021", "2022", "2023", "2024", "2025", "2026", "2027", L.NOT_STATED]
    # dated trials: 2021 (CD19), 2023 (CD19/BCMA), 2023 (CD19), 2024 (CD19), 2027 (BCMA)
    assert table.loc["2021", "CD19"] == 1 and table.loc["2022", "CD19"] == 1
    assert table.loc["2023", "CD19"] == 2 and table.loc["2023", "CD19/BCMA"] == 1
    assert table.loc["2024", "all trials"] == 4 and table.loc["2027", "all trials"] == 5
    assert table.loc["2027", "BCMA"] == 1
    # undated: trial 5 (no target)
    assert table.loc[L.NOT_STATED, "all trials"] == 1 and table.loc[L.NOT_STATED, "target not stated"] == 1
    per_year = L.starts_per_year(SYNTH).set_index("start year")["trials started"]
    assert per_year.sum() == len(SYNTH)


def test_every_single_valued_count_adds_up_with_not_stated():
    df = frame(
        trial(1, phase="PHASE1", sponsor_type="industry", cell_source="autologous", status="RECRUITING"),
        trial(2, phase="PHASE1/PHASE2", sponsor_type="academic"),
        trial(3, phase="NA"),
        trial(4),
    )
    phases = L.phase_counts(df)
    assert row_value(phases, "phase", L.NOT_STATED) == 1
    assert row_value(phases, "phase", "NA") == 1  # 'not applicable' is stated
    assert row_value(phases, "phase", "PHASE3") == 0  # every standard phase is listed
    for table in (phases, L.sponsor_counts(df), L.cell_source_counts(df), L.status_counts(df)):
        assert table["trials"].sum() == len(df)
    assert row_value(L.sponsor_counts(df), "sponsor type", L.NOT_STATED) == 2
    assert row_value(L.cell_source_counts(df), "cell source", L.NOT_STATED) == 3
    completeness = L.field_completeness(df).set_index("field")
    assert completeness.loc["phase", "stated"] == 3 and completeness.loc["phase", L.NOT_STATED] == 1


def test_multi_valued_counts_count_each_value_and_missing_once():
    df = frame(
        trial(1, countries="China;United States", targets="CD19;BCMA", diseases="SLE;SSc"),
        trial(2, countries="China", targets="CD19", diseases="SLE"),
        trial(3, diseases="RA"),
    )
    countries = L.country_counts(df)
    assert row_value(countries, "country", "China") == 2
    assert row_value(countries, "country", "United States") == 1
    assert row_value(countries, "country", L.NOT_STATED) == 1
    targets = L.target_counts(df)
    assert row_value(targets, "target", "CD19") == 2 and row_value(targets, "target", L.NOT_STATED) == 1
    assert L.basket_trials(df) == 1
    matrix = L.disease_target_matrix(df)
    assert matrix.loc["SLE", "CD19"] == 2 and matrix.loc["SSc", "BCMA"] == 1
    assert matrix.loc["RA", L.NOT_STATED] == 1 and matrix.loc[L.NOT_STATED].sum() == 0


@pytest.mark.parametrize(
    "country, region",
    [
        ("China", "East Asia"),
        ("Japan", "East Asia"),
        ("Korea, Republic of", "East Asia"),
        ("Taiwan", "East Asia"),
        ("United States", "North America"),
        ("Canada", "North America"),
        ("Mexico", "other"),
        ("Germany", "Europe"),
        ("United Kingdom", "Europe"),
        ("Spain", "Europe"),
        ("Australia", "other"),
        ("Brazil", "other"),
        ("Israel", "other"),
    ],
)
def test_region_mapping(country, region):
    assert L.region_of(country) == region


def test_region_counts_multi_region_and_not_stated():
    df = frame(
        trial(1, countries="China;United States"),
        trial(2, countries="Germany;France"),
        trial(3, countries="China"),
        trial(4),
    )
    regions = L.region_counts(df).set_index("region")
    assert regions.loc["East Asia", "trials"] == 2 and regions.loc["East Asia", "only this region"] == 1
    assert regions.loc["North America", "trials"] == 1 and regions.loc["North America", "only this region"] == 0
    assert regions.loc["Europe", "trials"] == 1 and regions.loc["Europe", "only this region"] == 1
    assert regions.loc[L.NOT_STATED, "trials"] == 1


def test_paediatric_share_denominator_is_trials_with_a_minimum_age():
    df = frame(
        trial(1, min_age="5 Years", paediatric_eligible="yes"),
        trial(2, min_age="18 Years", paediatric_eligible="no"),
        trial(3, min_age="6 Months", paediatric_eligible="yes"),
        trial(4, paediatric_eligible="no"),  # flag without a minimum age: outside the denominator
        trial(5),
    )
    share = L.paediatric_share(df)
    assert (share.k, share.n, share.not_stated) == (2, 3, 2)
    table = L.paediatric_table(df).set_index("eligibility")["trials"]
    assert table.sum() == len(df)
    note = L.paediatric_table(df)["note"].iloc[-1]
    assert note.startswith("1 of these")
    ages = L.paediatric_min_ages(df)
    assert ages["minimum age"].tolist() == ["6 Months", "5 Years"]


# ---------------------------------------------------------------- published comparators


def test_published_table_holds_the_issue_figures_with_citation():
    pub = load_published_landscapes()
    assert pub["citation"].str.len().gt(0).all() and pub["url"].str.startswith("https://").all()
    assert set(pub["doi"]) == {"10.3389/fimmu.2025.1630569"}
    by = pub.set_index("measure")
    assert (by.loc["phase_1", "n"], round(100 * by.loc["phase_1", "share"])) == (56, 64)
    assert round(100 * by.loc["country_china", "share"]) == 48
    assert round(100 * by.loc["country_us", "share"]) == 34


def test_comparison_uses_trials_stating_the_field():
    df = frame(
        trial(1, countries="China", phase="PHASE1"),
        trial(2, countries="China;United States", phase="PHASE2"),
        trial(3, countries="Germany", phase="EARLY_PHASE1"),
        trial(4),
    )
    cmp = L.compare_with_published(df, load_published_landscapes()).set_index("measure")
    assert (cmp.loc["country_china", "this snapshot k"], cmp.loc["country_china", "this snapshot n"]) == (2, 3)
    assert cmp.loc["country_china", "not stated"] == 1
    assert cmp.loc["country_china_and_us", "this snapshot k"] == 1
    assert cmp.loc["phase_1", "this snapshot k"] == 2  # phase 1 + early phase 1
    assert cmp.loc["phase_1", "ci low"] <= 2 / 3 <= cmp.loc["phase_1", "ci high"]
    assert pd.isna(cmp.loc["sponsor_non_leading_pharma", "this snapshot n"])
    published_china = load_published_landscapes().set_index("measure").loc["country_china"]
    expected = round(100 * (2 / 3 - published_china["k"] / published_china["n"]), 1)
    assert cmp.loc["country_china", "difference (points)"] == expected


# ---------------------------------------------------------------- narrative


NARRATIVE_FRAME = frame(
    trial(
        1,
        diseases="SLE",
        targets="CD19",
        phase="PHASE1",
        countries="China",
        min_age="18 Years",
        sponsor_type="academic",
        cell_source="autologous",
        start_date="2023-01",
    ),
    trial(
        2,
        diseases="SLE;SSc",
        targets="CD19/BCMA",
        phase="PHASE1/PHASE2",
        countries="China;United States",
        min_age="12 Years",
        sponsor_type="industry",
        cell_source="allogeneic",
        start_date="2024-03-01",
    ),
    trial(3, diseases="SSc", targets="CD19", phase="PHASE2", min_age="18 Years", sponsor_type="industry"),
    trial(4, diseases="IIM", targets="BCMA", start_date="2025-07"),
    trial(5, diseases="SLE", start_date="2030-01-01"),
    trial(6, diseases="AAV", phase="PHASE1", sponsor_type="academic"),
)


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in: {text}"
    return int(match[1])


def test_narrative_numbers_equal_recomputed_values():
    sel = L.filter_trials(NARRATIVE_FRAME, snapshot_date="2026-11-01")
    text = landscape_narrative(sel, published=load_published_landscapes())
    kept = [r for r in NARRATIVE_FRAME.to_dict("records") if r["registry_id"] != "NCT00000005"]

    def stated(field):
        return [r for r in kept if not pd.isna(r[field])]

    assert _number(r"holds (\d+) registered trials", text) == len(kept)
    assert _number(r"(\d+) trials? starting after the snapshot", text) == len(NARRATIVE_FRAME) - len(kept)
    assert _number(r"CD19 in (\d+) trials?", text) == sum(r["targets"] == "CD19" for r in stated("targets"))
    assert _number(r"(\d+) trials? do(?:es)? not state a target", text) == len(kept) - len(stated("targets"))
    assert _number(r"SLE in (\d+)", text) == sum("SLE" in r["diseases"].split(";") for r in kept)
    assert _number(r"(\d+) basket trials?", text) == sum(len(r["diseases"].split(";")) > 1 for r in kept)
    assert _number(r"Of the (\d+) trials? that state a phase", text) == len(stated("phase"))
    assert _number(r"(\d+) (?:is|are) phase 1 or early phase 1", text) == sum(
        r["phase"] in ("PHASE1", "EARLY_PHASE1") for r in stated("phase")
    )
    assert _number(r"(\d+) of the \d+ trials? states? a country", text) == len(stated("countries"))
    ages = [float(r["min_age"].split()[0]) for r in stated("min_age")]
    assert re.search(rf"{sum(a < 18 for a in ages)}/{len(ages)} \(\d+%\) of the trials with a stated minimum age", text)
    sponsors = stated("sponsor_type")
    assert _number(r"industry in (\d+) trials?", text) == sum(r["sponsor_type"] == "industry" for r in sponsors)
    assert _number(r"(\d+) trials? do(?:es)? not state the sponsor type", text) == len(kept) - len(sponsors)
    assert _number(r"(\d+) trials? ha(?:s|ve) no start date", text) == len(kept) - len(stated("start_date"))
    china = sum("China" in r["countries"].split(";") for r in stated("countries"))
    assert f"trials in China 27/56 (48%) there against {china}/{len(stated('countries'))}" in text


def test_narrative_of_an_empty_selection_says_so():
    sel = L.filter_trials(NARRATIVE_FRAME, disease="RA")
    text = landscape_narrative(sel, published=load_published_landscapes())
    assert text.startswith("No registered trial matches the selection")
    assert _number(r"(\d+) trials were considered", text) == len(NARRATIVE_FRAME)


def test_narrative_counts_trials_added_from_exports(export_folder):
    shutil.copy(REGISTRY / "ctgov_studies.json", export_folder)
    current = current_trials(export_folder, curated=CURATED)
    added = set(current.audit.loc[current.audit["change"] == "added", "registry_id"])
    text = landscape_narrative(L.filter_trials(current.trials), current.audit, load_published_landscapes())
    assert _number(r"(\d+) of them were added from ClinicalTrials.gov exports", text) == len(added)


# ---------------------------------------------------------------- shipped data


def test_shipped_trials_counts_are_consistent():
    trials = load_trials()
    for table in (
        L.phase_counts(trials),
        L.sponsor_counts(trials),
        L.status_counts(trials),
        L.cell_source_counts(trials),
        L.cell_type_counts(trials),
        L.paediatric_table(trials),
    ):
        assert table["trials"].sum() == len(trials)
    cumulative = L.cumulative_starts(trials)
    dated = cumulative[cumulative["start year"] != L.NOT_STATED]["all trials"]
    assert dated.is_monotonic_increasing
    assert dated.iloc[-1] + int(cumulative.iloc[-1]["all trials"]) == len(trials)


# ---------------------------------------------------------------- figures


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


FIGURES = {
    "cumulative": lambda t: LF.cumulative_by_target(L.cumulative_starts(t)),
    "phase": lambda t: LF.phase_bars(L.phase_counts(t)),
    "countries": lambda t: LF.country_bars(L.country_counts(t), L.region_counts(t)),
    "heatmap": lambda t: LF.disease_target_heatmap(L.disease_target_matrix(t)),
    "cell source": lambda t: LF.cell_source_by_year(L.cell_source_by_year(t)),
    "paediatric": lambda t: LF.paediatric_bar(L.paediatric_table(t), L.paediatric_share(t)),
    "sponsor": lambda t: LF.sponsor_bar(L.sponsor_counts(t)),
    "comparison": lambda t: LF.comparison_chart(L.compare_with_published(t, load_published_landscapes())),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figures_are_deterministic_and_show_not_stated(name):
    import matplotlib.pyplot as plt

    first, second = FIGURES[name](NARRATIVE_FRAME), FIGURES[name](NARRATIVE_FRAME)
    try:
        assert _png(first) == _png(second)
        assert first.get_size_inches()[0] <= 10.5  # fits a ~1100 px page at 100 dpi
        texts = [t.get_text() for ax in first.axes for t in ax.get_yticklabels() + ax.get_xticklabels() + ax.texts]
        texts += [t.get_text() for ax in first.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
        texts += [ax.get_title(loc="left") for ax in first.axes]
        if name != "comparison":
            assert any("not stated" in t or "no start date" in t for t in texts), texts
        else:
            assert any("not stated" in t for t in texts)
    finally:
        plt.close(first)
        plt.close(second)


def test_figures_cope_with_an_empty_selection():
    import matplotlib.pyplot as plt

    empty = NARRATIVE_FRAME.iloc[0:0]
    for name, make in FIGURES.items():
        fig = make(empty)
        assert fig.axes, name
        plt.close(fig)
