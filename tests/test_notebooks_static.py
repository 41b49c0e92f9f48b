"""Static checks on every notebook: thin, parameterised, clean metadata, committed with outputs."""

from __future__ import annotations

import ast
import json
import re

import nbformat
import pytest

from helpers.core.paths import NOTEBOOKS
from helpers.evidence.inputs import INPUT_GROUPS, input_paths
from helpers.report.build import PAGE_INPUTS, declared_parameters, discover

NOTEBOOK_FILES = discover(NOTEBOOKS)
PARAMETER_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list}


def test_there_are_notebooks():
    assert NOTEBOOK_FILES and NOTEBOOK_FILES[0].name == "01-corpus.ipynb"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_one_parameters_cell_of_literals_with_help(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = []
    for line in cells[0].source.splitlines():
        if not line.strip():
            continue
        assert "# help:" in line, line
        node = ast.parse(line.split("# help:")[0]).body[0]
        # an annotated literal: `name: type = value`, the type a simple builtin name
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name), line
        assert isinstance(node.annotation, ast.Name) and node.annotation.id in PARAMETER_TYPES, line
        assert isinstance(node.value, (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp)), line
        value = ast.literal_eval(node.value)
        assert isinstance(value, PARAMETER_TYPES[node.annotation.id]), line
        names.append(node.target.id)
    assert "output_dir" in names  # every notebook takes the folder the build writes to
    declared = declared_parameters(path)
    assert declared and set(declared) == set(names) - {"output_dir"}


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_thin_clean_and_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(re.search(r"^\s*(def|class)\s", c.source, re.M) for c in code)
    assert any(c.get("outputs") for c in code), "commit the notebook with its outputs (python -m helpers refresh)"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert "papermill" not in nb.metadata and nb.metadata.get("title")
    assert all("execution" not in c.metadata and "papermill" not in c.metadata for c in nb.cells)
    text = json.dumps(nb)
    assert not re.search(r"/(root|home|tmp|work)/", text)
    assert not re.search(r"0x[0-9a-f]{8,}", text), "memory address in an output"
    nbformat.validate(nb)


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_declared_dependencies_exist(path):
    meta = nbformat.read(path, as_version=4).metadata.get("workbook", {})
    deps = meta.get("depends")
    assert deps, "declare workbook.depends so the build knows which input groups the notebook reads"
    assert set(deps) <= set(INPUT_GROUPS) | set(PAGE_INPUTS), deps
    paths = {**input_paths(), **PAGE_INPUTS}
    assert all(p.exists() for d in deps for p in paths[d]), deps
