"""Linear time on untrusted text (issue 16).

* Every regular expression the readers and the text stage apply to document text: the compiled
  patterns of their modules (found by walking the modules, so a new one is covered), every
  literal pattern written inline in them (found in their source), and the few built at run time
  (listed in DYNAMIC). Each runs on adversarial inputs of n and 10n characters (long runs of the
  characters it loops on, of its own literal pieces, newlines, brackets...); 10n may take at
  most GROWTH times as long as n (CPU time, best of several; n counts as at least SMALL_FLOOR, and
  10n under FLOOR always passes: below that, caches and timer noise dominate).
* Every reader, through ``parse_file``, on files of each format and layout holding such runs.
* The issue's acceptance case: a 1 MB page whose second line has a million characters.
* The time budget per file: a file over it becomes an error row naming it and the budget.
* Every character set ``helpers.core.patterns`` builds for RE2 matches, in RE2, exactly the code
  points ``re`` matches.
"""

from __future__ import annotations

import ast
import gc
import importlib
import inspect
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from re import _constants as sre
from re import _parser

import pytest
import re2

import helpers.sources
from helpers import cli
from helpers.core import patterns, units
from helpers.core.errors import ParameterError
from helpers.core.patterns import Linear
from helpers.evidence import tables
from helpers.library import corpus
from helpers.sources import (
    citation_record,
    common,
    generic,
    ingest_paths,
    library_formats,
    markdown_page,
    ncbi_page,
    parse_file,
    publisher_page,
    pubmed_record,
    reading,
    registry,
)
from helpers.text.concepts import abbreviations, ambiguity, folding, sentences

from .conftest import DOC_FIXTURES

detect = importlib.import_module("helpers.sources.detect")  # the package attribute is the function

# Every module that applies regular expressions to document (or registry/table cell) text.
MODULES = (
    helpers.sources,
    common,
    citation_record,
    detect,
    generic,
    library_formats,
    markdown_page,
    ncbi_page,
    publisher_page,
    pubmed_record,
    reading,
    registry,
    corpus,
    units,
    tables,
    sentences,
    abbreviations,
    ambiguity,
    folding,
)
# Patterns built at run time (by module and the top-level name whose code builds them): why each is covered.
DYNAMIC = {
    ("helpers.sources.citation_record", "FIELD_RE"): "a module constant",
    ("helpers.sources.publisher_page", "AUTHOR_ITEM_RE"): "a module constant",
    ("helpers.sources.publisher_page", "DOTTED_CITATION_RE"): "a module constant",
    ("helpers.sources.publisher_page", "DOTTED_CITATION_LINE_RE"): "a module constant",
    ("helpers.sources.registry", "derive_targets"): "sample 'registry target' below",
    ("helpers.evidence.tables", "REGISTRY_ID_RE"): "a module constant",
    ("helpers.evidence.tables", "_fullmatch"): "its literal arguments are found inline",
    ("helpers.text.concepts.abbreviations", "_short_form_pattern"): "sample 'abbreviations short form' below",
    ("helpers.text.concepts.folding", "_RUN_NEWLINE"): "a module constant",
    ("helpers.text.concepts.sentences", "_DOT_END_RE"): "a module constant",
    ("helpers.text.concepts.sentences", "_MARK_END_RE"): "a module constant",
}
SAMPLES = {
    "registry target": re.compile(rf"(?<![A-Za-z0-9]){registry.TARGET_TOKENS[0]}(?!\d)", re.I),
    "abbreviations short form": abbreviations._short_form_pattern("SSc"),
}
# Searched only in a window of at most this many characters before a position (as the code does).
WINDOWED = {id(ambiguity._ELLIPSIS_WORD): 40}

N = 20_000  # characters of the small input; the large one has 10 times as many
GROWTH = 15.0  # at most this much slower on 10 times the input
FLOOR = 0.005  # seconds: 10n faster than this passes (timing noise)
SMALL_FLOOR = 0.001  # seconds: n faster than this counts as this (a 20 kB text fits in the CPU cache, 200 kB not)
LIMIT = 5.0  # seconds: one call taking longer fails at once (a quadratic pattern would take minutes)
RETRIES = 8  # pairs of measurements before 10n counts as too slow

