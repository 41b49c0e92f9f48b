"""Pages of layouts no specific reader knows: saved HTML (meta tags, JSON-LD) and text dumps.

The development set (tests/fixtures/page_layouts/, labels read by hand off each page) must keep
at least 90% of its bibliographic fields right with nothing invented; the units below pin the
extraction rules one by one, and hostile input."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from helpers.core.errors import IngestError
from helpers.sources import generic, ingest_paths, parse_file
from helpers.sources.html_record import html_fields, iter_html_records, looks_like_html
from helpers.sources.page_citation import find_citation, names_in_line, parse_reference
from helpers.sources.pubmed_xml import Record, RecordError

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_page_fields", ROOT / "benchmarks" / "bench_page_fields.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture(scope="module")
def scored() -> dict:
    labels = bench.load_labels()
    return bench.score(bench.predictions(), labels)


# ---------------------------------------------------------------- the development set


def test_dev_set_has_a_held_out_group_and_every_page_a_source():
    labels = bench.load_labels()
    groups = [v["group"] for v in labels.values()]
    assert len(labels) >= 12 and groups.count("heldout") >= 3
    sources = (bench.PAGES / "SOURCES.md").read_text(encoding="utf-8")
    assert all(name in sources for name in labels)
    assert all(set(bench.FIELDS) <= set(v) for v in labels.values())


def test_dev_set_field_accuracy_is_at_least_90_percent(scored):
    accuracy, _ = bench.accuracy(scored)
    assert accuracy >= 0.90, [e for e in scored["errors"]]


def test_dev_set_nothing_invented(scored):
    assert [e for e in scored["errors"] if e["kind"] == "invented"] == []


def test_held_out_pages_also_hold_the_threshold(scored):
    accuracy, invented = bench.accuracy(scored, "heldout")
    assert accuracy >= 0.90 and invented == 0


def test_scoring_counts_an_invented_value_apart_from_a_wrong_one():
    labels = {"p": {"group": "tune", **dict.fromkeys(bench.FIELDS), "title": "A Title"}}
    preds = {"p": {**dict.fromkeys(bench.FIELDS), "title": "Another", "journal": "Made Up"}}
    result = bench.score(preds, labels)
    kinds = {(e["field"], e["kind"]) for e in result["errors"]}
    assert kinds == {("title", "wrong"), ("journal", "invented")}
    assert bench.normalise("authors", ["Sipos, F."]) == bench.normalise("authors", ["Sipos F"])
    assert bench.normalise("authors", ["Ferenc Sipos"]) != bench.normalise("authors", ["Sipos F"])


# ---------------------------------------------------------------- saved HTML pages

HIGHWIRE = """<!DOCTYPE html><html><head>
<meta name="citation_title" content="CD19 CAR T cells in refractory lupus">
<meta name="citation_author" content="Lee, Ann"><meta name="citation_author" content="Chan, Bo">
<meta name="citation_journal_title" content="Lupus Science &amp; Medicine">
<meta name="citation_publication_date" content="2024/05/01">
<meta name="citation_doi" content="https://doi.org/10.1136/lupus-2024-000001">
<meta name="citation_pmid" content="38500002"><meta name="citation_volume" content="11">
<meta name="citation_issue" content="1"><meta name="citation_firstpage" content="e001">
<meta name="citation_keywords" content="CAR T; lupus nephritis">
<meta property="og:title" content="Lupus Sci Med | a social card title">
</head><body><nav>Journals Menu</nav><article><h1>CD19 CAR T cells in refractory lupus</h1>
<p>Five patients with <i>refractory</i> lupus nephritis received CD19 CAR T cells.</p></article>
<script>var tracking = "systemic sclerosis";</script></body></html>"""


def test_highwire_meta_tags_give_every_field_with_its_source():
    found = html_fields(HIGHWIRE)
    f = found.fields
    assert f["title"] == "CD19 CAR T cells in refractory lupus"
    assert f["authors"] == ["Lee, Ann", "Chan, Bo"]
    assert f["journal"] == "Lupus Science & Medicine"
    assert (f["date"], f["year"]) == ("2024-05-01", 2024)
    assert (f["doi"], f["pmid"], f["volume"], f["issue"], f["pages"]) == (
        "10.1136/lupus-2024-000001",
        "38500002",
        "11",
        "1",
        "e001",
    )
    assert f["keywords"] == ["CAR T", "lupus nephritis"]
    assert found.methods["title"] == "citation_meta" and found.methods["year"] == "citation_meta"


def test_html_body_is_the_visible_article_text():
    body = html_fields(HIGHWIRE).body
    assert "Five patients with refractory lupus nephritis received CD19 CAR T cells." in body
    assert "tracking" not in body and "Journals Menu" not in body


DUBLIN_CORE = """<html><head><meta name="DC.title" content="BCMA CAR T cells in myositis">
<meta name="DC.creator" content="Ana Example"><meta name="DC.creator" content="Ben Sample">
<meta name="DCTERMS.issued" content="2023-09-27"><meta name="dc.identifier" content="doi:10.1002/acr2.11612">
<meta name="dc.identifier" content="info:pmid/37760001"></head><body><p>Text.</p></body></html>"""


def test_dublin_core_tags_and_identifiers():
    found = html_fields(DUBLIN_CORE)
    assert found.fields["title"] == "BCMA CAR T cells in myositis"
    assert found.fields["authors"] == ["Ana Example", "Ben Sample"]
    assert (found.fields["year"], found.fields["doi"], found.fields["pmid"]) == (2023, "10.1002/acr2.11612", "37760001")
    assert {found.methods[k] for k in ("title", "authors", "doi", "pmid")} == {"dublin_core"}


JSON_LD = """<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "WebPage", "name": "Site page"},
 {"@type": ["MedicalScholarlyArticle"], "headline": "Anti-CD19 CAR T cells for systemic sclerosis",
  "author": [{"@type": "Person", "givenName": "Ann", "familyName": "Lee"}, {"@type": "Person", "name": "Bo Chan"}],
  "datePublished": "2022-11-14",
  "isPartOf": {"@type": "PublicationIssue", "issueNumber": "3",
               "isPartOf": {"@type": ["Periodical"], "name": "Annals of the Rheumatic Diseases"}},
  "identifier": {"@type": "PropertyValue", "propertyID": "DOI", "value": "10.1136/ard-2022-000002"}}]}
