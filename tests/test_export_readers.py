"""Export readers of the library: PMC JATS, MEDLINE text, Web of Science plain text, RIS (Embase, Scopus,
Ovid), BibTeX; recognition by content, encodings, bad records that cost only themselves, streaming."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers.library.dedup import normalise_doi, normalise_title
from helpers.library.store import build_library
from helpers.sources.encodings import sniff
from helpers.sources.medline_stream import iter_medline
from helpers.sources.pubmed_xml import Record, RecordError
from helpers.sources.records import detect, read_records
from helpers.sources.wos_text import iter_wos_text

LIBRARY = Path(__file__).parent / "fixtures" / "library"
LUPUS_DOI = "10.5555/synth.2024.001"


def _read(path: Path, name: str | None = None) -> tuple[str | None, list]:
    fmt, entries = read_records(path, name or path.name)
    return fmt.format, list(entries)


def _records(entries: list) -> list[Record]:
    return [e for e in entries if isinstance(e, Record)]


def _errors(entries: list) -> list[RecordError]:
    return [e for e in entries if isinstance(e, RecordError)]


# ---------------------------------------------------------------- fields of each format


def test_pmc_jats_articleset_fields():
    fmt, entries = _read(LIBRARY / "pmc_articleset.xml")
    assert fmt == "pmc-jats" and len(entries) == 3 and not _errors(entries)  # the sub-article is not a record
    first, second, third = entries
    assert (first.source_file, first.source_index, first.format) == ("pmc_articleset.xml", 1, "pmc-jats")
    assert (first.pmid, first.pmcid, first.doi) == ("90000001", "PMC9000001", LUPUS_DOI)
    assert first.title == "CD19 CAR T cells in refractory lupus: a synthetic series"  # italic kept, footnote mark not
    assert first.abstract == "Background: Background text. Results: All 5 patients reached remission."
    assert first.authors == ["Alpha, Anna", "Müller, Fritz", "Synthetic CAR-T Study Group"]  # the editor is not
    assert first.affiliations[1] == (
        "Synthetic University, Erlangen, Germany; Synthetic Cell Therapy Centre, Berlin, Germany"
    )
    assert (first.journal, first.journal_abbrev) == ("Synthetic Journal of Rheumatology", "Synth J Rheumatol")
    assert (first.year, first.date) == (2024, "2024-03-05")  # ppub preferred to epub (2024-02-20)
    assert (first.volume, first.issue, first.pages) == ("12", "3", "101-109")
    assert first.keywords == ["CAR-T", "lupus"] and first.publication_types == ["research-article"]
    assert first.language == "en"
    assert (second.pmcid, second.pages, second.date, second.language) == ("PMC9000002", "e12", "2023-01-15", "fr")
    assert second.abstract == "Premier paragraphe. Second paragraphe avec un lien."
    assert second.authors == ["Epsilon, Eva", "Zeta"]
    assert second.affiliations == ["Institut synthétique, Paris, France"] * 2  # no xref: listed once for all
    assert (third.doi, third.abstract, third.year, third.keywords) == (
        "10.5555/synth.case.003",
        None,
        2022,
        ["myositis"],
    )


def test_pmc_jats_in_an_oai_pmh_response_and_gzip(tmp_path):
    fmt, entries = _read(LIBRARY / "pmc_oai.xml")
    assert fmt == "pmc-jats" and len(entries) == 1
    article = entries[0]
    assert (article.pmcid, article.doi, article.title) == (
        "PMC9000004",
        "10.5555/synth.oai.004",
        "A synthetic OAI-PMH article",
    )
    assert article.affiliations == ["Synthetic Institute, Oslo, Norway"] and article.date == "2025-06-01"
    packed = tmp_path / "pmc.xml.gz"
    packed.write_bytes(gzip.compress((LIBRARY / "pmc_articleset.xml").read_bytes()))
    fmt, entries = _read(packed)
    assert fmt == "pmc-jats" and [r.source_index for r in _records(entries)] == [1, 2, 3]


def test_medline_text_fields():
    fmt, entries = _read(LIBRARY / "medline_export.txt")
    assert fmt == "medline" and len(entries) == 2
    first, second = entries
    assert (first.pmid, first.doi, first.pmcid) == ("90000001", LUPUS_DOI, "PMC9000001")
    assert first.abstract == "BACKGROUND: Background text. RESULTS: All 5 patients reached remission."  # joined line
    assert first.authors == ["Alpha, Anna", "Müller, Fritz", "Synthetic CAR-T Study Group"]
    assert first.affiliations == [
        "Synthetic University, Erlangen.",
        "Synthetic University, Erlangen.; Synthetic Cell Therapy Centre, Berlin.",
        "",
    ]
    assert (first.journal, first.journal_abbrev, first.date, first.pages) == (
        "Synthetic Journal of Rheumatology",
        "Synth J Rheumatol",
        "2024-03-05",
        "101-109",
    )
    assert first.mesh == ["Lupus Erythematosus, Systemic", "Humans"] and first.keywords == ["CAR-T", "lupus"]
    assert first.publication_types == ["Journal Article", "Case Reports"] and first.language == "eng"
    assert second.title == "Thérapie cellulaire synthétique." and second.authors == ["Epsilon, Eva", "Zeta Z"]
    assert (second.year, second.date, second.language) == (2023, "2023-01", "fre")


def test_web_of_science_plain_text_fields():
    fmt, entries = _read(LIBRARY / "wos_plain.txt")
    assert fmt == "wos-text" and len(entries) == 2
    first, second = entries
    assert first.title == "CD19 CAR T cells in refractory lupus: a synthetic series"  # wrapped line joined
    assert first.authors == ["Alpha, Anna", "Muller, Fritz", "Synthetic CAR-T Study Grp"]
    assert first.affiliations[:2] == [
        "Synthetic Univ, Erlangen, Germany.",
        "Synthetic Univ, Erlangen, Germany.; Synthetic Cell Therapy Ctr, Berlin, Germany.",
    ]
    assert (first.pmid, first.doi, first.date, first.pages) == ("90000001", LUPUS_DOI, "2024-03-05", "101-109")
    assert (first.journal, first.journal_abbrev) == ("SYNTHETIC JOURNAL OF RHEUMATOLOGY", "Synth. J. Rheumatol.")
    assert first.keywords == ["CAR-T", "lupus", "T-CELLS", "REMISSION"]
    assert (second.pages, second.publication_types, second.date) == ("e12", ["Review", "Early Access"], "2023-01")


def test_ris_variants_of_embase_scopus_and_ovid():
    _, embase = _read(LIBRARY / "embase.ris")
    _, scopus = _read(LIBRARY / "scopus.ris")
    fmt, ovid = _read(LIBRARY / "ovid.ris")
    assert fmt == "ris"
    assert embase[0].abstract == "Background text. All 5 patients reached remission."  # N2
    assert (embase[0].journal, embase[0].journal_abbrev, embase[0].year) == (
        "Synthetic Journal of Rheumatology",
        "Synth. J. Rheumatol.",
        2024,
    )  # JF, JA, Y1 '2024//'
    assert embase[0].doi == LUPUS_DOI and embase[0].pmid is None  # a DOI URL; Embase gives no PMID here
    assert embase[1].publication_types == ["Conference Abstract"]
    assert (scopus[0].journal, scopus[0].pages, scopus[0].pmid) == (
        "Synthetic Journal of Rheumatology",
        "101-109",
        "90000001",
    )
    assert scopus[0].authors == ["Alpha, A.", "Muller, F."] and scopus[0].keywords == ["CAR-T", "lupus"]
    assert len(ovid) == 1  # the header line before the first TY is not a record
    assert (ovid[0].pmid, ovid[0].pages, ovid[0].doi) == ("90000001", "101-109", LUPUS_DOI)


def test_bibtex_fields():
    fmt, entries = _read(LIBRARY / "zotero.bib")
    assert fmt == "bibtex" and len(entries) == 2  # @comment and @string are not records
    first = entries[0]
    assert first.title == "CD19 CAR T cells in refractory lupus: a synthetic series"
    assert first.authors == ["Alpha, Anna", "Müller, Fritz"]  # LaTeX accent decoded
    assert first.journal == "Synthetic Journal of Rheumatology"  # @string macro resolved
    assert (first.date, first.pages, first.pmid, first.pmcid) == ("2024-03", "101-109", "90000001", "PMC9000001")
    assert entries[1].publication_types == ["inproceedings"]


def test_the_same_work_in_every_format_has_the_same_identifiers():
    files = {
        "pubmed_efetch.xml": True,
        "pmc_articleset.xml": True,
        "medline_export.txt": True,
        "wos_plain.txt": True,
        "wos_export.txt": True,
        "scopus.ris": True,
        "ovid.ris": True,
        "embase.ris": False,  # no PMID in this export
        "zotero.bib": True,
        "pubmed_export.csv": True,
        "scopus_export.csv": True,
    }
    for file, has_pmid in files.items():
        work = next(r for r in _records(_read(LIBRARY / file)[1]) if r.doi and "2024.001" in r.doi)
        assert normalise_doi(work.doi) == LUPUS_DOI, file
        assert normalise_title(work.title) == "cd19 car t cells in refractory lupus a synthetic series", file
        assert work.pmid == ("90000001" if has_pmid else None), file


def test_the_library_merges_the_work_across_the_new_formats(tmp_path):
    names = ("pmc_articleset.xml", "medline_export.txt", "wos_plain.txt", "embase.ris", "scopus.ris", "ovid.ris")
    build_library([LIBRARY / n for n in (*names, "zotero.bib")], tmp_path / "lib.parquet")
    table = pq.read_table(tmp_path / "lib.parquet").to_pandas()
    lupus = table[table["doi"].fillna("").str.contains("2024.001")]
    assert len(lupus) == 7 and lupus["cluster_id"].nunique() == 1


# ---------------------------------------------------------------- recognised by content


def test_formats_are_recognised_by_content_not_suffix(tmp_path):
    for source, suffix, expected in (
        ("medline_export.txt", ".ris", "medline"),
        ("pmc_articleset.xml", ".txt", "pmc-jats"),
        ("wos_plain.txt", ".dat", "wos-text"),
        ("zotero.bib", ".txt", "bibtex"),
        ("scopus.ris", ".txt", "ris"),
    ):
        moved = tmp_path / f"{source.split('.')[0]}{suffix}"
        moved.write_bytes((LIBRARY / source).read_bytes())
        assert detect(moved).format == expected, source


def test_empty_binary_and_unknown_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "empty.ris").write_bytes(b"")
    (tmp_path / "image.bib").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20)
    (tmp_path / "notes.txt").write_text("some notes, not an export\n")
    assert detect(tmp_path / "empty.ris").reason == "empty file"
    assert detect(tmp_path / "image.bib").reason.startswith("binary file")
    unknown = detect(tmp_path / "notes.txt")
    assert unknown.format is None
    for name in ("PubMed XML", "PMC JATS XML", "MEDLINE", "Web of Science", "CSV", "RIS", "BibTeX"):
        assert name in unknown.reason
    assert list(read_records(tmp_path / "image.bib")[1]) == []


# ---------------------------------------------------------------- bad records cost only themselves


def test_truncated_jats_gzip_keeps_the_articles_before_the_cut(tmp_path):
    data = (LIBRARY / "pmc_articleset.xml").read_bytes()
    stored = gzip.compress(data, compresslevel=0)  # stored blocks: a cut at a byte offset of the XML
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(stored[: 20 + data.index("Thérapie".encode())])
    fmt, entries = _read(cut)
    assert fmt == "pmc-jats"
    assert [type(e).__name__ for e in entries] == ["Record", "RecordError"]
    assert entries[0].pmid == "90000001"
    assert entries[1].source_index == 2 and "gzip stream cut short" in entries[1].reason


def test_a_malformed_jats_article_in_the_middle_costs_only_itself(tmp_path):
    data = (LIBRARY / "pmc_articleset.xml").read_text(encoding="utf-8")
    second = data.index("Thérapie")
    broken = tmp_path / "broken.xml"
    broken.write_text(data[:second] + data[second:].replace("</title-group>", "", 1), encoding="utf-8")
    entries = _read(broken)[1]
    assert [r.source_index for r in _records(entries)] == [1, 3]
    (error,) = _errors(entries)
    assert (
        error.source_index == 2
        and "Thérapie cellulaire synthétique" in error.reason
        and "malformed XML" in error.reason
    )
    unclosed = tmp_path / "unclosed.xml"
    end = data.index("</article>", second)
    unclosed.write_text(data[:end] + data[end + len("</article>") :], encoding="utf-8")
    entries = _read(unclosed)[1]
    assert [r.source_index for r in _records(entries)] == [1, 3]
    assert _errors(entries)[0].source_index == 2 and "not closed" in _errors(entries)[0].reason


def test_a_ris_record_without_er_is_named_and_the_others_kept(tmp_path):
    text = (LIBRARY / "embase.ris").read_text(encoding="utf-8")
    broken = tmp_path / "broken.ris"
    broken.write_text(text.replace("ER  - \n", "", 1) + (LIBRARY / "scopus.ris").read_text(encoding="utf-8"))
    entries = _read(broken)[1]
    assert [type(e).__name__ for e in entries] == ["RecordError", "Record", "Record"]
    error = entries[0]
    assert error.source_index == 1 and "line 1: 'TY  - JOUR'" in error.reason and "no ER line" in error.reason
    assert "CD19 CAR T cells in refractory lupus" in error.reason
    assert [r.source_index for r in entries[1:]] == [2, 3]
    cut = tmp_path / "cut.ris"
    cut.write_text(text.rsplit("ER  -", 1)[0])  # the last record loses its ER
    entries = _read(cut)[1]
    assert isinstance(entries[0], Record) and "end of the file" in entries[1].reason


def test_a_bibtex_entry_with_a_broken_brace_costs_only_itself(tmp_path):
    text = (LIBRARY / "zotero.bib").read_text(encoding="utf-8")
    broken = tmp_path / "broken.bib"
    broken.write_text(text.replace("{CD19} {CAR} {T} cells in refractory lupus: a synthetic series},", "{CD19", 1))
    entries = _read(broken)[1]
    assert [type(e).__name__ for e in entries] == ["RecordError", "Record"]
    assert "alpha_cd19_2024" in entries[0].reason and "line 4" in entries[0].reason
    assert entries[1].authors == ["Gamma, Gina"] and entries[1].source_index == 2


def test_a_wos_record_without_er_is_named_and_the_others_kept(tmp_path):
    text = (LIBRARY / "wos_plain.txt").read_text(encoding="utf-8")
    broken = tmp_path / "wos.txt"
    broken.write_text(text.replace("ER\n", "", 1))
    entries = _read(broken)[1]
    assert [type(e).__name__ for e in entries] == ["RecordError", "Record"]
    assert "WOS:000000000000001" in entries[0].reason and "no ER line" in entries[0].reason


# ---------------------------------------------------------------- encodings


def test_a_cp1252_medline_file_is_read_with_a_note(tmp_path):
    legacy = tmp_path / "medline.txt"
    legacy.write_bytes((LIBRARY / "medline_export.txt").read_text(encoding="utf-8").encode("cp1252"))
    fmt, entries = read_records(legacy, "medline.txt")
    assert fmt.format == "medline" and "cp1252" in fmt.reason
    entries = list(entries)
    assert entries[0].authors[1] == "Müller, Fritz" and entries[1].title == "Thérapie cellulaire synthétique."
    assert not _errors(entries)


def test_a_non_utf8_line_after_the_sample_is_read_and_noted(tmp_path):
    filler = "".join(f"PMID- {10000000 + i}\nTI  - Filler record {i} {'x' * 200}\n\n" for i in range(1500))
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes(filler.encode() + "PMID- 90000009\nTI  - Late accent: Müller.\n".encode("cp1252"))
    fmt, entries = read_records(mixed, "mixed.txt")
    entries = list(entries)
    assert fmt.reason == "" and len(_records(entries)) == 1501  # the sample looked like UTF-8
    assert _records(entries)[-1].title == "Late accent: Müller."
    (note,) = _errors(entries)
    assert "not UTF-8" in note.reason and "the record is kept" in note.reason


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_bom_ris_read_like_utf8(tmp_path, encoding):
    text = (LIBRARY / "scopus.ris").read_text(encoding="utf-8").replace("Muller", "Müller")
    other = tmp_path / "scopus.ris"
    other.write_bytes(text.encode(encoding))
    assert (
        sniff(other.read_bytes()) == {"utf-16": "utf-16", "utf-16-le": "utf-16-le", "utf-8-sig": "utf-8-sig"}[encoding]
    )
    fmt, entries = _read(other)
    (record,) = entries
    assert fmt == "ris" and record.title == "CD19 CAR T cells in refractory lupus: A synthetic series"
    assert record.authors == ["Alpha, A.", "Müller, F."] and record.pmid == "90000001"


# ---------------------------------------------------------------- streaming


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        for _ in fn():
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _medline(n: int) -> str:
    return "".join(
        f"PMID- {20000000 + i}\nTI  - Synthetic streamed record {i}\nAB  - {'Abstract words. ' * 40}\n"
        f"      continued.\nFAU - Alpha, Anna\nAU  - Alpha A\nDP  - 2024 Mar\nJT  - Synthetic Journal\n\n"
        for i in range(n)
    )


def _wos(n: int) -> str:
    body = "".join(
        f"PT J\nAU Alpha, A\nAF Alpha, Anna\nTI Synthetic streamed record {i}\nSO SYNTHETIC JOURNAL\n"
        f"AB {'Abstract words. ' * 40}\nPY 2024\nUT WOS:{i:015d}\nER\n\n"
        for i in range(n)
    )
    return "FN Clarivate Analytics Web of Science\nVR 1.0\n" + body + "EF\n"


@pytest.mark.parametrize(("make", "reader"), [(_medline, iter_medline), (_wos, iter_wos_text)])
def test_text_streams_do_not_hold_the_file(tmp_path, make, reader):
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_text(make(200))
    large.write_text(make(8_000))
    assert large.stat().st_size > 6_000_000
    count = sum(isinstance(r, Record) for r in reader(large, "large.txt"))
    assert count == 8_000
    peak_small = _peak(lambda: reader(small, "small.txt"))
    peak_large = _peak(lambda: reader(large, "large.txt"))
    assert peak_large < 1_000_000 and peak_large < 2 * peak_small + 200_000, (peak_small, peak_large)


def test_a_saved_html_page_is_one_library_record(tmp_path):
    page = tmp_path / "saved.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title>"
        '<meta name="citation_title" content="CD19 CAR T cells &lt;script&gt;alert(1)&lt;/script&gt; in lupus">'
        '<meta name="citation_author" content="Mackensen, Andreas"><meta name="citation_doi" content="10.5555/page.1">'
        '<meta name="citation_publication_date" content="2022/09/15"><meta name="citation_journal_title" '
        'content="Synthetic Medicine"></head><body><p>Five patients reached remission.</p></body></html>',
        encoding="utf-8",
    )
    fmt, entries = read_records(page, "saved.html")
    (record,) = list(entries)
    assert fmt.format == "html" and record.source_index == 1 and record.source_file == "saved.html"
    assert record.title == "CD19 CAR T cells <script>alert(1)</script> in lupus"  # kept as text, never markup
    assert (record.doi, record.year, record.journal, record.authors) == (
        "10.5555/page.1",
        2022,
        "Synthetic Medicine",
        ["Mackensen, Andreas"],
    )
