"""Coverage-guided fuzzing of every document reader of the sources stage with atheris.

Usage (from the project root): `.venv/bin/python fuzz/fuzz_readers.py --runs 20000 [--seconds 60]`.

Each reader is fuzzed in its own child process (libFuzzer runs once per process), seeded with that
format's real fixtures. The first byte of a fuzz input chooses the file suffix and the layout
(public `parse_file` alone, `ingest_paths` alone, `ingest_paths` beside an intact file of the same
format); the rest is written to a temporary file. A crash is any exception other than the project's
own `HelpersError` from `parse_file` (from `ingest_paths`: any exception at all), or a broken
manifest contract. A hang is one input taking longer than `--timeout` seconds, or stopped by the parse
time budget of helpers.sources, twice in a row. See fuzz/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "tests" / "fixtures" / "documents"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
SEEDS = ROOT / "seeds" / "documents"
REGRESSIONS = ROOT / "tests" / "fixtures" / "fuzz"

SIDECAR_SEED = b"title: Curated title of the page\nyear: 2024\ndate: 2024-02-03\nauthors: [Ann Example, Ben Sample]\n"
TOKENS = {
    "common": ["Abstract", "Keywords:", "References", "PMID: 12345678", "PMC1234567", "NCT01234567", "doi: 10.1000/x"],
    "pubmed_page": ["PubMed Disclaimer", "Skip to main page content", "et al.", ". 2024 Dec 12;15:1502298.", "Figures"],
    "pubmed_record": ["- PMID: ", "- PMCID: ", "- DOI: ", "- Journal: ", "- Published: ", "- Authors: "],
    "pmc_page": ["PMCID: PMC10600001  PMID: 37760001", "Conflict of interest statement", "- DOI - PMC - PubMed"],
    "publisher_page": ["Published online ", "Correspondence to : ", "Creative Commons", "Copyright ©", ", M.D.1*"],
    "citation_record": ["AUTHOR=", "TITLE=", "JOURNAL=", "DOI=", "YEAR=", "ABSTRACT=", "KEYWORDS="],
    "markdown": ["# ", "## Abstract", "**Authors:** ", "**DOI:** ", "](", "## References"],
    "medline": ["PMID- ", "TI  - ", "AB  - ", "FAU - ", "AID - ", " [doi]", "\n      ", "DP  - "],
    "ris": ["TY  - JOUR", "AU  - ", "TI  - ", "DO  - ", "PY  - ", "ER  - ", "KW  - ", "N1  - "],
    "bibtex": ["@article{", "@string{", "author = {", "title = {", "doi = ", "year = ", "}", "@comment{"],
    "generic": ["Title: ", "Keywords: "],
    "sidecar": [
        "title: ",
        "authors: [",
        "year: ",
        "date: ",
        "doi: ",
        "&a ",
        "*a",
        "? ",
        "- ",
        "{",
        "[[[[[[[[",
        "<<: ",
        "!!int ",
        "!!float ",
        "!!timestamp ",
        "!!binary ",
        "!!set ",
        "---",
        "...",
        "%YAML 1.1",
        "2001-12-14",
    ],
}


@dataclass(frozen=True)
class Reader:
    """One input format: the suffixes it is saved with and the real files that seed it."""

    name: str
    suffixes: tuple[str, ...]
    seeds: tuple[Path, ...]


READERS = (
    Reader(
        "pubmed_page", (".txt", ".text"), (DOCS / "pubmed_page_full_authors.txt", SEEDS / "003_031819f4954d36e8.txt")
    ),
    Reader(
        "pubmed_record",
        (".txt", ".text"),
        (DOCS / "pubmed_record.txt", SEEDS / "000_40163047b66666dd.txt", HOSTILE / "hostile_pubmed.txt"),
    ),
    Reader("pmc_page", (".txt", ".text"), (DOCS / "pmc_page.txt",)),
    Reader(
        "publisher_page", (".txt", ".text"), (DOCS / "publisher_citation_line.txt", SEEDS / "001_12b7203a344b00a2.txt")
    ),
    Reader("citation_record", (".txt", ".text"), (DOCS / "citation_record.txt",)),
    Reader("markdown", (".md", ".markdown"), (DOCS / "markdown_page.md", HOSTILE / "hostile_page.md")),
    Reader("medline", (".nbib", ".medline"), (DOCS / "export.nbib",)),
    Reader("ris", (".ris",), (DOCS / "export.ris",)),
    Reader("bibtex", (".bib", ".bibtex"), (DOCS / "export.bib",)),
    Reader("generic", (".txt", ".text"), (DOCS / "generic_notes.txt", DOCS / "no_metadata.txt")),
    Reader("sidecar", (".meta.yaml", ".meta.yml"), ()),
)
BY_NAME = {r.name: r for r in READERS}
LAYOUTS = ("parse_file", "ingest_alone", "ingest_beside_intact")
# helpers.sources stops a parse that runs past its time budget with this in the reason: a hang too.
OVER_BUDGET = "parsing stopped after"


class Hang(BaseException):  # noqa: N818 - BaseException so no reader's `except Exception` can swallow it
    """One input ran past the time limit."""


class ContractBroken(Exception):  # noqa: N818
    """ingest_paths returned, but not one well-formed manifest row per input file."""


# ---------------------------------------------------------------- child: one reader under libFuzzer


class Harness:
    """Runs one fuzz input against one reader and records crashes and hangs as files."""

    def __init__(self, reader: Reader, work: Path, timeout: float) -> None:
        """Prepare the work folder and the baseline of the intact file."""
        from helpers.core.paths import display_path
        from helpers.sources import ingest_paths, parse_file

        self.reader, self.work, self.timeout = reader, work, timeout
        self.ingest_paths, self.parse_file, self.display_path = ingest_paths, parse_file, display_path
        self.crashes, self.hangs = work / "crashes", work / "hangs"
        self.hang_inputs = 0
        for d in (self.crashes, self.hangs):
            d.mkdir(parents=True, exist_ok=True)
        self.files = work / "files"
        self.files.mkdir(exist_ok=True)
        if reader.name == "sidecar":
            self.intact = self.files / "doc.txt"
            shutil.copy(DOCS / "pubmed_record.txt", self.intact)
        else:
            self.intact = self.files / f"intact{reader.suffixes[0]}"
            shutil.copy(reader.seeds[0], self.intact)
        alone = self.ingest_paths([self.intact])
        self.baseline = [d.to_json() for d in alone.documents]
        if not self.baseline:
            raise SystemExit(f"the intact file for {reader.name} does not parse; fix the seed first")

    def __call__(self, data: bytes) -> None:
        """libFuzzer's entry point: never raises, so one run covers the whole budget."""
        if not data:
            return
        try:
            slow = self._slow(data)
            if slow and (slow := self._slow(data)):  # slow twice: a first call that built a pattern is no hang
                self.hang_inputs += 1
                (self.work / "hang_inputs").write_text(str(self.hang_inputs))
                self._record(self.hangs, data, *slow)
        except Hang:  # the alarm went off just after the input returned
            pass
        except Exception as exc:  # noqa: BLE001 - everything that escapes is what we are looking for
            self._record(self.crashes, data, _signature(exc), traceback.format_exc())

    def _slow(self, data: bytes) -> tuple[str, str] | None:
        """Run one input under the alarm; (where it hung, details) when it was too slow, else None."""
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            over_budget = self._one(data)
        except Hang as exc:
            return f"hang in {_where(exc)}", f"over {self.timeout:g} s\n" + traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if over_budget:
            return "hang stopped by the parse time budget of helpers.sources", over_budget
        if time.perf_counter() - started > self.timeout:
            return "hang in a long call in C (the alarm was not delivered)", f"over {self.timeout:g} s"
        return None

    def _one(self, data: bytes) -> str | None:
        """Run one input in the layout its first byte chooses; the reason when the parse ran out of time."""
        selector, body = data[0], data[1:]
        suffix = self.reader.suffixes[selector % len(self.reader.suffixes)]
        if self.reader.name == "sidecar":
            return self._sidecar(selector, suffix, body)
        target = self.files / f"fuzzed{suffix}"
        target.write_bytes(body)
        layout = LAYOUTS[(selector >> 4) % len(LAYOUTS)]
        if layout == "parse_file":
            from helpers.core.errors import HelpersError

            try:
                self.parse_file(target)
            except HelpersError as exc:
                return str(exc) if OVER_BUDGET in str(exc) else None
            return None
        paths = [target] if layout == "ingest_alone" else [target, self.intact]
        result = self.ingest_paths(paths)
        self._check(result, paths)
        if layout == "ingest_beside_intact":
            kept = [d.to_json() for d in result.documents if d.source_file == self.display_path(self.intact)]
            if kept != self.baseline:
                raise ContractBroken("the intact file beside a mangled one gave different documents")
        return _over_budget(result)

    def _sidecar(self, selector: int, suffix: str, body: bytes) -> str | None:
        for old in self.files.glob("doc.meta.*"):
            old.unlink()
        side = self.files / f"doc{suffix}"
        side.write_bytes(body)
        result = self.ingest_paths([self.files] if (selector >> 4) % 2 else [self.intact, side])
        self._check(result, [self.intact, side])
        return _over_budget(result)

    def _check(self, result: object, paths: list[Path]) -> None:
        expected = sorted(self.display_path(p) for p in paths)
        got = sorted(r.source_file for r in result.manifest)
        if got != expected:
            raise ContractBroken(f"manifest rows {got} for inputs {expected}")
        for row in result.manifest:
            if row.status not in ("parsed", "skipped", "error"):
                raise ContractBroken(f"status {row.status!r}")
            if row.status != "parsed" and not row.reason.strip():
                raise ContractBroken(f"{row.status} row without a reason")

    def _record(self, folder: Path, data: bytes, signature: str, detail: str) -> None:
        key = hashlib.sha1(signature.encode()).hexdigest()[:12]
        stem = folder / f"{key}"
        if not stem.with_suffix(".bin").exists() or len(data) < stem.with_suffix(".bin").stat().st_size:
            stem.with_suffix(".bin").write_bytes(data)  # keep the smallest input per signature
            stem.with_suffix(".json").write_text(json.dumps({"signature": signature, "detail": detail}))


