"""De-duplication of library records by record linkage: the same work is one cluster, with its reason.

The work is split so that a streaming build or a distributed shuffle can run each step where the
data is: every record becomes a small :class:`LinkKey` (all linkage needs, nothing else); a key names
the groups it belongs to (:func:`identifier_groups`, :func:`block_groups`); each group is linked on
its own by :func:`group_edges`, a pure function of its members; :func:`assign_clusters` joins the
edges of all groups with union-find.

1. **Exact identifiers**: normalised DOI, PMID, PMCID; records sharing one are the same work (unless
   another identifier of theirs disagrees).
2. **Blocked fuzzy matching**: within a block (first-author surname with year, or with the title's
   first words; year with the title's first words), titles are compared after normalisation (case,
   accents, markup, punctuation, bracketed translations, abstract numbers, a lost subtitle); a title
   match (rapidfuzz ratio >= 93) merges only when the journal agrees too (abbreviation or full
   name) or the volume and first page do, and nothing disagrees (identifiers, volume, first page,
   years more than one apart). A title never merges on its own.
3. **Related, not merged**: an erratum or correction and the article it corrects, a conference
   abstract and a journal article, a preprint and its published version: when their titles match
   they are linked (``related_to``), never merged.

A cluster's id is derived from its smallest member key (file, then position), so one process and a
cluster of workers give the same ids, and rebuilds are byte-stable.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from helpers.sources.pubmed_xml import Record

TITLE_THRESHOLD = 93.0
BLOCK_TITLE_WORDS = 4  # title words in the blocks that stand in for a missing year or surname
FULL_BLOCK = 256  # blocks up to this size compare every pair; larger ones their title neighbours
WINDOW = 8  # neighbours compared in a large block, in each of two title orders
MIN_MAIN_WORDS = 4  # a title part before ':' shorter than this is not compared as a title on its own
CORRECTION_PREFIX_RE = re.compile(
    r"^\s*(?:author\s+|publisher\s+)?(?:erratum|correction|corrigendum)(?:\s+(?:to|for|on))?\s*[:.-]?\s*",
    re.IGNORECASE,
)
CORRECTION_RE = re.compile(
    r"^\s*(?:author\s+|publisher\s+)?(?:erratum|correction|corrigendum)\b|\b(?:erratum|corrigendum)\b", re.IGNORECASE
)
ABSTRACT_NUMBER_RE = re.compile(r"^\s*[A-Z]{0,3}-?[A-Z]{0,2}\d{3,5}\s*:\s*")  # 'S112: ...', 'FR-PO0709: ...'
MARKUP_RE = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
LATEX_ACCENT_RE = re.compile(r"\\[\"'`^~=.uvHckr]\s*\{?([A-Za-z])\}?")
MARKED_RE = re.compile(r"[<&\\{}]")
DOI_PREFIX_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)")
BRACKETED_RE = re.compile(r"^\[(.*)\]\.?$")
NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")
NON_ALPHA_RE = re.compile(r"[^a-z]")
UMLAUT_SPELLING_RE = re.compile(r"([aou])e")
PREPRINT_DOI_RE = re.compile(r"^10\.(?:1101|21203/rs\.|2139/ssrn)")
CONGRESS_RE = re.compile(r"\b(?:congress|convergence|meeting|conference|symposium|kidney week|abstracts?)\b")
PREPRINT_RE = re.compile(r"\b(?:medrxiv|biorxiv|research square|ssrn|preprints?)\b")
JOURNAL_STOPWORDS = frozenset({"the", "of", "and", "for", "in", "on", "fur", "und", "de", "la", "le", "du", "der"})
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})

Edge = tuple[int, int, str, bool]  # (i, j, reason, merged) with i < j global positions; merged False: related


@dataclass(slots=True, frozen=True)
class LinkKey:
    """What linkage needs of one record (and all that stays in memory per record)."""

    member: str  # 'source_file#source_index' (index zero-padded to 9): what cluster ids are named by
    doi: str | None
    pmid: str | None
    pmcid: str | None
    title: str  # normalised, correction prefix and abstract number stripped
    kind: str  # 'article' | 'abstract' | 'correction' | 'preprint'
    year: int | None
    surname: str  # first author's, folded
    journal: str  # folded words, stopwords and qualifiers dropped
    volume: str | None
    page: str | None  # first page
    main_words: int = 0  # words of the title before its subtitle (0: no subtitle)


def _fold(text: str) -> str:
    if text.isascii():  # most text: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _clean(text: str) -> str:
    """Markup, HTML entities and LaTeX accents removed (exports carry all three)."""
    if not MARKED_RE.search(text):  # most text carries none: skip the three passes
        return text
    text = html.unescape(MARKUP_RE.sub("", text))
    return LATEX_ACCENT_RE.sub(r"\1", text).replace("{", "").replace("}", "")


def normalise_doi(doi: str | None) -> str | None:
    """A DOI as a comparable key: lower case, without resolver prefixes."""
    if not doi:
        return None
    text = doi.strip().lower()
    text = DOI_PREFIX_RE.sub("", text)
    return text.rstrip(".") or None


def normalise_title(title: str | None) -> str:
    """Title for comparison: no bracketed translation, markup, accents, case or punctuation."""
    if not title:
        return ""
    text = _clean(title).strip()
    if text.startswith("["):
        text = BRACKETED_RE.sub(r"\1", text)  # MEDLINE brackets translated titles
    return " ".join(NON_ALNUM_RE.sub(" ", _fold(text)).split())


def first_surname(authors: Sequence[str]) -> str:
    """The first author's surname, folded: 'Müller, F' / 'Müller F' / 'F. Müller' / 'Fabian Müller' -> 'muller'."""
    if not authors:
        return ""
    name = _clean(authors[0]).strip()
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        parts = [p for p in name.split() if p.lower().rstrip(".") not in NAME_SUFFIXES]
        if len(parts) > 1 and re.fullmatch(r"(?:[A-Z]\.?-?){1,4}", parts[-1]):  # 'Gomez Mendez LM', 'Furie R.A.'
            surname = " ".join(parts[:-1])
        else:  # 'F. Müller', 'Fabian Müller', a single word
            surname = parts[-1] if parts else ""
    return NON_ALPHA_RE.sub("", _fold(surname))


