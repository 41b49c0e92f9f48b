"""Pairwise precision and recall of the library's de-duplication on the labelled linkage set.

Run: `.venv/bin/python benchmarks/bench_linkage.py [--wrong]`. Reads tests/fixtures/linkage/ (six real
export formats of 68 works, truth.csv), runs `deduplicate` and two baselines side by side: exact DOI only,
and exact normalised title + year (the reference managers' rule of thumb). Scores are over record pairs:
a pair is found when both records get one cluster, true when truth.csv gives them one work. Works marked
`holdout` in truth.csv were not looked at while tuning the rules; their scores are printed apart.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path

from helpers.library.dedup import deduplicate, normalise_doi, normalise_title
from helpers.sources.pubmed_xml import Record
from helpers.sources.records import read_records

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "linkage"
Truth = dict[tuple[str, int], dict[str, str]]


def load(folder: Path = FIXTURES) -> tuple[list[Record], Truth]:
    """The records of every export in the folder (in file order) and the truth rows by (file, index)."""
    with open(folder / "truth.csv", encoding="utf-8", newline="") as handle:
        truth = {(r["source_file"], int(r["source_index"])): r for r in csv.DictReader(handle)}
    records = []
    for name in sorted({file for file, _ in truth}):
        _, entries = read_records(folder / name, name)
        for entry in entries:
            if isinstance(entry, Record):
                entry.source_file = name  # some readers name the file by its path; truth.csv by its name
                records.append(entry)
    missing = [(r.source_file, r.source_index) for r in records if (r.source_file, r.source_index) not in truth]
    if missing:
        raise SystemExit(f"{folder / 'truth.csv'}: no truth row for {missing[:3]}; rebuild the fixtures (build.py)")
    return records, truth


def pairs(labels: Sequence[str]) -> set[tuple[int, int]]:
    """Position pairs (i < j) with the same non-empty label."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        if label:
            by_label[label].append(i)
    return {pair for members in by_label.values() for pair in combinations(members, 2)}


def score(found: set, true: set) -> dict[str, float]:
    """Pairwise precision, recall and F1 (1.0 when there is nothing to find or nothing found)."""
    hit = len(found & true)
    precision = hit / len(found) if found else 1.0
    recall = hit / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(found), "true": len(true)}


def baseline_doi(records: Sequence[Record]) -> list[str]:
    return [f"doi:{d}" if (d := normalise_doi(r.doi)) else f"rec:{i}" for i, r in enumerate(records)]


def baseline_title_year(records: Sequence[Record]) -> list[str]:
    return [f"{normalise_title(r.title)}|{r.year}" if r.title else f"rec:{i}" for i, r in enumerate(records)]


def evaluate(records: Sequence[Record], truth: Truth, method: Callable[[Sequence[Record]], list[str]]) -> dict:
    """Scores of a clustering method on the whole set and on the tuning and held-out works."""
    rows = [truth[r.source_file, r.source_index] for r in records]
    found, true = pairs(method(records)), pairs([row["work_id"] for row in rows])
    result = {"all": score(found, true)}
    for split in ("tune", "holdout"):
        keep = {i for i, row in enumerate(rows) if row["split"] == split}

        def inside(ps: set, keep: set = keep) -> set:
            return {p for p in ps if p[0] in keep or p[1] in keep}

        result[split] = score(inside(found), inside(true))
    result["wrong"] = sorted(found ^ true)
    return result


def related_pairs(records: Sequence[Record], truth: Truth) -> tuple[int, int, int]:
    """(related record pairs found, of them true, true related pairs): works linked but not merged."""
    ids, related, _ = deduplicate(records)
    rows = [truth[r.source_file, r.source_index] for r in records]
    found = {(i, j) for i, j in combinations(range(len(records)), 2) if ids[j] in related[i].split(";") and related[i]}
    linked = {(row["work_id"], row["related_to"]) for row in rows if row["related_to"]}
    true = {
        (i, j)
        for i, j in combinations(range(len(records)), 2)
        if (rows[i]["work_id"], rows[j]["work_id"]) in linked or (rows[j]["work_id"], rows[i]["work_id"]) in linked
    }
    return len(found), len(found & true), len(true)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wrong", action="store_true", help="list every wrong pair of every method")
    args = parser.parse_args(argv)
    records, truth = load()
    works = len({row["work_id"] for row in truth.values()})
    print(f"{len(records)} records of {works} works from {len({r.source_file for r in records})} files")
    methods = {
        "deduplicate": lambda rs: deduplicate(rs)[0],
        "exact DOI only": baseline_doi,
        "title + year exact": baseline_title_year,
    }
    print(f"{'method':<20} {'split':<8} {'precision':>9} {'recall':>7} {'F1':>6} {'found':>6} {'true':>5}")
    for name, method in methods.items():
        result = evaluate(records, truth, method)
        for split in ("all", "tune", "holdout"):
            s = result[split]
            print(
                f"{name:<20} {split:<8} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} "
                f"{s['pairs']:>6} {s['true']:>5}"
            )
        if name == "deduplicate" or args.wrong:
            for i, j in result["wrong"]:
                a, b = records[i], records[j]
                kind = "merged, not one work" if truth[a.source_file, a.source_index]["work_id"] != truth[
                    b.source_file, b.source_index]["work_id"] else "one work, not merged"  # fmt: skip
                print(f"  wrong ({kind}): {a.source_file}#{a.source_index} ~ {b.source_file}#{b.source_index}: "
                      f"{(a.title or '')[:50]!r} / {(b.title or '')[:50]!r}")  # fmt: skip
    found, right, true = related_pairs(records, truth)
    print(f"related (linked, not merged) record pairs: {found} found, {right} of them true, {true} true in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