def _over_budget(result: object) -> str | None:
    """The reason of a manifest row whose parse the time budget of helpers.sources stopped, if any."""
    return next((r.reason for r in result.manifest if OVER_BUDGET in r.reason), None)


def _signature(exc: BaseException) -> str:
    """Exception type plus the innermost frame: one distinct crash per place that raises it."""
    return f"{type(exc).__name__} at {_where(exc)}"


def _where(exc: BaseException) -> str:
    """`file:line (function)` of the innermost frame outside this script (for a hang: where the alarm struck)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() != Path(__file__)]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno} ({frames[-1].name})" if frames else "?"


def _dict_entry(token: str) -> str:
    """A libFuzzer dictionary line: printable ASCII as is, every other byte as \\xNN."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in token.encode()) + '"'


def _raise_hang(signum: int, frame: object) -> None:
    raise Hang()


def _mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """libFuzzer's mutation, and one time in eight a long run of a short piece of the input (1-4 bytes,
    repeated to 0.5-6 KB): coverage does not reward slowness, and super-linear patterns need such runs."""
    import atheris

    rng = random.Random(seed)
    if len(data) < 3 or rng.random() >= 0.125:
        return atheris.Mutate(data, max_size)
    start = rng.randrange(1, len(data))
    piece = data[start : start + rng.randint(1, 4)]
    at = rng.randrange(1, len(data) + 1)
    run = piece * (rng.choice((512, 1536, 6144)) // len(piece))
    return (data[:at] + run + data[at:])[:max_size]


def child(reader_name: str, work: Path, runs: int, seconds: int, timeout: float, seed: int) -> None:
    """Fuzz one reader until `runs` executions or `seconds` have passed (libFuzzer exits the process)."""
    import atheris

    with atheris.instrument_imports(include=["helpers", "Bio", "rispy", "bibtexparser", "yaml"]):
        import helpers.sources  # noqa: F401

    reader = BY_NAME[reader_name]
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = [p.read_bytes() for p in reader.seeds] or [SIDECAR_SEED]
    for i, raw in enumerate(seeds):
        for selector in range(0, 48, 16):  # every layout, first suffix
            (corpus / f"seed{i}-{selector}").write_bytes(bytes([selector]) + raw)
    dictionary = work / "tokens.dict"
    dictionary.write_text("\n".join(_dict_entry(t) for t in TOKENS["common"] + TOKENS[reader_name]) + "\n")
    signal.signal(signal.SIGALRM, _raise_hang)
    harness = Harness(reader, work, timeout)
    argv = [
        sys.argv[0],
        str(corpus),
        f"-runs={runs}",
        f"-max_total_time={seconds}",
        f"-seed={seed}",
        f"-dict={dictionary}",
        "-max_len=8192",
        "-print_final_stats=1",
        "-rss_limit_mb=4096",
    ]
    atheris.Setup(argv, harness, custom_mutator=_mutator)
    atheris.Fuzz()


# ---------------------------------------------------------------- parent: one child per reader, one line each


@dataclass
class Outcome:
    """What one reader's run found."""

    reader: str
    executions: int
    crashes: list[str]
    hangs: list[str]
    hang_inputs: int
    edges: int | None
    features: int | None
    died: str | None


def run_reader(reader: Reader, runs: int, seconds: int, timeout: float, seed: int, artifacts: Path) -> Outcome:
    """Run one child process and read its libFuzzer statistics and recorded findings."""
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{reader.name}-") as tmp:
        work = Path(tmp)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", reader.name, "--work", str(work)]
        cmd += ["--runs", str(runs), "--seconds", str(seconds), "--timeout", str(timeout), "--seed", str(seed)]
        env = dict(os.environ, PYTHONHASHSEED="0")
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=env, cwd=ROOT)
        log = proc.stderr
        executions = _last_int(r"stat::number_of_executed_units:\s*(\d+)", log) or _last_int(r"Done (\d+) runs", log)
        died = None
        if proc.returncode != 0:
            tail = [ln for ln in log.splitlines() if ln.strip()][-8:]
            died = f"child exited {proc.returncode}: " + " | ".join(tail)
        found: dict[str, list[str]] = {"crashes": [], "hangs": []}
        for kind, signatures in found.items():
            src = work / kind
            for meta in sorted(src.glob("*.json")) if src.exists() else []:
                dest = artifacts / reader.name / kind
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy(meta, dest / meta.name)
                shutil.copy(meta.with_suffix(".bin"), dest / meta.with_suffix(".bin").name)
                signatures.append(json.loads(meta.read_text())["signature"])
        counter = work / "hang_inputs"
        return Outcome(
            reader=reader.name,
            executions=executions or 0,
            crashes=sorted(found["crashes"]),
            hangs=sorted(found["hangs"]),
            hang_inputs=int(counter.read_text()) if counter.exists() else 0,
            edges=_last_int(r"\bcov: (\d+)", log),
            features=_last_int(r"\bft: (\d+)", log),
            died=died,
        )


