"""Load and validate the field's vocabulary (``seeds/vocabulary/*.yaml``).

One YAML file per category. Each file is a mapping ``{category: str, concepts: [...]}``;
each concept has ``code`` and ``label`` (required) and optionally ``category``,
``parent``, ``ids`` (``mesh``, ``hgnc``), ``synonyms`` (case-insensitive),
``abbreviations`` (case-sensitive), ``ambiguous`` (case-sensitive, need context),
``context`` (words that resolve an ambiguous form), ``context_concepts`` (codes whose
mentions do the same), ``context_scope`` (``document`` or ``sentence``), ``exclude``
(longer phrases that contain a form but are not a mention) and ``note``.

Validation errors are :class:`~helpers.core.errors.VocabularyError` naming the file and the
line. Surface forms are compared after :func:`fold` and :func:`variants`, the same
normalisation the annotator applies to text, so two concepts can never claim one form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from helpers.core.errors import VocabularyError
from helpers.core.paths import VOCABULARY

# ``seeds/vocabulary`` under the project root (``WORKBOOK_ROOT`` overrides the root).
DEFAULT_VOCABULARY_DIR = VOCABULARY

SYNONYM, ABBREVIATION, AMBIGUOUS, EXCLUDE = "synonym", "abbreviation", "ambiguous", "exclude"
FORM_KINDS = (SYNONYM, ABBREVIATION, AMBIGUOUS, EXCLUDE)
_LIST_KEYS = {
    "synonyms": SYNONYM,
    "abbreviations": ABBREVIATION,
    "ambiguous": AMBIGUOUS,
    "exclude": EXCLUDE,
}
_ALLOWED_KEYS = {
    "code",
    "label",
    "category",
    "parent",
    "ids",
    "synonyms",
    "abbreviations",
    "ambiguous",
    "context",
    "context_concepts",
    "context_scope",
    "exclude",
    "note",
}
_ID_PATTERNS = {
    "mesh": re.compile(r"^D\d{6}(\d{3})?$"),
    "hgnc": re.compile(r"^[A-Z][A-Z0-9-]*$"),
    "hgnc_id": re.compile(r"^HGNC:\d+$"),
}
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_-]{0,31}$")
_SCOPES = ("document", "sentence")

# --------------------------------------------------------------------------- folding

_SEPARATORS = "-‐‑‒–—―/"


def _build_fold_table() -> tuple[bytes, dict[int, str]]:
    """Byte table for ASCII text and a char table for the rest (lower-cased)."""
    ascii_table = bytearray(range(256))
    for b in range(128):
        ch = chr(b)
        if ch.isalnum():
            ascii_table[b] = ord(ch.lower())
        else:
            ascii_table[b] = 32
    lower: dict[int, str] = {}
    for cp in range(0x80, 0x3000):
        ch = chr(cp)
        if ch.isalnum():
            low = ch.lower()
            if len(low) == 1 and low != ch:
                lower[cp] = low
        elif unicodedata.category(ch)[0] != "M":
            lower[cp] = " "
    return bytes(ascii_table), lower


_ASCII_FOLD, _UNI_LOWER = _build_fold_table()
_ASCII_KEEP = bytes(b if chr(b).isalnum() or b >= 128 else 32 for b in range(256))
_ASCII_BYTES = bytes(range(128))
_SPACES = re.compile(r" {2,}")


def _is_separator(ch: str) -> bool:
    """Non-ASCII chars that fold to a space (not letters, digits or combining marks)."""
    return not ch.isalnum() and unicodedata.category(ch)[0] != "M"


def fold_chars(text: str, *, lower: bool = True) -> str:
    """Map every char 1:1: letters/digits kept (lower-cased if ``lower``), the rest to space.

    The result has exactly the length of ``text`` so offsets carry over unchanged. Works on
    UTF-8 bytes: one ``translate`` for ASCII, then one ``replace`` per distinct non-ASCII
    char that changes (a separator becomes one space, an upper-case letter its lower case),
    so a mostly-ASCII text never goes through a whole-string ``str.lower()``.
    """
    data = text.encode("utf-8").translate(_ASCII_FOLD if lower else _ASCII_KEEP)
    if len(data) == len(text):
        return data.decode("ascii")
    changes: list[tuple[bytes, bytes]] = []
    for ch in sorted(set(data.translate(None, _ASCII_BYTES).decode("utf-8"))):
        new = ch
        if lower:
            new = ch.lower()
            if len(new) != 1 or ch in _CONTEXT_LOWER:
                return _fold_chars_whole(text)
        if _is_separator(new):
            new = " "
        elif new.isascii():
            new = new.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
        if new != ch:
            changes.append((ch.encode("utf-8"), new.encode("utf-8")))
    if len(changes) > _MAX_REPLACES and lower:
        return _fold_chars_whole(text)
    for old, new_bytes in changes:
        data = data.replace(old, new_bytes)
    return data.decode("utf-8")


def fold_code_table() -> Any:
    """:func:`fold_chars` as a table over the Basic Multilingual Plane (a numpy array of
    65536 code points): ``table[codes]`` folds the code points of a text 1:1.

    Chars whose lower case depends on their context or is longer than one char (and lone
    surrogates) map to ``FOLD_WHOLE`` (0xFFFF, which no char folds to): a text holding one
    must go through :func:`fold_chars` itself. Built once, on first use.
    """
    global _FOLD_TABLE
    if _FOLD_TABLE is None:
        import numpy as np

        table = np.empty(0x10000, dtype=np.uint16)
        for code in range(0x10000):
            ch = chr(code)
            low = ch.lower()
            if len(low) != 1 or ch in _CONTEXT_LOWER or 0xD800 <= code <= 0xDFFF:
                table[code] = FOLD_WHOLE
            elif low.isascii():
                table[code] = _ASCII_FOLD[ord(low)]
            elif _is_separator(low):
                table[code] = 32
            else:
                table[code] = ord(low) if ord(low) < 0x10000 else FOLD_WHOLE
        _FOLD_TABLE = table
    return _FOLD_TABLE


FOLD_WHOLE = 0xFFFF
_FOLD_TABLE = None

# str.lower() treats these by context (final sigma), so they need the whole-string path.
_CONTEXT_LOWER = frozenset("\u03a3")
_MAX_REPLACES = 12  # more distinct changing chars than this: one str.lower() pass is cheaper


def _fold_chars_whole(text: str) -> str:
    """:func:`fold_chars` through ``str.lower()`` of the whole text (the reference path)."""
    low = text.lower()
    if len(low) != len(text):  # e.g. 'İ' lower-cases to two chars: fold char by char
        return text.translate(_UNI_LOWER).encode("utf-8").translate(_ASCII_FOLD).decode("utf-8")
    data = low.encode("utf-8").translate(_ASCII_FOLD)
    if len(data) == len(text):
        return data.decode("ascii")
    for ch in sorted(set(data.translate(None, _ASCII_BYTES).decode("utf-8"))):
        if _is_separator(ch):
            data = data.replace(ch.encode("utf-8"), b" ")
    return data.decode("utf-8")


def fold(text: str) -> str:
    """Normalise a surface form: lower-case, separators to one space, stripped."""
    return _SPACES.sub(" ", fold_chars(text)).strip()


def fold_keep_case(text: str) -> str:
    """Like :func:`fold` but keeps case (used for case-sensitive forms)."""
    return _SPACES.sub(" ", fold_chars(text, lower=False)).strip()


# --------------------------------------------------------------------------- variants

_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "λ": "lambda"}
_GREEK_RUN = re.compile("[" + "".join(_GREEK) + "]+")
_SPELLING = (  # (British, American) fragments, applied both ways
    ("aemia", "emia"),
    ("haemat", "hemat"),
    ("haemo", "hemo"),
    ("oedem", "edem"),
    ("paediatr", "pediatr"),
    ("ising", "izing"),
    ("isation", "ization"),
    ("ised", "ized"),
    ("armour", "armor"),
    ("tumour", "tumor"),
    ("leukaem", "leukem"),
    ("oestr", "estr"),
)
_TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}


def _spelling_variants(form: str) -> set[str]:
    out = {form}
    for british, american in _SPELLING:
        for spelled in list(out):
            low = spelled.lower()
            if british in low:
                out.add(re.sub(re.escape(british), american, spelled, flags=re.IGNORECASE))
            elif american in low:
                out.add(re.sub(re.escape(american), british, spelled, flags=re.IGNORECASE))
    return out


def _greek_variants(form: str) -> set[str]:
    if not _GREEK_RUN.search(form):
        return {form}
    spaced = _GREEK_RUN.sub(lambda m: " ".join(_GREEK[c] for c in m.group()) + " ", form)
    joined = _GREEK_RUN.sub(lambda m: "".join(_GREEK[c] for c in m.group()) + " ", form)
    return {form, spaced, joined}


def _ascii_variants(form: str) -> set[str]:
    if form.isascii():
        return {form}
    translit = "".join(_TRANSLIT.get(c, c) for c in form)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", form) if not unicodedata.combining(c))
    return {form, translit, stripped}


def _plural(form: str, case_sensitive: bool) -> str | None:
    """Regular English plural of the last word, or None when it does not apply."""
    if not form or not form[-1].isalpha():
        return None
    if case_sensitive:
        return form + "s"
    low = form.lower()
    if low.endswith(("is", "ss", "us")):
        return None
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return form[:-1] + "ies"
    if low.endswith(("x", "ch", "sh")):
        return form + "es"
    return form + "s"


def variants(form: str, *, case_sensitive: bool = False) -> set[str]:
    """All spellings a form stands for: British/American, Greek names, ASCII, joined
    hyphens, plural. Returned unfolded; callers fold them."""
    out: set[str] = set()
    for spelled in _spelling_variants(form) if not case_sensitive else {form}:
        for greek in _greek_variants(spelled):
            for plain in _ascii_variants(greek):
                out.add(plain)
                if "-" in plain:
                    out.add(plain.replace("-", ""))
    for base in list(out):
        plural = _plural(base, case_sensitive)
        if plural:
            out.add(plural)
    return out


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Form:
    """One surface form as written in a vocabulary file."""

    text: str
    kind: str  # synonym | abbreviation | ambiguous
    code: str
    file: str
    line: int


@dataclass(frozen=True)
class Concept:
    """One concept of the vocabulary."""

    code: str
    label: str
    category: str
    parent: str | None
    ids: dict[str, str]
    synonyms: tuple[str, ...]
    abbreviations: tuple[str, ...]
    ambiguous: tuple[str, ...]
    context: tuple[str, ...]
    context_concepts: tuple[str, ...]
    context_scope: str
    file: str
    line: int
    ref_lines: tuple[tuple[str, int], ...] = ()


@dataclass(eq=False)
class Vocabulary:
    """Validated concepts (sorted by code) and their surface forms."""

    concepts: dict[str, Concept]
    forms: list[Form] = field(default_factory=list)
    source: str = ""

    @property
    def codes(self) -> list[str]:
        """Concept codes, sorted."""
        return sorted(self.concepts)

    @property
    def categories(self) -> list[str]:
        """Category names, sorted."""
        return sorted({c.category for c in self.concepts.values()})

    def ancestors(self, code: str) -> list[str]:
        """Parent chain of ``code``, nearest first."""
        chain: list[str] = []
        parent = self.concepts[code].parent
        while parent:
            chain.append(parent)
            parent = self.concepts[parent].parent
        return chain

    def frame(self) -> Any:
        """The concepts as a pandas DataFrame (one row per concept, sorted by code)."""
        import pandas as pd

        rows = [
            {
                "code": c.code,
                "label": c.label,
                "category": c.category,
                "parent": c.parent,
                "mesh": c.ids.get("mesh"),
                "hgnc": c.ids.get("hgnc"),
                "synonyms": "; ".join(c.synonyms),
                "abbreviations": "; ".join(c.abbreviations),
                "ambiguous": "; ".join(c.ambiguous),
            }
            for c in sorted(self.concepts.values(), key=lambda c: c.code)
        ]
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------- loading


def _err(file: str, line: int, message: str) -> VocabularyError:
    return VocabularyError(f"{file}:{line}: {message}")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _compose(path: Path) -> tuple[yaml.Node | None, yaml.SafeLoader]:
    text = path.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise _err(path.name, line, f"not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax") from exc
    return node, loader


def _mapping(node: yaml.Node, file: str, what: str) -> dict[str, yaml.Node]:
    """Key -> value node of a mapping node; duplicate keys are an error."""
    if not isinstance(node, yaml.MappingNode):
        raise _err(file, _line(node), f"{what} must be a mapping (key: value)")
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key in out:
            raise _err(file, _line(key_node), f"duplicate key {key!r} in {what}")
        out[key] = value_node
    return out


def _string(node: yaml.Node, file: str, key: str, *, optional: bool = False) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and optional:
        return None
    if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":str") or not node.value.strip():
        raise _err(file, _line(node), f"{key!r} must be a non-empty string, got {node.value!r}")
    return node.value.strip()


def _strings(node: yaml.Node, file: str, key: str) -> list[tuple[str, int]]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise _err(file, _line(node), f"{key!r} must be a list of strings")
    return [(_string(item, file, key) or "", _line(item)) for item in node.value]


def _ids(node: yaml.Node, file: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _mapping(node, file, "ids").items():
        if key not in _ID_PATTERNS:
            raise _err(file, _line(value), f"unknown id type {key!r}; use one of {sorted(_ID_PATTERNS)}")
        text = _string(value, file, f"ids.{key}", optional=True)
        if text is None:
            continue
        if not _ID_PATTERNS[key].match(text):
            raise _err(file, _line(value), f"ids.{key} {text!r} is not a valid {key} id; leave it empty when unsure")
        out[key] = text
    return out


def _concept(node: yaml.Node, file: str, category: str, forms: list[Form]) -> Concept:
    """Validate one concept mapping and append its forms."""
    fields = _mapping(node, file, "a concept")
    line = _line(node)
    _check_concept_keys(fields, file, line)
    code = _concept_code(fields, file)
    own_category = _concept_category(fields, file, category, code)
    scope = _concept_scope(fields, file)
    lists = _concept_lists(fields, file, code, forms)
    if not lists["synonyms"] and not lists["abbreviations"] and not lists["ambiguous"]:
        raise _err(file, line, f"concept {code} has no synonyms, abbreviations or ambiguous forms")
    parent_node = fields.get("parent")
    refs = list(lists["context_concepts"])
    if parent_node is not None and not parent_node.tag.endswith(":null"):
        refs.insert(0, (_string(parent_node, file, "parent") or "", _line(parent_node)))
    return Concept(
        code=code,
        label=_string(fields["label"], file, "label") or "",
        category=own_category,
        parent=_string(parent_node, file, "parent", optional=True) if parent_node else None,
        ids=_concept_ids(fields, file),
        synonyms=tuple(t for t, _ in lists["synonyms"]),
        abbreviations=tuple(t for t, _ in lists["abbreviations"]),
        ambiguous=tuple(t for t, _ in lists["ambiguous"]),
        context=tuple(t for t, _ in lists["context"]),
        context_concepts=tuple(t for t, _ in lists["context_concepts"]),
        context_scope=scope,
        file=file,
        line=line,
        ref_lines=tuple(refs),
    )


def _check_concept_keys(fields: dict[str, yaml.Node], file: str, line: int) -> None:
    """Reject unknown keys and require ``code`` and ``label``."""
    for key, value in fields.items():
        if key not in _ALLOWED_KEYS:
            raise _err(file, _line(value), f"unknown key {key!r}; allowed: {sorted(_ALLOWED_KEYS)}")
    for required in ("code", "label"):
        if required not in fields:
            raise _err(file, line, f"concept is missing required key {required!r}")


def _concept_code(fields: dict[str, yaml.Node], file: str) -> str:
    code = _string(fields["code"], file, "code") or ""
    if not _CODE_RE.match(code):
        raise _err(file, _line(fields["code"]), f"code {code!r} must be 1-32 chars of letters, digits, '/', '_' or '-'")
    return code


def _concept_category(fields: dict[str, yaml.Node], file: str, category: str, code: str) -> str:
    """The concept's own category, which must agree with the file's when it is given."""
    if "category" not in fields:
        return category
    own_category = _string(fields["category"], file, "category") or category
    if own_category != category:
        raise _err(
            file,
            _line(fields["category"]),
            f"concept {code} has category {own_category!r} but the file declares {category!r}",
        )
    return own_category


def _concept_scope(fields: dict[str, yaml.Node], file: str) -> str:
    if "context_scope" not in fields:
        return "document"
    scope = _string(fields["context_scope"], file, "context_scope") or ""
    if scope not in _SCOPES:
        raise _err(file, _line(fields["context_scope"]), f"context_scope must be one of {_SCOPES}")
    return scope


def _concept_lists(
    fields: dict[str, yaml.Node], file: str, code: str, forms: list[Form]
) -> dict[str, list[tuple[str, int]]]:
    """The concept's string lists as (text, line); appends its matchable forms to ``forms``."""
    lists: dict[str, list[tuple[str, int]]] = {}
    for key in ("synonyms", "abbreviations", "ambiguous", "exclude", "context", "context_concepts"):
        lists[key] = _strings(fields[key], file, key) if key in fields else []
    for key, kind in _LIST_KEYS.items():
        for text, item_line in lists[key]:
            if not fold(text):
                raise _err(file, item_line, f"{key} entry {text!r} has no letters or digits")
            forms.append(Form(text, kind, code, file, item_line))
    return lists