</script><script type="application/ld+json">{not json</script>
<meta property="og:title" content="A social title"></head><body><p>Body.</p></body></html>"""


def test_json_ld_graph_article_wins_over_open_graph():
    found = html_fields(JSON_LD)
    f = found.fields
    assert f["title"] == "Anti-CD19 CAR T cells for systemic sclerosis"
    assert f["authors"] == ["Ann Lee", "Bo Chan"]
    assert f["journal"] == "Annals of the Rheumatic Diseases"
    assert (f["year"], f["doi"]) == (2022, "10.1136/ard-2022-000002")
    assert found.methods["title"] == "json-ld" and found.methods["doi"] == "json-ld"


def test_open_graph_is_the_last_resort_and_nothing_else_is_invented():
    page = '<html><head><meta property="og:title" content="CAR T news"></head><body><p>Short note.</p></body></html>'
    found = html_fields(page)
    assert found.fields["title"] == "CAR T news" and found.methods["title"] == "open_graph"
    assert all(found.fields.get(k) in (None, []) for k in ("authors", "journal", "year", "doi", "pmid", "pmcid"))


def test_markup_in_titles_stays_text():
    page = (
        '<html><head><meta name="citation_title" content="&lt;script&gt;alert(1)&lt;/script&gt; CAR T in SLE">'
        "</head><body><p>See <b>CAR T</b> &lt;script&gt;x&lt;/script&gt; here.</p></body></html>"
    )
    found = html_fields(page)
    assert found.fields["title"] == "<script>alert(1)</script> CAR T in SLE"
    assert "<script>x</script>" in found.body


def test_iter_html_records_gives_one_record_with_nulls_where_the_page_is_silent(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(DUBLIN_CORE, encoding="utf-8")
    (record,) = list(iter_html_records(path, "page.html"))
    assert isinstance(record, Record)
    assert (record.source_file, record.source_index, record.format) == ("page.html", 1, "html")
    assert record.title == "BCMA CAR T cells in myositis" and record.year == 2023
    assert record.journal is None and record.volume is None and record.abstract is None


def test_iter_html_records_names_the_file_of_binary_input(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"\x00\x01\x02" * 2000)
    (entry,) = list(iter_html_records(path, "page.html"))
    assert isinstance(entry, RecordError) and entry.source_index == 1
    assert "page.html" in entry.reason and "binary" in entry.reason


def test_html_file_is_ingested_as_an_html_page(tmp_path):
    (tmp_path / "article.html").write_text(HIGHWIRE, encoding="utf-8")
    result = ingest_paths([tmp_path])
    (doc,) = result.documents
    assert doc.format == "html_page" and doc.title == "CD19 CAR T cells in refractory lupus"
    assert doc.doi == "10.1136/lupus-2024-000001" and doc.authors == ["Lee, Ann", "Chan, Bo"]
    assert [r.status for r in result.manifest] == ["parsed"]


def test_binary_html_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.html"
    path.write_bytes(b"<html>\x00\x00\x00" + bytes(range(256)) * 20)
    with pytest.raises(IngestError, match="broken.html"):
        parse_file(path)


def test_huge_single_line_html_page_parses_quickly(tmp_path):
    path = tmp_path / "huge.html"
    cell = "<td>CAR T &amp; lupus <b>x</b></td>"
    path.write_text(
        '<html><head><meta name="citation_title" content="Big"></head><body><table><tr>'
        + cell * 150_000
        + "</tr></table></body></html>",
        encoding="utf-8",
    )
    started = time.perf_counter()
    docs, fmt, _, size = parse_file(path)
    assert size > 5_000_000 and fmt == "html_page" and docs[0].title == "Big"
    assert time.perf_counter() - started < 10


def test_looks_like_html_only_for_markup():
    assert looks_like_html("\ufeff  <!DOCTYPE html><html>")
    assert looks_like_html('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">')
    assert not looks_like_html("Notes about <b> tags in plain text")


# ---------------------------------------------------------------- text dumps of pages


def test_reference_style_header_and_identifier_lines():
    text = (
        "Nat Med. 2022;28(10):2124-2132. doi: 10.1038/s41591-022-02017-5\n"
        "CD19 CAR T cells in refractory systemic lupus erythematosus\n"
        "Andreas Mackensen1, Fabian Müller1, Dimitrios Mougiakakos2\n"
        "PMID: 36109639\nPMCID: PMC9000001\n"
    )
    found = find_citation(text)
    f, m = found.fields, found.methods
    assert (f["journal"], f["year"], f["volume"]) == ("Nat Med", 2022, "28")
    assert f["title"] == "CD19 CAR T cells in refractory systemic lupus erythematosus"
    assert f["authors"] == ["Andreas Mackensen", "Fabian Müller", "Dimitrios Mougiakakos"]
    assert (f["doi"], f["pmid"], f["pmcid"]) == ("10.1038/s41591-022-02017-5", "36109639", "PMC9000001")
    assert (m["journal"], m["authors"], m["title"], m["pmid"]) == (
        "citation_line",
        "byline",
        "page_header",
        "identifier",
    )


def test_plos_style_citation_line():
    found = find_citation(
        "Citation: Smith J, Doe K, et al. (2023) CAR T cells for myositis. PLoS One 18(3): e0281234.\nBody text here."
    )
    f = found.fields
    assert (f["title"], f["journal"], f["year"]) == ("CAR T cells for myositis", "PLoS One", 2023)
    assert f["authors"] == ["Smith J", "Doe K"] and f["authors_complete"] is False
    assert found.methods["title"] == "cite_block"


def test_cite_this_article_block_ignores_access_dates():
    text = (
        "Cite this article\n"
        "Lee A, Chan B. Anti-BCMA CAR T cells in myasthenia gravis. Neurology. Available at: https://x.org/1. "
        "Accessed May 2, 2025.\n"
    )
    found = find_citation(text)
    assert found.fields["title"] == "Anti-BCMA CAR T cells in myasthenia gravis"
    assert found.fields["journal"] == "Neurology" and found.fields["authors"] == ["Lee A", "Chan B"]
    assert "year" not in found.fields  # the access date is not the publication year


def test_parse_reference_mdpi_and_apa_styles():
    mdpi = parse_reference("Sipos, F.; Műzes, G. CAR T cells in autoimmunity. Cells. 2023, 12, 1534.")
    assert mdpi["authors"] == ["Sipos, F.", "Műzes, G"] and mdpi["title"] == "CAR T cells in autoimmunity"
    apa = parse_reference("Sipos, F., & Műzes, G. (2023, June 06). CAR T cells in autoimmunity. In Encyclopedia.")
    assert apa["year"] == 2023 and apa["journal"] == "Encyclopedia" and len(apa["authors"]) == 2
    assert parse_reference("The trial enrolled 12 patients (2023). Results were good.") == {}


def test_reference_list_entries_are_not_the_pages_own_citation():
    text = (
        "A news story about CAR T cells in lupus\n"
        "Two teams reported remission in lupus after CAR T cells.\n"
        "References\n"
        "1. Mackensen A, Müller F. Anti-CD19 CAR T cells for refractory SLE. Nat Med. 2022;28:2124-2132. "
        "doi:10.1038/s41591-022-02017-5 PMID: 36109639\n"
    )
    found = find_citation(text)
    assert all(k not in found.fields for k in ("journal", "year", "authors", "doi", "pmid"))
    assert found.fields["title"] == "A news story about CAR T cells in lupus"


def test_bylines_need_names_not_menu_entries():
    assert names_in_line("Alberto Nordmann-Gomes1, Leila Khalili2 and Anca Askanase2, 1Columbia University") == [
        "Alberto Nordmann-Gomes",
        "Leila Khalili",
        "Anca Askanase",
    ]
    assert names_in_line("Keyword Index, Advanced Search, Your Favorites") == []
    assert names_in_line("ACR Convergence 2025, ACR Convergence 2024") == []


def test_generic_fallback_records_methods_and_keeps_the_body():
    text = (
        "The abstract was lost in the export.\n"
        "CAR T cells reset B cells in systemic sclerosis, the team said.\nPMID: 38500001\n"
    )
    fields = generic.parse(text)
    assert fields["pmid"] == "38500001" and fields["field_sources"]["pmid"] == "identifier"
    assert "CAR T cells reset B cells in systemic sclerosis" in fields["body"]
    assert fields["abstract"] is None and fields["title"] is None


def test_huge_single_line_text_dump_is_read_in_linear_time(tmp_path):
    sizes = {}
    for n in (200_000, 2_000_000):
        path = tmp_path / f"line{n}.txt"
        path.write_text("Cite this article: " + "Lee A, " * (n // 7) + "x. PMID: 12345678", encoding="utf-8")
        started = time.perf_counter()
        docs, fmt, _, _ = parse_file(path)
        sizes[n] = time.perf_counter() - started
        assert fmt == "generic" and docs[0].pmid == "12345678"
    assert sizes[2_000_000] < 30 * max(sizes[200_000], 0.01)
