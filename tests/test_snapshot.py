"""The snapshot: every input loaded once, immutable, content-hashed over all inputs, cached by that hash;
its id is stamped into every page when the site is assembled."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.paths import EVIDENCE, ROOT
from helpers.evidence import snapshot as snapshot_module
from helpers.evidence.inputs import INPUT_GROUPS, input_digests, snapshot_id
from helpers.evidence.snapshot import load_snapshot


def copy_project(dest: Path) -> Path:
    for name in ("notebooks", "seeds"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("*.executing.ipynb"))
    shutil.copy(ROOT / "requirements.lock", dest / "requirements.lock")
    return dest


def run_helpers(project: Path, *args: str) -> str:
    env = dict(os.environ, WORKBOOK_ROOT=str(project), CI="1")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def edit_clinical_notes(project: Path) -> None:
    """Change one curated fact's free-text note (a valid edit of the clinical table)."""
    table = project / "seeds" / "evidence" / "clinical_reports.csv"
    with table.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["notes"] = (rows[0]["notes"] + " Checked again.").strip()
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _csv_rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_snapshot_holds_every_input():
    snap = load_snapshot()
    assert len(snap.documents) == 3 and {r.status for r in snap.manifest} == {"parsed"}
    rows = {name: _csv_rows(EVIDENCE / name) for name in ("clinical_reports.csv", "trials.csv", "outcomes.csv")}
    assert len(snap.clinical) == len(rows["clinical_reports.csv"]) and len(snap.trials) == len(rows["trials.csv"])
    assert len(snap.outcomes) == len(rows["outcomes.csv"]) and len(snap.published) > 0
    # every report carries its provenance: the pages it was read in and their tier
    assert snap.clinical["source_url"].notna().all() and set(snap.clinical["tier"]) <= {"primary", "secondary"}
    assert not snap.mentions.empty and set(snap.mentions["doc_id"]) == {d.id for d in snap.documents}
    assert set(snap.inputs) == set(INPUT_GROUPS) and snap.id == snapshot_id(input_digests())
    assert "CD19" in snap.known_targets() and "CD19/BCMA" in snap.known_targets()


def test_snapshot_is_immutable():
    snap = load_snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.id = "x"  # type: ignore[misc]
    table = snap.clinical
    table.loc[:, "n_patients"] = 0
    assert (snap.clinical["n_patients"] > 0).all()
    with pytest.raises(TypeError):
        snap.inputs["clinical"] = "x"  # type: ignore[index]


def test_loaded_once_then_from_memory_and_disk(tmp_path, monkeypatch):
    first = load_snapshot(cache_dir=tmp_path)
    assert load_snapshot(cache_dir=tmp_path) is first
    assert len(list(tmp_path.glob("snapshot-*.pickle"))) == 1

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the snapshot was built again instead of read from the disk cache")

    monkeypatch.setattr(snapshot_module, "_build", no_rebuild)
    monkeypatch.setattr(snapshot_module, "_MEMO", {})
    again = load_snapshot(cache_dir=tmp_path)
    assert again.id == first.id and again.clinical.equals(first.clinical) and again.mentions.equals(first.mentions)


def test_old_cached_snapshots_are_pruned(tmp_path, monkeypatch):
    for i in range(6):
        (tmp_path / f"snapshot-old{i}-000000000000.pickle").write_bytes(b"x")
    load_snapshot(cache_dir=tmp_path)
    monkeypatch.setattr(snapshot_module, "_MEMO", {})
    left = sorted(p.name for p in tmp_path.glob("snapshot-*.pickle"))
    assert len(left) == snapshot_module.KEEP_CACHED
    assert any(name.startswith(f"snapshot-{load_snapshot(cache_dir=tmp_path).id}") for name in left)


def test_a_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch):
    first = load_snapshot(cache_dir=tmp_path)
    cache = next(tmp_path.glob("snapshot-*.pickle"))
    cache.write_bytes(b"not a pickle")
    monkeypatch.setattr(snapshot_module, "_MEMO", {})
    assert load_snapshot(cache_dir=tmp_path).id == first.id
    assert cache.read_bytes() != b"not a pickle"


@pytest.mark.pipeline
def test_editing_any_input_changes_the_id_and_only_its_group(tmp_path):
    project = copy_project(tmp_path / "project")
    before = json.loads(run_helpers(project, "snapshot", "--json"))
    edit_clinical_notes(project)
    after_clinical = json.loads(run_helpers(project, "snapshot", "--json"))
    assert after_clinical["id"] != before["id"]
    changed = {g for g in before["inputs"] if before["inputs"][g] != after_clinical["inputs"][g]}
    assert changed == {"clinical"}
    (project / "seeds" / "registry" / "ctgov.json").write_text('{"studies": []}', encoding="utf-8")
    after_registry = json.loads(run_helpers(project, "snapshot", "--json"))
    assert after_registry["id"] not in (before["id"], after_clinical["id"])
    assert {g for g in before["inputs"] if after_clinical["inputs"][g] != after_registry["inputs"][g]} == {"trials"}


@pytest.mark.pipeline
def test_every_page_shows_the_snapshot_id_of_its_build(tmp_path):
    """A page whose own inputs did not change is reused from the cache, yet shows the new id."""
    project = copy_project(tmp_path / "project")
    script = (
        "import sys; from pathlib import Path; from helpers.report.build import build; "
        "r = build(out_dir=Path(sys.argv[1]), notebooks=[Path(sys.argv[2])]); print(','.join(r.ran))"
    )
    env = dict(os.environ, WORKBOOK_ROOT=str(project), CI="1")

    def build_corpus_page() -> tuple[str, str, str]:
        proc = subprocess.run(
            [sys.executable, "-c", script, str(project / "reports"), str(project / "notebooks" / "01-corpus.ipynb")],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        page = (project / "reports" / "01-corpus.html").read_text(encoding="utf-8")
        index = (project / "reports" / "index.html").read_text(encoding="utf-8")
        return proc.stdout.strip(), page, index

    ran, page, index = build_corpus_page()
    first_id = json.loads(run_helpers(project, "snapshot", "--json"))["id"]
    assert ran == "01-corpus" and f"data snapshot <code>{first_id}</code>" in page and first_id in index
    edit_clinical_notes(project)
    ran, page, index = build_corpus_page()
    second_id = json.loads(run_helpers(project, "snapshot", "--json"))["id"]
    assert ran == ""  # the corpus page does not read the clinical table: reused
    assert second_id != first_id
    assert f"data snapshot <code>{second_id}</code>" in page and second_id in index
    assert first_id not in page and not re.search(r"wb:snapshot", page)
