"""The CLI contract of DESIGN.md: `python -m helpers ingest PATH... --json`."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers.cli import main
from helpers.core.paths import ROOT

from .conftest import DOC_FIXTURES

DOC_KEYS = {
    "id",
    "source_file",
    "format",
    "title",
    "authors",
    "journal",
    "year",
    "doi",
    "pmid",
    "pmcid",
    "abstract",
    "keywords",
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_ingest_json_contract_on_the_seed_folder():
    proc = run_cli("ingest", "seeds/documents", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"documents", "manifest"}
    assert len(data["documents"]) == 3 and len(data["manifest"]) == 3
    for doc in data["documents"]:
        assert set(doc) >= DOC_KEYS
        assert isinstance(doc["authors"], list) and isinstance(doc["keywords"], list)
    for row in data["manifest"]:
        assert {"source_file", "status", "reason"} <= set(row)
        assert row["status"] in {"parsed", "skipped", "error"}
    no_title = next(d for d in data["documents"] if d["id"].startswith("001_"))
    assert no_title["title"] is None and no_title["doi"] is None  # absent facts are null, never guessed
    assert "/work/" not in proc.stdout and "/tmp/" not in proc.stdout


def test_json_output_is_deterministic():
    a = run_cli("ingest", "seeds/documents", "--json").stdout
    b = run_cli("ingest", "seeds/documents", "--json").stdout
    assert a == b


def test_errors_in_some_files_still_exit_zero(tmp_path, capsys):
    (tmp_path / "empty.txt").write_bytes(b"")
    code = main(["ingest", str(tmp_path), str(DOC_FIXTURES / "pubmed_record.txt"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["status"] for r in data["manifest"]] == ["error", "parsed"]


def test_unusable_arguments_exit_non_zero(capsys):
    assert main(["ingest", "does/not/exist", "--json"]) == 2
    assert "none of the paths exist" in capsys.readouterr().err
    proc = run_cli("ingest")
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_seeds_command_verifies_checksums():
    proc = run_cli("seeds")
    assert proc.returncode == 0 and "match" in proc.stdout
