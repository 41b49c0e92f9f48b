"""Library build speed and memory on a synthetic PubMed XML corpus, against the tools reviewers use.

The corpus: N records (default 100,000) in the efetch / annual-baseline layout, gzip-compressed,
generated deterministically (seeded) from templates: PMID, DOI, title, structured abstract,
3–8 authors with affiliations, journal, date, MeSH, keywords; 2% of the records repeat an earlier
PMID (as baseline + update files do). Each side runs in its own process, one after the other,
and reports wall time and peak RSS (``resource.getrusage``: the process itself, and the largest
of its child processes, for the sides that use worker processes):

* floor: a bare lxml ``iterparse`` over the gzip that touches PMID, title and abstract only;
* pubmed_parser's ``parse_medline_xml`` (the whole file into a list of dicts);
* Biopython's ``Entrez.read`` (``Entrez.parse`` refuses a PubmedArticleSet: it is not a list);
* ours end to end: ``python -m helpers library`` (parse, de-duplicate, write Parquet + manifest),
  with every core (the default) and with ``--workers 1``.

Then: the bytes the de-duplication keys take per record (tracemalloc over the first pass), and the
Dask path (``--cluster local:1`` and ``local:2``) on the corpus split into four files (one task
per file), for the speed-up from one to two workers.

Prints each side's seconds and peak RSS and the ratios ours/floor and pubmed_parser/ours.
Usage: python benchmarks/bench_library.py [--records 100000]
"""

from __future__ import annotations

import argparse
import gzip
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "chimeric",
    "antigen",
    "receptor",
    "T",
    "cell",
    "therapy",
    "lupus",
    "nephritis",
    "systemic",
    "sclerosis",
    "myositis",
    "CD19",
    "BCMA",
    "remission",
    "refractory",
    "autoimmune",
    "disease",
    "safety",
    "efficacy",
    "cytokine",
    "release",
    "syndrome",
    "patients",
    "cohort",
    "phase",
    "trial",
    "response",
    "B",
    "cell",
    "depletion",
    "immune",
    "reset",
    "follow-up",
    "outcome",
]
SURNAMES = ("Müller", "Schett", "Wang", "Li", "Zhang", "Mackensen", "Taubmann", "Smith", "García", "Kim")

# the public DTD Biopython needs to parse PubMed XML (it ships a local copy; nothing is fetched)
DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2019//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd">\n'
)
OURS = """
import runpy, sys
sys.argv = ["helpers", "library", sys.argv[1], "--out", sys.argv[2]]
try:
    runpy.run_module("helpers", run_name="__main__")
except SystemExit as stop:
    if stop.code:
        raise
"""
SIDES = {
    "floor (bare lxml iterparse)": """
import gzip, sys
from lxml import etree
n = 0
with gzip.open(sys.argv[1], "rb") as fh:
    for _, el in etree.iterparse(fh, tag="PubmedArticle"):
        pmid = el.findtext("MedlineCitation/PMID"); title = el.findtext(".//ArticleTitle")
        abstract = " ".join(t.text or "" for t in el.iterfind(".//AbstractText"))
        n += 1
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
print(n)
""",
    "pubmed_parser.parse_medline_xml": """
import sys, pubmed_parser as pp
print(sum(1 for _ in pp.parse_medline_xml(sys.argv[1])))
""",
    "Biopython Entrez.read": """
import gzip, sys
from Bio import Entrez
with gzip.open(sys.argv[1], "rb") as fh:  # a PubmedArticleSet is not a list for Entrez.parse: read it whole
    print(len(Entrez.read(fh, validate=False)["PubmedArticle"]))
""",
    "ours: python -m helpers library": OURS,
    "ours, --workers 1": OURS.replace('"--out", sys.argv[2]]', '"--out", sys.argv[2], "--workers", "1"]'),
}
PEAK = (
    "\nimport resource, sys\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
    " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
)
KEY_BYTES = """
import sys, tracemalloc
import pyarrow as pa
from helpers.library import store
from helpers.library.batches import RECORD_SCHEMA
tracemalloc.start()
with pa.OSFile(sys.argv[2], "wb") as sink, pa.ipc.new_stream(sink, RECORD_SCHEMA) as writer:
    state = store.first_pass(store.inputs([sys.argv[1]]), writer, None)
    held = tracemalloc.get_traced_memory()[0]
print(held / len(state.keys.keys))
"""


