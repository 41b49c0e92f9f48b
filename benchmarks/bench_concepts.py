"""Benchmark the concept annotator against a naive regex and a bare automaton.

Run: ``python benchmarks/bench_concepts.py [--mb 50] [--regex-mb 5] [--seed 7] [--workers 2]``

Builds a deterministic synthetic corpus of abstract-like documents (seeded random
sentences made of vocabulary terms and filler), then times, in the same run:

(a) naive baseline: one compiled regex alternation of every vocabulary form
    (re.IGNORECASE, word boundaries), finditer over the text;
(b) floor: a bare pyahocorasick automaton (the annotator's own term keys) iterated over
    ``text.lower()``, counting hits and nothing else;
(c) the full annotation, single process: ``helpers.text.concepts.annotate_columns()``, which
    returns every field of every mention (doc, concept, category, text, sentence,
    sentence index, offsets, negated) as one list per field;
(d) the same as ``Mention`` records: ``helpers.text.concepts.annotate()``;
(e) with ``--workers N`` (N > 1): (c) in N processes, reported apart (parallel).

Prints MB/s for each (best of --repeat runs for (b)-(e)), the ratios full/regex (target
>= 25x) and floor/full (target <= 3x) for the single-process full annotation (and, apart,
for the others), and peak memory (maximum RSS of the process so far, after each step).
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import ahocorasick  # noqa: E402

from helpers.text.concepts import annotate, annotate_columns, load_vocabulary, prepare  # noqa: E402
from helpers.text.vocabulary import ABBREVIATION, AMBIGUOUS, SYNONYM, Vocabulary  # noqa: E402

FILLER = (
    "The study was approved by the local ethics committee and all participants gave written informed consent.",
    "Median follow-up was {n} months (range {a}-{b}).",
    "Results were compared with a historical cohort treated with standard immunosuppression.",
    "Peripheral blood was analysed by flow cytometry at baseline and at weeks 4, 12 and 24.",
    "Statistical analyses used mixed models for repeated measures, e.g. for serum markers.",
    "These findings agree with earlier reports by Müller et al. and extend them to a larger group.",
    "Mean age was {n}.{k} years and {a} of {b} participants were women.",
    "Lymphodepletion consisted of fludarabine 25 mg/m2 on three days and cyclophosphamide 1000 mg/m2.",
    "Serum IgG levels were measured every three months vs. baseline.",
    "Further prospective studies with longer follow-up are needed to confirm durability.",
    "The product was manufactured in a closed automated system within {n} days.",
    "Quality of life improved in most participants during the first year.",
)
TEMPLATES = (
    "Patients with refractory {disease} received {target}-directed {platform} after lymphodepletion.",
    "{tox} occurred in {a} of {b} patients, all grade 1 or 2, and no {tox2} was observed.",
    "{long} ({short}) is a chronic autoimmune disease with limited treatment options.",
    "At month {n}, {outcome} was reached in {a} patients, with {outcome2} in all evaluable cases.",
    "Remaining challenges include {challenge} and {challenge2}.",
    "{generation} constructs with CD28 or 4-1BB costimulatory domains were compared in vitro.",
    "None of the patients developed {tox}, and {outcome} was maintained without immunosuppression.",
    "We reviewed {n} reports of {platform} in {disease} and {disease2}.",
    "In {disease}, {target} and {target2} are the most studied antigens for {platform}.",
    "{platform} products ({platform2}) may reduce {challenge}.",
)
CATEGORY_SLOTS = {
    "disease": "diseases",
    "disease2": "diseases",
    "target": "targets",
    "target2": "targets",
    "platform": "platforms",
    "platform2": "platforms",
    "tox": "toxicities",
    "tox2": "toxicities",
    "outcome": "outcomes",
    "outcome2": "outcomes",
    "challenge": "challenges",
    "challenge2": "challenges",
    "generation": "generations",
}


def _surface_pool(vocab: Vocabulary) -> dict[str, list[str]]:
    """Synonyms and abbreviations by category (ambiguous forms left out)."""
    pool: dict[str, list[str]] = {}
    for form in vocab.forms:
        if form.kind in (SYNONYM, ABBREVIATION):
            pool.setdefault(vocab.concepts[form.code].category, []).append(form.text)
    return {k: sorted(v) for k, v in pool.items()}


def _definitions(vocab: Vocabulary) -> list[tuple[str, str]]:
    pairs = []
    for code in vocab.codes:
        c = vocab.concepts[code]
        if c.category == "diseases" and c.abbreviations:
            pairs.append((c.synonyms[0], c.abbreviations[0]))
    return pairs


def _jitter(term: str, rnd: random.Random) -> str:
    """Occasional spelling noise the annotator must absorb: case, hyphens, line breaks."""
    r = rnd.random()
    if r < 0.03 and " " in term:
        return term.replace(" ", "\n", 1)
    if r < 0.06:
        return term.replace(" ", "-") if " " in term else term
    if r < 0.10 and term.islower():
        return term.capitalize()
    return term


def build_corpus(megabytes: float, seed: int, vocab: Vocabulary) -> list[tuple[str, str]]:
    """Deterministic abstract-like documents totalling at least ``megabytes`` MB of text."""
    rnd = random.Random(seed)
    pool = _surface_pool(vocab)
    defs = _definitions(vocab)
    target = int(megabytes * 1_000_000)
    docs: list[tuple[str, str]] = []
    total = 0
    while total < target:
        sentences = []
        for _ in range(rnd.randint(8, 14)):
            if rnd.random() < 0.45:
                t = rnd.choice(FILLER)
                sentences.append(
                    t.format(n=rnd.randint(2, 40), a=rnd.randint(1, 9), b=rnd.randint(10, 30), k=rnd.randint(0, 9))
                )
                continue
            t = rnd.choice(TEMPLATES)
            long, short = rnd.choice(defs)
            values = {slot: _jitter(rnd.choice(pool[cat]), rnd) for slot, cat in CATEGORY_SLOTS.items()}
            s = t.format(
                long=long, short=short, n=rnd.randint(2, 40), a=rnd.randint(1, 9), b=rnd.randint(10, 30), **values
            )
            sentences.append(s[0].upper() + s[1:])
        text = f"Title of synthetic abstract {len(docs)}\n" + " ".join(sentences)
        docs.append((f"syn{len(docs):06d}", text))
        total += len(text)
    return docs


def _all_forms(vocab: Vocabulary) -> list[str]:
    forms = {f.text for f in vocab.forms if f.kind in (SYNONYM, ABBREVIATION, AMBIGUOUS)}
    return sorted(forms, key=lambda s: (-len(s), s))


def bench_regex(text: str, vocab: Vocabulary) -> tuple[float, int]:
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in _all_forms(vocab)) + r")\b", re.IGNORECASE)
    t0 = time.perf_counter()
    n = sum(1 for _ in pattern.finditer(text))
    return time.perf_counter() - t0, n


def bench_floor(text: str, vocab: Vocabulary, repeat: int) -> tuple[float, int]:
    """Best of ``repeat``: lower-case the text and iterate every automaton hit."""
    m = prepare(vocab)
    automaton = ahocorasick.Automaton()
    for key, pid in m.key_of.items():
        if m.is_term[pid]:
            automaton.add_word(f" {key}", pid)
    automaton.make_automaton()
    best, n = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = 0
        for _ in automaton.iter(text.lower()):
            n += 1
        best = min(best, time.perf_counter() - t0)
    return best, n


def bench_full(
    docs: list[tuple[str, str]], vocab: Vocabulary, repeat: int, records: bool = False, workers: int | None = None
) -> tuple[float, int, int]:
    """Best of ``repeat`` runs of the full annotation over all documents: the columns of
    ``annotate_columns()`` (every field of every mention), or ``annotate()``'s records."""
    annotate(docs[:10], vocab)  # compile the matcher (and tables) outside the timing
    best, n, negated = float("inf"), 0, 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        if records:
            mentions = annotate(docs, vocab, workers=workers)
        else:
            mentions = annotate_columns(docs, vocab, workers=workers)
        best = min(best, time.perf_counter() - t0)
        if records:
            n, negated = len(mentions), sum(1 for x in mentions if x.negated)
        else:
            assert all(len(v) == len(mentions["doc_id"]) for v in mentions.values())
            n, negated = len(mentions["doc_id"]), sum(mentions["negated"])
        del mentions
    return best, n, negated


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50.0, help="corpus size in MB (default 50)")
    ap.add_argument(
        "--regex-mb", type=float, default=5.0, help="slice of the corpus the regex baseline runs on (default 5)"
    )
    ap.add_argument("--seed", type=int, default=7, help="random seed of the corpus")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of (b)-(e); the best is reported (default 3)")
    ap.add_argument(
        "--workers", type=int, default=0, help="also time the annotation in this many processes (default: no)"
    )
    args = ap.parse_args(argv)

    vocab = load_vocabulary()
    t0 = time.perf_counter()
    docs = build_corpus(args.mb, args.seed, vocab)
    text = "\n".join(t for _, t in docs)
    mb = len(text) / 1e6
    print(
        f"corpus: {len(docs)} documents, {mb:.1f} MB (seed {args.seed}), "
        f"built in {time.perf_counter() - t0:.1f} s; vocabulary: {len(vocab.concepts)} concepts"
    )
    print(f"peak RSS after building the corpus: {_rss_mb():.0f} MB")

    regex_slice = text[: int(args.regex_mb * 1_000_000)]
    t_regex, n_regex = bench_regex(regex_slice, vocab)
    regex_mbs = len(regex_slice) / 1e6 / t_regex
    print(
        f"(a) regex baseline : {regex_mbs:8.2f} MB/s  ({n_regex} matches; timed on the first "
        f"{len(regex_slice) / 1e6:.1f} MB only)"
    )

    t_floor, n_floor = bench_floor(text, vocab, args.repeat)
    floor_mbs = mb / t_floor
    print(
        f"(b) bare automaton : {floor_mbs:8.2f} MB/s  ({n_floor} hits over text.lower(), "
        f"best of {args.repeat}: {t_floor:.2f} s); peak RSS so far {_rss_mb():.0f} MB"
    )
    del text, regex_slice

    runs = [("(c) full annotation, single process: annotate_columns()", False, None)]
    runs.append(("(d) full annotation as Mention records, single process: annotate()", True, None))
    if args.workers > 1:
        runs.append(
            (f"(e) PARALLEL, {args.workers} processes: annotate_columns(workers={args.workers})", False, args.workers)
        )
    results = []
    for label, records, workers in runs:
        t_full, n_mentions, n_neg = bench_full(docs, vocab, args.repeat, records, workers)
        full_mbs = mb / t_full
        results.append((label, full_mbs))
        workers_rss = _rss_mb(resource.RUSAGE_CHILDREN)
        print(
            f"{label}\n    {full_mbs:8.2f} MB/s  ({n_mentions} mentions, {n_neg} negated, "
            f"{n_mentions / mb / 1000:.1f} per KB; best of {args.repeat}: {t_full:.2f} s); "
            f"peak RSS so far {_rss_mb():.0f} MB"
            + (f" (largest worker: {workers_rss:.0f} MB)" if workers and workers_rss else "")
        )

    print("ratios (targets: full/regex >= 25x, floor/full <= 3x):")
    for i, (label, full_mbs) in enumerate(results):
        up, down = full_mbs / regex_mbs, floor_mbs / full_mbs
        verdict = "MET" if up >= 25 and down <= 3 else "NOT MET"
        tag = "TARGET " if i == 0 else "for information: "
        print(f"  {tag}{label.split(':')[0]}: full/regex = {up:.1f}x, floor/full = {down:.2f}x -> {verdict}")
    print(f"peak RSS: {_rss_mb():.0f} MB (whole run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
