"""Property-based tests of every reader of the sources stage (issue 16): whatever bytes a file holds,
ingestion gives one manifest row per file, intact files beside it are untouched, and no identifier
or title is reported that the file does not contain. Inputs start from the real fixtures and seeds.

Regression inputs found by fuzzing (fuzz/fuzz_readers.py) live in tests/fixtures/fuzz/.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import cli
from helpers.core.paths import ROOT
from helpers.sources import ingest_paths
from helpers.sources.reading import read_text

from .conftest import DOC_FIXTURES, FIXTURES

SEEDS = ROOT / "seeds" / "documents"
HOSTILE = FIXTURES / "hostile"
FUZZ_FIXTURES = FIXTURES / "fuzz"
STATUSES = {"parsed", "skipped", "error"}

# Reproducible and CI-sized: the same examples on every run, no example database, no deadline
# (a cold first call into pydantic/bibtexparser can be slow; hangs are the fuzz script's job).
FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)
THOROUGH = settings(FAST, max_examples=80)


@dataclass(frozen=True)
class Format:
    """One input format the sources stage reads, with the real files that show it."""

    name: str
    suffix: str
    fixtures: tuple[Path, ...]


FORMATS = (
    Format("pubmed_page", ".txt", (DOC_FIXTURES / "pubmed_page_full_authors.txt", SEEDS / "003_031819f4954d36e8.txt")),
    Format(
        "pubmed_record",
        ".txt",
        (DOC_FIXTURES / "pubmed_record.txt", SEEDS / "000_40163047b66666dd.txt", HOSTILE / "hostile_pubmed.txt"),
    ),
    Format("pmc_page", ".txt", (DOC_FIXTURES / "pmc_page.txt",)),
    Format(
        "publisher_page", ".txt", (DOC_FIXTURES / "publisher_citation_line.txt", SEEDS / "001_12b7203a344b00a2.txt")
    ),
    Format("citation_record", ".txt", (DOC_FIXTURES / "citation_record.txt",)),
    Format("markdown", ".md", (DOC_FIXTURES / "markdown_page.md", HOSTILE / "hostile_page.md")),
    Format("medline", ".nbib", (DOC_FIXTURES / "export.nbib",)),
    Format("ris", ".ris", (DOC_FIXTURES / "export.ris",)),
    Format("bibtex", ".bib", (DOC_FIXTURES / "export.bib",)),
    Format("generic", ".txt", (DOC_FIXTURES / "generic_notes.txt",)),
)
FORMAT_IDS = [f.name for f in FORMATS]
ALL_FIXTURES = tuple(p for f in FORMATS for p in f.fixtures)
SUFFIX = {p: f.suffix for f in FORMATS for p in f.fixtures}

SIDECAR_DOC = DOC_FIXTURES / "pubmed_record.txt"
SIDECAR_SEED = (
    b"title: Curated title of the page\n"
    b"authors: [Ann Example, Ben Sample]\n"
    b"year: 2024\n"
    b"date: 2024-02-03\n"
    b"doi: 10.1000/curated.1\n"
    b"keywords:\n  - lupus\n  - CAR T\n"
)
ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be", "latin-1", "cp1252", "shift_jis", "cp500")


# ------------------------------------------------------------------ inputs


@st.composite
def mangle(draw: st.DrawFn, data: bytes) -> bytes:
    """1-4 byte-level edits of data: truncation, inserted/deleted/duplicated/repeated slices, NUL bytes,
    another encoding, or random bytes in place of the whole file."""
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "insert", "delete", "duplicate", "run", "nul", "encoding", "random"]))
        i = draw(st.integers(0, len(data)))
        if op == "truncate":
            data = data[:i]
        elif op == "insert":
            data = data[:i] + draw(st.binary(min_size=1, max_size=40)) + data[i:]
        elif op in ("delete", "duplicate"):
            j = draw(st.integers(i, min(len(data), i + 400)))
            data = data[:i] + data[j:] if op == "delete" else data[:j] + data[i:j] + data[j:]
        elif op == "run":  # a short piece repeated: the shape that makes backtracking patterns slow
            piece = data[i : i + draw(st.integers(1, 4))] or b" "
            data = data[:i] + piece * draw(st.integers(2, 2000 // len(piece))) + data[i:]
        elif op == "nul":
            data = data[:i] + b"\x00" * draw(st.integers(1, 3)) + data[i:]
        elif op == "encoding":
            data = data.decode("utf-8", "replace").encode(draw(st.sampled_from(ENCODINGS)), "replace")
        else:
            data = draw(st.binary(max_size=2000))
    return data


@st.composite
def reshuffle_lines(draw: st.DrawFn, data: bytes) -> bytes:
    """Line-level edits that keep the text readable, so the parsers run on it: lines dropped, repeated,
    moved, cut short, or taken from another format's file."""
    lines = data.decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["drop", "repeat", "move", "cut", "foreign"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            break
        if op == "drop":
            del lines[i]
        elif op == "repeat":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
        elif op == "move":
            lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(i))
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            other = draw(st.sampled_from(ALL_FIXTURES)).read_text(encoding="utf-8").split("\n")
            lines.insert(i, draw(st.sampled_from(other)))
    return "\n".join(lines).encode("utf-8")


