"""Coverage of concepts across documents: counts, shared/unique with evidence, narrative, CLI."""

from __future__ import annotations

import json
import re

import pytest

from helpers.core.models import Document
from helpers.report import coverage_figures
from helpers.report.narratives import coverage_narrative
from helpers.synthesis import coverage
from helpers.text.concepts import load_vocabulary
from helpers.text.mentions import document_mentions

from .test_cli import run_cli


def doc(i: str, title: str, abstract: str, **kw) -> Document:
    return Document(
        id=i,
        source_file=f"{i}.txt",
        format="generic",
        title=title,
        abstract=abstract,
        authors=[f"Jo Author{i.upper()}"],
        journal="J Test",
        year=2024,
        **kw,
    )


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.fixture(scope="module")
def mentions(vocab):
    docs = [
        doc(
            "a",
            "CD19 CAR T cells in lupus",
            "Patients with systemic lupus erythematosus received CD19 CAR-T cells. No ICANS was observed.",
        ),
        doc(
            "b",
            "CAR-T in lupus",
            "Systemic sclerosis (SSc) and SLE patients were treated. Cytokine release syndrome was mild.",
        ),
    ]
    return document_mentions(docs, vocab)


def test_counts_exclude_negated_mentions(mentions, vocab):
    counts = coverage.coverage_counts(mentions, vocab)
    assert counts.loc["AuthorA, J Test, 2024", "SLE"] >= 1
    assert "ICANS" not in counts.columns  # only mentioned under negation
    assert counts.loc["AuthorB, J Test, 2024", "SSc"] >= 2  # long form + defined short form
    assert counts.loc["AuthorA, J Test, 2024", "SSc"] == 0


def test_min_mentions_and_categories_filter(mentions, vocab):
    only_diseases = coverage.coverage_counts(mentions, vocab, ["diseases"])
    assert {vocab.concepts[c].category for c in only_diseases.columns} == {"diseases"}
    strict = coverage.coverage_counts(mentions, vocab, min_mentions=3)
    assert all(strict[c].sum() >= 3 for c in strict.columns)


def test_shared_and_unique_carry_their_sentences(mentions, vocab):
    shared, unique = coverage.shared_and_unique(mentions, vocab)
    assert set(shared["concept"]) >= {"SLE", "CAR-T"}
    u = unique.set_index("concept")
    assert u.loc["SSc", "citation"] == "AuthorB, J Test, 2024"
    assert "Systemic sclerosis (SSc)" in u.loc["SSc", "sentence"]
    assert u.loc["CD19", "citation"] == "AuthorA, J Test, 2024"
    assert "ICANS" not in set(unique["concept"])


def test_negated_table(mentions):
    neg = coverage.negated_mentions(mentions)
    assert list(neg["concept"]) == ["ICANS"] and "No ICANS" in neg.iloc[0]["sentence"]


def test_narrative_statements_match_the_tables(mentions, vocab):
    lines = coverage_narrative(mentions, vocab)
    shared, unique = coverage.shared_and_unique(mentions, vocab)
    assert lines[0].startswith("The 2 documents are")
    only = [ln for ln in lines if ln.startswith("Only ")]
    assert len(only) == unique["concept"].nunique()
    for ln in only:
        m = re.match(r"Only (.+?) (?:discusses|covers) (.+?): “(.+)”$", ln)
        row = unique[unique["label"] == m.group(2)].iloc[0]
        assert (m.group(1), m.group(3)) == (row["citation"], row["sentence"])
    targets = next(ln for ln in lines if ln.startswith("CAR targets named"))
    per = coverage.concept_documents(mentions)
    n_cd19 = per[per["concept"] == "CD19"]["citation"].nunique()
    assert f"CD19 in {n_cd19} document" in targets


def test_disease_sets_and_upset(mentions, vocab):
    sets = coverage.disease_sets(mentions)
    assert bool(sets.loc["SSc"].sum() == 1) and bool(sets.loc["SLE"].all())
    fig = coverage_figures.upset_diseases(sets, vocab)
    bars = fig.axes[0].patches
    combos = {tuple(r) for r in sets.itertuples(index=False)}
    assert len(bars) == len(combos)
    assert sorted(int(b.get_height()) for b in bars) == sorted(
        sum(1 for r in sets.itertuples(index=False) if tuple(r) == c) for c in combos
    )


def test_heatmap_draws_one_cell_label_per_nonzero_count(mentions, vocab):
    counts = coverage.coverage_counts(mentions, vocab)
    fig = coverage_figures.coverage_heatmap(counts, vocab)
    numbers = [t for t in fig.axes[0].texts if t.get_text().isdigit()]
    assert len(numbers) == int((counts.to_numpy() > 0).sum())


def test_concepts_cli_json_contract():
    proc = run_cli("concepts", "seeds/documents", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    keys = {"doc_id", "concept", "category", "text", "sentence", "start", "end", "negated"}
    assert data["mentions"] and all(keys <= set(m) for m in data["mentions"])
    concepts = {(m["doc_id"][:3], m["concept"]) for m in data["mentions"] if not m["negated"]}
    # facts read off the seed pages by hand
    assert {
        ("000", "APS"),
        ("000", "BCMA"),
        ("000", "CRS"),
        ("001", "gammadelta-CAR-T"),
        ("001", "CAAR-T"),
        ("003", "CD20"),
        ("003", "AAV"),
        ("003", "ASyS"),
    } <= concepts
    assert ("001", "APS") not in concepts
