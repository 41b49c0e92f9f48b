"""No lost writes: atomic replacement, validation before replacing, a lock between writers; and
spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from helpers.core.atomic import WriteError, locked, write_atomically
from helpers.core.codes import CLINICAL
from helpers.core.errors import SchemaError
from helpers.core.paths import EVIDENCE
from helpers.evidence.tables import load_clinical_reports, load_table_with_status, write_table
from helpers.report.spreadsheet import neutralise, safe_frame, write_csv

SLOW_WRITER = """
import sys, time
from pathlib import Path
from helpers.core.atomic import write_atomically

target, marker = Path(sys.argv[1]), Path(sys.argv[2])

def chunks():
    yield b"new,half\\n" * 1000
    marker.write_text("started")
    time.sleep(60)  # killed here, mid-write
    yield b"never written\\n"

write_atomically(target, chunks())
"""


def test_a_writer_killed_mid_write_leaves_the_old_file_intact(tmp_path):
    target = tmp_path / "decisions.csv"
    target.write_bytes(b"record_id,decision\nr1,include\n")
    marker = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(target), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline and child.poll() is None, "the writer did not start"
            time.sleep(0.05)
        assert list(tmp_path.glob(".decisions.csv.*.tmp"))  # it really was half-way
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert target.read_bytes() == b"record_id,decision\nr1,include\n"
    write_atomically(target, "record_id,decision\nr1,exclude\n")  # the next writer cleans up
    assert target.read_text() == "record_id,decision\nr1,exclude\n"
    assert not list(tmp_path.glob(".decisions.csv.*.tmp"))


def test_an_invalid_table_never_replaces_the_old_one(tmp_path):
    table = tmp_path / "clinical_reports.csv"
    good, status = load_table_with_status(CLINICAL)
    write_table(good, table, CLINICAL, status)
    assert table.read_bytes() == (EVIDENCE / "clinical_reports.csv").read_bytes()  # status words written back
    before = table.read_bytes()
    bad = good.copy()
    bad.loc[0, "n_patients"] = -3
    with pytest.raises(SchemaError, match="n_patients"):
        write_table(bad, table, CLINICAL, status)
    assert table.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert load_clinical_reports(table).equals(good)


def test_a_second_writer_waits_or_is_told(tmp_path):
    target = tmp_path / "trials.csv"
    target.write_text("old\n")
    with locked(target), pytest.raises(WriteError, match=r"trials.csv: another process is writing this file"):
        write_atomically(target, "second\n", timeout=0.2)
    assert target.read_text() == "old\n"

    release = threading.Event()

    def first_writer() -> None:
        with locked(target):  # e.g. a curator's session saving a long table
            release.wait(5)

    thread = threading.Thread(target=first_writer)
    thread.start()
    time.sleep(0.1)
    threading.Timer(0.3, release.set).start()
    write_atomically(target, "waited\n", timeout=10)  # blocks until the first writer is done
    thread.join()
    assert target.read_text() == "waited\n"


def test_two_processes_writing_at_once_never_interleave(tmp_path):
    target = tmp_path / "table.csv"
    script = (
        "import sys; from pathlib import Path; from helpers.core.atomic import write_atomically\n"
        "for _ in range(30): write_atomically(Path(sys.argv[1]), (sys.argv[2] * 20000).encode())\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(target), ch]) for ch in "ab"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    content = target.read_text()
    assert content in ("a" * 20000, "b" * 20000)


def test_formula_cells_are_neutralised_numbers_are_not():
    assert neutralise('=HYPERLINK("http://evil.example")') == '\'=HYPERLINK("http://evil.example")'
    for risky in ("+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tx", "\rx", "="):
        assert neutralise(risky) == "'" + risky
    for fine in ("-0.5", "+3", "12%", "-1e-3", "CD19", "", "a=b"):
        assert neutralise(fine) == fine
    assert neutralise(-2) == -2 and neutralise(None) is None


def test_written_csv_is_safe_and_keeps_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "title": ["=1+1 CD19", "plain", None],
            "n": pd.array([-1, 2, None], dtype="Int64"),
            "share": [-0.25, 0.5, 1.0],
            "@col": ["x", "y", "z"],
        }
    )
    path = write_csv(frame, tmp_path / "out.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["title", "n", "share", "'@col"]
    assert rows[1] == ["'=1+1 CD19", "-1", "-0.25", "x"]
    assert rows[3] == ["", "", "1.0", "z"]
    assert safe_frame(frame)["n"].tolist()[:2] == [-1, 2]


def test_lock_files_do_not_count_as_inputs(tmp_path):
    from helpers.core.digests import digest_paths

    folder = tmp_path / "registry"
    folder.mkdir()
    (folder / "export.json").write_text("{}")
    before = digest_paths([folder])
    write_atomically(folder / "export.json", "{}")  # leaves .export.json.lock beside it
    assert any(p.name.startswith(".") for p in folder.iterdir())
    assert digest_paths([folder]) == before
    assert os.listdir(folder).count("export.json") == 1