UNITS = (" ", ",", "a", "1", ".", "\n", "A", "1,", "A. ", "(", "[", "![", "-", "A-", "*", "@", ":", "Aaaa ", "a,")
UNITS += (" - DOI", "et al. ", "10.1234/", "PMID ", "-\n", "**a\n")
LOOPS = (" ", "a")

RE_FUNCS = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "finditer": 2, "findall": 2, "split": 3}
RE_FUNCS |= {"sub": 4, "subn": 4}


# ---------------------------------------------------------------- finding the patterns


def _flatten(value: object, depth: int = 0) -> Iterator[object]:
    if isinstance(value, (tuple, list)) and depth < 2:
        for item in value:
            yield from _flatten(item, depth + 1)
    elif isinstance(value, dict) and depth < 2:
        for item in value.values():
            yield from _flatten(item, depth + 1)
    else:
        yield value


def _flags(node: ast.expr | None) -> int:
    if node is None:
        return 0
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "re":
        return int(getattr(re, node.attr))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flags(node.left) | _flags(node.right)
    raise AssertionError(f"cannot read the flags {ast.unparse(node)}")


def _pattern_calls(module: object) -> Iterator[tuple[str, int, ast.expr, ast.expr | None, bool]]:
    """(top-level name, line, pattern argument, flags argument, compiled with linear) of each pattern call."""
    for statement in ast.parse(inspect.getsource(module)).body:
        names = [t.id for t in getattr(statement, "targets", [getattr(statement, "target", None)]) if t is not None]
        owner = getattr(statement, "name", None) or next((n for n in names if isinstance(n, str)), "")
        for node in ast.walk(statement):
            call = _pattern_call(node)
            if call is not None:
                yield (owner, node.lineno, *call)


def _pattern_call(node: ast.AST) -> tuple[ast.expr, ast.expr | None, bool] | None:
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "re":
        position, uses_linear = RE_FUNCS.get(func.attr), False
    elif isinstance(func, ast.Name) and func.id in ("linear", "_fullmatch"):
        position, uses_linear = 1, True
    else:
        return None
    if position is None:
        return None
    flags = next((k.value for k in node.keywords if k.arg == "flags"), None)
    if flags is None and len(node.args) > position:
        flags = node.args[position]
    return node.args[0], flags, uses_linear


def _inline(module: object, dynamic: set[tuple[str, str]]) -> Iterator[tuple[str, object]]:
    for owner, line, arg, flags, uses_linear in _pattern_calls(module):
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            compiled = (patterns.linear if uses_linear else re.compile)(arg.value, _flags(flags))
            yield f"{module.__name__}:{line}", compiled
        else:
            dynamic.add((module.__name__, owner))


def _all_patterns() -> tuple[dict[str, object], set[tuple[str, str]]]:
    found: dict[str, object] = {}
    seen: set[tuple[str, str, int]] = set()
    dynamic: set[tuple[str, str]] = set()
    for module in MODULES:
        named = [(f"{module.__name__}.{name}", value) for name, value in vars(module).items()]
        for label, value in [*named, *_inline(module, dynamic)]:
            for i, obj in enumerate(_flatten(value)):
                if not isinstance(obj, (re.Pattern, Linear)):
                    continue
                key = (type(obj).__name__, obj.pattern, obj.flags)  # a constant is also found where it is built
                if key not in seen:
                    seen.add(key)
                    found[label if i == 0 else f"{label}[{i}]"] = obj
    for label, obj in SAMPLES.items():
        found[label] = obj
    return found, dynamic


PATTERNS, DYNAMIC_FOUND = _all_patterns()


def test_every_pattern_built_at_run_time_is_covered():
    assert set(DYNAMIC) == DYNAMIC_FOUND, "a pattern built at run time: add a sample of it to SAMPLES and DYNAMIC"


def test_the_patterns_of_the_issue_are_found_and_run_on_re2():
    for name in ("AUTHOR_ITEM_RE", "DOTTED_CITATION_RE", "PUBLISHED_RE", "EMAIL_RE"):
        assert isinstance(PATTERNS[f"helpers.sources.publisher_page.{name}"], Linear)
    for name in ("META_RE", "HEADING_RE"):
        assert isinstance(PATTERNS[f"helpers.sources.markdown_page.{name}"], Linear)
    for name in ("ETAL_RE", "FULL_AUTHORS_RE", "REF_LINK_TAIL_RE", "CITATION_RE"):
        assert isinstance(PATTERNS[f"helpers.sources.ncbi_page.{name}"], Linear)
    assert len(PATTERNS) > 80


