"""Notebook parameters, validated once with pydantic: a bad value fails with one line naming it.

Every notebook hands its parameters to :func:`validate` the same way, with the snapshot the
allowed values come from. Codes are matched case-insensitively (``sle`` -> ``SLE``) and the
message lists the allowed values. Functions downstream trust the validated values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from helpers.core.codes import CATEGORIES, DISEASES, ROB_JUDGEMENTS, TRIAL_STATUSES, CodeSet
from helpers.core.errors import ParameterError
from helpers.evidence.snapshot import Snapshot

ALL = "all"


def _code(value: str, codes: CodeSet | tuple[str, ...], what: str, allow_all: bool = False) -> str:
    """The canonical spelling of value among codes (case-insensitive), or a ValueError listing them."""
    if allow_all and value.strip().casefold() == ALL:
        return ALL
    allowed = codes.codes if isinstance(codes, CodeSet) else tuple(codes)
    found = next((c for c in allowed if c.casefold() == value.strip().casefold()), None)
    if found is None:
        listed = ", ".join(([f"'{ALL}'"] if allow_all else []) + list(allowed))
        raise ValueError(f"unknown {what} '{value}'; use one of: {listed}")
    return found


def _snapshot(info: ValidationInfo) -> Snapshot | None:
    return (info.context or {}).get("snapshot")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    output_dir: str = ""

    @field_validator("output_dir")
    @classmethod
    def _output_dir(cls, v: str) -> str:
        if v and not Path(v).is_absolute():
            raise ValueError("must be an absolute folder path, or '' to write no files")
        return v

    @property
    def outputs(self) -> Path | None:
        """The folder figures and tables are written to (None: display only)."""
        return Path(self.output_dir) if self.output_dir else None


class _DocumentsParams(_Params):
    seeds_folder: str = Field(min_length=1)

    @field_validator("seeds_folder")
    @classmethod
    def _exists(cls, v: str) -> str:
        if not Path(v).exists():
            raise ValueError(
                f"'{v}' does not exist (relative to the notebooks/ folder); point it at a folder of documents"
            )
        return v


class CorpusParams(_DocumentsParams):
    """Parameters of 01-corpus."""

    max_mb: float = Field(gt=0, le=500)


class CoverageParams(_DocumentsParams):
    """Parameters of 02-coverage."""

    categories: tuple[str, ...] = Field(min_length=1)
    min_mentions: int = Field(ge=1, le=1000)

    @field_validator("categories")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_code(c, CATEGORIES, "category") for c in v)


class LibraryParams(_Params):
    """Parameters of 06-library: a folder of literature exports, optional screening decisions."""

    library_folder: str = Field(min_length=1)
    decisions: str = ""
    categories: tuple[str, ...] = Field(min_length=1)
    top_journals: int = Field(ge=1, le=100)
    example_clusters: int = Field(ge=0, le=100)

    @field_validator("library_folder")
    @classmethod
    def _folder(cls, v: str) -> str:
        if not Path(v).exists():
            raise ValueError(
                f"'{v}' does not exist (relative to the notebooks/ folder); point it at a folder of exports"
            )
        return v

    @field_validator("decisions")
    @classmethod
    def _decisions(cls, v: str) -> str:
        if v and not Path(v).is_file():
            raise ValueError(f"'{v}' is not a file (relative to the notebooks/ folder); give a decisions CSV or ''")
        return v

    @field_validator("categories")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_code(c, CATEGORIES, "category") for c in v)


class _SelectionParams(_Params):
    """A disease code (or 'all') and a CAR target known to the snapshot (or 'all')."""

    disease: str
    target: str

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return _code(v, DISEASES, "disease", allow_all=True)

    @field_validator("target")
    @classmethod
    def _target(cls, v: str, info: ValidationInfo) -> str:
        snap = _snapshot(info)
        if snap is None:
            raise ValueError("cannot be checked without the snapshot; call validate(..., snapshot=load_snapshot())")
        return _code(v, snap.known_targets(), "target (none of the reports or trials names it)", allow_all=True)


class ClinicalParams(_SelectionParams):
    """Parameters of 03-clinical-evidence."""

    earliest_year: int = Field(ge=2019, le=2026)
    include_conference_abstracts: bool
    primary_sources_only: bool = False
    pooling_method: Literal["glmm", "reml", "dl", "pm"] = "glmm"
    max_risk_of_bias: str = "high"

    @field_validator("max_risk_of_bias")
    @classmethod
    def _risk(cls, v: str) -> str:
        return _code(v, ROB_JUDGEMENTS.rank, "overall risk of bias")


class TrialParams(_SelectionParams):
    """Parameters of 04-trial-landscape."""

    statuses: tuple[str, ...]
    snapshot_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_code(s, TRIAL_STATUSES, "status") for s in v)


class DiseaseReportParams(_SelectionParams):
    """Parameters of 05-disease-report: one disease (not 'all')."""

    @field_validator("disease")
    @classmethod
    def _one_disease(cls, v: str) -> str:
        if v == ALL:
            raise ValueError(f"a disease report is about one disease; use one of: {DISEASES.listing()}")
        return v


def validate(model: type[_Params], snapshot: Snapshot | None = None, **values: Any) -> _Params:
    """Build the parameter model or raise ParameterError naming each bad parameter and why.

    Lists given as parameters (papermill passes JSON lists) become tuples.
    """
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return model.model_validate(values, context={"snapshot": snapshot})
    except ValidationError as exc:
        problems = "; ".join(
            f"parameter '{'.'.join(str(p) for p in e['loc'])}' = {e.get('input')!r}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ParameterError(f"{model.__name__}: {problems}") from None