def _last_int(pattern: str, text: str) -> int | None:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else None


def parent(args: argparse.Namespace) -> int:
    """Fuzz every chosen reader and print one line each; exit 1 when anything crashed or hung."""
    chosen = [BY_NAME[n] for n in args.reader] if args.reader else list(READERS)
    per_reader = max(1, args.runs // len(chosen))
    artifacts = Path(args.artifacts).resolve()
    print(
        f"fuzzing {len(chosen)} readers, {per_reader} executions each (at most {args.seconds} s each), "
        f"hang limit {args.timeout:g} s, seed {args.seed}; findings go to {artifacts}"
    )
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(
            pool.map(
                lambda r: run_reader(r, per_reader, args.seconds, args.timeout, args.seed, artifacts),
                chosen,
            )
        )
    bad = False
    for o in outcomes:
        cov = f"cov={o.edges} edges, ft={o.features} features" if o.edges is not None else "cov=?"
        hangs = f"hangs={len(o.hangs)}" + (f" ({o.hang_inputs} inputs)" if o.hangs else "")
        print(f"{o.reader:16} executions={o.executions:<7} crashes={len(o.crashes)} {hangs} {cov}")
        for sig in o.crashes + o.hangs:
            print(f"{'':16}   {sig}")
        if o.died:
            print(f"{'':16}   {o.died}")
        bad |= bool(o.crashes or o.hangs or o.died)
    print(
        "cov/ft: libFuzzer's counts of distinct instrumented edges / features (atheris bytecode instrumentation of "
        "helpers, Bio, rispy, bibtexparser and yaml), each reader's own process"
    )
    return 1 if bad else 0


def main() -> int:
    """Parse the command line and run the parent or (internally) one child."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20000, help="total executions, split evenly over the readers")
    ap.add_argument("--seconds", type=int, default=120, help="time limit per reader")
    ap.add_argument("--timeout", type=float, default=2.0, help="an input slower than this is a hang")
    ap.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed (same seed, same run)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="readers fuzzed at once")
    ap.add_argument("--reader", action="append", choices=sorted(BY_NAME), help="only this reader (repeatable)")
    ap.add_argument("--artifacts", default=str(ROOT / "fuzz" / "artifacts"), help="where crash/hang inputs go")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.work), args.runs, args.seconds, args.timeout, args.seed)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
