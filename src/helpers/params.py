"""Notebook parameters, validated with pydantic: a bad value fails naming the parameter."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ParameterError


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
