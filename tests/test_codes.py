"""One home for codes: every code and label comes from the vocabulary or seeds/evidence/schema.yaml,
no other module spells a list of codes out, and the README's column tables are generated."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from helpers.core import codes
from helpers.core.errors import SchemaError
from helpers.core.paths import EVIDENCE, VOCABULARY
from helpers.evidence import schema_doc
from helpers.text.vocabulary import load_vocabulary

SRC = Path(codes.__file__).resolve().parents[1]


def test_vocabulary_code_sets_take_codes_and_labels_from_the_vocabulary():
    vocab = load_vocabulary()
    for code_set, category in (
        (codes.DISEASES, "diseases"),
        (codes.TARGETS, "targets"),
        (codes.CELL_TYPES, "platforms"),
        (codes.CELL_SOURCES, "platforms"),
    ):
        for code in code_set:
            if code == "other":
                continue
            assert vocab.concepts[code].category == category, code
            assert code_set.label(code) == vocab.concepts[code].label, code


def test_one_code_per_thing():
    vocab = load_vocabulary()
    assert "GDT" not in vocab.concepts and "gammadelta-CAR-T" in vocab.concepts
    assert set(codes.CELL_TYPES.codes) <= set(vocab.concepts)
    assert set(codes.CELL_SOURCES.codes) == {"autologous", "allogeneic"} <= set(vocab.concepts)


def test_table_code_sets_come_from_the_schema_file():
    schema = yaml.safe_load((EVIDENCE / "schema.yaml").read_text(encoding="utf-8"))
    for name in ("trial_status", "trial_phase", "report_type", "sponsor_type", "category"):
        assert codes.CODE_SETS[name].codes == tuple(schema["code_sets"][name]["labels"]), name
    assert codes.CATEGORIES.codes == tuple(
        sorted(
            {yaml.safe_load(p.read_text(encoding="utf-8"))["category"] for p in VOCABULARY.glob("*.yaml")},
            key=codes.CATEGORIES.codes.index,
        )
    )
    for table in codes.TABLES.values():
        assert [c.name for c in table.columns] == [c["name"] for c in schema["tables"][table.name]["columns"]]


def test_vocabulary_sub_concepts_roll_up_to_their_disease_code():
    vocab = load_vocabulary()
    for concept, disease in codes.DISEASE_OF_CONCEPT.items():
        seen = concept
        while seen != disease:  # the vocabulary's parent chain reaches the evidence code
            seen = vocab.concepts[seen].parent
    assert codes.DISEASE_OF_CONCEPT["LN"] == "SLE" and codes.DISEASE_OF_CONCEPT["JDM"] == "IIM"
    assert "MG" not in codes.DISEASE_OF_CONCEPT  # a neighbour disease is not reported under a rheumatic code


def test_every_code_has_a_label():
    for code_set in codes.CODE_SETS.values():
        assert all(code_set.labels[c] and code_set.labels[c] != "None" for c in code_set), code_set.name
    assert codes.TRIAL_STATUSES.label("ACTIVE_NOT_RECRUITING") == "Active, not recruiting"


def test_code_lookup_and_labels():
    assert codes.DISEASES.canonical(" sle ") == "SLE" and codes.DISEASES.canonical("lupus") is None
    assert codes.DISEASES.prose("SSc") == "systemic sclerosis"
    assert codes.DISEASES.prose("SjD") == codes.DISEASES.label("SjD")  # a name keeps its capital
    assert codes.DISEASES.prose("AAV").startswith("ANCA")
    assert codes.DISEASES.short("IIM") == "myositis" and codes.TARGETS.short("CD19") == codes.TARGETS.label("CD19")
    assert codes.TRIAL_PHASES.label("PHASE1/PHASE2") == "phase 1/2" and codes.TRIAL_PHASES.label("PHASE9") == "PHASE9"


def test_schema_naming_an_unknown_vocabulary_code_is_an_error(tmp_path):
    schema = yaml.safe_load((EVIDENCE / "schema.yaml").read_text(encoding="utf-8"))
    schema["code_sets"]["cell_type"]["codes"].append("GDT")
    bad = tmp_path / "schema.yaml"
    bad.write_text(yaml.safe_dump(schema), encoding="utf-8")
    with pytest.raises(SchemaError, match="GDT.*does not define"):
        codes.load_schema(bad, VOCABULARY)


def _code_literals(tree: ast.AST) -> list[tuple[int, set[str]]]:
    """Sequence/set literals and dict keys made of string constants, with their line."""
    found = []
    for node in ast.walk(tree):
        items = (
            node.elts
            if isinstance(node, (ast.Tuple, ast.List, ast.Set))
            else node.keys
            if isinstance(node, ast.Dict)
            else None
        )
        if items:
            strings = {n.value for n in items if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            found.append((node.lineno, strings))
    return found


def test_no_other_module_spells_out_a_code_list():
    sets = [set(s.codes) - {"other", "yes", "no"} for s in codes.CODE_SETS.values()]
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "codes.py":
            continue
        for line, strings in _code_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if any(len(strings & s) >= 3 for s in sets):
                offenders.append(f"{path.relative_to(SRC)}:{line}")
    assert offenders == []


def test_evidence_readme_column_tables_are_generated_from_the_schema():
    assert schema_doc.readme_is_current(), "run `python -m helpers schema --write`"
    text = schema_doc.README.read_text(encoding="utf-8")
    for table in codes.TABLES.values():
        assert schema_doc.columns_markdown(table) in text
    drifted = text.replace("| report_id |", "| report_key |", 1)
    assert schema_doc.render_readme(drifted) == text  # a hand edit inside a block is undone
    with pytest.raises(SchemaError, match="missing"):
        schema_doc.render_readme(text.replace("<!-- columns: trials -->", ""))
