"""Sources, the first stage: paths in, Document records and one manifest row per input file out."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from helpers.core.errors import HelpersError, IngestError, ParameterError
from helpers.core.models import Document, ManifestRow
from helpers.core.paths import ROOT, display_path
from helpers.sources.checksums import load_manifest, sha256_of
from helpers.sources.detect import detect
from helpers.sources.generic import has_content
from helpers.sources.html_record import document_fields as html_document_fields
from helpers.sources.html_record import looks_like_html
from helpers.sources.reading import DEFAULT_MAX_MB, read_text
from helpers.sources.sidecar import document_stem, is_sidecar, read_sidecar, sidecar_for

DOCUMENT_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".markdown", ".nbib", ".medline", ".ris", ".bib", ".bibtex", ".html", ".htm", ".xhtml"}
)
# Time budget of one file's parse: BASE_SECONDS + SECONDS_PER_MB per MB of the file (1 MB: 3 s). The
# readers' patterns run in linear time (helpers.core.patterns); the budget also bounds whatever a
# reader or library does that is not, so one file never holds up the others.
BASE_SECONDS = 1.0
SECONDS_PER_MB = 2.0
_MB = 1024 * 1024

__all__ = ["IngestResult", "ingest_paths", "parse_file", "parse_budget", "DOCUMENT_SUFFIXES", "SECONDS_PER_MB"]


@dataclass
class IngestResult:
    """Documents and what became of every input."""

    documents: list[Document] = field(default_factory=list)
    manifest: list[ManifestRow] = field(default_factory=list)

    def to_json(self) -> dict:
        """The documents and manifest rows as plain JSON-ready data."""
        return {
            "documents": [d.to_json() for d in self.documents],
            "manifest": [r.model_dump(mode="json") for r in self.manifest],
        }


def ingest_paths(
    paths: Iterable[Path | str], max_mb: float = DEFAULT_MAX_MB, seconds_per_mb: float = SECONDS_PER_MB
) -> IngestResult:
    """Ingest files and folders (a folder means every file in it, recursively).

    A file larger than ``max_mb`` MB, or whose parse takes longer than :func:`parse_budget`,
    becomes an ``error`` row; the other files are still read.
    """
    if not seconds_per_mb >= 0:
        raise ParameterError(f"seconds_per_mb must be a number >= 0, got {seconds_per_mb!r}; the default is 2")
    result = IngestResult()
    checksums = load_manifest()
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            result.manifest.append(
                ManifestRow(
                    source_file=display_path(path),
                    status="error",
                    reason="path does not exist; check the spelling or the working folder",
                )
            )
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file())
            if not any(p.suffix.lower() in DOCUMENT_SUFFIXES for p in found):
                result.manifest.append(
                    ManifestRow(
                        source_file=display_path(path) + "/",
                        status="skipped",
                        reason=f"folder holds no document files ({', '.join(sorted(DOCUMENT_SUFFIXES))}); "
                        "add exported pages to it",
                    )
                )
            files.extend(found)
            result.manifest.extend(_missing_seeds(path, checksums))
        else:
            files.append(path)
    seen: set[Path] = set()
    unique = [p for p in files if not (p.resolve() in seen or seen.add(p.resolve()))]
    stems = {p.parent.resolve() / p.stem for p in unique if p.suffix.lower() in DOCUMENT_SUFFIXES and not is_sidecar(p)}
    for path in unique:
        docs, row = _ingest_one(path, checksums, stems, max_mb, seconds_per_mb)
        result.documents.extend(docs)
        result.manifest.append(row)
    result.manifest.sort(key=lambda r: r.source_file)
    result.documents.sort(key=lambda d: (d.source_file, d.id))
    return result


def _missing_seeds(folder: Path, checksums: dict[str, str]) -> list[ManifestRow]:
    prefix = display_path(folder).rstrip("/") + "/"
    return [
        ManifestRow(
            source_file=rel,
            status="error",
            reason="listed in seeds/manifest.csv but missing on disk; restore it with git checkout",
        )
        for rel in sorted(checksums)
        if rel.startswith(prefix) and not (ROOT / rel).exists()
    ]


def _ingest_one(
    path: Path, checksums: dict[str, str], stems: set[Path], max_mb: float, seconds_per_mb: float
) -> tuple[list[Document], ManifestRow]:
    name = display_path(path)
    if path.name.startswith("."):
        return [], ManifestRow(source_file=name, status="skipped", reason="hidden file; not a document")
    if is_sidecar(path):
        return [], _sidecar_row(path, stems)
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        return [], ManifestRow(
            source_file=name,
            status="skipped",
            reason=f"unsupported file type '{path.suffix or '(none)'}'; save the page as .html, .txt or .md, "
            "or export MEDLINE (.nbib), RIS or BibTeX",
        )
    if name in checksums and sha256_of(path) != checksums[name]:
        return [], ManifestRow(
            source_file=name,
            status="error",
            reason="seed changed on disk: sha256 differs from seeds/manifest.csv; restore it (git checkout) or run "
            "`python -m helpers seeds --update` if the change is intended",
        )
    try:
        docs, fmt, encoding, size = parse_file(path, max_mb=max_mb, seconds_per_mb=seconds_per_mb)
    except HelpersError as exc:
        return [], ManifestRow(source_file=name, status="error", reason=str(exc))
    if not docs:
        return [], ManifestRow(
            source_file=name,
            status="skipped",
            format=fmt,
            encoding=encoding,
            bytes=size,
            reason="no bibliographic content found (no title, DOI, PMID, PMCID, NCT id or abstract); "
            "if it is a document, add a sidecar .meta.yaml with its title",
        )
    notes = [f"{len(docs)} document(s) as {fmt}"]
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"decoded as {encoding}; save it as UTF-8 to be sure of every character")
    docs, sidecar_note = _apply_sidecar(path, docs)
    if sidecar_note:
        notes.append(sidecar_note)
    return docs, ManifestRow(
        source_file=name,
        status="parsed",
        reason="; ".join(notes),
        format=fmt,
        documents=len(docs),
        encoding=encoding,
        bytes=size,
    )


def parse_budget(size: int, seconds_per_mb: float = SECONDS_PER_MB) -> float:
    """Seconds the parse of a file of ``size`` bytes may take: BASE_SECONDS + seconds_per_mb per MB."""
    return BASE_SECONDS + seconds_per_mb * size / _MB


def parse_file(
    path: Path, max_mb: float = DEFAULT_MAX_MB, seconds_per_mb: float = SECONDS_PER_MB
) -> tuple[list[Document], str, str, int]:
    """Parse one document file: (documents, format, encoding, bytes). Raises IngestError.

    The parse stops after :func:`parse_budget` seconds (in the main thread, see
    :func:`_time_limit`); the IngestError then names the file, the budget and what to do.
    """
    decoded = read_text(path, max_mb=max_mb)
    budget = parse_budget(decoded.size, seconds_per_mb)
    try:
        with _time_limit(budget):
            fmt, docs = _parse_text(path, decoded.text)
    except _OverBudget:
        raise IngestError(
            f"{display_path(path)}: parsing stopped after {budget:.1f} s, the time budget of a "
            f"{decoded.size / _MB:.2f} MB file ({BASE_SECONDS:g} s + {seconds_per_mb:g} s per MB); split the file "
            "into smaller files or raise --seconds-per-mb (the seconds_per_mb parameter)"
        ) from None
    return docs, fmt, decoded.encoding, decoded.size


def _parse_text(path: Path, text: str) -> tuple[str, list[Document]]:
    """(format, documents) of a decoded text; raises IngestError.

    Readers may return ``field_sources`` and ``body`` beside the fields; only the fields the
    Document model holds are kept.
    """
    fmt, parser = ("html_page", lambda t: [html_document_fields(t)]) if looks_like_html(text) else detect(text)
    try:
        records = parser(text)
    except (ValueError, KeyError, IndexError, RecursionError) as exc:  # bibtexparser recurses per line break
        raise IngestError(
            f"{display_path(path)}: looks like {fmt} but could not be parsed ({exc}); "
            "check the export is complete (not truncated)"
        ) from exc
    if fmt in ("generic", "html_page"):
        records = [r for r in records if has_content(r)]
    docs = []
    for i, fields in enumerate(records, start=1):
        doc_id = path.stem if len(records) == 1 else f"{path.stem}#{i}"
        clean = {k: v for k, v in fields.items() if v is not None and k in Document.model_fields}
        try:
            docs.append(Document(id=doc_id, source_file=display_path(path), format=fmt, **clean))
        except ValidationError as exc:
            raise IngestError(
                f"{display_path(path)}: record {i} has an unexpected value ({exc.errors()[0]['msg']}); check the export"
            ) from exc
    return fmt, docs


class _OverBudget(BaseException):
    """A parse ran out of time. A BaseException, so that no reader's ``except Exception`` hides it."""


