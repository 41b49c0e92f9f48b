"""Sidecar files (`<document stem>.meta.yaml`): metadata a user supplies for a document whose
page does not print it. Sidecar values win and are marked as curated."""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml

from helpers.core.errors import SchemaError
from helpers.core.models import CURATABLE_FIELDS
from helpers.core.paths import display_path

SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")
_LIST_FIELDS = {"authors", "keywords"}


def is_sidecar(path: Path) -> bool:
    """Whether the file is a sidecar (`.meta.yaml` / `.meta.yml`)."""
    return path.name.endswith(SIDECAR_SUFFIXES)


def sidecar_for(document: Path) -> Path | None:
    """The sidecar next to a document, if any."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = document.with_name(document.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def document_stem(sidecar: Path) -> str:
    """The stem of the document a sidecar belongs to (its name without the sidecar suffix)."""
    for suffix in SIDECAR_SUFFIXES:
        if sidecar.name.endswith(suffix):
            return sidecar.name[: -len(suffix)]
    return sidecar.stem


def read_sidecar(path: Path) -> dict:
    """Validated sidecar values; SchemaError names the file, line, field and the fix."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemaError(
            f"{name}: not valid UTF-8 YAML ({exc.__class__.__name__}); fix the syntax, e.g. `doi: 10.1234/abc`."
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SchemaError(f"{name}: expected `field: value` lines, found a {type(data).__name__}.")
    lines = {k.value: k.start_mark.line + 1 for k, _ in node.value} if node is not None else {}
    allowed = ", ".join(CURATABLE_FIELDS)
    out = {}
    for key, value in data.items():
        line = lines.get(key, "?")
        if key not in CURATABLE_FIELDS:
            raise SchemaError(
                f"{name}, line {line}: unknown field '{key}'; allowed fields are: {allowed}. Rename or remove it."
            )
        out[key] = _check(name, line, key, value)
    return out


def _check(name: str, line: object, key: str, value: object) -> object:
    if key in _LIST_FIELDS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SchemaError(f"{name}, line {line}: '{key}' must be a list of strings, e.g. `{key}: [A, B]`.")
        return value
    if key == "year":
        if not isinstance(value, int) or not 1900 <= value <= 2100:
            raise SchemaError(f"{name}, line {line}: 'year' must be a four-digit year, got {value!r}.")
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise SchemaError(f"{name}, line {line}: '{key}' must be text, got {type(value).__name__}.")
    return str(value)
