"""Bibliographic field accuracy of the document ingest on saved pages of new layouts.

The development set is ``tests/fixtures/page_layouts/``: page dumps with the truth of each
field in ``labels.yaml`` (null where the page does not show it) and a ``group`` (``tune`` or
``heldout``). Each page goes through ``helpers.sources.parse_file`` as a user's file would.

A field counts as correct when it equals the label after light normalisation (case, spacing,
quotes and dashes, a trailing full stop; authors compared name by name as sets of name parts),
or when both are null. A value where the label is null is *invented* and counted apart; a wrong
value where the label has one is *wrong*; a null where the label has one is *missed*.

``--baseline REF`` also measures the ingest as it was at git commit REF (its ``src/`` unpacked
with ``git archive`` into a temporary folder and run in a child process), side by side.

Usage: python benchmarks/bench_page_fields.py [--baseline 4fe2976] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from io import BytesIO
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "page_layouts"
FIELDS = ("title", "authors", "journal", "year", "doi", "pmid", "pmcid")
BASELINE_REF = "4fe2976"  # the ingest before the generic page extractor and the HTML reader

_PUNCT = re.compile(r"[^\w\s'-]")
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})


def _text_key(value: str) -> str:
    v = unicodedata.normalize("NFKC", str(value)).translate(_DASHES).casefold()
    return " ".join(v.split()).rstrip(".").strip()


def _name_key(name: str) -> frozenset[str]:
    v = re.sub(r"\d", " ", _PUNCT.sub(" ", _text_key(name)))
    return frozenset(v.replace("-", " ").split())


def normalise(field: str, value: object) -> object:
    """The comparable form of a field value (None for absent values, [] included)."""
    if value in (None, "", []):
        return None
    if field == "authors":
        return tuple(_name_key(a) for a in value)  # type: ignore[union-attr]
    if field == "year":
        return int(value)  # type: ignore[arg-type]
    if field == "journal":
        return " ".join(_PUNCT.sub(" ", _text_key(value)).split())
    return _text_key(value)


def predict(path: Path) -> dict:
    """The fields the ingest gives for one page (all None when it gives no document)."""
    from helpers.core.errors import HelpersError
    from helpers.sources import parse_file

    try:
        docs = parse_file(path)[0]
    except HelpersError:
        docs = []
    if not docs:
        return dict.fromkeys(FIELDS)
    doc = docs[0].model_dump()
    return {f: doc.get(f) for f in FIELDS}


def predictions(pages: Path = PAGES) -> dict[str, dict]:
    """{file name: predicted fields} for every labelled page."""
    labels = load_labels(pages)
    return {name: predict(pages / name) for name in sorted(labels)}


def load_labels(pages: Path = PAGES) -> dict[str, dict]:
    """{file name: {group, field: truth}} from labels.yaml."""
    return yaml.safe_load((pages / "labels.yaml").read_text(encoding="utf-8"))


def score(preds: dict[str, dict], labels: dict[str, dict]) -> dict:
    """Per group and field: correct, wrong, missed, invented and total cells; plus the misses listed."""
    out: dict = {"groups": {}, "errors": []}
    for name, truth in sorted(labels.items()):
        group = out["groups"].setdefault(
            truth["group"], {f: dict.fromkeys(("correct", "wrong", "missed", "invented", "total"), 0) for f in FIELDS}
        )
        for field in FIELDS:
            want, got = normalise(field, truth.get(field)), normalise(field, preds[name].get(field))
            cell = group[field]
            cell["total"] += 1
            if want == got:
                cell["correct"] += 1
                continue
            kind = "invented" if want is None else "missed" if got is None else "wrong"
            cell[kind] += 1
            out["errors"].append(
                {"page": name, "field": field, "kind": kind, "label": truth.get(field), "got": preds[name].get(field)}
            )
    return out


def accuracy(scored: dict, group: str | None = None) -> tuple[float, int]:
    """(share of correct cells, invented cells) over one group or all groups."""
    groups = [scored["groups"][group]] if group else list(scored["groups"].values())
    cells = [c for g in groups for c in g.values()]
    total = sum(c["total"] for c in cells)
    return sum(c["correct"] for c in cells) / max(total, 1), sum(c["invented"] for c in cells)


def baseline_predictions(ref: str) -> dict[str, dict]:
    """Predictions of the ingest as it was at git commit ``ref`` (run in a child process)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
            "import bench_page_fields as b; print(json.dumps(b.predictions(), default=str))"
        )
        run = subprocess.run(
            [sys.executable, "-c", code, str(Path(tmp) / "src"), str(Path(__file__).parent)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    return json.loads(run.stdout)


def table(scored: dict, base: dict | None) -> str:
    """Per-field accuracy per group (and the baseline's, when measured) as plain text."""
    groups = sorted(scored["groups"])
    head = "field     " + "".join(f"{g:>10}" for g in groups) + ("  baseline" if base else "") + "  invented"
    lines = [head]
    for field in FIELDS:
        row = f"{field:<10}"
        for g in groups:
            c = scored["groups"][g][field]
            row += f"{c['correct'] / c['total']:>10.0%}"
        if base:
            cells = [base["groups"][g][field] for g in groups]
            row += f"{sum(c['correct'] for c in cells) / sum(c['total'] for c in cells):>10.0%}"
        row += f"{sum(scored['groups'][g][field]['invented'] for g in groups):>10}"
        lines.append(row)
    for g in [*groups, None]:
        acc, inv = accuracy(scored, g)
        line = f"all fields, {g or 'both groups'}: {acc:.1%} correct, {inv} invented"
        if base:
            b_acc, b_inv = accuracy(base, g)
            line += f" (baseline {b_acc:.1%}, {b_inv} invented)"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", nargs="?", const=BASELINE_REF, help="git commit of the ingest to compare with")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--errors", action="store_true", help="list every cell that is not correct")
    args = parser.parse_args(argv)
    labels = load_labels()
    scored = score(predictions(), labels)
    base = score(baseline_predictions(args.baseline), labels) if args.baseline else None
    if args.json:
        print(json.dumps({"current": scored, "baseline": base}, indent=1, default=str))
        return 0
    print(f"{len(labels)} pages, {len(FIELDS)} fields each ({PAGES.relative_to(ROOT)})")
    print(table(scored, base))
    if args.errors:
        for e in scored["errors"]:
            print(f"{e['page']:<32} {e['field']:<8} {e['kind']:<8} label={e['label']!r} got={e['got']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
