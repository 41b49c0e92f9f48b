"""Content hashes: of files and folders (inputs), and of the code that turns inputs into pages."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from helpers.core.paths import ROOT

PACKAGE = Path(__file__).resolve().parents[1]  # the whole helpers package
SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})


def files_under(path: Path) -> list[Path]:
    """The files a path stands for (itself, or every file below a folder), in a stable order."""
    if path.is_dir():
        return sorted(
            q
            for q in path.rglob("*")
            if q.is_file() and not SKIPPED_PARTS & set(q.parts) and not q.name.startswith(".")
        )
    return [path] if path.exists() else []


def update_with_paths(h: hashlib._Hash, paths: Iterable[Path]) -> None:
    """Feed names (relative to each given path) and bytes of every file under paths into h."""
    for p in paths:
        for f in files_under(p):
            name = f.relative_to(p).as_posix() if p.is_dir() else f.name
            h.update(p.name.encode() + b"/" + name.encode() + b"\0" + f.read_bytes() + b"\0")


def digest_paths(paths: Iterable[Path], salt: str = "") -> str:
    """Hex sha256 over the names and bytes of every file under paths (missing paths add nothing)."""
    h = hashlib.sha256(salt.encode())
    update_with_paths(h, paths)
    return h.hexdigest()


def code_digest() -> str:
    """Everything that can change an output besides data: the helpers package and the lock file."""
    return digest_paths([PACKAGE, ROOT / "requirements.lock"], salt="code-1")