def _surname_key(authors: Sequence[str]) -> str:
    # 'ue' for 'ü' (Duesing / Düsing, Boeltz / Böltz) is a spelling, not another person
    return UMLAUT_SPELLING_RE.sub(r"\1", first_surname(authors))


def _journal(record: Record) -> str:
    name = record.journal or record.journal_abbrev or ""
    name = re.split(r"[:(]", _clean(name), maxsplit=1)[0]  # 'Med (New York, N.Y.)', 'Clin J ... : CJASN'
    words = NON_ALNUM_RE.sub(" ", _fold(name)).split()
    return " ".join(w for w in words if w not in JOURNAL_STOPWORDS)


def _first_page(pages: str | None) -> str | None:
    if not pages:
        return None
    text = pages.strip().lower()
    match = re.match(r"[a-z]?\d+", text)
    return match.group(0) if match else text


def record_kind(record: Record) -> str:
    """'correction', 'preprint', 'abstract' or 'article', from the title, publication types, venue and DOI."""
    title = record.title or ""
    types = " ".join(record.publication_types).lower()
    venue = _fold(" ".join(filter(None, (record.journal, record.journal_abbrev))))
    if CORRECTION_RE.search(title) or "erratum" in types or "correction" in types:
        return "correction"
    if "preprint" in types or PREPRINT_RE.search(venue) or PREPRINT_DOI_RE.match(normalise_doi(record.doi) or ""):
        return "preprint"
    if (
        "congress" in types
        or "abstract" in types
        or "conference" in types
        or record.format == "abstract"
        or CONGRESS_RE.search(venue)
        or "suppl" in (record.volume or "").lower()
        or ABSTRACT_NUMBER_RE.match(title)
    ):
        return "abstract"
    return "article"