def _article(rng: random.Random, pmid: int) -> str:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()

    def words(low: int, high: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))

    sections = "".join(
        f'<AbstractText Label="{label}">{words(25, 60)}.</AbstractText>'
        for label in ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS")
    )
    authors = "".join(
        f"<Author><LastName>{rng.choice(SURNAMES)}</LastName><Initials>{chr(65 + rng.randint(0, 25))}</Initials>"
        f"<AffiliationInfo><Affiliation>Department {rng.randint(1, 99)}, University Hospital.</Affiliation>"
        "</AffiliationInfo></Author>"
        for _ in range(rng.randint(3, 8))
    )
    year = rng.randint(2019, 2026)
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f'<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Internet"><Volume>{rng.randint(1, 90)}</Volume>'
        f"<Issue>{rng.randint(1, 12)}</Issue><PubDate><Year>{year}</Year><Month>Mar</Month></PubDate></JournalIssue>"
        f"<Title>Journal of {rng.choice(WORDS).title()} Research</Title><ISOAbbreviation>J Res</ISOAbbreviation>"
        f"</Journal><ArticleTitle>{title}.</ArticleTitle><Pagination><MedlinePgn>{rng.randint(1, 900)}-9</MedlinePgn>"
        f"</Pagination><Abstract>{sections}</Abstract><AuthorList>{authors}</AuthorList><Language>eng</Language>"
        "<PublicationTypeList><PublicationType>Journal Article</PublicationType></PublicationTypeList></Article>"
        '<MeshHeadingList><MeshHeading><DescriptorName UI="D000001">Humans</DescriptorName></MeshHeading>'
        "</MeshHeadingList></MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId><ArticleId IdType="doi">10.5555/bench.{pmid}</ArticleId>'
        "</ArticleIdList></PubmedData></PubmedArticle>\n"
    )


def write_corpus(path: Path, records: int, seed: int = 20261203) -> Path:
    """The synthetic corpus (2% repeated PMIDs), gzip-compressed."""
    rng = random.Random(seed)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write('<?xml version="1.0" ?>\n' + DOCTYPE + "<PubmedArticleSet>\n")
        for i in range(records):
            pmid = 30_000_000 + (rng.randint(0, i - 1) if i and rng.random() < 0.02 else i)
            out.write(_article(rng, pmid))
        out.write("</PubmedArticleSet>\n")
    return path


def run(code: str, *args: Path) -> tuple[float, float, float, str]:
    """(wall seconds, peak RSS MB of the process, of its largest child, stdout) of one side in its own process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + PEAK, *map(str, args)], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    own, child = (int(v) / 1024 for v in done.stderr.strip().splitlines()[-1].split())
    return seconds, own, child, done.stdout


def split_corpus(corpus: Path, parts: int) -> list[Path]:
    """The corpus as ``parts`` gzip files of whole records (for one Dask task per file)."""
    text = gzip.decompress(corpus.read_bytes()).decode()
    head, body = text.split("<PubmedArticleSet>\n", 1)
    records = body.replace("</PubmedArticleSet>\n", "").splitlines(keepends=True)
    size = -(-len(records) // parts)
    out = []
    for i in range(parts):
        path = corpus.with_name(f"part{i}.xml.gz")
        chunk = "".join(records[i * size : (i + 1) * size])
        path.write_bytes(gzip.compress((head + "<PubmedArticleSet>\n" + chunk + "</PubmedArticleSet>\n").encode(), 6))
        out.append(path)
    return out


def dask_speedup(corpus: Path, tmp: Path) -> dict[int, float]:
    """Seconds of ``--cluster local:N`` for one and two workers on the corpus in four files."""
    parts = split_corpus(corpus, 4)
    times = {}
    for workers in (1, 2):
        code = OURS.replace('"--out", sys.argv[2]]', f'"--out", sys.argv[2], "--cluster", "local:{workers}"]')
        code = code.replace("sys.argv[1], ", "*sys.argv[3:], ")
        times[workers] = run(code, parts[0], tmp / f"dask{workers}", *parts)[0]
    return times


def main() -> int:
    """Generate the corpus, run every side, print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(Path(tmp) / "pubmed-synthetic.xml.gz", args.records)
        print(f"{args.records} synthetic records, {corpus.stat().st_size / 1e6:.1f} MB gzip")
        times = {}
        for name, code in SIDES.items():
            try:
                seconds, own, child, _ = run(code, corpus, Path(tmp) / "lib.parquet")
            except subprocess.CalledProcessError as exc:
                print(f"{name:<36} failed: {exc.stderr.strip().splitlines()[-1] if exc.stderr else exc}")
                continue
            times[name] = seconds
            workers = f" (largest worker {child:.0f} MB)" if child > 1 else ""
            print(f"{name:<36} {seconds:8.2f} s   peak RSS {own:7.0f} MB{workers}")
        ours = times.get("ours: python -m helpers library")
        floor = times.get("floor (bare lxml iterparse)")
        parser_time = times.get("pubmed_parser.parse_medline_xml")
        if ours and floor:
            print(f"ours / floor = {ours / floor:.2f} (target <= 2)")
        if ours and parser_time:
            print(f"pubmed_parser / ours = {parser_time / ours:.2f} (target >= 2.5)")
        key_bytes = float(run(KEY_BYTES, corpus, Path(tmp) / "keys.arrow")[3])
        print(f"de-duplication keys held in memory: {key_bytes:.0f} bytes per record")
        dask = dask_speedup(corpus, Path(tmp))
        print(f"Dask local:1 {dask[1]:.2f} s, local:2 {dask[2]:.2f} s: speed-up {dask[1] / dask[2]:.2f}x (4 files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
