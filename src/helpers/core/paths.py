"""Where the project's folders are, relative to the installed package."""

from __future__ import annotations

import os
from pathlib import Path

# WORKBOOK_ROOT lets a test or a user run the same code on a copy of the project folder.
ROOT = Path(os.environ.get("WORKBOOK_ROOT") or Path(__file__).resolve().parents[3]).resolve()
SEEDS = ROOT / "seeds"
DOCUMENTS = SEEDS / "documents"
SEED_MANIFEST = SEEDS / "manifest.csv"
EVIDENCE = SEEDS / "evidence"
VOCABULARY = SEEDS / "vocabulary"
REGISTRY_EXPORTS = SEEDS / "registry"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"


def display_path(path: Path) -> str:
    """A path as shown in outputs: relative to the project root when inside it (no absolute paths leak)."""
    p = Path(path)
    try:
        return p.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return p.name if p.is_absolute() else p.as_posix()