def _over_budget(signum: int, frame: object) -> None:
    raise _OverBudget


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _OverBudget in the block after ``seconds`` (``signal.setitimer``, ITIMER_REAL).

    The previous SIGALRM handler and any running timer are restored afterwards (the timer with
    the time it has left). An earlier-expiring timer of a caller is left alone.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        # Signals reach only the main thread (and Windows has no setitimer): there, e.g. in a
        # Dask worker thread, the linear-time patterns are the only guard.
        yield
        return
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay <= seconds:
        yield  # a caller's alarm goes off first anyway
        return
    previous = signal.signal(signal.SIGALRM, _over_budget)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
            if outer_delay:
                left = max(outer_delay - (time.monotonic() - started), 1e-6)
                signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


def _apply_sidecar(path: Path, docs: list[Document]) -> tuple[list[Document], str | None]:
    side = sidecar_for(path)
    if side is None:
        return docs, None
    try:
        values = read_sidecar(side)
    except HelpersError:
        return docs, f"sidecar {side.name} not applied (see its row)"
    if len(docs) != 1:
        return docs, f"sidecar {side.name} not applied: the file holds {len(docs)} records"
    doc = docs[0]
    merged = doc.model_dump()
    merged.update(values)
    if "date" in values and "year" not in values:
        m = re.match(r"(\d{4})", str(values["date"]))
        merged["year"] = int(m.group(1)) if m else merged.get("year")
    merged["curated_fields"] = sorted(values)
    return [Document(**merged)], f"sidecar {side.name} supplied: {', '.join(sorted(values))}"


def _sidecar_row(path: Path, stems: set[Path]) -> ManifestRow:
    name = display_path(path)
    target = path.parent.resolve() / document_stem(path)
    if target not in stems:
        return ManifestRow(
            source_file=name,
            status="skipped",
            reason=f"sidecar without a document named {document_stem(path)}.* beside it; rename it or add the document",
        )
    try:
        values = read_sidecar(path)
    except HelpersError as exc:
        return ManifestRow(source_file=name, status="error", reason=str(exc))
    return ManifestRow(
        source_file=name,
        status="parsed",
        format="sidecar",
        reason=f"curated fields for {document_stem(path)}: {', '.join(sorted(values)) or 'none'}",
    )