def cluster_key(record: Record) -> str:
    """The member key clusters are named by: file, then 1-based position (zero-padded)."""
    return f"{record.source_file}#{record.source_index:09d}"


def link_key(record: Record) -> LinkKey:
    """The linkage key of one record."""
    raw = ABSTRACT_NUMBER_RE.sub("", CORRECTION_PREFIX_RE.sub("", _clean(record.title or "")))
    title = normalise_title(raw)
    head = raw.split(":", 1)[0] if ":" in raw else ""
    main_words = len(normalise_title(head).split()) if head else 0
    return LinkKey(
        member=cluster_key(record),
        doi=normalise_doi(record.doi),
        pmid=(record.pmid or "").strip() or None,
        pmcid=(record.pmcid or "").strip().upper() or None,
        title=title,
        kind=record_kind(record),
        year=record.year,
        surname=_surname_key(record.authors),
        journal=_journal(record),
        volume=(record.volume or "").strip().lower() or None,
        page=_first_page(record.pages),
        main_words=main_words if MIN_MAIN_WORDS <= main_words < len(title.split()) else 0,
    )


def identifier_groups(key: LinkKey) -> list[str]:
    """The identifier groups of a key: records sharing one are the same work."""
    return [f"{name}:{value}" for name, value in (("doi", key.doi), ("pmid", key.pmid), ("pmcid", key.pmcid)) if value]


def block_groups(key: LinkKey) -> list[str]:
    """Blocking keys for fuzzy matching: surname with year (and the next year, for epub/issue years),
    surname with the title's first words (a missing year), year with them (a missing or misspelt surname)."""
    if not key.title:
        return []
    start = " ".join(key.title.split()[:BLOCK_TITLE_WORDS])
    blocks = []
    if key.surname and key.year is not None:
        blocks += [f"ys:{key.year}:{key.surname}", f"ys:{key.year + 1}:{key.surname}"]
    if key.surname:
        blocks.append(f"ts:{key.surname}:{start}")
    if key.year is not None:
        blocks.append(f"ty:{key.year}:{start}")
    return blocks


def _journals_agree(a: str, b: str) -> bool:
    """'nat med' ~ 'nature medicine', 'n engl j med' ~ 'new england journal medicine': word by word, one a prefix."""
    wa, wb = a.split(), b.split()
    if not wa or len(wa) != len(wb):
        return False
    return all(x.startswith(y) or y.startswith(x) for x, y in zip(wa, wb, strict=True))


def _conflict(a: LinkKey, b: LinkKey) -> str | None:
    """Why two keys cannot be the same work (None: nothing says so)."""
    for name in ("doi", "pmid", "pmcid", "volume", "page"):
        x, y = getattr(a, name), getattr(b, name)
        if x and y and x != y:
            return name
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return "year"
    return None


def _agreement(a: LinkKey, b: LinkKey) -> str | None:
    """What besides the title says two keys are the same work (None: nothing does)."""
    if _journals_agree(a.journal, b.journal):
        return "journal"
    if a.volume and a.page and a.volume == b.volume and a.page == b.page:
        return "volume and page"
    return None


def _short(key: LinkKey) -> str:
    return " ".join(key.title.split()[: key.main_words]) if key.main_words else key.title


def _title_pairs(keys: list[LinkKey]) -> dict[tuple[int, int], float]:
    """Pairs (a < b, indices into keys) whose titles match, with the better of full and main-title scores.

    A block of up to ``FULL_BLOCK`` keys compares every pair; a larger one (a common surname in a
    busy year, a common title opening) compares each title with its ``WINDOW`` neighbours in title
    order and in reversed-title order (sorted neighbourhood, twice), so time stays linear."""
    pairs: dict[tuple[int, int], float] = {}
    for texts in ([k.title for k in keys], [_short(k) for k in keys]):
        for a, b, score in _matches(texts):
            pairs[a, b] = max(pairs.get((a, b), 0.0), score)
    return pairs