# ---------------------------------------------------------------- timing


@contextmanager
def _at_most(seconds: float, what: str) -> Iterator[None]:
    """Fail (instead of hanging) when the block takes longer than ``seconds`` (main thread)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what} took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _seconds(run: Callable[[], object], what: str) -> float:
    """CPU seconds one call takes (other processes on the machine do not count), with the garbage
    collector paused (its pauses depend on the whole heap, not on the input)."""
    gc.disable()
    try:
        with _at_most(LIMIT, what):
            start = time.process_time()
            run()
            return time.process_time() - start
    finally:
        gc.enable()


def _grows_linearly(make: Callable[[int], Callable[[], object]], what: str) -> str | None:
    """None when 10x the input takes at most GROWTH times as long, else what went wrong.

    Sizes are compared in pairs measured one right after the other (the load of the machine
    drifts); a pair passes when 10n took at most GROWTH times the best of three runs on n.
    """
    small, large = make(N), make(10 * N)
    t_large = _seconds(large, what)
    if t_large < FLOOR:
        return None
    for attempt in range(RETRIES):  # a linear pattern passes in a quiet moment; a quadratic one grows ~100x
        if attempt:
            t_large = _seconds(large, what)
        t_small = min(_seconds(small, what) for _ in range(3))
        if t_large <= GROWTH * max(t_small, SMALL_FLOOR):
            return None
    return f"{what}: {t_small * 1000:.1f} ms on n, {t_large * 1000:.1f} ms on 10n"


def _tree(pattern: object) -> object:
    return pattern._tree if isinstance(pattern, Linear) else _parser.parse(pattern.pattern, pattern.flags)


REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _children(op: object, av: object) -> list[object]:
    """The sub-patterns of one node (alternatives, group, repeated part, lookaround body)."""
    if op in REPEATS:
        return [av[2]]
    if op is sre.BRANCH:
        return list(av[1])
    if op is sre.SUBPATTERN:
        return [av[3]]
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    return [av] if op is sre.ATOMIC_GROUP else []


def _unbounded(items: object) -> bool:
    """Whether a pattern (lookarounds included) has a repetition without an upper bound."""
    return any(
        (op in REPEATS and av[1] is sre.MAXREPEAT) or any(_unbounded(c) for c in _children(op, av)) for op, av in items
    )


def _pieces(pattern: object) -> tuple[list[str], list[str]]:
    """The literal strings (2+ characters) of a pattern, and its single characters and class samples."""
    literals: list[str] = []
    samples: list[str] = []

    def flush(run: str) -> None:
        if run:
            (literals if len(run) > 1 else samples).append(run)

    def walk(items: object) -> None:
        run = ""
        for op, av in items:
            if op is sre.LITERAL:
                run += chr(av)
                continue
            flush(run)
            run = ""
            if op is sre.IN:
                first = next((v if i is sre.LITERAL else v[0] for i, v in av if i in (sre.LITERAL, sre.RANGE)), None)
                samples.extend([] if first is None else [chr(first)])
            for child in _children(op, av):
                walk(child)
        flush(run)

    walk(_tree(pattern))
    return list(dict.fromkeys(literals))[:3], list(dict.fromkeys(samples))[:3]


def _inputs(pattern: object, size: int) -> dict[str, str]:
    """Adversarial texts of about ``size`` characters for one pattern."""
    literals, samples = _pieces(pattern)
    out = {f"run of {u!r}": "A" + u * (size // len(u)) + "!" for u in UNITS}
    for unit in (" ", "\n", "a"):
        out[f"pure run of {unit!r}"] = unit * size
    for piece in (*literals, *samples):
        for unit in LOOPS:
            out[f"{piece!r} then {unit!r}"] = piece + unit * (size // len(unit)) + "!"
            out[f"({piece!r} {unit!r})*"] = (piece + unit) * (size // (len(piece) + 1))
    if isinstance(pattern, Linear) and pattern.single_line:
        out = {k: v.replace("\n", " ") for k, v in out.items()}  # applied to single lines
    return out


def _apply(pattern: object, text: str) -> Callable[[], object]:
    window = WINDOWED.get(id(pattern))
    if window is not None:
        return lambda: [pattern.search(text, max(0, end - window), end) for end in range(0, len(text), 17)]
    return lambda: (deque(pattern.finditer(text), maxlen=0), pattern.match(text), pattern.fullmatch(text))


# Patterns without unbounded repetition read a bounded stretch per attempt (linear by construction).
TIMED = sorted(name for name, pattern in PATTERNS.items() if _unbounded(_tree(pattern)))


def test_the_untimed_patterns_are_bounded():
    bounded = set(PATTERNS) - set(TIMED)
    assert all(not _unbounded(_tree(PATTERNS[name])) for name in bounded)
    assert "helpers.sources.common.NCT_RE" in bounded and "helpers.sources.common.DOI_RE" in TIMED


@pytest.mark.parametrize("name", TIMED)
def test_pattern_runs_in_linear_time(name):
    pattern = PATTERNS[name]
    small = _inputs(pattern, N)
    large = _inputs(pattern, 10 * N)
    slow = []
    for label in small:
        texts = {N: small[label], 10 * N: large[label]}
        problem = _grows_linearly(lambda n, texts=texts: _apply(pattern, texts[n]), f"{name} on {label}")
        if problem:
            slow.append(problem)
    assert slow == []


# ---------------------------------------------------------------- readers

# One file per format and layout; {X} is where the adversarial text goes.
LAYOUTS = {
    "publisher_page.txt": (
        "J Rheum Dis\n{X}\nPublished online January 20, 2025\n© Korean College of Rheumatology\n"
        "Correspondence to : {X}, https://orcid.org/0\n{X} E-mail: a@b.kr\nReview Article\n{X}\n"
        "Bong-Woo Lee, M.D.1*, {X}\n, Ji Ju, M.D.2\n1Dept {X}, 2Hospital {X}\nAbstract\n{X}\nKeywords: {X}\n"
    ),
    "publisher_citation.txt": "J Rheum Dis. 2025 Jul 1;32(3):154-165\n{X}\nTitle: {X}\n{X}, M.D.1\nKeywords: {X}\n",
    "pubmed_page.txt": (
        "Skip to main page content\nPubMed Disclaimer\nReview\n{X}. 2024 Dec 12;15:1502298.\n"
        "doi: 10.3389/{X}\n{X}\n{X} et al. {X}.\nAbstract\n{X}\nKeywords: {X}\nConflict of interest statement\n{X}\n"
        "Figures\nFIGURE 1\n{X}\nReferences\n1. {X} - DOI - PMC\n{X}\n2. {X} (2020) PMID: 12345678\n"
    ),
    "pubmed_page_authors.txt": (
        "Skip to main page content\nPubMed Disclaimer\nFront Pharmacol. 2024 Dec 12;15:1502298.\n"
        "A title that is long enough\nAnn Lee 1,2, {X} 2, Bo Chan 3\n{X}\n"
    ),
    "pmc_page.txt": (
        "PMCID: PMC1234567 PMID: 12345678\nFront Immunol\n. 2023 Sep 27;5(11):624–628.\n{X}\nAbstract\n{X}\n"
        "References\n1. {X} - DOI - PMC - PubMed\n"
    ),
    "pubmed_record.txt": (
        "{X}\n- PMID: 40862721\n- DOI: 10.3390/x\n- Authors: {X}\n- Published: {X}\n{X}\nAbstract\n{X}\n"
        "Keywords: {X}\nFigures\n{X}\nReferences\n1. {X}\n"
    ),
    "citation_record.txt": "AUTHOR={X} TITLE={X} JOURNAL=J {X} DOI=10.1/x YEAR=2024 {X} ABSTRACT={X}\n",
    "generic.txt": "Title: {X}\n{X}\nAbstract\n{X}\nKeywords: {X}\nPMID: 12345678 {X} 10.1000/{X}\n",
    "markdown.md": (
        "# {X}\n**Journal:** {X}\n- Authors: {X}, A (B, C)\n- Published: {X}\n## Abstract\n{X}\n"
        "## Keywords\n{X}\n## References\n1. [{X}]({X}) ![{X}]({X})\n"
    ),
    "medline.nbib": "PMID- 12345678\nTI  - {X}\nAB  - {X}\nFAU - {X}\nAU  - {X}\nDP  - {X}\nLID - {X} [doi]\n\n",
    "export.ris": "TY  - JOUR\nTI  - {X}\nAU  - {X}\nAB  - {X}\nPY  - {X}\nN1  - {X}\nER  - \n",
    "export.bib": "@article{key,\n title = {{X}},\n author = {{X} and {X}},\n abstract = {{X}},\n year = {2024}\n}\n",
}
READER_UNITS = ("Aaaa ", "A-", ", ", "a,", " ", "1,", "(", "[", "{", "\n", "![", " - DOI", "A. ", "**", "=")
READER_UNITS += ("M.D., ", "\t", "@", "et al. ", "-")


def _fill(layout: str, unit: str, size: int) -> str:
    if unit == "nest":
        half = size // 4
        x = "(" * half + "[" * half + "]" * half + ")" * half
    else:
        x = (unit * (size // len(unit) + 1))[:size] + "x"
    return layout.replace("{X}", x)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_reader_runs_in_linear_time(layout, tmp_path):
    template = LAYOUTS[layout]
    per_slot = N // max(template.count("{X}"), 1)
    slow = []
    for unit in (*READER_UNITS, "nest"):
        files = {}
        for n in (per_slot, 10 * per_slot):
            path = tmp_path / f"{n}" / layout
            path.parent.mkdir(exist_ok=True)
            path.write_text(_fill(template, unit, n), encoding="utf-8")
            files[n] = path
        sizes = {N: files[per_slot], 10 * N: files[10 * per_slot]}
        problem = _grows_linearly(
            lambda n, sizes=sizes: lambda: _parse_or_refuse(sizes[n]), f"{layout} with runs of {unit!r}"
        )
        if problem:
            slow.append(problem)
    assert slow == []


def _parse_or_refuse(path: Path) -> object:
    try:
        return parse_file(path, seconds_per_mb=1000)
    except helpers.sources.IngestError as exc:
        return exc


# ---------------------------------------------------------------- the issue's file


@pytest.mark.parametrize("unit", ["Aaaa ", "A-", "Aaaa-Bbbb, ", ", ", "(", "1,", " "])
def test_a_1_mb_page_with_a_million_character_line_is_read_within_a_second(unit, tmp_path):
    line = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    page = tmp_path / "dump.txt"
    page.write_text(
        f"J Rheum Dis\n{line}\nPublished online January 20, 2025\n© Korean College of Rheumatology\n"
        "Correspondence to : Ji Hyeon Ju\nKeywords: CAR-T\n",
        encoding="utf-8",
    )
    assert page.stat().st_size > 1_000_000
    with _at_most(30, "the 1 MB page"):
        start = time.perf_counter()
        result = ingest_paths([page])
        elapsed = time.perf_counter() - start
    assert len(result.manifest) == 1
    assert result.manifest[0].status in ("parsed", "error") and result.manifest[0].reason
    assert elapsed < 1.0, f"{elapsed:.2f} s"


# ---------------------------------------------------------------- the time budget

# The author pattern before issue 16, on `re`: exponential on "A-A-A-...".
OLD_AUTHOR_RE = re.compile(r"(?P<name>[A-Z][\w'’\-]+(?:[ \-][A-Z][\w'’\-]*\.?)+)\s*,\s*M")


def _slow_on_marker(text: str) -> tuple[str, Callable[[str], list[dict]]]:
    fmt, parser = detect.detect(text)
    if "SLOW" not in text:
        return fmt, parser
    return fmt, lambda t: [OLD_AUTHOR_RE.search("A" + "-A" * 60) and {}]


@pytest.fixture
def slow_reader(monkeypatch):
    monkeypatch.setattr(helpers.sources, "detect", _slow_on_marker)
    monkeypatch.setattr(helpers.sources, "BASE_SECONDS", 0.2)


def test_a_file_over_its_budget_becomes_an_error_row_and_the_others_are_read(slow_reader, tmp_path):
    (tmp_path / "slow.txt").write_text("SLOW\n- PMID: 12345678\n", encoding="utf-8")
    (tmp_path / "good.txt").write_text("A title\n- PMID: 12345678\n", encoding="utf-8")
    handler, timer = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)
    with _at_most(20, "a file over its budget"):
        start = time.perf_counter()
        result = ingest_paths([tmp_path], seconds_per_mb=0)
        assert time.perf_counter() - start < 5
    rows = {r.source_file.rsplit("/", 1)[-1]: r for r in result.manifest}
    assert rows["good.txt"].status == "parsed"
    slow = rows["slow.txt"]
    assert slow.status == "error"
    assert "slow.txt" in slow.reason and "0.2 s" in slow.reason and "--seconds-per-mb" in slow.reason
    assert "split the file" in slow.reason
    assert [d.id for d in result.documents] == ["good"]
    assert (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)) == (handler, timer)


def test_a_callers_alarm_is_restored_with_the_time_it_has_left():
    fired = []

    def handler(signum: int, frame: object) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        parse_file(DOC_FIXTURES / "pubmed_record.txt")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < left < 100
        assert signal.getsignal(signal.SIGALRM) is handler
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == []


def test_outside_the_main_thread_files_are_read_without_an_alarm():
    out = []
    path = DOC_FIXTURES / "pubmed_record.txt"
    worker = threading.Thread(target=lambda: out.append(parse_file(path)[1]))
    worker.start()
    worker.join()
    assert out == ["pubmed_record"]


def test_the_budget_is_a_parameter_and_an_option():
    assert helpers.sources.parse_budget(1024 * 1024) == 3.0
    assert helpers.sources.parse_budget(1024 * 1024, seconds_per_mb=10) == 11.0
    with pytest.raises(ParameterError, match="seconds_per_mb"):
        ingest_paths([], seconds_per_mb=-1)
    args = cli.parser().parse_args(["ingest", "x", "--seconds-per-mb", "0.5"])
    assert args.seconds_per_mb == 0.5
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["concepts", "x", "--seconds-per-mb", "-2"])


# ---------------------------------------------------------------- RE2 keeps re's meaning


def _atoms(items: object, flags: int) -> Iterator[tuple[object, object, int]]:
    from re import _compiler

    for op, av in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY):
            yield op, av, flags
        elif op is sre.BRANCH:
            for alt in av[1]:
                yield from _atoms(alt, flags)
        elif op is sre.SUBPATTERN:
            yield from _atoms(av[3], _compiler._combine_flags(flags, av[1], av[2]))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            yield from _atoms(av[2], flags)


def _code_points(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Spans in the text of every code point but the surrogates -> code point ranges."""
    out = []
    for start, end in spans:
        low, high = start + (0x800 if start >= 0xD800 else 0), end - 1 + (0x800 if end - 1 >= 0xD800 else 0)
        out += [(low, 0xD7FF), (0xE000, high)] if low < 0xD800 < high else [(low, high)]
    return patterns._merge(out)


