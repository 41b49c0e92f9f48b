"""ClinicalTrials.gov exports -> trials.csv rows (the merge with the curated table is helpers.evidence.trials).

Offline by design: these functions read files a user exported; nothing here calls the
registry. Two export formats are read:

* API v2 JSON: ``{"studies": [{"protocolSection": {...}}, ...]}`` (one page of
  ``GET /api/v2/studies``). A bare list of study objects or one study object (as from
  ``GET /api/v2/studies/{nctId}``) is accepted too.
* The website's CSV download. Its columns, as listed by the current (2023+) site and the
  API's ``format=csv`` output, are: NCT Number, Study Title, Study URL, Acronym, Study Status,
  Brief Summary, Study Results, Conditions, Interventions, Primary/Secondary/Other Outcome
  Measures, Sponsor, Collaborators, Sex, Age, Phases, Enrollment, Funder Type, Study Type,
  Study Design, Other IDs, Start Date, Primary Completion Date, Completion Date, First
  Posted, Results First Posted, Last Update Posted, Locations, Study Documents (found with
  the search tool in public code that reads these exports, e.g. the R package clintrialx's
  ``ctg_get_nct`` field list and pytrials-based readers). Multi-valued cells are joined
  with ``|``; Interventions are ``TYPE: name``; Locations are ``facility, city, state, zip,
  country`` per site; Age is the standard age groups (``CHILD, ADULT, OLDER_ADULT``), so
  the CSV carries no minimum age; Study Status and Phases use the API's enum spellings.
  The classic (pre-2023) spellings ("Active, not recruiting", "Phase 1|Phase 2",
  "18 Years and older   (Adult, Older Adult)", "May 2023") are read as well.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.core.codes import TARGETS, TRIAL_COLUMNS, TRIAL_PHASES
from helpers.core.errors import IngestError
from helpers.core.paths import display_path
from helpers.core.patterns import linear
from helpers.core.units import age_in_years

IMPORT_COLUMNS = (*TRIAL_COLUMNS, "source_url", "interventions", "source_file")
NCT_RE = re.compile(r"NCT\d{8}")
STUDY_URL = "https://clinicaltrials.gov/study/{}"

STATUS_ALIASES = {"UNKNOWN_STATUS": "UNKNOWN"}
# the registry's single phases in order (phase 4 is registered, though no CAR trial here has one)
PHASE_ORDER = (*(c for c in TRIAL_PHASES if "/" not in c and c != "NA"), "PHASE4", "NA")
PHASE_TOKENS = {**{c.replace("_", ""): c for c in PHASE_ORDER}, "PHASE0": "EARLY_PHASE1", "NOTAPPLICABLE": "NA"}
# ClinicalTrials.gov agency classes; everything that is not industry counts as academic
# in trials.csv (the schema has only these two values, see the report on the schema).
SPONSOR_CLASSES = {
    "INDUSTRY": "industry",
    "OTHER": "academic",
    "NIH": "academic",
    "FED": "academic",
    "U.S._FED": "academic",
    "OTHER_GOV": "academic",
    "NETWORK": "academic",
    "INDIV": "academic",
}
TARGET_TOKENS = tuple(c for c in TARGETS if "/" not in c and c != "other")  # single antigens
# Engines (see helpers.core.patterns): patterns with unbounded repetition run on RE2; the ones on
# re (lookaround, \b) have no unbounded repetition, or start only where a run of digits starts
# (_AGE_LEAD_RE: the lookbehind keeps a search from reading one run again from each of its digits).
CAR_NAME_RE = re.compile(r"(?<![A-Za-z])CAA?R(?![a-z])")
INTERVENTION_TYPE_RE = linear(r"^[A-Z_ ]+:\s*")  # `DRUG: name` -> `name`
BRACKET_RE = linear(r"\(([^)]*)\)")
ENROLLMENT_RE = linear(r"\d+(\.0)?")
MONTH_DATE_RE = linear(r"([A-Za-z]+) (?:(\d{1,2}), )?(\d{4})")
_AGE_LEAD_RE = re.compile(r"(?<!\d)(\d+ (?:Years?|Months?|Weeks?|Days?))\b")
CELL_TYPE_PATTERNS = (
    ("CAAR-T", re.compile(r"CAAR", re.I)),
    ("CAR-Treg", re.compile(r"CAR[- ]?Treg", re.I)),
    ("CAR-NK", re.compile(r"CAR[- ]?NK", re.I)),
    ("gammadelta-CAR-T", re.compile(r"γδ|gamma[- ]?delta", re.I)),
    ("CAR-T", re.compile(r"CAR[- ]?T(?![a-z])|CART(?![a-z])")),
)
MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}


# ---------------------------------------------------------------- field mapping


def _na_if_empty(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return pd.NA
    return value.strip() if isinstance(value, str) else value


def _enum_key(value: str) -> str:
    return re.sub(r"[^A-Z0-9.]+", "_", value.strip().upper()).strip("_")


def map_status(value: object) -> object:
    """Registry status (API enum or website text) -> trials.csv status; unknown text kept."""
    if _na_if_empty(value) is pd.NA:
        return pd.NA
    key = _enum_key(str(value))
    return STATUS_ALIASES.get(key, key)


def map_phase(phases: Iterable[str]) -> object:
    """``["PHASE1", "PHASE2"]`` -> ``"PHASE1/PHASE2"``; empty -> NA; unknown tokens kept."""
    tokens = []
    for raw in phases:
        key = re.sub(r"[^A-Z0-9]", "", str(raw).upper())
        if key:
            tokens.append(PHASE_TOKENS.get(key, str(raw).strip()))
    if not tokens:
        return pd.NA
    unique = sorted(set(tokens), key=lambda t: (PHASE_ORDER.index(t) if t in PHASE_ORDER else 99, t))
    return "/".join(unique)


def map_sponsor_type(value: object) -> object:
    """Agency class / funder type -> ``industry`` | ``academic``; AMBIG/UNKNOWN -> NA."""
    if _na_if_empty(value) is pd.NA:
        return pd.NA
    first = str(value).split("|")[0]
    return SPONSOR_CLASSES.get(_enum_key(first).replace("U.S._", ""), pd.NA)


def paediatric_from(min_age: object, std_ages: Sequence[str]) -> object:
    """``yes`` when the minimum age is < 18 years (or CHILD is an eligible age group)."""
    if not pd.isna(min_age):
        years = age_in_years(str(min_age))
        if years is not None:
            return "yes" if years < 18 else "no"
    groups = {_enum_key(group) for group in std_ages if group.strip()}
    if groups:
        return "yes" if "CHILD" in groups else "no"
    return pd.NA


def _join(items: Iterable[str], sort: bool = False) -> object:
    cleaned = [item.strip().replace(";", ",") for item in items if item and item.strip()]
    unique = list(dict.fromkeys(cleaned))
    if sort:
        unique = sorted(unique)
    return ";".join(unique) if unique else pd.NA


def _car_names(names: Iterable[str]) -> list[str]:
    return [name for name in names if CAR_NAME_RE.search(name)]


def derive_targets(intervention_names: Iterable[str]) -> object:
    """CAR targets named in CAR intervention names (``CD19``, ``CD19/BCMA``...), else NA."""
    found = set()
    for name in _car_names(intervention_names):
        hits = [t for t in TARGET_TOKENS if re.search(rf"(?<![A-Za-z0-9]){t}(?!\d)", name, re.I)]
        if hits:
            found.add("/".join(hits))
    return ";".join(sorted(found)) if found else pd.NA


def derive_cell_type(intervention_names: Iterable[str]) -> object:
    """The one cell platform named in CAR intervention names, else NA."""
    found = set()
    for name in _car_names(intervention_names):
        for label, pattern in CELL_TYPE_PATTERNS:
            if pattern.search(name):
                found.add(label)
                break
    return found.pop() if len(found) == 1 else pd.NA


def derive_cell_source(texts: Iterable[str]) -> object:
    """``autologous`` / ``allogeneic`` when exactly one of the words occurs, else NA."""
    joined = " ".join(texts).lower()
    found = {word for word in ("autologous", "allogeneic") if word in joined}
    return found.pop() if len(found) == 1 else pd.NA


def normalise_date(value: object) -> object:
    """``2023-05`` / ``2023-05-15`` kept; ``May 2023`` / ``May 15, 2023`` converted."""
    text = _na_if_empty(value)
    if text is pd.NA:
        return pd.NA
    text = str(text)
    match = MONTH_DATE_RE.fullmatch(text)
    if match and match[1].lower() in MONTHS:
        month = MONTHS[match[1].lower()]
        return f"{match[3]}-{month:02d}" + (f"-{int(match[2]):02d}" if match[2] else "")
    return text


def _row(
    nct_id: str,
    title: object,
    status: object,
    phases: Sequence[str],
    sponsor: object,
    sponsor_class: object,
    countries: Iterable[str],
    conditions: Iterable[str],
    interventions: Sequence[str],
    start: object,
    enrollment: object,
    min_age: object,
    std_ages: Sequence[str],
    url: object,
    source_file: str,
    status_date: object = None,
    secondary_ids: Iterable[str] = (),
) -> dict[str, object]:
    """One trials.csv-shaped record from registry facts."""
    min_age = _na_if_empty(min_age)
    title = _na_if_empty(title)
    car = _car_names(interventions)
    title_text = "" if title is pd.NA else str(title)
    return {
        "registry_id": nct_id,
        "title": title,
        "status": map_status(status),
        "status_date": normalise_date(status_date),
        "phase": map_phase(phases),
        "sponsor": _na_if_empty(sponsor),
        "sponsor_type": map_sponsor_type(sponsor_class),
        "countries": _join(countries, sort=True),
        "conditions": _join(conditions),
        "diseases": pd.NA,
        "targets": derive_targets(interventions),
        "cell_type": derive_cell_type(interventions),
        "cell_source": derive_cell_source([*car, title_text]) if car else pd.NA,
        "product": pd.NA,
        "start_date": normalise_date(start),
        "enrollment": enrollment,
        "min_age": min_age,
        "paediatric_eligible": paediatric_from(min_age, std_ages),
        "secondary_ids": _join(secondary_ids),
        "source_url": STUDY_URL.format(nct_id) if _na_if_empty(url) is pd.NA else _na_if_empty(url),
        "interventions": _join(interventions),
        "source_file": source_file,
    }


def _frame(rows: list[dict[str, object]], name: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(IMPORT_COLUMNS))
    dupes = sorted(frame.loc[frame["registry_id"].duplicated(), "registry_id"].unique())
    if dupes:
        raise IngestError(f"{name}: {', '.join(dupes)} appear(s) more than once; export each study once")
    frame = frame.astype({c: "string" for c in IMPORT_COLUMNS if c != "enrollment"})
    frame["enrollment"] = frame["enrollment"].astype("Int64")
    return frame.sort_values("registry_id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- JSON (API v2)


class _Study:
    """Typed access to one API v2 study, with errors that name the file and record."""

    def __init__(self, study: object, index: int, name: str) -> None:
        self.where = f"{name}, studies[{index}]"
        if not isinstance(study, dict):
            raise IngestError(
                f"{self.where}: expected a JSON object, found {type(study).__name__}; "
                "re-export the studies from ClinicalTrials.gov (API v2 JSON)"
            )
        self.study = study

    def get(self, path: str, kind: type, default: Any = None) -> Any:
        value: Any = self.study
        for key in path.split("."):
            if not isinstance(value, dict) or key not in value or value[key] is None:
                return default
            value = value[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise IngestError(
                f"{self.where}: field {path} is {type(value).__name__} "
                f"({value!r:.40}), expected {kind.__name__}; fix or re-export the record"
            )
        return value

    def strings(self, path: str, key: str | None = None) -> list[str]:
        items = self.get(path, list, [])
        values = [item.get(key) if key and isinstance(item, dict) else item for item in items]
        return [v for v in values if isinstance(v, str)]


def _studies(data: object, name: str) -> list[object]:
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        return data["studies"]
    if isinstance(data, dict) and "protocolSection" in data:
        return [data]
    if isinstance(data, list):
        return data
    found = f"keys {sorted(data)[:6]}" if isinstance(data, dict) else type(data).__name__
    raise IngestError(
        f'{name}: no "studies" list at the top level (found {found}); this is not a '
        "ClinicalTrials.gov API v2 export: download the studies again as JSON"
    )


def _json_row(study: object, index: int, name: str) -> dict[str, object]:
    s = _Study(study, index, name)
    p = "protocolSection."
    nct_id = s.get(p + "identificationModule.nctId", str)
    if nct_id is None or not NCT_RE.fullmatch(nct_id.strip()):
        raise IngestError(
            f"{s.where}: protocolSection.identificationModule.nctId is "
            f"{'missing' if nct_id is None else repr(nct_id)}; every study needs an NCT id "
            "(NCT + 8 digits): re-export, or remove the record"
        )
    s.where += f" ({nct_id})"
    return _row(
        nct_id=nct_id.strip(),
        title=s.get(p + "identificationModule.briefTitle", str),
        status=s.get(p + "statusModule.overallStatus", str),
        phases=s.strings(p + "designModule.phases"),
        sponsor=s.get(p + "sponsorCollaboratorsModule.leadSponsor.name", str),
        sponsor_class=s.get(p + "sponsorCollaboratorsModule.leadSponsor.class", str),
        countries=s.strings(p + "contactsLocationsModule.locations", "country"),
        conditions=s.strings(p + "conditionsModule.conditions"),
        interventions=s.strings(p + "armsInterventionsModule.interventions", "name"),
        start=s.get(p + "statusModule.startDateStruct.date", str),
        enrollment=_na_if_empty(s.get(p + "designModule.enrollmentInfo.count", int)),
        min_age=s.get(p + "eligibilityModule.minimumAge", str),
        std_ages=s.strings(p + "eligibilityModule.stdAges"),
        url=None,
        source_file=name,
        status_date=s.get(p + "statusModule.lastUpdatePostDateStruct.date", str),
        secondary_ids=s.strings(p + "identificationModule.secondaryIdInfos", "id"),
    )


def read_ctgov_json(path: Path | str) -> pd.DataFrame:
    """Read a ClinicalTrials.gov API v2 JSON export into trials.csv columns (+ interventions, source_file)."""
    path = Path(path)
    name = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise IngestError(f"{name}: file not found; check the path of the export") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(
            f"{name}: not valid JSON ({exc}); download the studies again as JSON "
            "from ClinicalTrials.gov (API v2 format)"
        ) from exc
    return _frame([_json_row(study, i, name) for i, study in enumerate(_studies(data, name))], name)


# ---------------------------------------------------------------- CSV (website download)


def _split(cell: str | None, sep: str = "|") -> list[str]:
    return [item.strip() for item in (cell or "").split(sep) if item.strip()]


def _intervention_names(cell: str | None) -> list[str]:
    return [INTERVENTION_TYPE_RE.sub("", item) for item in _split(cell)]


def _location_countries(cell: str | None) -> list[str]:
    return [site.rsplit(",", 1)[-1].strip() for site in _split(cell)]


def _age_cell(cell: str | None) -> tuple[object, list[str]]:
    """(min_age, std age groups) from the Age cell, new or classic spelling."""
    text = (cell or "").strip()
    lead = _AGE_LEAD_RE.match(text)
    min_age = lead[1] if lead else pd.NA
    bracket = BRACKET_RE.search(text)
    groups = bracket[1] if bracket else ("" if re.search(r"\d", text) else text)
    return min_age, [g.strip() for g in groups.split(",") if g.strip()]


def _csv_enrollment(value: str | None, where: str) -> object:
    text = (value or "").strip()
    if not text:
        return pd.NA
    if not ENROLLMENT_RE.fullmatch(text):
        raise IngestError(f"{where}: Enrollment {text!r} is not a whole number; fix the cell or re-export")
    return int(float(text))


def _csv_row(record: dict[str, str | None], line: int, name: str) -> dict[str, object]:
    where = f"{name}, line {line}"
    nct_id = (record.get("NCT Number") or "").strip()
    if not NCT_RE.fullmatch(nct_id):
        raise IngestError(
            f"{where}: NCT Number is {nct_id or 'empty'!r}; each row needs an NCT id "
            "(NCT + 8 digits): re-export, or delete the row"
        )
    min_age, groups = _age_cell(record.get("Age"))
    return _row(
        nct_id=nct_id,
        title=record.get("Study Title"),
        status=record.get("Study Status"),
        phases=_split(record.get("Phases")),
        sponsor=record.get("Sponsor"),
        sponsor_class=record.get("Funder Type"),
        countries=_location_countries(record.get("Locations")),
        conditions=_split(record.get("Conditions")),
        interventions=_intervention_names(record.get("Interventions")),
        start=record.get("Start Date"),
        enrollment=_csv_enrollment(record.get("Enrollment"), where),
        min_age=min_age,
        std_ages=groups,
        url=record.get("Study URL"),
        source_file=name,
        status_date=record.get("Last Update Posted"),
        secondary_ids=_split(record.get("Other IDs")),
    )


def read_ctgov_csv(path: Path | str) -> pd.DataFrame:
    """Read the ClinicalTrials.gov website CSV download into trials.csv columns (+ interventions, source_file)."""
    path = Path(path)
    name = display_path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if "NCT Number" not in header:
                raise IngestError(
                    f"{name}: no 'NCT Number' column (header: {header[:5]}...); this is not a "
                    "ClinicalTrials.gov CSV download: export again and keep the NCT Number column"
                )
            reader.fieldnames = header
            rows, line = [], reader.line_num + 1
            for record in reader:
                if any((v or "").strip() for v in record.values() if isinstance(v, str)):
                    rows.append(_csv_row(record, line, name))
                line = reader.line_num + 1
    except FileNotFoundError as exc:
        raise IngestError(f"{name}: file not found; check the path of the export") from exc
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not UTF-8 ({exc.reason}); download the CSV again") from exc
    except csv.Error as exc:
        raise IngestError(f"{name}: CSV syntax error ({exc}); download the CSV again") from exc
    return _frame(rows, name)


# ---------------------------------------------------------------- folders


def find_registry_exports(folder: Path | str) -> list[Path]:
    """ClinicalTrials.gov exports (``*.json``, ``*.csv``) directly in ``folder``, sorted by name.

    A folder that does not exist yet holds no exports (empty list).
    """
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise IngestError(f"{display_path(folder)}: not a folder; pass the folder that holds the exports")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in {".json", ".csv"}
    )


def read_ctgov(path: Path | str) -> pd.DataFrame:
    """Read one export, choosing the reader by file suffix."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return read_ctgov_json(path)
    if path.suffix.lower() == ".csv":
        return read_ctgov_csv(path)
    raise IngestError(f"{display_path(path)}: unknown export type {path.suffix!r}; use .json or .csv")


def read_registry_exports(folder: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All exports in a folder: (imported trials, manifest with one row per file).

    A file that cannot be read becomes a manifest row with status ``error``; the others
    are still read.
    """
    frames, manifest = [], []
    for path in find_registry_exports(folder):
        try:
            frame = read_ctgov(path)
        except IngestError as exc:
            manifest.append((display_path(path), "error", str(exc)))
            continue
        frames.append(frame)
        manifest.append((display_path(path), "parsed", f"{len(frame)} studies"))
    trials = _frame([], "") if not frames else pd.concat(frames, ignore_index=True)
    trials = trials.sort_values(["registry_id", "source_file"], kind="stable").reset_index(drop=True)
    return trials, pd.DataFrame(manifest, columns=["source_file", "status", "reason"], dtype="string")
