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
_MAX_DEPTH = 20  # a sidecar needs 2 levels (a mapping of lists); PyYAML slows down and recurses with each level


class _TooDeep(yaml.YAMLError):
    """Lists or mappings nested deeper than a sidecar can need."""


class _BadValue(yaml.YAMLError):
    """A value PyYAML could not build as the type it looks like or is tagged with."""


class _SidecarLoader(yaml.SafeLoader):
    """SafeLoader that stops at _MAX_DEPTH levels of nesting: deeper, PyYAML's scanner looks ahead at every
    open bracket (seconds for a few KB of `[[[[`) and its composer ends in RecursionError."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise _TooDeep(f"more than {_MAX_DEPTH} levels at {self.peek_event().start_mark}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        # PyYAML builds dates and tagged values itself and lets Python's errors out: `date: 2024-13-45`
        # (ValueError), `!!float` (IndexError), `!!timestamp x` (AttributeError), `!!bool x` (KeyError)
        try:
            return super().construct_object(node, deep)
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            shown = repr(node.value)[:80] if isinstance(node.value, str) else f"this {node.id}"
            raise _BadValue(
                f"line {node.start_mark.line + 1}: {shown} is not a valid {kind} ({exc}); write dates as "
                "YYYY-MM-DD, or put the value in quotes to keep it as text."
            ) from exc


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
        loader = _SidecarLoader(text)
        try:
            node = loader.get_single_node()  # composed once: the lines of the keys, then the values
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (_TooDeep, RecursionError) as exc:
        raise SchemaError(
            f"{name}: lists or mappings nested more than {_MAX_DEPTH} levels deep; "
            "a sidecar holds flat `field: value` lines, e.g. `authors: [A, B]`."
        ) from exc
    except _BadValue as exc:
        raise SchemaError(f"{name}, {exc}") from exc
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
                f"{name}, line {line}: unknown field {key!r}; allowed fields are: {allowed}. Rename or remove it."
            )
        out[key] = _check(name, line, key, value)
    return out


def _check(name: str, line: object, key: str, value: object) -> object:
    if key in _LIST_FIELDS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SchemaError(f"{name}, line {line}: '{key}' must be a list of strings, e.g. `{key}: [A, B]`.")
        return [_text(name, line, key, v) for v in value]
    if key == "year":
        if not isinstance(value, int) or not 1900 <= value <= 2100:
            raise SchemaError(f"{name}, line {line}: 'year' must be a four-digit year, got {value!r}.")
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise SchemaError(f"{name}, line {line}: '{key}' must be text, got {type(value).__name__}.")
    return _text(name, line, key, str(value))


def _text(name: str, line: object, key: str, value: str) -> str:
    """YAML's \\u escapes can leave halves of a character (surrogates), which no UTF-8 output can hold:
    a pair (JSON-style `\\ud83d\\ude00`) is joined into its character, a lone half is refused."""
    try:
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"{name}, line {line}: '{key}' holds a \\u escape for half a character (\\ud800-\\udfff); "
            "write the character itself, or its \\U escape (e.g. \\U0001F600)."
        ) from exc