def _concept_ids(fields: dict[str, yaml.Node], file: str) -> dict[str, str]:
    """The concept's validated ids; none when the key is absent or null."""
    if "ids" not in fields:
        return {}
    node = fields["ids"]
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return {}
    return _ids(node, file)


def _load_file(path: Path, forms: list[Form]) -> list[Concept]:
    node, _ = _compose(path)
    file = path.name
    if node is None:
        raise _err(file, 1, "file is empty; expected 'category:' and 'concepts:'")
    top = _mapping(node, file, "the file")
    for key in top:
        if key not in ("category", "concepts"):
            raise _err(file, _line(top[key]), f"unknown top-level key {key!r}; expected 'category' and 'concepts'")
    for required in ("category", "concepts"):
        if required not in top:
            raise _err(file, _line(node), f"missing top-level key {required!r}")
    category = _string(top["category"], file, "category") or ""
    concepts_node = top["concepts"]
    if not isinstance(concepts_node, yaml.SequenceNode):
        raise _err(file, _line(concepts_node), "'concepts' must be a list of concepts")
    return [_concept(item, file, category, forms) for item in concepts_node.value]


def _check_codes(concepts: list[Concept]) -> dict[str, Concept]:
    by_code: dict[str, Concept] = {}
    for concept in concepts:
        first = by_code.get(concept.code)
        if first is not None:
            raise _err(
                concept.file,
                concept.line,
                f"duplicate code {concept.code!r} (first defined at {first.file}:{first.line}); codes must be unique",
            )
        by_code[concept.code] = concept
    return by_code


