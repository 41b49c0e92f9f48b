"""The one home for codes: diseases, targets, cell types and sources, phases, statuses, categories.

Codes and labels come from two files only: the vocabulary (``seeds/vocabulary/*.yaml``, for
the codes that are concepts of the field) and the evidence schema
(``seeds/evidence/schema.yaml``, for table codes such as trial phases and for the column
contract of the evidence tables). Every other module imports its codes from here, so a code
is spelled out in one place. This module lives in ``core`` because the source readers
(registry exports) and the vocabulary both need the codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from helpers.core.errors import SchemaError
from helpers.core.paths import EVIDENCE, VOCABULARY, display_path

SCHEMA_FILE = EVIDENCE / "schema.yaml"
COLUMN_TYPES = ("str", "int", "float")


@dataclass(frozen=True)
class CodeSet:
    """An ordered set of codes with a label (and a short label) per code."""

    name: str
    codes: tuple[str, ...]
    labels: Mapping[str, str]
    short_labels: Mapping[str, str]
    featured: tuple[str, ...] = ()
    rank: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self.labels

    def __len__(self) -> int:
        return len(self.codes)

    def label(self, code: str) -> str:
        """The label of a code (the code itself when unknown)."""
        return self.labels.get(code, code)

    def short(self, code: str) -> str:
        """The short label figures use (the label when no short one is given)."""
        return self.short_labels.get(code) or self.label(code)

    def prose(self, code: str) -> str:
        """The label as it reads inside a sentence: 'Systemic sclerosis' -> 'systemic sclerosis'.

        A first word that is an acronym, mixed case or a possessive name keeps its capital.
        """
        label = self.label(code)
        first = label.split(" ", 1)[0]
        if first[:1].isupper() and first[1:].islower() and not first.endswith("'s"):
            return label[:1].lower() + label[1:]
        return label

    def canonical(self, value: str) -> str | None:
        """The code matching value case-insensitively, or None."""
        folded = value.strip().casefold()
        return next((c for c in self.codes if c.casefold() == folded), None)

    def listing(self) -> str:
        """The codes as a comma-separated list, for messages."""
        return ", ".join(self.codes)


@dataclass(frozen=True)
class Column:
    """One column of an evidence table as the schema file states it."""

    name: str
    type: str = "str"
    required: bool = False
    unique: bool = False
    list: bool = False
    codes: str | None = None
    range: tuple[int | None, int | None] | None = None
    doc: str = ""


@dataclass(frozen=True)
class TableSchema:
    """The column contract of one evidence table."""

    name: str
    file: str
    what: str
    columns: tuple[Column, ...]
    complete: bool = False  # no blank cell: each holds a value or a status (`not reported`, ...)

    @property
    def names(self) -> tuple[str, ...]:
        """The column names in file order."""
        return tuple(c.name for c in self.columns)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemaError(
            f"{display_path(path)}: cannot be read ({exc.__class__.__name__}); restore it from version control"
        ) from None


def _vocabulary_labels(folder: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(label per concept code, parent per concept code by category) from the vocabulary files."""
    labels: dict[str, str] = {}
    parents: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = _read_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("concepts"), list):
            raise SchemaError(f"{display_path(path)}: expected `category:` and a `concepts:` list")
        by_code = parents.setdefault(str(data.get("category")), {})
        for concept in data["concepts"]:
            if isinstance(concept, dict) and "code" in concept:
                labels[str(concept["code"])] = str(concept.get("label", concept["code"]))
                by_code[str(concept["code"])] = str(concept.get("parent") or "")
    return labels, parents


def _code_set(name: str, spec: dict, vocab_labels: dict[str, str], where: str) -> CodeSet:
    if "vocabulary" in spec:
        codes = [str(c) for c in spec.get("codes", [])]
        missing = [c for c in codes if c not in vocab_labels]
        if missing:
            raise SchemaError(
                f"{where}: code set '{name}' names {', '.join(missing)}, which the vocabulary "
                f"category '{spec['vocabulary']}' does not define; add the concept or fix the code"
            )
        labels = {c: vocab_labels[c] for c in codes}
    else:
        labels = {str(k): str(v) for k, v in (spec.get("labels") or {}).items()}
    labels.update({str(k): str(v) for k, v in (spec.get("extra") or {}).items()})
    unlabelled = [c for c, label in labels.items() if label in ("None", "")]
    if unlabelled:
        raise SchemaError(
            f"{where}: code set '{name}' has no label for {', '.join(unlabelled)}; "
            "write `CODE: label` (quote a label that holds a comma)"
        )
    short = {str(k): str(v) for k, v in (spec.get("short") or {}).items()}
    featured = tuple(str(c) for c in spec.get("featured") or ())
    rank = tuple(str(c) for c in spec.get("rank") or ())
    strays = [c for c in (*short, *featured, *rank) if c not in labels]
    if strays:
        raise SchemaError(
            f"{where}: code set '{name}' uses {', '.join(strays)} in short/featured/rank, which it does not define"
        )
    return CodeSet(name, tuple(labels), MappingProxyType(labels), MappingProxyType(short), featured, rank)