def any_bytes_for(fmt: Format) -> st.SearchStrategy[bytes]:
    """Random bytes, or a real file of the format mangled at the byte level."""
    fixture = st.sampled_from(fmt.fixtures).map(Path.read_bytes)
    return st.one_of(st.binary(max_size=3000), fixture.flatmap(mangle))


def readable_variant_of(fmt: Format) -> st.SearchStrategy[bytes]:
    """A real file of the format, edited line by line (or truncated) but still valid UTF-8 text."""
    fixture = st.sampled_from(fmt.fixtures).map(Path.read_bytes)
    return fixture.flatmap(reshuffle_lines)


YAML_VALUES = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .,/()-]{0,29}", fullmatch=True),  # plain text
    st.text(max_size=30).map(json.dumps),  # any text, quoted
    st.integers(-10, 3000).map(str),
    # dates with any month and day: PyYAML turns these into datetime.date itself
    st.tuples(st.integers(0, 9999), st.integers(0, 19), st.integers(0, 39)).map(
        "{0[0]:04d}-{0[1]:02d}-{0[2]:02d}".format
    ),
    # explicit tags and anchors on values that fit them or not
    st.tuples(
        st.sampled_from(["!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!set", "!!str", "&a", "*a", ""]),
        st.sampled_from(["x", "", "1.5", "0b12", "2024-02-30", "yes", "{a}", "aGk=", "~", "[]", ".nan"]),
    ).map(lambda t: f"{t[0]} {t[1]}".strip()),
    st.integers(1, 6000).map(lambda n: "1" * n),  # Python refuses int() of text over 4300 digits
    st.integers(1, 3000).map(lambda n: "[" * n),  # nesting, closed or not
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.lists(st.text(max_size=10), max_size=3).map(json.dumps),
)
CURATABLE = ("title", "authors", "journal", "date", "year", "volume", "pages", "doi", "pmid", "pmcid", "keywords")


@st.composite
def sidecar_text(draw: st.DrawFn) -> bytes:
    """`field: value` lines as a user might write them: known and unknown fields, YAML values of every form."""
    keys = st.sampled_from(CURATABLE) | st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
    lines = draw(st.lists(st.tuples(keys, YAML_VALUES), min_size=1, max_size=6))
    return "\n".join(f"{k}: {v}" for k, v in lines).encode("utf-8")


def sidecar_bytes() -> st.SearchStrategy[bytes]:
    """A valid sidecar mangled at the byte level, or generated sidecar text (mangled or not)."""
    return st.one_of(st.just(SIDECAR_SEED).flatmap(mangle), sidecar_text(), sidecar_text().flatmap(mangle))


# ------------------------------------------------------------------ checks