def _check_references(by_code: dict[str, Concept]) -> None:
    for concept in by_code.values():
        for ref, line in concept.ref_lines:
            if ref not in by_code:
                raise _err(
                    concept.file,
                    line,
                    f"concept {concept.code} refers to unknown code {ref!r}; add that concept or fix the code",
                )
        seen = {concept.code}
        parent = concept.parent
        while parent:
            if parent in seen:
                raise _err(concept.file, concept.line, f"parent cycle through {concept.code!r}")
            seen.add(parent)
            parent = by_code[parent].parent


def form_keys(form: Form) -> set[str]:
    """Folded keys a form matches (all its variants)."""
    case_sensitive = form.kind in (ABBREVIATION, AMBIGUOUS)
    return {fold(v) for v in variants(form.text, case_sensitive=case_sensitive)} - {""}


def _check_forms(forms: list[Form]) -> None:
    """No folded form may point at two concepts (ambiguous forms may be shared)."""
    owner: dict[str, Form] = {}
    for form in forms:
        for key in sorted(form_keys(form)):
            first = owner.get(key)
            if first is None:
                owner[key] = form
                continue
            if first.code == form.code:
                continue
            if first.kind == AMBIGUOUS and form.kind == AMBIGUOUS:
                continue
            raise _err(
                form.file,
                form.line,
                f"{form.kind} {form.text!r} of {form.code} "
                f"matches {key!r}, already claimed by {first.kind} {first.text!r} of "
                f"{first.code} ({first.file}:{first.line}); keep one, or list both "
                "under 'ambiguous'",
            )


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """Load and validate every ``*.yaml`` in ``path`` (default: ``seeds/vocabulary``)."""
    folder = Path(path) if path is not None else DEFAULT_VOCABULARY_DIR
    return _load_cached(folder.resolve())


@lru_cache(maxsize=8)
def _load_cached(folder: Path) -> Vocabulary:
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise VocabularyError(
            f"{folder.name}: no vocabulary files (*.yaml) found; point load_vocabulary() at seeds/vocabulary"
        )
    forms: list[Form] = []
    concepts: list[Concept] = []
    for file in files:
        concepts.extend(_load_file(file, forms))
    by_code = _check_codes(concepts)
    _check_references(by_code)
    _check_forms(forms)
    ordered = {code: by_code[code] for code in sorted(by_code)}
    return Vocabulary(concepts=ordered, forms=forms, source=folder.name)


def iter_forms(vocab: Vocabulary, kinds: Iterable[str] = FORM_KINDS) -> list[Form]:
    """Forms of the given kinds, in file order."""
    wanted = set(kinds)
    return [f for f in vocab.forms if f.kind in wanted]
