"""Tests of the vocabulary: the real seed files and the validator's errors."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core import paths
from helpers.core.errors import HelpersError, VocabularyError
from helpers.text.vocabulary import (
    DEFAULT_VOCABULARY_DIR,
    FOLD_WHOLE,
    _fold_chars_whole,
    fold,
    fold_chars,
    fold_code_table,
    load_vocabulary,
    variants,
)

FIXTURES = Path(__file__).parent / "fixtures" / "concepts"
BAD = FIXTURES / "bad_vocab"

# Codes other tables rely on (seeds/evidence): must exist with these spellings.
DISEASE_CODES = [
    "SLE",
    "LN",
    "SSc",
    "IIM",
    "DM",
    "PM",
    "ASyS",
    "IMNM",
    "JDM",
    "RA",
    "SjD",
    "AAV",
    "APS",
    "MG",
    "MS",
    "NMOSD",
    "ITP",
    "AIHA",
    "IgG4RD",
]
CATEGORIES = ["challenges", "diseases", "generations", "outcomes", "platforms", "targets", "toxicities"]


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def test_default_path_is_repo_seeds():
    assert DEFAULT_VOCABULARY_DIR == paths.VOCABULARY == paths.ROOT / "seeds" / "vocabulary"
    if not os.environ.get("WORKBOOK_ROOT"):
        repo = Path(__file__).resolve().parents[1]
        assert repo / "seeds" / "vocabulary" == DEFAULT_VOCABULARY_DIR
    assert sorted(p.stem for p in DEFAULT_VOCABULARY_DIR.glob("*.yaml")) == CATEGORIES


def test_default_path_follows_workbook_root(tmp_path):
    folder = tmp_path / "seeds" / "vocabulary"
    shutil.copytree(paths.VOCABULARY, folder)
    (folder / "extras.yaml").write_text(
        "category: extras\nconcepts:\n  - {code: XTRA, label: X, synonyms: [extra thing]}\n", encoding="utf-8"
    )
    code = (
        "from helpers.text.vocabulary import DEFAULT_VOCABULARY_DIR, load_vocabulary; "
        "from helpers.text.concepts import annotate; "
        "print(DEFAULT_VOCABULARY_DIR); print(','.join(load_vocabulary().categories)); "
        "print(annotate([('d', 'An extra thing.')])[0].concept)"
    )
    env = dict(os.environ, WORKBOOK_ROOT=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert Path(out[0]) == folder.resolve()
    assert out[1].split(",") == sorted(CATEGORIES + ["extras"])
    assert out[2] == "XTRA"


def test_one_category_per_file(vocab):
    assert vocab.categories == CATEGORIES
    for concept in vocab.concepts.values():
        assert concept.file == f"{concept.category}.yaml"


@pytest.mark.parametrize("code", DISEASE_CODES)
def test_disease_codes_present(vocab, code):
    assert vocab.concepts[code].category == "diseases"


def test_hierarchy(vocab):
    assert vocab.concepts["LN"].parent == "SLE"
    for child in ("DM", "PM", "ASyS", "IMNM", "JDM"):
        assert vocab.concepts[child].parent == "IIM"
    assert vocab.ancestors("CD19/BCMA") == ["DUAL"]
    assert vocab.ancestors("ARMOURED") == ["GEN4"]


def test_target_gene_symbols(vocab):
    expected = {"CD19": "CD19", "BCMA": "TNFRSF17", "CD20": "MS4A1", "CD7": "CD7", "CD70": "CD70", "CD38": "CD38"}
    for code, symbol in expected.items():
        assert vocab.concepts[code].ids["hgnc"] == symbol


def test_mesh_ids_well_formed_and_known(vocab):
    for concept in vocab.concepts.values():
        mesh = concept.ids.get("mesh")
        assert mesh is None or re.fullmatch(r"D\d{6}(\d{3})?", mesh)
    # descriptor UIs checked by hand against MeSH
    assert vocab.concepts["SLE"].ids["mesh"] == "D008180"
    assert vocab.concepts["SjD"].ids["mesh"] == "D012859"
    assert vocab.concepts["APS"].ids["mesh"] == "D016736"
    assert vocab.concepts["RA"].ids["mesh"] == "D001172"


def test_required_platform_generation_outcome_concepts(vocab):
    for code in (
        "autologous",
        "allogeneic",
        "CAAR-T",
        "CAR-Treg",
        "CAR-NK",
        "gammadelta-CAR-T",
        "INVIVO",
        "MRNA",
        "GEN1",
        "GEN2",
        "GEN3",
        "GEN4",
        "GEN5",
        "ARMOURED",
        "CRS",
        "ICANS",
        "ICAHT",
        "INFECTION",
        "HYPOGAM",
        "LICATS",
        "DORIS",
        "LLDAS",
        "SLEDAI-2K",
        "SRI-4",
        "BILAG",
        "mRSS",
        "EUSTAR-AI",
        "ACR-EULAR",
        "DFR",
        "BCELL-RECON",
        "SEROCONV",
        "COST",
        "MANUF",
        "PATSEL",
        "LTSAFETY",
        "SECMAL",
    ):
        assert code in vocab.concepts, code


def test_ambiguous_short_forms_are_marked(vocab):
    for code, form in (("RA", "RA"), ("MS", "MS"), ("APS", "APS"), ("SjD", "SS"), ("CRS", "CRS"), ("AAV", "AAV")):
        assert form in vocab.concepts[code].ambiguous


def test_vocabulary_frame_sorted(vocab):
    frame = vocab.frame()
    assert list(frame["code"]) == sorted(vocab.concepts)
    assert frame.loc[frame["code"] == "BCMA", "hgnc"].item() == "TNFRSF17"


# --------------------------------------------------------------------------- folding


def test_fold_chars_keeps_length():
    text = "Sjögren’s SYNDROME – ΓΔ T-cells\n(e.g. İx)"
    folded = fold_chars(text)
    assert len(folded) == len(text)
    assert folded.startswith("sjögren s syndrome   γδ t cells")


def test_fold_chars_fast_path_is_the_whole_string_path():
    rnd = random.Random(3)
    alphabet = [chr(c) for c in range(0x3000) if not 0xD800 <= c <= 0xDFFF] + list(
        "\u212a\u2126\u1e9e\U0001d400\U0001f600"
    )
    texts = ["ΣΑΣ σας", "İstanbul", "Kelvin \u212a", "ΓΔ γδ", "Sjögren’s – “SSc”", "a" * 50]
    texts += [
        "".join(rnd.choice(alphabet) if rnd.random() < 0.4 else rnd.choice("aB -\n") for _ in range(rnd.randint(0, 60)))
        for _ in range(3000)
    ]
    for text in texts:
        assert fold_chars(text) == _fold_chars_whole(text), text


def test_fold_code_table_folds_like_fold_chars():
    table = fold_code_table()
    for code in range(0x10000):
        if table[code] == FOLD_WHOLE:
            continue
        folded = fold_chars("a" + chr(code) + "a")
        assert len(folded) == 3 and ord(folded[1]) == table[code], hex(code)
    assert table[ord("Σ")] == table[ord("İ")] == FOLD_WHOLE


def test_fold_normalises_separators():
    assert fold("CAR-T") == fold("car t") == fold("CAR\nT") == "car t"
    assert fold("  Sjögren’s  syndrome ") == "sjögren s syndrome"


def test_variants_cover_spelling_greek_plural():
    assert {"gamma delta T cell", "gammadelta T cell"} <= {re.sub(" +", " ", v) for v in variants("γδ T cell")}
    assert "hypogammaglobulinemia" in variants("hypogammaglobulinaemia")
    assert "immune-mediated necrotizing myopathy" in variants("immune-mediated necrotising myopathy")
    assert "Sjogren's syndrome" in variants("Sjögren's syndrome")
    assert "Sjoegren's syndrome" in variants("Sjögren's syndrome")
    assert "CART" in variants("CAR-T")
    assert "myopathies" in variants("myopathy")
    assert variants("IIM", case_sensitive=True) == {"IIM", "IIMs"}


# --------------------------------------------------------------------------- errors


def _error(folder: Path) -> str:
    with pytest.raises(VocabularyError) as info:
        load_vocabulary(folder)
    assert isinstance(info.value, HelpersError)
    return str(info.value)


@pytest.mark.parametrize(
    ("case", "where", "words"),
    [
        ("duplicate_code", "b.yaml:6:", ["duplicate code 'SLE'", "a.yaml:3"]),
        ("shared_synonym", "diseases.yaml:10:", ["'Scleroderma'", "SSc", "MS"]),
        ("missing_label", "diseases.yaml:6:", ["missing required key 'label'"]),
        ("unknown_parent", "diseases.yaml:5:", ["unknown code 'SLEE'"]),
        ("unknown_key", "diseases.yaml:5:", ["unknown key 'synonym'"]),
        ("bad_yaml", "diseases.yaml:", ["not valid YAML"]),
        ("bad_mesh", "diseases.yaml:5:", ["'C12345'", "mesh"]),
        ("duplicate_key", "diseases.yaml:6:", ["duplicate key 'synonyms'"]),
        ("category_mismatch", "diseases.yaml:5:", ["'targets'", "'diseases'"]),
    ],
)
def test_bad_vocabulary_names_file_and_line(case, where, words):
    message = _error(BAD / case)
    assert message.startswith(where), message
    for word in words:
        assert word in message


def test_empty_folder_is_an_error(tmp_path):
    assert "no vocabulary files" in _error(tmp_path)


def test_small_valid_vocabulary(tmp_path):
    shutil.copy(FIXTURES / "ok_vocab.yaml", tmp_path / "diseases.yaml")
    vocab = load_vocabulary(tmp_path)
    assert vocab.codes == ["LN", "SLE"]
    assert vocab.concepts["LN"].parent == "SLE"
    assert vocab.concepts["LN"].ambiguous == ("LN",)


def test_ambiguous_form_may_be_shared(tmp_path):
    (tmp_path / "diseases.yaml").write_text(
        "category: diseases\nconcepts:\n"
        "  - {code: A, label: A, synonyms: [alpha disease], ambiguous: [AD]}\n"
        "  - {code: B, label: B, synonyms: [beta disease], ambiguous: [AD]}\n",
        encoding="utf-8",
    )
    assert load_vocabulary(tmp_path).codes == ["A", "B"]
