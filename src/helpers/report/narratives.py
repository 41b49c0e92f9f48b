"""The narrative paragraphs of the pages: numbers from synthesis, words from the templates."""

from __future__ import annotations

import pandas as pd

from helpers.report.narrative import render, render_lines
from helpers.synthesis import clinical, coverage, landscape
from helpers.text.vocabulary import Vocabulary


def clinical_narrative(data: clinical.Selection | pd.DataFrame, alpha: float = 0.05) -> str:
    """The clinical evidence in one paragraph, every number from ``clinical.narrative_context``."""
    return render("clinical.j2", **clinical.narrative_context(data, alpha))


def landscape_narrative(
    selection: landscape.Selection, audit: pd.DataFrame | None = None, published: pd.DataFrame | None = None
) -> str:
    """The trial landscape in prose, every number from ``landscape.narrative_context``."""
    return render("landscape.j2", **landscape.narrative_context(selection, audit, published))


def coverage_narrative(mentions: pd.DataFrame, vocab: Vocabulary) -> list[str]:
    """Statements about what the documents cover, one per item, each quoting its supporting sentence."""
    return render_lines("coverage.j2", **coverage.narrative_context(mentions, vocab))