def assert_one_row_per_file(result, files: list[Path]) -> None:
    """The manifest contract: exactly one well-formed row per input file, documents only from parsed ones."""
    names = Counter(r.source_file for r in result.manifest)
    assert names == Counter(p.name for p in files), result.manifest
    per_file = Counter(d.source_file for d in result.documents)
    for row in result.manifest:
        assert row.status in STATUSES
        if row.status == "parsed":
            assert row.documents == per_file[row.source_file]
            assert row.format == "sidecar" or per_file[row.source_file] >= 1, row
        else:
            assert row.reason.strip(), row
            assert per_file[row.source_file] == 0, row
        if row.status == "error":
            assert row.source_file.rsplit("/", 1)[-1] in row.reason, f"error reason must name the file: {row}"
    # what `ingest --json` prints must be UTF-8: no half characters (surrogates) in any value or reason
    json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def _views(text: str) -> tuple[str, ...]:
    """The text as the readers see it: as decoded; without BibTeX braces; with Markdown links and emphasis
    flattened line by line. Each only removes characters, so nothing can be found that was not there."""
    flat = "\n".join(
        re.sub(r"[*_`]{1,3}", "", re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", ln)) for ln in text.split("\n")
    )
    return (_norm(text), _norm(re.sub(r"[{}]", "", text)), _norm(flat))


def reported_values(doc) -> list[tuple[str, str]]:
    """(field, value) for every identifier and the title a document reports, its references' ids included."""
    out = [(k, getattr(doc, k)) for k in ("title", "doi", "pmid", "pmcid") if getattr(doc, k)]
    out += [("nct_ids", n) for n in doc.nct_ids]
    for ref in doc.references:
        out += [(f"reference {ref.index} {k}", getattr(ref, k)) for k in ("doi", "pmid", "pmcid") if getattr(ref, k)]
    return out


def assert_nothing_invented(doc, text: str, skip: frozenset[str] = frozenset()) -> None:
    views = _views(text)
    for field, value in reported_values(doc):
        if field in skip:
            continue
        assert any(_norm(value) in v for v in views), f"{doc.id}: {field}={value!r} does not occur in the file"


def _rows(result) -> dict[str, object]:
    return {r.source_file: r for r in result.manifest}


_BASELINE: dict[tuple[Path, str], tuple[list[dict], object]] = {}


def baseline(fixture: Path, name: str) -> tuple[list[dict], object]:
    """Documents and manifest row of an intact fixture read alone under the given file name."""
    key = (fixture, name)
    if key not in _BASELINE:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(fixture.read_bytes())
            result = ingest_paths([path])
        _BASELINE[key] = ([d.to_json() for d in result.documents], result.manifest[0])
    return _BASELINE[key]


# ------------------------------------------------------------------ the seeds really show each format


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_every_fixture_is_read_as_its_format(fmt):
    for fixture in fmt.fixtures:
        result = ingest_paths([fixture])
        assert [r.status for r in result.manifest] == ["parsed"], result.manifest
        assert {d.format for d in result.documents} == {fmt.name}


# ------------------------------------------------------------------ (a) any bytes in: one row, never a raise


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@THOROUGH
@given(data=st.data())
def test_any_bytes_give_exactly_one_manifest_row(fmt, data):
    raw = data.draw(any_bytes_for(fmt), label="bytes")
    suffix = data.draw(st.sampled_from([fmt.suffix, ".txt", ".text", ".md", ".nbib", ".ris", ".bib"]), label="suffix")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mangled{suffix}"
        path.write_bytes(raw)
        result = ingest_paths([path])
    assert_one_row_per_file(result, [path])


@THOROUGH
@given(raw=sidecar_bytes(), suffix=st.sampled_from([".meta.yaml", ".meta.yml"]), folder=st.booleans())
def test_any_sidecar_bytes_give_one_row_each_and_never_stop_the_document(raw, suffix, folder):
    with tempfile.TemporaryDirectory() as tmp:
        doc, side = Path(tmp) / "doc.txt", Path(tmp) / f"doc{suffix}"
        doc.write_bytes(SIDECAR_DOC.read_bytes())
        side.write_bytes(raw)
        result = ingest_paths([tmp] if folder else [doc, side])
    assert_one_row_per_file(result, [doc, side])
    assert _rows(result)["doc.txt"].status == "parsed"


@FAST
@given(raw=st.binary(max_size=300) | st.just(b"\x00" * 64) | st.just(b"\xff\xfe\x00\x00A\x00\x00\x00"))
def test_nul_heavy_and_tiny_inputs_give_one_row(raw):
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / f"blob{s}" for s in (".txt", ".md", ".nbib", ".ris", ".bib")]
        for p in files:
            p.write_bytes(raw)
        result = ingest_paths(files)
    assert_one_row_per_file(result, files)


