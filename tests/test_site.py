"""Pipeline: a full build into a temporary folder, opened in headless Chromium; two builds are byte-identical."""

from __future__ import annotations

import filecmp
import re

import pytest
import yaml

from helpers.core.codes import DISEASE_OF_CONCEPT, DISEASES
from helpers.core.paths import NOTEBOOKS
from helpers.evidence.snapshot import load_snapshot
from helpers.report.build import build

from .browser import browser, serve, visit

pytestmark = [pytest.mark.pipeline]


def expected_pages() -> set[str]:
    """Every page the site must have, worked out here from the notebooks and the data: one page per
    notebook, one per disease that any report, trial or seed document names, the index and the listings."""
    snap = load_snapshot()
    named = {
        code
        for cell in snap.clinical["diseases"].dropna()
        for code, _, _ in (item.partition(":") for item in cell.split(";"))
    }
    named |= {code for cell in snap.trials["diseases"].dropna() for code in cell.split(";")}
    m = snap.mentions
    named |= {DISEASE_OF_CONCEPT[c] for c in m.loc[~m["negated"].astype(bool), "concept"] if c in DISEASE_OF_CONCEPT}
    diseases = {f"diseases/{code}.html" for code in named if code in DISEASES and code != "other"}
    notebooks = {f"{nb.stem}.html" for nb in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb") if nb.stem != "05-disease-report"}
    extra = yaml.safe_load((NOTEBOOKS / "parameter-sets.yaml").read_text(encoding="utf-8"))
    sensitivity = {f"sensitivity/{entry['slug']}.html" for entry in extra}
    return {"index.html", "figures/index.html", "data/index.html"} | notebooks | diseases | sensitivity


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    work = tmp_path_factory.mktemp("work")
    first = build(out_dir=out, work_dir=work)
    assert first.reused == [] and first.ran
    out.joinpath(".work").write_text(str(work))
    return out


def test_build_writes_index_and_pages(site):
    names = sorted(p.name for p in site.glob("*.html"))
    assert "index.html" in names and "01-corpus.html" in names


def test_pages_are_static_and_offline(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", text), page.name
        assert not re.search(r"<link[^>]+href=\"https?://", text), page.name
        assert "Content-Security-Policy" in text
        assert "from helpers" not in text and "ingest_paths(" not in text  # code hidden
        assert "/tmp/" not in text and "/work/" not in text


def test_two_builds_are_byte_identical(site, tmp_path):
    again = tmp_path / "again"
    report = build(out_dir=again, work_dir=tmp_path / "work")
    assert report.reused == []
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and p.name != ".work")
    assert files == sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(site, again, files, shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.browser
def test_index_and_corpus_page_in_chromium(site):
    with serve(site) as base, browser() as b:
        index, links = visit(
            b, base + "index.html", lambda p: p.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
        )
        assert "01-corpus.html" in links
        corpus, facts = visit(
            b,
            base + "01-corpus.html",
            lambda p: {
                "title": p.title(),
                "doc_rows": p.locator("table:has(caption:text-is('Documents')) tbody tr").count(),
                "doc_text": p.locator("table:has(caption:text-is('Documents'))").inner_text(),
                "images": p.eval_on_selector_all("img", "els => els.map(e => [e.naturalWidth, e.src.slice(0, 22)])"),
                "code_cells": p.locator(".jp-CodeCell .jp-InputArea").count(),
            },
        )
    for v in (index, corpus):
        assert [m for m in v.console if m[0] == "error"] == [] and v.page_errors == []
        assert all(r.startswith(base) or r.startswith("data:") for r in v.requests), v.requests
    assert facts["title"] == "Corpus: what the seed documents contain"
    assert facts["doc_rows"] == 3
    assert "Front Pharmacol" in facts["doc_text"] and "10.3390/cells14161242" in facts["doc_text"]
    assert facts["images"] and all(w > 100 and src.startswith("data:image/png") for w, src in facts["images"])
    assert facts["code_cells"] == 0


@pytest.mark.browser
def test_every_page_loads_shows_its_figures_and_links_resolve(site):
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert set(pages) == expected_pages()
    with serve(site) as base, browser() as b:
        for rel in pages:
            record, facts = visit(
                b,
                base + rel,
                lambda p: {
                    "images": p.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth > 0)"),
                    "links": p.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"),
                    "footer": p.locator("footer.wb-footer").count(),
                },
            )
            assert [m for m in record.console if m[0] == "error"] == [], (rel, record.console)
            assert record.page_errors == [], rel
            assert all(facts["images"]), (rel, facts["images"])
            assert all(r.startswith(base) or r.startswith("data:") for r in record.requests), (rel, record.requests)
            if rel.endswith(".ipynb.html") or rel[:2].isdigit() or rel.startswith(("diseases/", "sensitivity/")):
                assert facts["footer"] == 1, rel
            for href in facts["links"]:
                if href.startswith(("http://", "https://", "mailto:", "#")):
                    continue  # citations to external pages are links for the reader, never fetched
                target = (site / rel).parent / href.split("#")[0]
                if href.endswith("/"):
                    target = target / "index.html"
                assert target.resolve().exists(), (rel, href)


def test_figures_and_tables_are_published_as_files(site):
    svgs = sorted(p.stem for p in (site / "figures").glob("*.svg"))
    pngs = sorted(p.stem for p in (site / "figures").glob("*.png"))
    assert svgs and svgs == pngs
    assert all("<dc:date>" not in p.read_text(encoding="utf-8") for p in (site / "figures").glob("*.svg"))
    assert sorted((site / "data").glob("*.csv"))


def test_library_page_has_the_prisma_flow_and_the_library(site):
    page = (site / "06-library.html").read_text(encoding="utf-8")
    assert "PRISMA 2020 flow" in page and "Export files and what they gave" in page
    assert len(re.findall(r'<img[^>]+src="data:image/png', page)) >= 2  # the PRISMA flow and the works per year
    assert (site / "figures" / "prisma.svg").is_file() and (site / "figures" / "prisma.png").is_file()
    prisma = (site / "data" / "prisma.csv").read_text(encoding="utf-8").splitlines()
    assert prisma[0] == "box,column,label,n,note" and any(r.startswith("identified,") for r in prisma)
    for name in ("library.parquet", "library.manifest.csv"):
        assert (site / "data" / name).is_file(), name
    assert "06-library.html" in (site / "index.html").read_text(encoding="utf-8")


def test_noop_rebuild_executes_nothing_and_keeps_the_bytes(site, tmp_path):
    from pathlib import Path

    work = Path(site.joinpath(".work").read_text())
    before = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    report = build(out_dir=site, work_dir=work)
    assert report.ran == [] and report.reused
    after = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
