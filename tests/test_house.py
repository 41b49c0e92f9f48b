"""The house: one subpackage per stage, imports only leftwards, small modules, no hidden global state."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import helpers

PACKAGE = Path(helpers.__file__).resolve().parent
STAGES = ("sources", "library", "text", "evidence", "synthesis", "report")
READERS = ("sources", "library", "evidence")  # the only stages that read files


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _stage(path: Path) -> str | None:
    part = path.relative_to(PACKAGE).parts[0]
    return part if part in STAGES or part == "core" else None


def _imported_stages(path: Path) -> set[tuple[int, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[0] == "helpers" and len(parts) > 1 and parts[1] in (*STAGES, "core"):
                found.add((node.lineno, parts[1]))
    return found


def test_the_tree_draws_the_flow():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == {"core", *STAGES}
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "cli.py"}


def test_each_stage_imports_only_from_stages_to_its_left():
    wrong = []
    for path in _modules():
        stage = _stage(path)
        if stage is None:
            continue
        allowed = {"core"} if stage == "core" else {"core", *STAGES[: STAGES.index(stage) + 1]}
        wrong += [
            f"{path.relative_to(PACKAGE)}:{line} imports {other}"
            for line, other in sorted(_imported_stages(path))
            if other not in allowed
        ]
    assert wrong == []


def test_only_the_first_stages_open_files():
    opened = []
    for path in _modules():
        if _stage(path) not in ("synthesis", "report"):
            continue
        text = path.read_text(encoding="utf-8")
        for call in ("open(", "read_text(", "read_csv(", "read_bytes("):
            if call in text:
                opened.append(f"{path.relative_to(PACKAGE)}: {call}")
    # the site build reads its own cache and the notebooks it executes: that is its job
    assert [o for o in opened if not o.startswith(("report/build.py", "report/narrative.py"))] == []


def test_no_module_over_700_lines():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {name: n for name, n in sizes.items() if n > 700} == {}


def test_outputs_do_not_depend_on_environment_variables():
    for path in _modules():
        if _stage(path) in ("synthesis", "report") and path.name != "build.py":
            assert "os.environ" not in path.read_text(encoding="utf-8"), path.name


def test_importing_and_drawing_change_no_global_matplotlib_state():
    script = """
import pkgutil, importlib, matplotlib
import matplotlib.pyplot as plt
before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
import helpers
for m in pkgutil.walk_packages(helpers.__path__, "helpers."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
after_import = (matplotlib.get_backend(), dict(matplotlib.rcParams))
import pandas as pd
from helpers.report import landscape_figures
fig = landscape_figures.phase_bars(pd.DataFrame({"phase": ["PHASE1"], "label": ["phase 1"], "trials": [3]}))
assert fig.get_dpi() == 100, fig.get_dpi()
after_figure = (matplotlib.get_backend(), dict(matplotlib.rcParams))
print(before == after_import, before == after_figure)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "agg", "HOME": str(Path.home())},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "True"]
