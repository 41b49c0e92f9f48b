"""De-duplication of library records by record linkage: the same work is one cluster, with its reason.

1. **Exact identifiers**: normalised DOI, PMID, PMCID; records sharing one are the same work.
2. **Blocked fuzzy matching**: within a block of the same publication year and first-author surname,
   titles are compared after normalisation (case, accents, punctuation, bracketed translations);
   a title match (rapidfuzz ratio >= 93) merges only when the journal, volume or pages agree too.
   A title never merges on its own.
3. **Related, not merged**: an erratum or correction and the article it corrects, or a conference
   abstract and a journal article with the same title, are linked (``related_to``).

A cluster's id is derived from its smallest member key (file, then position), so one process and a
cluster of workers give the same ids, and rebuilds are byte-stable.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from helpers.sources.pubmed_xml import Record

TITLE_THRESHOLD = 93.0
JOURNAL_THRESHOLD = 85.0
CORRECTION_PREFIX_RE = re.compile(r"^\s*(?:erratum|correction|corrigendum)(?:\s+to)?\s*[:.-]?\s*", re.IGNORECASE)
CORRECTION_RE = re.compile(r"^(?:erratum|correction|corrigendum)\b|\b(?:erratum|corrigendum)\b", re.IGNORECASE)


def normalise_doi(doi: str | None) -> str | None:
    """A DOI as a comparable key: lower case, without resolver prefixes."""
    if not doi:
        return None
    text = doi.strip().lower()
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text)
    return text or None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalise_title(title: str | None) -> str:
    """Title for comparison: no bracketed translation, accents, case or punctuation."""
    if not title:
        return ""
    text = re.sub(r"^\[(.*)\]\.?$", r"\1", title.strip())  # MEDLINE brackets translated titles
    text = _fold(text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def first_surname(authors: Sequence[str]) -> str:
    """The first author's surname, folded: 'Müller, F' / 'Müller F' / 'F. Müller' -> 'muller'."""
    if not authors:
        return ""
    name = authors[0].strip()
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        parts = name.split()
        surname = parts[-1] if parts and "." in parts[0] else (parts[0] if parts else "")
    return re.sub(r"[^a-z]", "", _fold(surname))


class _Links:
    """Union-find over record positions, keeping the first reason each record was merged for."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.reason = [""] * n

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int, reason: str) -> None:
        a, b = self.find(i), self.find(j)
        if a == b:
            return
        keep, drop = min(a, b), max(a, b)
        self.parent[drop] = keep
        for k in (i, j):
            if not self.reason[k]:
                self.reason[k] = reason


def _exact(records: Sequence[Record], links: _Links) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(records):
        for kind, value in (("doi", normalise_doi(r.doi)), ("pmid", r.pmid), ("pmcid", r.pmcid)):
            if not value:
                continue
            key = (kind, str(value).strip().lower())
            if key in seen:
                links.union(seen[key], i, f"same {kind} {value}")
            else:
                seen[key] = i


def _agrees(a: Record, b: Record) -> str | None:
    """What besides the title says two records are the same work (None: nothing does)."""
    if a.journal and b.journal and fuzz.token_set_ratio(_fold(a.journal), _fold(b.journal)) >= JOURNAL_THRESHOLD:
        return "journal"
    if a.volume and b.volume and a.volume.strip() == b.volume.strip():
        return "volume"
    if a.pages and b.pages and a.pages.split("-")[0].strip() == b.pages.split("-")[0].strip():
        return "pages"
    return None


def _kind(record: Record) -> str:
    if CORRECTION_RE.search(record.title or ""):
        return "correction"
    types = " ".join(record.publication_types).lower()
    return "abstract" if "congress" in types or "abstract" in types or record.format == "abstract" else "article"


def _fuzzy(records: Sequence[Record], links: _Links, related: set[tuple[int, int]]) -> None:
    blocks: dict[tuple[object, str], list[int]] = defaultdict(list)
    titles = [normalise_title(CORRECTION_PREFIX_RE.sub("", r.title or "")) for r in records]
    for i, r in enumerate(records):
        if titles[i]:
            blocks[(r.year, first_surname(r.authors))].append(i)
    for members in blocks.values():
        if len(members) < 2:
            continue
        block = [titles[i] for i in members]
        scores = process.cdist(block, block, scorer=fuzz.ratio, score_cutoff=TITLE_THRESHOLD, dtype=np.uint8)
        for a, b in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
            _link(records, links, related, members[a], members[b], float(scores[a, b]))


def _link(records: Sequence[Record], links: _Links, related: set, i: int, j: int, score: float) -> None:
    """Merge two records whose titles match when something else agrees; link them when their kinds differ."""
    if links.find(i) == links.find(j):
        return
    if _kind(records[i]) != _kind(records[j]):
        related.add((i, j))
        return
    agree = _agrees(records[i], records[j])
    if agree:
        links.union(i, j, f"title ({score:.0f}), year, first author and {agree} agree")


def cluster_key(record: Record) -> str:
    """The member key clusters are named by: file, then 1-based position (zero-padded)."""
    return f"{record.source_file}#{record.source_index:09d}"


def deduplicate(records: Sequence[Record]) -> tuple[list[str], list[str], list[str]]:
    """Per record: (cluster_id, related cluster ids ';'-joined, merge reason) in input order."""
    links = _Links(len(records))
    related: set[tuple[int, int]] = set()
    _exact(records, links)
    _fuzzy(records, links, related)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(records)):
        members[links.find(i)].append(i)
    name = {}
    for root, idx in members.items():
        smallest = min(cluster_key(records[i]) for i in idx)
        name[root] = "c" + hashlib.sha256(smallest.encode()).hexdigest()[:12]
    ids = [name[links.find(i)] for i in range(len(records))]
    linked: dict[str, set[str]] = defaultdict(set)
    for i, j in related:
        a, b = ids[i], ids[j]
        if a != b:
            linked[a].add(b)
            linked[b].add(a)
    return ids, [";".join(sorted(linked[c])) for c in ids], links.reason
