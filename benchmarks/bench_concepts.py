"""Benchmark the concept annotator against a naive regex and a bare automaton.

Run: ``python benchmarks/bench_concepts.py [--mb 50] [--regex-mb 5] [--seed 7]``

Builds a deterministic synthetic corpus of abstract-like documents (seeded random
sentences made of vocabulary terms and filler), then times, in the same run:

(a) naive baseline: one compiled regex alternation of every vocabulary form
    (re.IGNORECASE, word boundaries), finditer over the text;
(b) floor: a bare pyahocorasick automaton (the annotator's own term keys) iterated over
    ``text.lower()``, counting hits and nothing else;
(c) the full ``helpers.concepts.annotate()``.

Prints MB/s for each (best of --repeat runs for (b) and (c)), the ratios full/regex and
floor/full, and peak memory (RSS of the process).
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

from helpers.concepts import _matcher, annotate, load_vocabulary  # noqa: E402
from helpers.vocab import ABBREVIATION, AMBIGUOUS, SYNONYM, Vocabulary  # noqa: E402

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
    "disease": "diseases", "disease2": "diseases", "target": "targets", "target2": "targets",
    "platform": "platforms", "platform2": "platforms", "tox": "toxicities",
    "tox2": "toxicities", "outcome": "outcomes", "outcome2": "outcomes",
    "challenge": "challenges", "challenge2": "challenges", "generation": "generations",
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
                sentences.append(t.format(n=rnd.randint(2, 40), a=rnd.randint(1, 9),
                                          b=rnd.randint(10, 30), k=rnd.randint(0, 9)))
                continue
            t = rnd.choice(TEMPLATES)
            long, short = rnd.choice(defs)
            values = {slot: _jitter(rnd.choice(pool[cat]), rnd) for slot, cat in CATEGORY_SLOTS.items()}
            s = t.format(long=long, short=short, n=rnd.randint(2, 40), a=rnd.randint(1, 9),
                         b=rnd.randint(10, 30), **values)
            sentences.append(s[0].upper() + s[1:])
        text = "Title of synthetic abstract {}\n".format(len(docs)) + " ".join(sentences)
        docs.append((f"syn{len(docs):06d}", text))
        total += len(text)
    return docs


def _all_forms(vocab: Vocabulary) -> list[str]:
    forms = {f.text for f in vocab.forms if f.kind in (SYNONYM, ABBREVIATION, AMBIGUOUS)}
    return sorted(forms, key=lambda s: (-len(s), s))


def bench_regex(text: str, vocab: Vocabulary) -> tuple[float, int]:
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in _all_forms(vocab)) + r")\b",
                         re.IGNORECASE)
    t0 = time.perf_counter()
    n = sum(1 for _ in pattern.finditer(text))
    return time.perf_counter() - t0, n


def bench_floor(text: str, vocab: Vocabulary, repeat: int) -> tuple[float, int]:
    """Best of ``repeat``: lower-case the text and iterate every automaton hit."""
    m = _matcher(vocab)
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


def bench_full(docs: list[tuple[str, str]], vocab: Vocabulary,
               repeat: int) -> tuple[float, int, int]:
    """Best of ``repeat`` runs of annotate() over all documents."""
    annotate(docs[:10], vocab)  # compile the matcher outside the timing
    best, n, negated = float("inf"), 0, 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        mentions = annotate(docs, vocab)
        best = min(best, time.perf_counter() - t0)
        n, negated = len(mentions), sum(1 for x in mentions if x.negated)
        del mentions
    return best, n, negated


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50.0, help="corpus size in MB (default 50)")
    ap.add_argument("--regex-mb", type=float, default=5.0,
                    help="slice of the corpus the regex baseline runs on (default 5)")
    ap.add_argument("--seed", type=int, default=7, help="random seed of the corpus")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs of (b) and (c); the best is reported (default 3)")
    args = ap.parse_args(argv)

    vocab = load_vocabulary()
    t0 = time.perf_counter()
    docs = build_corpus(args.mb, args.seed, vocab)
    text = "\n".join(t for _, t in docs)
    mb = len(text) / 1e6
    print(f"corpus: {len(docs)} documents, {mb:.1f} MB (seed {args.seed}), "
          f"built in {time.perf_counter() - t0:.1f} s; vocabulary: {len(vocab.concepts)} concepts")
    rss_corpus = _rss_mb()

    regex_slice = text[: int(args.regex_mb * 1_000_000)]
    t_regex, n_regex = bench_regex(regex_slice, vocab)
    regex_mbs = len(regex_slice) / 1e6 / t_regex
    print(f"(a) regex baseline : {regex_mbs:8.2f} MB/s  ({n_regex} matches; timed on the first "
          f"{len(regex_slice) / 1e6:.1f} MB only)")

    t_floor, n_floor = bench_floor(text, vocab, args.repeat)
    floor_mbs = mb / t_floor
    print(f"(b) bare automaton : {floor_mbs:8.2f} MB/s  ({n_floor} hits over text.lower(), "
          f"best of {args.repeat}: {t_floor:.2f} s)")

    t_full, n_mentions, n_neg = bench_full(docs, vocab, args.repeat)
    full_mbs = mb / t_full
    print(f"(c) annotate()     : {full_mbs:8.2f} MB/s  ({n_mentions} mentions, {n_neg} negated, "
          f"{n_mentions / mb / 1000:.1f} per KB; best of {args.repeat}: {t_full:.2f} s)")

    print(f"full/regex = {full_mbs / regex_mbs:.1f}x (target >= 25x)")
    print(f"floor/full = {floor_mbs / full_mbs:.2f}x (target <= 3x)")
    print(f"peak RSS: {rss_corpus:.0f} MB after building the corpus, {_rss_mb():.0f} MB at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
