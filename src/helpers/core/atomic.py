"""Writes that are never half done: temporary file, flush, validate, rename, under a lock.

Everything the workbook writes that a person curated or that later runs rely on (evidence
tables, the seed manifest, generated docs, cached snapshots) goes through
:func:`write_atomically`. A writer killed mid-write leaves the old file as it was (plus, at
worst, a stray ``.<name>.*.tmp`` that the next write of the same file removes); a second
writer of the same file waits for the lock and, if it cannot get it in time, stops with a
message naming the file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from helpers.core.errors import HelpersError

LOCK_TIMEOUT = 30.0  # seconds a writer waits for another writer of the same file


class WriteError(HelpersError):
    """A file could not be written safely (locked by another writer, or its new content is invalid)."""


def _lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the write lock of path (a ``.<name>.lock`` file beside it) for the duration of a with-block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(_lock_path(path)))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WriteError(
            f"{path}: another process is writing this file (lock {_lock_path(path).name}); "
            "wait until it has finished and try again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _chunks(data: bytes | str | Iterable[bytes]) -> Iterable[bytes]:
    if isinstance(data, str):
        return [data.encode("utf-8")]
    if isinstance(data, bytes):
        return [data]
    return data


def write_atomically(
    path: Path,
    data: bytes | str | Iterable[bytes],
    validate: Callable[[Path], None] | None = None,
    timeout: float = LOCK_TIMEOUT,
) -> Path:
    """Replace path by data (text is written as UTF-8) only once all of it is on disk and valid.

    ``validate`` is called on the temporary file before it replaces the old one; whatever it
    raises leaves the old file untouched (the temporary file is removed).
    """
    path = Path(path)
    with locked(path, timeout):
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)  # left by a writer that was killed; we hold the lock
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as handle:
                for chunk in _chunks(data):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if validate is not None:
                validate(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path
