"""Record linkage on the labelled set of real CAR-T records (tests/fixtures/linkage) and the key-based API
that a streaming build and a distributed shuffle call."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pytest

from helpers.library.dedup import (
    LinkKey,
    assign_clusters,
    block_groups,
    deduplicate,
    group_edges,
    identifier_groups,
    link_groups,
    link_key,
)
from helpers.sources.pubmed_xml import Record
from helpers.sources.records import read_records

LINKAGE = Path(__file__).parent / "fixtures" / "linkage"


def _load() -> tuple[list[Record], list[dict]]:
    with open(LINKAGE / "truth.csv", encoding="utf-8", newline="") as handle:
        truth = {(r["source_file"], int(r["source_index"])): r for r in csv.DictReader(handle)}
    records = []
    for name in sorted({file for file, _ in truth}):
        for entry in read_records(LINKAGE / name, name)[1]:
            if isinstance(entry, Record):
                entry.source_file = name
                records.append(entry)
    return records, [truth[r.source_file, r.source_index] for r in records]


def _pairs(labels: list[str]) -> set[tuple[int, int]]:
    by_label = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    return {p for members in by_label.values() for p in combinations(members, 2)}


@pytest.fixture(scope="module")
def labelled():
    records, rows = _load()
    assert len(records) >= 200 and len({r["work_id"] for r in rows}) >= 60  # the set is as large as promised
    return records, rows


def test_pairwise_targets_hold_on_the_whole_labelled_set(labelled):
    records, rows = labelled
    ids, _, _ = deduplicate(records)
    found, true = _pairs(ids), _pairs([r["work_id"] for r in rows])
    precision, recall = len(found & true) / len(found), len(found & true) / len(true)
    assert precision >= 0.995 and recall >= 0.97, (precision, recall, sorted(found ^ true)[:10])


def test_errata_and_congress_abstracts_are_related_not_merged(labelled):
    records, rows = labelled
    ids, related, _ = deduplicate(records)
    cluster = defaultdict(set)
    for i, row in enumerate(rows):
        cluster[row["work_id"]].add(ids[i])
    for i, row in enumerate(rows):
        if row["related_to"]:
            (target,) = cluster[row["related_to"]]
            assert ids[i] != target and target in related[i].split(";"), row


def _rec(i: int, **fields) -> Record:
    return Record(source_file=f"f{i % 2}.ris", source_index=i, format="test", **fields)


SMALL = [
    _rec(1, title="Anti-CD19 CAR T cell therapy for refractory systemic lupus erythematosus.", authors=["Mackensen A"],
         year=2022, journal="Nature medicine", journal_abbrev="Nat Med", volume="28", pages="2124-32", pmid="36109639"),
    _rec(2, title="ANTI-CD19 CAR T CELL THERAPY FOR REFRACTORY SYSTEMIC LUPUS ERYTHEMATOSUS", authors=["Mackensen A."],
         year=2022, journal="Nature Medicine", volume="28", pages="2124-2132"),
    _rec(3, title="Author Correction: Anti-CD19 CAR T cell therapy for refractory systemic lupus erythematosus",
         authors=["Mackensen A"], year=2023, journal="Nat Med", volume="29", pages="2956", pmid="36329355"),
    _rec(4, title="Anti-CD19 CAR T cell therapy for refractory systemic lupus erythematosus", authors=["Mackensen, A"],
         year=2022, journal="medRxiv", doi="10.1101/2022.01.01.000001"),
    _rec(5, title="Anti-CD19 CAR T cell therapy for refractory systemic lupus erythematosus", authors=["A. Mackensen"],
         year=2022),  # title and first author alone: never merged
    _rec(6, title="CD19 CAR T cells in refractory lupus", authors=["Tur C"], year=2024, doi="10.1/x", pmid="1"),
    _rec(7, title="Other work", authors=["Tur C"], year=2024, doi="10.1/X", pmid="2"),  # DOI typo: PMIDs disagree
]  # fmt: skip


def test_merges_relations_and_refusals_on_a_small_set():
    ids, related, reasons = deduplicate(SMALL)
    assert ids[0] == ids[1] and "journal" in reasons[1]  # case, abbreviations, page ranges, full stop
    assert ids[2] != ids[0] and ids[0] in related[2].split(";")  # the correction is related
    assert ids[3] != ids[0] and ids[0] in related[3].split(";")  # the preprint is related
    assert len({ids[4], ids[0], ids[3]}) == 3  # no venue, volume or page: the title alone never merges
    assert ids[5] != ids[6]  # one DOI, two PMIDs: not merged


def test_link_key_reads_names_venues_and_kinds():
    keys = [link_key(r) for r in SMALL]
    assert [k.kind for k in keys[:5]] == ["article", "article", "correction", "preprint", "article"]
    assert keys[2].journal == "nat med" and keys[1].journal == "nature medicine" and keys[0].page == "2124"
    assert keys[0].member == "f1.ris#000000001" and keys[2].title == keys[0].title
    furie = link_key(_rec(8, title="x", authors=["Furie R.A."], journal="Clin J Am Soc Nephrol : CJASN"))
    gomez = link_key(_rec(9, title="x", authors=["Gomez Mendez LM"], journal="ACR Convergence 2024"))
    assert (furie.surname, furie.journal) == ("furie", "clin j am soc nephrol")
    assert (gomez.surname, gomez.kind) == ("gomezmendez", "abstract")
    assert identifier_groups(keys[5]) == ["doi:10.1/x", "pmid:1"]
    assert "ys:2022:mackensen" in block_groups(keys[0]) and "ys:2022:mackensen" in block_groups(keys[1])


def test_shuffled_input_gives_each_member_the_same_cluster(labelled):
    records = labelled[0]
    forward = dict(zip((link_key(r).member for r in records), deduplicate(records)[0], strict=True))
    shuffled = records[:]
    random.Random(13).shuffle(shuffled)
    backward = dict(zip((link_key(r).member for r in shuffled), deduplicate(shuffled)[0], strict=True))
    assert forward == backward


def test_group_edges_is_a_pure_function_of_its_members(labelled):
    keys = [link_key(r) for r in labelled[0]]
    groups = link_groups(keys)
    checked = 0
    for (kind, _), members in groups.items():
        before = list(members)
        edges = group_edges(kind, members)
        assert members == before  # its input is left as it was
        assert group_edges(kind, members[::-1]) == edges  # member order does not matter
        assert all(i < j for i, j, _, _ in edges)
        checked += bool(edges)
    assert checked > 50


def test_assign_clusters_ignores_edge_order(labelled):
    keys = [link_key(r) for r in labelled[0]]
    edges = [e for (kind, _), m in link_groups(keys).items() for e in group_edges(kind, m)]
    members = [k.member for k in keys]
    shuffled = edges[:]
    random.Random(5).shuffle(shuffled)
    assert assign_clusters(members, shuffled) == assign_clusters(members, edges) == deduplicate(labelled[0])


def test_link_key_is_compact():
    assert not hasattr(link_key(SMALL[0]), "__dict__") and LinkKey.__slots__