# ------------------------------------------------------------------ (b) intact files beside a mangled one


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@FAST
@given(data=st.data())
def test_intact_files_beside_a_mangled_one_are_read_as_when_alone(fmt, data):
    raw = data.draw(any_bytes_for(fmt) | readable_variant_of(fmt), label="mangled")
    first = data.draw(st.sampled_from(ALL_FIXTURES), label="intact before")
    last = data.draw(st.sampled_from(fmt.fixtures), label="intact after (same format)")
    with tempfile.TemporaryDirectory() as tmp:
        intact = [Path(tmp) / f"a_intact{SUFFIX[first]}", Path(tmp) / f"z_intact{SUFFIX[last]}"]
        intact[0].write_bytes(first.read_bytes())
        intact[1].write_bytes(last.read_bytes())
        mangled = Path(tmp) / f"m_mangled{fmt.suffix}"
        mangled.write_bytes(raw)
        result = ingest_paths([intact[0], mangled, intact[1]])
    assert_one_row_per_file(result, [intact[0], mangled, intact[1]])
    rows = _rows(result)
    for fixture, path in zip((first, last), intact, strict=True):
        docs, row = baseline(fixture, path.name)
        assert [d.to_json() for d in result.documents if d.source_file == path.name] == docs
        assert rows[path.name] == row


@FAST
@given(raw=sidecar_bytes() | st.just(SIDECAR_SEED))
def test_a_mangled_sidecar_changes_only_the_fields_it_curates(raw):
    other = DOC_FIXTURES / "export.ris"
    with tempfile.TemporaryDirectory() as tmp:
        doc, side, beside = Path(tmp) / "doc.txt", Path(tmp) / "doc.meta.yaml", Path(tmp) / "other.ris"
        doc.write_bytes(SIDECAR_DOC.read_bytes())
        side.write_bytes(raw)
        beside.write_bytes(other.read_bytes())
        result = ingest_paths([doc, side, beside])
    assert_one_row_per_file(result, [doc, side, beside])
    assert [d.to_json() for d in result.documents if d.source_file == "other.ris"] == baseline(other, "other.ris")[0]
    [before] = baseline(SIDECAR_DOC, "doc.txt")[0]
    [after] = [d.to_json() for d in result.documents if d.source_file == "doc.txt"]
    curated = set(after["curated_fields"])
    if _rows(result)["doc.meta.yaml"].status != "parsed":
        assert after == before
    changed = {k for k in before if before[k] != after[k]} - {"curated_fields"}
    assert changed <= curated | {"year"}  # a curated date sets the year
    if changed & {"year"}:
        assert {"year", "date"} & curated


# ------------------------------------------------------------------ (c) nothing invented


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
@THOROUGH
@given(data=st.data())
def test_reported_ids_and_titles_occur_in_the_file(fmt, data):
    raw = data.draw(readable_variant_of(fmt) | any_bytes_for(fmt), label="bytes")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"variant{fmt.suffix}"
        path.write_bytes(raw)
        result = ingest_paths([path])
        status = result.manifest[0].status
        text = read_text(path).text if status == "parsed" else ""
    for doc in result.documents:
        assert_nothing_invented(doc, text)


