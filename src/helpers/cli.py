"""Command line: `python -m helpers ingest|concepts|snapshot|schema|build|refresh|seeds|pool|library ...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.core.errors import HelpersError

if TYPE_CHECKING:
    from helpers.sources import IngestResult


def _ingested(args: argparse.Namespace) -> IngestResult | None:
    """The documents of the given paths, or None (after saying why) when none of them exists."""
    from helpers.sources import ingest_paths

    if not any(Path(p).exists() for p in args.paths):
        print(
            f"error: none of the paths exist: {', '.join(args.paths)}; give files or folders of documents",
            file=sys.stderr,
        )
        return None
    return ingest_paths(args.paths, max_mb=args.max_mb, seconds_per_mb=args.seconds_per_mb)


def _ingest(args: argparse.Namespace) -> int:
    from helpers.report.build import dumps_json

    result = _ingested(args)
    if result is None:
        return 2
    if args.json:
        print(dumps_json(result.to_json()))
    else:
        for row in result.manifest:
            print(f"{row.status:8} {row.source_file}: {row.reason}")
        print(f"{len(result.documents)} document(s) from {len(result.manifest)} input(s)")
    return 0


def _concepts(args: argparse.Namespace) -> int:
    from helpers.library.corpus import build_corpus
    from helpers.report.build import dumps_json
    from helpers.text.concepts import MENTION_COLUMNS
    from helpers.text.mentions import document_mentions

    result = _ingested(args)
    if result is None:
        return 2
    docs = build_corpus(result.documents).documents
    frame = document_mentions(docs)[MENTION_COLUMNS]
    mentions = [
        {
            k: (bool(v) if k == "negated" else int(v) if k in ("start", "end", "sentence_index") else v)
            for k, v in row.items()
        }
        for row in frame.to_dict("records")
    ]
    if args.json:
        print(dumps_json({"mentions": mentions, "manifest": [r.model_dump(mode="json") for r in result.manifest]}))
    else:
        for m in mentions:
            flag = " (negated)" if m["negated"] else ""
            print(f"{m['doc_id']}\t{m['category']}\t{m['concept']}\t{m['text']}{flag}")
        print(f"{len(mentions)} mention(s) in {len(docs)} document(s)")
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from helpers.evidence.snapshot import load_snapshot
    from helpers.report.build import dumps_json

    snap = load_snapshot()
    counts = {
        "documents": len(snap.documents),
        "inputs": len(snap.manifest),
        "mentions": len(snap.mentions),
        "clinical_reports": len(snap.clinical),
        "trials": len(snap.trials),
        "registry_exports": len(snap.current_trials.manifest),
        "published_figures": len(snap.published),
    }
    if args.json:
        print(dumps_json({"id": snap.id, "inputs": dict(snap.inputs), "counts": counts}))
    else:
        print(f"snapshot {snap.id}")
        for name, n in counts.items():
            print(f"  {name}: {n}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from helpers.evidence.schema_doc import README, readme_is_current, write_readme

    if args.write:
        print(f"{'rewrote' if write_readme() else 'unchanged'}: the column tables of {README.name}")
        return 0
    if readme_is_current():
        print(f"{README.name} matches schema.yaml")
        return 0
    print(f"{README.name} differs from schema.yaml; run `python -m helpers schema --write`", file=sys.stderr)
    return 1


def _build(args: argparse.Namespace) -> int:
    from helpers.report.build import build

    report = build(out_dir=Path(args.out), jobs=args.jobs, force=args.force)
    print(
        f"executed {len(report.ran)} notebook run(s), reused {len(report.reused)} unchanged; "
        f"{len(report.written)} page(s) in {args.out}/"
    )
    if report.ran:
        print("executed: " + ", ".join(report.ran))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from helpers.report.build import refresh

    for p in refresh([Path(n) for n in args.notebooks] or None):
        print(f"refreshed {p.name}")
    return 0


def _seeds(args: argparse.Namespace) -> int:
    from helpers.sources import checksums as seeds

    if args.update:
        for f in seeds.write_manifest():
            print(f"recorded {f}")
        return 0
    problems = seeds.verify()
    for p in problems:
        print(f"{p.file}: {p.problem}")
    if not problems:
        print("all seeds match seeds/manifest.csv")
    return 1 if problems else 0


POOL_FIELDS = ("group", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q", "method")


def _pool_rows(args: argparse.Namespace) -> list[dict]:
    from helpers.sources.count_table import read_counts
    from helpers.synthesis.meta import pool

    rows = read_counts(args.file, args.events, args.total, args.by)
    groups: dict[str | None, list] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    out = []
    for group, members in groups.items():
        fit = pool([r.events for r in members], [r.total for r in members], args.method, args.knapp_hartung)
        record = {f: getattr(fit, f, None) for f in POOL_FIELDS if f != "group"} | {"group": group}
        record = {f: (None if isinstance(v, float) and v != v else v) for f, v in record.items()}
        out.append({f: record[f] for f in POOL_FIELDS} | {"note": fit.note or None})
    return out


def _pct(value: object) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def _pool(args: argparse.Namespace) -> int:
    import json

    if args.knapp_hartung and args.method == "glmm":
        print("error: --knapp-hartung applies to --method reml, dl or pm, not glmm", file=sys.stderr)
        return 2
    pooled = _pool_rows(args)
    if args.json:
        print(json.dumps({"pooled": pooled}, indent=2, ensure_ascii=False))
        return 0
    for r in pooled:
        label = "all studies" if r["group"] is None else f"group {r['group']}"
        tau2 = "—" if r["tau2"] is None else f"{r['tau2']:.4f}"
        i2 = "—" if r["i2"] is None else f"{r['i2']:.1f}%"
        print(
            f"{label}: k={r['k']}  estimate {_pct(r['estimate'])}  95% CI {_pct(r['ci_low'])}–{_pct(r['ci_high'])}"
            f"  95% PI {_pct(r['pi_low'])}–{_pct(r['pi_high'])}  tau²={tau2}  I²={i2}  ({r['method']})"
        )
        if r["note"]:
            print(f"  note: {r['note']}")
    return 0


def _library(args: argparse.Namespace) -> int:
    if args.cluster:
        from helpers.library.distributed import build_on_cluster, connect

        with connect(args.cluster) as client:
            result = build_on_cluster(args.paths, args.out, client)
    else:
        from helpers.library.store import build_library

        result = build_library(args.paths, args.out, workers=args.workers)
    print(
        f"{result.records} records from {result.files} file(s) -> {result.clusters} works; "
        f"{result.errors} record error(s); wrote {args.out} and its manifest"
    )
    return 0


def _workers(value: str) -> int:
    """A number of worker processes >= 1 (an argparse type)."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes >= 1, got {value!r}")
    return int(value)


