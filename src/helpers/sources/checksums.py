"""The seed manifest (`seeds/manifest.csv`: file, sha256, bytes) and its verification."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from helpers.core.atomic import write_atomically
from helpers.core.paths import ROOT, SEED_MANIFEST, SEEDS, display_path

MANIFEST_FIELDS = ("file", "sha256", "bytes")


@dataclass(frozen=True)
class SeedProblem:
    """One seed file that is missing or changed, and what to do about it."""

    file: str
    problem: str


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_manifest(manifest: Path = SEED_MANIFEST) -> dict[str, str]:
    """file (relative to the project root) -> sha256. Empty when there is no manifest."""
    if not manifest.exists():
        return {}
    with manifest.open(encoding="utf-8", newline="") as fh:
        return {row["file"]: row["sha256"] for row in csv.DictReader(fh)}


def write_manifest(folder: Path = SEEDS / "documents", manifest: Path = SEED_MANIFEST) -> list[str]:
    """Record the checksum of every file in folder; returns the files written."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    buffer = io.StringIO()
    w = csv.writer(buffer, lineterminator="\n")
    w.writerow(MANIFEST_FIELDS)
    for p in files:
        w.writerow([display_path(p), sha256_of(p), p.stat().st_size])
    write_atomically(manifest, buffer.getvalue())
    return [display_path(p) for p in files]


def verify(manifest: Path = SEED_MANIFEST) -> list[SeedProblem]:
    """Seeds that are missing or whose bytes changed since the manifest was written."""
    problems = []
    for rel, expected in sorted(load_manifest(manifest).items()):
        path = ROOT / rel
        if not path.exists():
            problems.append(SeedProblem(rel, "listed in seeds/manifest.csv but missing on disk; restore it from git"))
        elif sha256_of(path) != expected:
            problems.append(
                SeedProblem(
                    rel,
                    "changed on disk: its sha256 differs from seeds/manifest.csv; restore it "
                    "(git checkout) or, if the change is intended, run "
                    "`python -m helpers seeds --update`",
                )
            )
    return problems