def _matches(texts: list[str]) -> Iterator[tuple[int, int, float]]:
    if len(texts) <= FULL_BLOCK:
        scores = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=TITLE_THRESHOLD, dtype=np.uint8)
        for a, b in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
            yield int(a), int(b), float(scores[a, b])
        return
    for order_key in (lambda i: texts[i], lambda i: texts[i][::-1]):
        order = sorted(range(len(texts)), key=order_key)
        ordered = [texts[i] for i in order]
        for step in range(1, WINDOW + 1):
            scores = process.cpdist(
                ordered[:-step], ordered[step:], scorer=fuzz.ratio, score_cutoff=TITLE_THRESHOLD, dtype=np.uint8
            )
            for k in np.nonzero(scores)[0]:
                a, b = order[k], order[k + step]
                yield min(a, b), max(a, b), float(scores[k])


def _id_edges(members: list[tuple[int, LinkKey]]) -> list[Edge]:
    first_pos, first = members[0]
    shared = min(set(identifier_groups(first)).intersection(*(identifier_groups(k) for _, k in members)), default="")
    name, _, value = shared.partition(":")
    return [
        (first_pos, pos, f"same {name} {value}", True)
        for pos, key in members[1:]
        if _conflict(first, key) not in ("doi", "pmid", "pmcid")
    ]


def _block_edges(members: list[tuple[int, LinkKey]]) -> list[Edge]:
    keys = [k for _, k in members]
    edges: list[Edge] = []
    for (a, b), score in sorted(_title_pairs(keys).items()):
        ka, kb = keys[a], keys[b]
        if not ka.title or not kb.title or _conflict(ka, kb) in ("doi", "pmid", "pmcid", "year"):
            continue
        i, j = members[a][0], members[b][0]
        if ka.kind != kb.kind:
            edges.append((i, j, f"title ({score:.0f}) of a {ka.kind} and a {kb.kind}", False))
        elif not _conflict(ka, kb) and (agree := _agreement(ka, kb)):
            edges.append((i, j, f"title ({score:.0f}), first author and {agree} agree", True))
    return edges


def group_edges(kind: str, members: list[tuple[int, LinkKey]]) -> list[Edge]:
    """The edges within one identifier group (kind 'id') or one block (kind 'block'); a pure function of its members."""
    members = sorted(members, key=lambda m: m[0])
    if len(members) < 2:
        return []
    edges = _id_edges(members) if kind == "id" else _block_edges(members)
    return [(min(i, j), max(i, j), reason, merged) for i, j, reason, merged in edges]


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
        self.parent[max(a, b)] = min(a, b)
        for k in (i, j):
            if not self.reason[k]:
                self.reason[k] = reason


def _edge_order(edge: Edge) -> tuple:
    i, j, reason, merged = edge
    return (not merged, not reason.startswith("same "), i, j, reason)  # identifier merges first


def assign_clusters(members: Sequence[str], edges: Iterable[Edge]) -> tuple[list[str], list[str], list[str]]:
    """Per position: (cluster id 'c' + sha256(smallest member)[:12], related cluster ids ';'-joined, merge reason).

    The result does not depend on the order of the edges."""
    links = _Links(len(members))
    ordered = sorted(set(edges), key=_edge_order)
    for i, j, reason, merged in ordered:
        if merged:
            links.union(i, j, reason)
    roots = np.fromiter((links.find(pos) for pos in range(len(members))), dtype=np.int64, count=len(members))
    shared = np.bincount(roots, minlength=len(members))[roots] > 1  # in a cluster of two or more
    smallest: dict[int, str] = {}
    for pos in np.flatnonzero(shared).tolist():
        root, member = int(roots[pos]), members[pos]
        if root not in smallest or member < smallest[root]:
            smallest[root] = member
    name = {root: _cluster_id(m) for root, m in smallest.items()}
    ids = [name[int(roots[pos])] if shared[pos] else _cluster_id(members[pos]) for pos in range(len(members))]
    linked: dict[str, set[str]] = defaultdict(set)
    for i, j, _, merged in ordered:
        if not merged and ids[i] != ids[j]:
            linked[ids[i]].add(ids[j])
            linked[ids[j]].add(ids[i])
    related = [";".join(sorted(linked[c])) if c in linked else "" for c in ids]
    return ids, related, links.reason