def _column(raw: dict, sets: Mapping[str, CodeSet], where: str) -> Column:
    unknown = set(raw) - set(Column.__dataclass_fields__)
    if unknown or "name" not in raw:
        raise SchemaError(f"{where}: column entry {raw!r} has unknown keys {sorted(unknown)} or no name")
    col = Column(**{**raw, "range": tuple(raw["range"]) if raw.get("range") else None})
    if col.type not in COLUMN_TYPES:
        raise SchemaError(f"{where}: column '{col.name}' has type '{col.type}'; use one of {', '.join(COLUMN_TYPES)}")
    if col.codes is not None and col.codes not in sets:
        raise SchemaError(f"{where}: column '{col.name}' uses unknown code set '{col.codes}'")
    return col


def load_schema(
    schema_file: Path = SCHEMA_FILE, vocabulary: Path = VOCABULARY
) -> tuple[dict[str, CodeSet], dict[str, TableSchema], dict[str, str]]:
    """(code sets, table schemas, evidence disease code per vocabulary disease concept) from the files."""
    where = display_path(schema_file)
    data = _read_yaml(schema_file)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("code_sets"), dict)
        or not isinstance(data.get("tables"), dict)
    ):
        raise SchemaError(f"{where}: expected `code_sets:` and `tables:` mappings")
    vocab_labels, parents = _vocabulary_labels(vocabulary)
    sets = {name: _code_set(name, spec, vocab_labels, where) for name, spec in data["code_sets"].items()}
    tables = {
        name: TableSchema(
            name,
            spec["file"],
            spec.get("what", ""),
            tuple(_column(c, sets, where) for c in spec["columns"]),
            bool(spec.get("complete", False)),
        )
        for name, spec in data["tables"].items()
    }
    return sets, tables, _disease_rollup(parents.get("diseases", {}), sets["disease"])


def _disease_rollup(parent_of: dict[str, str], diseases: CodeSet) -> dict[str, str]:
    """Each vocabulary disease concept -> the evidence disease code it is reported under (via `parent`)."""
    out = {}
    for code in parent_of:
        seen, current = set(), code
        while current and current not in diseases and current not in seen:
            seen.add(current)
            current = parent_of.get(current, "")
        if current in diseases:
            out[code] = current
    return out


CODE_SETS, TABLES, DISEASE_OF_CONCEPT = load_schema()

DISEASES = CODE_SETS["disease"]
TARGETS = CODE_SETS["target"]
CELL_TYPES = CODE_SETS["cell_type"]
CELL_SOURCES = CODE_SETS["cell_source"]
REPORT_TYPES = CODE_SETS["report_type"]
EFFICACY_MEASURES = CODE_SETS["efficacy_measure"]
TRIAL_STATUSES = CODE_SETS["trial_status"]
TRIAL_PHASES = CODE_SETS["trial_phase"]
SPONSOR_TYPES = CODE_SETS["sponsor_type"]
PAEDIATRIC = CODE_SETS["paediatric"]
YES_NO = CODE_SETS["yes_no"]
CATEGORIES = CODE_SETS["category"]
INDICATIONS = CODE_SETS["indication"]
OUTCOME_CLASSES = CODE_SETS["outcome_class"]
FACT_STATUSES = CODE_SETS["fact_status"]
CELL_STATUSES = CODE_SETS["cell_status"]
TIERS = CODE_SETS["tier"]
SOURCE_KINDS = CODE_SETS["source_kind"]
ROB_ITEMS = CODE_SETS["rob_item"]
ROB_JUDGEMENTS = CODE_SETS["rob_judgement"]

CLINICAL = TABLES["clinical_reports"]
TRIALS = TABLES["trials"]
OUTCOMES = TABLES["outcomes"]
SOURCES = TABLES["sources"]
SEARCHES = TABLES["searches"]
RISK_OF_BIAS = TABLES["risk_of_bias"]
OUTCOME_NEEDS: dict[str, tuple[str, ...]] = {
    str(k): tuple(str(x) for x in v)
    for k, v in (_read_yaml(SCHEMA_FILE)["tables"]["outcomes"].get("needs_when_stated") or {}).items()
}
_ROB_RULE = _read_yaml(SCHEMA_FILE)["tables"]["risk_of_bias"].get("overall_rule") or {}
ROB_KEY_ITEMS: tuple[str, ...] = tuple(str(i) for i in _ROB_RULE.get("key", ()))
ROB_DECISIVE_ITEMS: tuple[str, ...] = tuple(str(i) for i in _ROB_RULE.get("decisive", ()))
CLINICAL_COLUMNS = CLINICAL.names
TRIAL_COLUMNS = TRIALS.names
# screening decisions and the PRISMA 2020 flow (helpers.library.prisma, helpers.report.prisma_figure)
SCREENING_DECISIONS = CODE_SETS["screening_decision"]
RECORD_EXCLUSIONS = CODE_SETS["record_exclusion"]
REPORT_EXCLUSIONS = CODE_SETS["report_exclusion"]
PRISMA_COLUMNS = CODE_SETS["prisma_column"]
PRISMA_PHASES = CODE_SETS["prisma_phase"]
PRISMA_BOXES = CODE_SETS["prisma_box"]
PRISMA_REMOVALS = CODE_SETS["prisma_removal"]
if set(RECORD_EXCLUSIONS.codes) & set(REPORT_EXCLUSIONS.codes):
    raise SchemaError(f"{display_path(SCHEMA_FILE)}: a reason is both a record and a report exclusion; keep them apart")