def test_every_character_set_given_to_re2_is_the_one_re_matches():
    every = patterns._every_char()
    valid = every[:0xD800] + every[0xE000:]  # RE2 reads UTF-8: no surrogates
    checked = {}
    for name, pattern in PATTERNS.items():
        if not isinstance(pattern, Linear):
            continue
        for op, av, flags in _atoms(pattern._tree, pattern.flags):
            key = (op, repr(av), flags & (re.I | re.S | re.A))
            if key in checked or (op is sre.LITERAL and not flags & re.I):
                continue
            expected = patterns._minus(patterns._ask_re(op, av, flags, None), patterns._SURROGATES)
            program = re2.compile("(?:" + patterns._class(patterns._charset(op, av, flags)) + ")+")
            found = _code_points([m.span() for m in program.finditer(valid)])
            checked[key] = name
            assert found == expected, f"{name}: {op} {av!r}"
    assert len(checked) > 20


def test_linear_refuses_what_re2_cannot_do_the_same_way():
    for bad in (r"\bword", r"(?<=a)b", r"a(?!b)", r"(a)\1", r"a*+", r"(?>a+)b", r"x*"):
        with pytest.raises(ValueError, match="re"):
            patterns.linear(bad)


def test_dollar_keeps_re_meaning_for_a_single_line():
    pattern = patterns.linear(r"(.+?)\s*$")
    for text in ("abc  ", "abc\n", "abc \n", " \n"):
        expected = re.match(r"(.+?)\s*$", text)
        assert pattern.match(text).span(1) == expected.span(1)
    with pytest.raises(ValueError, match="single lines"):
        pattern.match("a\nb\n")