def _seconds(value: str) -> float:
    """A number of seconds >= 0 (an argparse type)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {value!r}")
    return seconds


def _reading_limits(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--max-mb", type=float, default=20.0, help="largest document file accepted (default 20)")
    sub.add_argument(
        "--seconds-per-mb",
        type=_seconds,
        default=2.0,
        help="time budget of one file's parse: 1 s + this per MB (default 2); a slower file becomes an error row",
    )


def parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m helpers`, one sub-command per task."""
    p = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="parse documents; prints documents + manifest")
    ing.add_argument("paths", nargs="+", help="files or folders (a folder means every document in it)")
    ing.add_argument("--json", action="store_true", help="print one JSON object {documents, manifest}")
    _reading_limits(ing)
    ing.set_defaults(func=_ingest)
    con = sub.add_parser("concepts", help="annotate documents with the vocabulary; prints the mentions")
    con.add_argument("paths", nargs="+", help="files or folders of documents")
    con.add_argument("--json", action="store_true", help='print {"mentions": [...], "manifest": [...]}')
    _reading_limits(con)
    con.set_defaults(func=_concepts)
    snp = sub.add_parser("snapshot", help="load every input once; print the snapshot id and what it holds")
    snp.add_argument("--json", action="store_true", help='print {"id", "inputs", "counts"}')
    snp.set_defaults(func=_snapshot)
    sch = sub.add_parser("schema", help="check (or --write) the column tables of seeds/evidence/README.md")
    sch.add_argument("--write", action="store_true", help="regenerate them from seeds/evidence/schema.yaml")
    sch.set_defaults(func=_schema)
    bld = sub.add_parser("build", help="execute the notebooks and write the HTML site")
    bld.add_argument("--out", default="reports", help="site folder (default reports/)")
    bld.add_argument("--jobs", type=int, default=None, help="notebooks run in parallel (default: CPU count)")
    bld.add_argument("--force", action="store_true", help="execute every notebook even if its inputs are unchanged")
    bld.set_defaults(func=_build)
    ref = sub.add_parser("refresh", help="re-execute notebooks in place (their committed outputs)")
    ref.add_argument("notebooks", nargs="*", help="notebooks to refresh (default: all)")
    ref.set_defaults(func=_refresh)
    sd = sub.add_parser("seeds", help="verify the seed checksums (or --update them)")
    sd.add_argument("--update", action="store_true", help="record the current checksums in seeds/manifest.csv")
    sd.set_defaults(func=_seeds)
    pl = sub.add_parser("pool", help="meta-analysis of single proportions (GLMM or inverse variance), as metafor")
    pl.add_argument("file", help="CSV with one row per study")
    pl.add_argument("--events", required=True, help="column with the number of events (responders)")
    pl.add_argument("--total", required=True, help="column with the number of patients")
    pl.add_argument("--method", choices=("glmm", "reml", "dl", "pm"), default="glmm", help="default glmm")
    pl.add_argument("--knapp-hartung", action="store_true", help="Knapp-Hartung SE and t limits (reml, dl, pm)")
    pl.add_argument("--by", help="column to pool within (one fit per group)")
    pl.add_argument("--json", action="store_true", help='print {"pooled": [{group, k, estimate, ...}]}')
    pl.set_defaults(func=_pool)
    lib = sub.add_parser(
        "library", help="read exports (PubMed XML/CSV, Scopus, WoS, MEDLINE, RIS, BibTeX), de-duplicate, write Parquet"
    )
    lib.add_argument("paths", nargs="+", help="export files or folders of them")
    lib.add_argument(
        "--out", required=True, help="LIB.parquet (LIB.manifest.csv beside it); with --cluster a folder of partitions"
    )
    lib.add_argument("--workers", type=_workers, help="processes parsing PubMed XML (default: every core)")
    lib.add_argument("--cluster", help="Dask scheduler address (tcp://HOST:8786), or local:N for N local workers")
    lib.set_defaults(func=_library)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user error prints one line and exits 1."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except HelpersError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