def _cluster_id(member: str) -> str:
    return "c" + hashlib.sha256(member.encode()).hexdigest()[:12]


def link_groups(keys: Sequence[LinkKey]) -> dict[tuple[str, str], list[tuple[int, LinkKey]]]:
    """Every identifier group and block with two or more members, keyed by (kind, group)."""
    groups: dict[tuple[str, str], list[tuple[int, LinkKey]]] = defaultdict(list)
    for pos, key in enumerate(keys):
        for group in identifier_groups(key):
            groups["id", group].append((pos, key))
        for block in block_groups(key):
            groups["block", block].append((pos, key))
    return {name: members for name, members in groups.items() if len(members) > 1}


def _names(key: LinkKey) -> list[tuple[str, str]]:
    return [("id", g) for g in identifier_groups(key)] + [("block", g) for g in block_groups(key)]


def group_hash(kind: str, name: str) -> int:
    """A 64-bit hash of a group name, the same in every process (so workers can compute it); its
    lowest bit says the kind: 1 for an identifier group, 0 for a block."""
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little", signed=True)
    return digest | 1 if kind == "id" else digest & ~1


def group_hashes(key: LinkKey) -> list[int]:
    """The hashes of every group a key belongs to."""
    return [group_hash(kind, name) for kind, name in _names(key)]


def _identifier_run(keys: Sequence[LinkKey], positions: list[int], run_hash: int) -> list[list[tuple[int, LinkKey]]]:
    """The identifier groups (two or more members) among the keys whose group hashes are ``run_hash``."""
    named: dict[str, list[tuple[int, LinkKey]]] = defaultdict(list)
    for pos in positions:
        for name in identifier_groups(keys[pos]):
            if group_hash("id", name) == run_hash:
                named[name].append((pos, keys[pos]))
    return [members for _, members in sorted(named.items()) if len(members) > 1]


def iter_groups(
    keys: Sequence[LinkKey], hashes: Sequence[int] | None = None, owners: Sequence[int] | None = None
) -> Iterator[tuple[str, list[tuple[int, LinkKey]]]]:
    """The groups of :func:`link_groups` as (kind, members), holding two integers per membership
    rather than a dict of lists. Memberships (``hashes`` of group names and the positions that
    ``owners`` them, computed here when not given) are sorted by hash; a run of equal hashes is a
    group. An identifier run is split by the identifiers themselves, so a hash collision merges
    nothing; a block run needs no check, as merges within a block rest on the records' own fields."""
    if hashes is None or owners is None:
        memberships = [(h, pos) for pos, key in enumerate(keys) for h in group_hashes(key)]
        hashes, owners = [h for h, _ in memberships], [pos for _, pos in memberships]
        del memberships
    hashed = np.asarray(hashes, dtype=np.int64)
    owner = np.asarray(owners, dtype=np.int64)
    order = np.argsort(hashed, kind="stable")
    hashed, owner = hashed[order], owner[order]
    del order
    starts = np.concatenate(([0], np.flatnonzero(np.diff(hashed)) + 1, [len(hashed)]))
    for start, stop in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        if stop - start < 2:
            continue
        run_hash = int(hashed[start])
        positions = np.unique(owner[start:stop]).tolist()
        if not run_hash & 1:
            if len(positions) > 1:
                yield "block", [(pos, keys[pos]) for pos in positions]
            continue
        yield from (("id", members) for members in _identifier_run(keys, positions, run_hash))


def deduplicate(records: Sequence[Record]) -> tuple[list[str], list[str], list[str]]:
    """Per record: (cluster_id, related cluster ids ';'-joined, merge reason) in input order."""
    keys = [link_key(r) for r in records]
    edges = [edge for (kind, _), members in link_groups(keys).items() for edge in group_edges(kind, members)]
    return assign_clusters([k.member for k in keys], edges)