@FAST
@given(raw=sidecar_bytes() | st.just(SIDECAR_SEED))
def test_curated_values_come_from_the_sidecar_and_the_rest_from_the_page(raw):
    with tempfile.TemporaryDirectory() as tmp:
        doc, side = Path(tmp) / "doc.txt", Path(tmp) / "doc.meta.yaml"
        doc.write_bytes(SIDECAR_DOC.read_bytes())
        side.write_bytes(raw)
        result = ingest_paths([doc, side])
        curated_ok = _rows(result)["doc.meta.yaml"].status == "parsed"
        loaded = yaml.safe_load(side.read_text(encoding="utf-8")) if curated_ok else {}
    [d] = result.documents
    curated = set(d.curated_fields)
    assert curated == (set(loaded or {}) if curated_ok else set())
    for key in curated:
        value = loaded[key]
        if key == "year":
            expected = value
        elif key in ("authors", "keywords"):
            expected = [_joined(v) for v in value]
        elif hasattr(value, "isoformat"):
            expected = value.isoformat()
        else:
            expected = _joined(str(value))
        assert getattr(d, key) == expected, key
    assert_nothing_invented(d, SIDECAR_DOC.read_text(encoding="utf-8"), skip=frozenset(curated))


# ------------------------------------------------------------------ (d) the CLI: one manifest row per file


