"""Notebook parameters, validated with pydantic: a bad value fails naming the parameter."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from helpers.core.errors import ParameterError


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CorpusParams(_Params):
    """Parameters of 01-corpus."""

    seeds_folder: str = Field(min_length=1)
    max_mb: float = Field(gt=0, le=500)

    @field_validator("seeds_folder")
    @classmethod
    def _exists(cls, v: str) -> str:
        if not Path(v).exists():
            raise ValueError(f"'{v}' does not exist (relative to the notebooks/ folder); point it at a folder of documents")
        return v


def validate(model: type[_Params], **values: object) -> _Params:
    """Build the parameter model or raise ParameterError naming each bad parameter and why."""
    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"parameter '{'.'.join(str(p) for p in e['loc'])}' = {e.get('input')!r}: {e['msg']}" for e in exc.errors()
        )
        raise ParameterError(f"{model.__name__}: {problems}") from None


DISEASE_CODES = ("SLE", "SSc", "IIM", "RA", "SjD", "AAV", "APS", "IgG4RD", "MCTD", "other")
CATEGORIES = ("diseases", "targets", "platforms", "generations", "toxicities", "outcomes", "challenges")
TRIAL_STATUSES = ("NOT_YET_RECRUITING", "RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING", "COMPLETED",
                  "SUSPENDED", "TERMINATED", "WITHDRAWN", "UNKNOWN")


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} '{value}'; use one of: {', '.join(allowed)}")
    return value


class CoverageParams(_Params):
    """Parameters of 02-coverage."""

    seeds_folder: str = Field(min_length=1)
    categories: tuple[str, ...] = Field(min_length=1)
    min_mentions: int = Field(ge=1, le=1000)

    @field_validator("categories")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_one_of(c, CATEGORIES, "category") for c in v)

    @field_validator("seeds_folder")
    @classmethod
    def _exists(cls, v: str) -> str:
        return CorpusParams._exists(v)


class ClinicalParams(_Params):
    """Parameters of 03-clinical-evidence."""

    disease: str
    target: str
    earliest_year: int = Field(ge=2019, le=2026)
    include_conference_abstracts: bool

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return v if v == "all" else _one_of(v, DISEASE_CODES, "disease")


class TrialParams(_Params):
    """Parameters of 04-trial-landscape."""

    disease: str
    target: str
    statuses: tuple[str, ...]
    snapshot_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return v if v == "all" else _one_of(v, DISEASE_CODES, "disease")

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_one_of(s, TRIAL_STATUSES, "status") for s in v)


class DiseaseReportParams(_Params):
    """Parameters of 05-disease-report."""

    disease: str
    target: str

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return _one_of(v, DISEASE_CODES, "disease")
