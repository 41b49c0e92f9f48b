"""The snapshot: every input loaded once, content-hashed, cached on disk by that hash.

``load_snapshot()`` reads the documents (ingested, de-duplicated, annotated), the vocabulary,
the curated clinical reports, the curated trials merged with the registry exports and the
published landscapes, and returns one immutable :class:`Snapshot`. Its ``id`` is a hash over
the bytes of every input (seed documents and their sidecars, seed manifest, vocabulary, schema,
evidence tables, registry exports), so it changes when any input changes; ``inputs`` keeps one
hash per input group for the build planner. A snapshot built once is pickled under
``build/cache/snapshots/`` keyed by its id, the code that built it and the size limit, so the
next notebook or command that asks for it loads it instead of re-ingesting and re-annotating.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from helpers.core.atomic import write_atomically
from helpers.core.codes import CLINICAL, TRIALS
from helpers.core.digests import code_digest
from helpers.core.errors import SchemaError
from helpers.core.models import Document, ManifestRow
from helpers.core.paths import DOCUMENTS, REGISTRY_EXPORTS, ROOT
from helpers.evidence.appraisal import check_risk_of_bias, load_risk_of_bias, overall_by_report
from helpers.evidence.clinical import clinical_view
from helpers.evidence.inputs import input_digests, snapshot_id
from helpers.evidence.outcomes import load_outcomes
from helpers.evidence.provenance import load_searches, load_sources, unknown_rows
from helpers.evidence.published import load_published_landscapes
from helpers.evidence.tables import load_table_with_status
from helpers.evidence.trials import CurrentTrials, current_trials
from helpers.library.corpus import build_corpus
from helpers.sources import ingest_paths
from helpers.sources.checksums import SeedProblem, verify
from helpers.sources.reading import DEFAULT_MAX_MB
from helpers.text.concepts import load_vocabulary
from helpers.text.mentions import document_mentions
from helpers.text.vocabulary import Vocabulary

CACHE_FORMAT = "snapshot-2"


@dataclass(frozen=True)
class Snapshot:
    """Every input of a build, loaded once. Tables are handed out as copies: the snapshot never changes."""

    id: str
    inputs: Mapping[str, str]
    documents: tuple[Document, ...]
    manifest: tuple[ManifestRow, ...]
    seed_problems: tuple[SeedProblem, ...]
    vocabulary: Vocabulary
    _frames: Mapping[str, pd.DataFrame] = field(repr=False)

    def __reduce__(self) -> tuple:
        # mapping proxies do not pickle: store plain dicts, wrap them again on load
        return (
            _restore,
            (
                self.id,
                dict(self.inputs),
                self.documents,
                self.manifest,
                self.seed_problems,
                self.vocabulary,
                dict(self._frames),
            ),
        )

    def _frame(self, name: str) -> pd.DataFrame:
        return self._frames[name].copy()

    @property
    def duplicates(self) -> pd.DataFrame:
        """Records merged into another as the same work (kept, merged, merged_file, reason)."""
        return self._frame("duplicates")

    @property
    def mentions(self) -> pd.DataFrame:
        """Concept mentions in the documents, with citation, sentence and negation."""
        return self._frame("mentions")

    @property
    def clinical(self) -> pd.DataFrame:
        """One row per clinical report: its columns, main outcomes, source_url and tier (all tiers)."""
        return self._frame("clinical")

    def clinical_view(self, primary_only: bool = False) -> pd.DataFrame:
        """The clinical view; with ``primary_only`` facts read only in secondary sources are left out."""
        if not primary_only:
            return self.clinical
        view = clinical_view(self._frames["reports"], self._frames["outcomes"], self._frames["sources"], ("primary",))
        view["risk_of_bias"] = self._frames["clinical"]["risk_of_bias"].to_numpy()
        return view

    @property
    def reports(self) -> pd.DataFrame:
        """``clinical_reports.csv`` as curated (status words read as NA)."""
        return self._frame("reports")

    @property
    def report_status(self) -> pd.DataFrame:
        """Per cell of ``clinical_reports.csv`` (indexed by report_id): stated / not reported / not applicable /
        not checked."""
        return self._frame("report_status")

    @property
    def trial_status(self) -> pd.DataFrame:
        """Per cell of the curated ``trials.csv`` (indexed by registry_id): stated / not reported / not applicable /
        not checked."""
        return self._frame("trial_status")

    @property
    def outcomes(self) -> pd.DataFrame:
        """The long outcome table (one row per outcome of a report)."""
        return self._frame("outcomes")

    @property
    def sources(self) -> pd.DataFrame:
        """Every page read for a report or trial, with its tier."""
        return self._frame("sources")

    @property
    def risk_of_bias(self) -> pd.DataFrame:
        """One judgement per report and item (Murad et al.), with its reason and source, and the overall one."""
        return self._frame("risk_of_bias")

    @property
    def searches(self) -> pd.DataFrame:
        """The search log: searches made for a primary source."""
        return self._frame("searches")

    @property
    def trials(self) -> pd.DataFrame:
        """The curated trials updated by the registry exports."""
        return self._frame("trials")

    @property
    def current_trials(self) -> CurrentTrials:
        """(trials, merge audit, export manifest) of this snapshot."""
        return CurrentTrials(self._frame("trials"), self._frame("trial_audit"), self._frame("registry_manifest"))

    @property
    def published(self) -> pd.DataFrame:
        """Published landscape figures the trial landscape is compared with."""
        return self._frame("published")

    def known_targets(self) -> tuple[str, ...]:
        """Every CAR target written in the clinical reports or the trials of this snapshot."""
        found = set(self._frames["clinical"]["target"].dropna().astype(str))
        for cell in self._frames["trials"]["targets"].dropna().astype(str):
            found.update(t for t in cell.split(";") if t)
        return tuple(sorted(found))


def _restore(
    sid: str, inputs: dict, documents: tuple, manifest: tuple, problems: tuple, vocab: Vocabulary, frames: dict
) -> Snapshot:
    return Snapshot(sid, MappingProxyType(inputs), documents, manifest, problems, vocab, MappingProxyType(frames))


def _build(documents: Path, max_mb: float, digests: dict[str, str]) -> Snapshot:
    ingested = ingest_paths([documents], max_mb=max_mb)
    corpus = build_corpus(ingested.documents)
    vocab = load_vocabulary()
    current = current_trials(REGISTRY_EXPORTS)
    reports, report_status = load_table_with_status(CLINICAL)
    curated_trials, trial_status = load_table_with_status(TRIALS)
    report_status.index = pd.Index(reports["report_id"], name="report_id")
    trial_status.index = pd.Index(curated_trials["registry_id"], name="registry_id")
    outcomes, sources = load_outcomes(), load_sources()
    strays = unknown_rows(
        sources, {"clinical": set(reports["report_id"]), "trials": set(current.trials["registry_id"])}
    )
    if strays:
        raise SchemaError(f"{len(strays)} source row(s) name no known row:\n" + "\n".join(f"  - {s}" for s in strays))
    rob = load_risk_of_bias()
    check_risk_of_bias(rob, set(reports["report_id"]))
    view = clinical_view(reports, outcomes, sources)
    view["risk_of_bias"] = view["report_id"].map(overall_by_report(rob)).astype("string")
    frames = {
        "duplicates": corpus.audit,
        "mentions": document_mentions(corpus.documents, vocab),
        "clinical": view,
        "risk_of_bias": rob,
        "reports": reports,
        "report_status": report_status,
        "trial_status": trial_status,
        "outcomes": outcomes,
        "sources": sources,
        "searches": load_searches(),
        "trials": current.trials,
        "trial_audit": current.audit,
        "registry_manifest": current.manifest,
        "published": load_published_landscapes(),
    }
    return Snapshot(
        snapshot_id(digests),
        MappingProxyType(dict(digests)),
        tuple(corpus.documents),
        tuple(ingested.manifest),
        tuple(verify()),
        vocab,
        MappingProxyType(frames),
    )


def _cache_file(cache_dir: Path, sid: str, documents: Path, max_mb: float) -> Path:
    key = hashlib.sha256(f"{CACHE_FORMAT}|{sid}|{code_digest()}|{documents.resolve()}|{max_mb!r}".encode())
    return cache_dir / f"snapshot-{sid}-{key.hexdigest()[:12]}.pickle"


_MEMO: dict[Path, Snapshot] = {}


def load_snapshot(
    documents: Path | str | None = None, max_mb: float = DEFAULT_MAX_MB, cache_dir: Path | None = None
) -> Snapshot:
    """Every input loaded once: from memory or the disk cache when the inputs and code are unchanged."""
    folder = Path(documents) if documents is not None else DOCUMENTS
    digests = input_digests(folder)
    sid = snapshot_id(digests)
    cache = _cache_file(cache_dir or ROOT / "build" / "cache" / "snapshots", sid, folder, max_mb)
    if cache in _MEMO:
        return _MEMO[cache]
    snap = None
    if cache.exists():
        try:
            snap = pickle.loads(cache.read_bytes())
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            snap = None  # a cache written by other code or cut short: build it again
    if snap is None:
        snap = _build(folder, max_mb, digests)
        write_atomically(cache, pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL))
        _prune(cache.parent, keep=cache)
    _MEMO[cache] = snap
    return snap


KEEP_CACHED = 4  # snapshots kept on disk: the current one and a few recent ones (switching branches)


def _prune(folder: Path, keep: Path) -> None:
    """Remove all but the most recently written cached snapshots."""
    cached = sorted(folder.glob("snapshot-*.pickle"), key=lambda p: (p != keep, -p.stat().st_mtime, p.name))
    for old in cached[KEEP_CACHED:]:
        old.unlink(missing_ok=True)