def _joined(text: str) -> str:
    """Surrogate pairs from YAML \\u escapes joined into their characters."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def _write_batch(folder: Path, batch: list[tuple[str, bytes]]) -> list[Path]:
    """Each (suffix, bytes) as its own file; a sidecar comes with the document it belongs to."""
    files = []
    for i, (suffix, raw) in enumerate(batch):
        path = folder / f"f{i:02d}{suffix}"
        path.write_bytes(raw)
        files.append(path)
        if suffix == ".meta.yaml":
            files.append(folder / f"f{i:02d}.txt")
            files[-1].write_bytes(SIDECAR_DOC.read_bytes())
    return files


def _batch() -> st.SearchStrategy[list[tuple[str, bytes]]]:
    one = st.sampled_from(FORMATS).flatmap(lambda f: st.tuples(st.just(f.suffix), any_bytes_for(f)))
    return st.lists(one | st.tuples(st.just(".meta.yaml"), sidecar_bytes()), min_size=1, max_size=6)


def _check_cli_json(out: str, files: list[Path]) -> None:
    payload = json.loads(out)
    assert set(payload) == {"documents", "manifest"}
    assert Counter(r["source_file"] for r in payload["manifest"]) == Counter(p.name for p in files)
    assert all(r["status"] in STATUSES and (r["status"] == "parsed" or r["reason"]) for r in payload["manifest"])
    parsed = {r["source_file"] for r in payload["manifest"] if r["status"] == "parsed"}
    assert {d["source_file"] for d in payload["documents"]} <= parsed


@FAST
@given(batch=_batch())
def test_cli_ingest_json_has_one_row_per_file(batch):
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_batch(Path(tmp), batch)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(["ingest", *map(str, files), "--json"])
    assert code == 0
    out.getvalue().encode("utf-8")  # what a real stdout must be able to write
    _check_cli_json(out.getvalue(), files)


@settings(FAST, max_examples=4)
@given(batch=st.lists(_batch(), min_size=1, max_size=3).map(lambda bs: [x for b in bs for x in b]))
def test_python_m_helpers_ingest_json_has_one_row_per_file(batch):
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_batch(Path(tmp), batch)
        proc = subprocess.run(
            [sys.executable, "-m", "helpers", "ingest", *map(str, files), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    _check_cli_json(proc.stdout, files)


# ------------------------------------------------------------------ regressions found by fuzzing

# file in tests/fixtures/fuzz -> (status it must get, words its reason must hold, documents). A sidecar
# fixture is read beside a copy of pubmed_record.txt named after it, which must still be parsed.
REGRESSIONS: dict[str, tuple[str, tuple[str, ...], int]] = {
    # crashed ingest_paths with ValueError (PyYAML's date constructor: month must be in 1..12)
    "sidecar_impossible_date_ValueError.meta.yaml": ("error", ("sidecar_impossible_date_ValueError", "YYYY-MM-DD"), 0),
    # 3 KB of `[`: crashed ingest_paths with RecursionError (PyYAML composes nested lists recursively), after
    # over 3 s (PyYAML's scanner looks ahead at every open bracket; the file was read four times)
    "sidecar_deep_nesting_RecursionError_slow.meta.yaml": ("error", ("sidecar_deep_nesting", "levels deep"), 0),
    # a valid record with a COIS tag: Biopython gives a list, Document wants text -> the whole file was an error
    "medline_COIS_list_ValidationError.nbib": ("parsed", ("1 document(s) as medline",), 1),
    # two records without the empty line between them: read as one, PMID '38000004 38000005', one record lost
    "medline_no_blank_line_merged_records.nbib": ("parsed", ("2 document(s) as medline",), 2),
    # PyYAML's constructors let Python's errors out of explicitly tagged values (found by fuzz/fuzz_readers.py)
    "sidecar_tagged_int_ValueError.meta.yaml": ("error", ("line 1", "is not a valid int"), 0),
    "sidecar_tagged_float_empty_IndexError.meta.yaml": ("error", ("line 1", "is not a valid float"), 0),
    "sidecar_tagged_timestamp_AttributeError.meta.yaml": ("error", ("line 1", "is not a valid timestamp"), 0),
    "sidecar_tagged_bool_KeyError.meta.yaml": ("error", ("line 1", "is not a valid bool"), 0),
    # an int of 5000 digits: Python's limit on int() from text (ValueError)
    "sidecar_year_5000_digits_ValueError.meta.yaml": ("error", ("line 1", "is not a valid int"), 0),
    # a YAML \u escape for half a character: `ingest --json` crashed writing it (UnicodeEncodeError)
    "sidecar_lone_surrogate_escape_UnicodeEncodeError.meta.yaml": ("error", ("half a character",), 0),
    # hangs in the regular expressions of HEAD (super-linear backtracking in `re`; 11-57 s there), found by
    # fuzz/fuzz_readers.py's long-run mutation; the working tree runs these patterns on RE2 (helpers.core.patterns)
    "markdown_heading_spaces_cubic_regex_hang.md": ("parsed", ("as markdown",), 1),  # HEADING_RE
    "publisher_author_item_exponential_regex_hang.txt": ("parsed", ("as publisher_page",), 1),  # AUTHOR_ITEM_RE
    "pubmed_full_authors_quadratic_regex_hang.txt": ("parsed", ("as pubmed_page",), 1),  # FULL_AUTHORS_RE
    # two TI lines in one record: joined into one title that the file does not hold
    "medline_second_TI_joined_title.nbib": ("error", ("medline_second_TI_joined_title.nbib", "second TI line"), 0),
}


def test_every_fuzz_fixture_has_a_regression_test():
    assert sorted(p.name for p in FUZZ_FIXTURES.iterdir()) == sorted(REGRESSIONS)


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_fuzz_regression(name):
    status, words, documents = REGRESSIONS[name]
    sidecar = name.endswith(".meta.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes((FUZZ_FIXTURES / name).read_bytes())
        good = Path(tmp) / (name.removesuffix(".meta.yaml") + ".txt" if sidecar else "good.txt")
        good.write_bytes(SIDECAR_DOC.read_bytes())
        started = time.perf_counter()
        result = ingest_paths([path, good])
        elapsed = time.perf_counter() - started
        text = read_text(path).text if not sidecar else ""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(["ingest", tmp, "--json"]) == 0
    out.getvalue().encode("utf-8")
    _check_cli_json(out.getvalue(), [path, good])
    assert_one_row_per_file(result, [path, good])
    rows = _rows(result)
    assert rows[name].status == status, rows[name]
    for word in words:
        assert word in rows[name].reason, rows[name]
    assert rows[name].documents == documents
    assert elapsed < 2.0, f"{elapsed:.1f} s: the fuzz script calls over 2 s a hang"
    assert rows[good.name].status == "parsed"
    if sidecar and status == "error":
        assert "not applied" in rows[good.name].reason
    for doc in result.documents:
        if doc.source_file == name:
            assert_nothing_invented(doc, text)
