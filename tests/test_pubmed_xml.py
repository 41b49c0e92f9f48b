"""PubMed XML reader: fields of the efetch/baseline layout, gzip, deletions, damaged files, streaming."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

from Bio import Entrez

from helpers.sources.pubmed_xml import Deletion, Record, RecordError, iter_pubmed_xml

FIXTURE = Path(__file__).parent / "fixtures" / "library" / "pubmed_efetch.xml"


def _records(path) -> list:
    return list(iter_pubmed_xml(path))


def test_fields_of_an_efetch_record():
    first = _records(FIXTURE)[0]
    assert isinstance(first, Record) and first.source_index == 1
    assert (first.pmid, first.doi, first.pmcid) == ("90000001", "10.5555/synth.2024.001", "PMC9000001")
    assert first.title == "CD19 CAR T cells in refractory lupus: a synthetic series."  # inline markup flattened
    assert first.abstract == "BACKGROUND: Background text. RESULTS: All 5 patients reached remission."
    assert first.authors == ["Alpha A", "Müller F", "Synthetic CAR-T Study Group"]
    assert first.affiliations[0] == "Synthetic University, Erlangen." and first.affiliations[1] == ""
    assert (first.journal, first.journal_abbrev, first.volume, first.issue) == (
        "Synthetic Journal of Rheumatology",
        "Synth J Rheumatol",
        "12",
        "3",
    )
    assert (first.year, first.date, first.pages, first.language) == (2024, "2024-03-05", "101-109", "eng")
    assert first.keywords == ["CAR-T", "lupus"] and first.mesh == ["Lupus Erythematosus, Systemic"]
    assert first.publication_types == ["Journal Article"]


def test_medline_date_vernacular_title_and_missing_facts_stay_none():
    second = _records(FIXTURE)[1]
    assert (second.year, second.date) == (2023, "2023")  # "2023 Jan-Feb": the year only, nothing guessed
    assert second.title == "Thérapie cellulaire synthétique."  # empty ArticleTitle: the vernacular one
    assert second.doi is None and second.abstract is None and second.authors == [] and second.pages == "e12"


def test_delete_citation_becomes_a_deletion():
    deletions = [r for r in _records(FIXTURE) if isinstance(r, Deletion)]
    assert [d.pmids for d in deletions] == [("80000001", "80000002")]


def test_gzip_gives_the_same_records(tmp_path):
    packed = tmp_path / "pubmed25n0001.xml.gz"
    packed.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    plain = [(r.pmid, r.title) for r in _records(FIXTURE) if isinstance(r, Record)]
    assert [(r.pmid, r.title) for r in _records(packed) if isinstance(r, Record)] == plain


def test_titles_and_pmids_agree_with_biopython():
    with open(FIXTURE, "rb") as handle:
        theirs = Entrez.read(handle, validate=False)["PubmedArticle"]
    ours = [r for r in _records(FIXTURE) if isinstance(r, Record)]
    assert [str(a["MedlineCitation"]["PMID"]) for a in theirs] == [r.pmid for r in ours]


def test_truncated_gzip_keeps_what_came_before(tmp_path):
    body = FIXTURE.read_bytes()
    packed = gzip.compress(body.replace(b"</PubmedArticleSet>", b"") + b"<PubmedArticle>" * 1)
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(packed[: len(packed) - 20])
    out = _records(cut)
    assert [r.pmid for r in out if isinstance(r, Record)] == ["90000001", "90000002"]
    assert isinstance(out[-1], RecordError) and "gzip stream cut short after record 2" in out[-1].reason


def test_malformed_xml_costs_only_that_record(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    one = text[text.index("<PubmedArticle>") : text.index("</PubmedArticle>") + len("</PubmedArticle>")]
    broken = text.replace('<PMID Version="1">90000002</PMID>', '<PMID Version="1">90000002</PMI>')
    broken = broken.replace("</PubmedArticleSet>", one.replace("90000001", "90000003") + "</PubmedArticleSet>")
    path = tmp_path / "broken.xml"
    path.write_text(broken, encoding="utf-8")
    out = _records(path)
    assert [(r.pmid, r.source_index) for r in out if isinstance(r, Record)] == [("90000001", 1), ("90000003", 3)]
    errors = [r for r in out if isinstance(r, RecordError)]
    assert len(errors) == 1 and errors[0].source_index == 2
    assert "record 2: malformed XML" in errors[0].reason and "the other records are kept" in errors[0].reason
    assert [d.pmids for d in out if isinstance(d, Deletion)] == [("80000001", "80000002")]  # after the bad one


def test_xml_cut_short_keeps_the_whole_records_before(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    path = tmp_path / "cut.xml"
    path.write_text(text[: text.index("</PubmedArticle>") + 300], encoding="utf-8")
    out = _records(path)
    assert [r.pmid for r in out if isinstance(r, Record)] == ["90000001"]
    assert isinstance(out[-1], RecordError) and "file cut short after record 1" in out[-1].reason


def test_a_file_without_pubmed_elements_is_one_error(tmp_path):
    path = tmp_path / "other.xml.gz"
    path.write_bytes(gzip.compress(b"<?xml version='1.0'?><feed><entry>not PubMed</entry></feed>"))
    (error,) = _records(path)
    assert isinstance(error, RecordError) and "not PubMed XML" in error.reason


def test_blocks_give_the_same_records_as_one_parse(tmp_path, monkeypatch):
    import helpers.sources.pubmed_xml as pubmed_xml

    whole = [(r.pmid, r.source_index, r.title) for r in _records(FIXTURE) if isinstance(r, Record)]
    monkeypatch.setattr(pubmed_xml, "BLOCK", 10)  # a block per element
    blocks = [b for b in pubmed_xml.iter_blocks(FIXTURE) if isinstance(b, pubmed_xml.Block)]
    assert len(blocks) == 3 and [b.first_index for b in blocks] == [1, 2, 3]
    assert [(r.pmid, r.source_index, r.title) for r in _records(FIXTURE) if isinstance(r, Record)] == whole


def test_memory_does_not_grow_with_the_file(tmp_path):
    body = FIXTURE.read_text(encoding="utf-8")
    one = body[body.index("<PubmedArticle>") : body.index("</PubmedArticle>") + len("</PubmedArticle>")]

    def write(n: int) -> Path:
        path = tmp_path / f"n{n}.xml"
        path.write_text("<PubmedArticleSet>" + one * n + "</PubmedArticleSet>", encoding="utf-8")
        return path

    peaks = []
    for n in (2_000, 8_000):
        path = write(n)
        tracemalloc.start()
        count = sum(1 for r in iter_pubmed_xml(path) if isinstance(r, Record))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == n
    assert peaks[1] < 1.5 * peaks[0]  # four times the records, not four times the memory


def test_the_xslt_layout_reads_what_the_element_walk_reads(tmp_path):
    """Blocks are read through one XSLT pass; the element walk (used for books and for the records
    of a damaged block) must give the same records, on the fixture and on variants of it."""
    from lxml import etree

    import helpers.sources.pubmed_xml as pubmed_xml

    text = FIXTURE.read_text(encoding="utf-8")
    one = text[text.index("<PubmedArticle>") : text.index("</PubmedArticle>") + len("</PubmedArticle>")]
    variants = [
        one.replace("<PubDate><Year>2024</Year><Month>Mar</Month><Day>5</Day></PubDate>", "").replace(
            "</Article>",
            '<ArticleDate DateType="Electronic"><Year>2023</Year><Month>12</Month></ArticleDate></Article>',
        ),
        one.replace('<ArticleId IdType="doi">10.5555/synth.2024.001</ArticleId>', ""),  # DOI from ELocationID
        one.replace(
            "</Abstract>", "</Abstract><OtherAbstract><AbstractText>Zusammenfassung.</AbstractText></OtherAbstract>"
        ),
        one.replace("<MedlinePgn>101-109</MedlinePgn>", "").replace("90000001", "90000009"),
    ]
    body = text.replace("</PubmedArticleSet>", "".join(variants) + "</PubmedArticleSet>")
    root = etree.fromstring(body.encode(), pubmed_xml._PARSER)
    walked, index = [], 0
    for element in root.iterchildren(tag=etree.Element):
        index += element.tag != "DeleteCitation"
        walked.append(pubmed_xml._entry(element, "f", index))
    laid = pubmed_xml._read_root(root, "f", 0)
    records = [r for r in laid if isinstance(r, Record)]
    assert laid == walked and len(records) == 6
    assert (records[2].year, records[2].date) == (2023, "2023-12") and records[3].doi == "10.5555/synth.2024.001"
    assert "Zusammenfassung" not in (records[4].abstract or "") and records[5].pages == "101-109"
