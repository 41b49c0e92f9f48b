"""Shared fixtures: paths to the fixture documents and the real seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.core.paths import DOCUMENTS, ROOT

FIXTURES = Path(__file__).parent / "fixtures"
DOC_FIXTURES = FIXTURES / "documents"
SEED_FILES = sorted(DOCUMENTS.glob("*.txt"))


@pytest.fixture
def doc_fixture():
    return lambda name: DOC_FIXTURES / name


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
