"""Shared fixtures: paths to the fixture documents and the real seeds."""

from __future__ import annotations

from pathlib import Path

from helpers.core.paths import DOCUMENTS

FIXTURES = Path(__file__).parent / "fixtures"
DOC_FIXTURES = FIXTURES / "documents"
SEED_FILES = sorted(DOCUMENTS.glob("*.txt"))
