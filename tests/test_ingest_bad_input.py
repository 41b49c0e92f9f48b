"""Bad input never crashes ingestion: each file gets a manifest row naming the file and the fix,
and every other file is still parsed."""

from __future__ import annotations

import shutil

import pytest

from helpers.sources import ingest_paths

from .conftest import DOC_FIXTURES, SEED_FILES

GOOD = DOC_FIXTURES / "pubmed_record.txt"


@pytest.fixture
def folder(tmp_path):
    shutil.copy(GOOD, tmp_path / "good.txt")
    return tmp_path


def rows_by_name(result):
    return {r.source_file.rsplit("/", 1)[-1]: r for r in result.manifest}


def test_empty_file(folder):
    (folder / "empty.txt").write_bytes(b"")
    rows = rows_by_name(ingest_paths([folder]))
    assert rows["empty.txt"].status == "error"
    assert "empty.txt" in rows["empty.txt"].reason and "empty" in rows["empty.txt"].reason
    assert rows["good.txt"].status == "parsed"


def test_binary_file(folder):
    (folder / "scan.txt").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02\x03garbage" * 200)
    rows = rows_by_name(ingest_paths([folder]))
    assert rows["scan.txt"].status == "error" and "PDF" in rows["scan.txt"].reason
    assert rows["blob.txt"].status == "error" and "binary" in rows["blob.txt"].reason
    assert rows["good.txt"].status == "parsed"


def test_latin1_file_is_read_and_flagged(folder):
    text = GOOD.read_text(encoding="utf-8").replace("systemic sclerosis", "sclérodermie systémique")
    (folder / "latin.txt").write_bytes(text.encode("latin-1"))
    result = ingest_paths([folder])
    row = rows_by_name(result)["latin.txt"]
    assert row.status == "parsed" and row.encoding == "cp1252" and "UTF-8" in row.reason
    doc = next(d for d in result.documents if d.source_file.endswith("latin.txt"))
    assert "sclérodermie systémique" in doc.title


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_file_is_read(folder, encoding):
    (folder / "wide.txt").write_bytes(GOOD.read_text(encoding="utf-8").encode(encoding))
    result = ingest_paths([folder])
    row = rows_by_name(result)["wide.txt"]
    assert row.status == "parsed" and row.encoding.startswith("utf-16")
    doc = next(d for d in result.documents if d.source_file.endswith("wide.txt"))
    assert doc.pmid == "39000001"


def test_truncated_utf16_is_an_error(folder):
    data = GOOD.read_text(encoding="utf-8").encode("utf-16")
    (folder / "cut.txt").write_bytes(data[:-1])
    row = rows_by_name(ingest_paths([folder]))["cut.txt"]
    assert row.status == "error" and "truncated" in row.reason


def test_huge_file_is_refused_with_the_limit_named(folder):
    with (folder / "huge.txt").open("wb") as fh:
        fh.write(b"Abstract\n" + b"a" * (50 * 1024 * 1024))
    rows = rows_by_name(ingest_paths([folder]))
    assert rows["huge.txt"].status == "error"
    assert "50.0 MB" in rows["huge.txt"].reason and "--max-mb" in rows["huge.txt"].reason
    assert rows["good.txt"].status == "parsed"


def test_folder_with_no_documents(tmp_path):
    (tmp_path / "picture.png").write_bytes(b"\x89PNG....")
    result = ingest_paths([tmp_path])
    assert result.documents == []
    statuses = {
        r.source_file.rsplit("/", 2)[-2] if r.source_file.endswith("/") else r.source_file.rsplit("/", 1)[-1]: r
        for r in result.manifest
    }
    folder_row = next(r for r in result.manifest if r.source_file.endswith("/"))
    assert folder_row.status == "skipped" and "no document files" in folder_row.reason
    assert statuses["picture.png"].status == "skipped" and ".png" in statuses["picture.png"].reason


def test_missing_path_gets_an_error_row(tmp_path):
    result = ingest_paths([tmp_path / "nope", GOOD])
    rows = rows_by_name(result)
    assert rows["nope"].status == "error" and "does not exist" in rows["nope"].reason
    assert len(result.documents) == 1


def test_sidecar_values_win_and_are_marked_curated(tmp_path):
    seed = SEED_FILES[1]  # 001: no title and no DOI on the page
    shutil.copy(seed, tmp_path / seed.name)
    (tmp_path / f"{seed.stem}.meta.yaml").write_text(
        "title: A title supplied by the user\ndoi: 10.1000/user.supplied\n", encoding="utf-8"
    )
    result = ingest_paths([tmp_path])
    doc = result.documents[0]
    assert doc.title == "A title supplied by the user" and doc.doi == "10.1000/user.supplied"
    assert doc.curated_fields == ["doi", "title"]
    assert doc.journal == "J Rheum Dis"  # page values kept where the sidecar is silent
    rows = rows_by_name(result)
    assert rows[f"{seed.stem}.meta.yaml"].status == "parsed"
    assert "sidecar" in rows[seed.name].reason


def test_sidecar_with_unknown_field_is_rejected_whole(tmp_path):
    seed = SEED_FILES[1]
    shutil.copy(seed, tmp_path / seed.name)
    (tmp_path / f"{seed.stem}.meta.yaml").write_text("title: T\njornal: Typo\n", encoding="utf-8")
    result = ingest_paths([tmp_path])
    rows = rows_by_name(result)
    side = rows[f"{seed.stem}.meta.yaml"]
    assert side.status == "error"
    assert "line 2" in side.reason and "jornal" in side.reason and "allowed fields" in side.reason
    assert result.documents[0].title is None and result.documents[0].curated_fields == []
    assert rows[seed.name].status == "parsed"


def test_orphan_sidecar_is_accounted_for(tmp_path):
    (tmp_path / "lonely.meta.yaml").write_text("title: x\n", encoding="utf-8")
    shutil.copy(GOOD, tmp_path / "good.txt")
    rows = rows_by_name(ingest_paths([tmp_path]))
    assert rows["lonely.meta.yaml"].status == "skipped" and "without a document" in rows["lonely.meta.yaml"].reason


def test_duplicate_paths_get_one_row(tmp_path):
    shutil.copy(GOOD, tmp_path / "good.txt")
    result = ingest_paths([tmp_path, tmp_path / "good.txt"])
    assert [r.source_file.rsplit("/", 1)[-1] for r in result.manifest] == ["good.txt"]


def test_every_input_gets_exactly_one_row(tmp_path):
    for name in ("a.txt", "b.md", "c.pdf", ".hidden"):
        shutil.copy(GOOD, tmp_path / name)
    (tmp_path / "d.txt").write_bytes(b"")
    result = ingest_paths([tmp_path])
    assert sorted(r.source_file.rsplit("/", 1)[-1] for r in result.manifest) == [
        ".hidden",
        "a.txt",
        "b.md",
        "c.pdf",
        "d.txt",
    ]
