"""The text encoding of a bibliographic export, and its lines decoded one at a time.

Exports come as UTF-8 (with or without a byte-order mark), UTF-16 (Windows tools write it with a
mark; some without) and, from older desktop tools, Windows-1252. The encoding is guessed from the
first bytes; lines are then decoded one at a time, so a file is never held whole. A line that is not
valid UTF-8 is read as cp1252 (latin-1 for the five bytes cp1252 leaves undefined) rather than
dropped, and the first such line is remembered so the reader can say so.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path

SAMPLE = 1 << 18  # bytes looked at to guess the encoding and the format
FALLBACK = "cp1252"
FALLBACK_NOTE = "not UTF-8: read as cp1252 (Windows Latin-1); re-export as UTF-8 if accents look wrong"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _utf16_without_mark(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte of an ASCII-looking head is zero, else None."""
    sample = head[:4096] if len(head) % 2 == 0 else head[: min(4096, len(head) - 1)]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def sniff(head: bytes) -> str | None:
    """The encoding of a file from its first bytes, or None when it looks binary."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    if b"\x00" in head[:4096]:
        return _utf16_without_mark(head)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut by the end of the sample
            return FALLBACK
    return "utf-8"


def decode_sample(head: bytes, encoding: str) -> str:
    """The head of a file as text (a character cut by the end of the sample is dropped)."""
    if encoding.startswith("utf-16"):
        head = head[: len(head) - len(head) % 2]
    return head.decode(encoding if encoding != FALLBACK else "cp1252", errors="ignore")


def decode_line(raw: bytes) -> tuple[str, bool]:
    """(text, fell back): UTF-8 when the bytes are UTF-8, otherwise cp1252 (latin-1 where cp1252 has no character)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode(FALLBACK), True
    except UnicodeDecodeError:
        return raw.decode("latin-1"), True


class TextLines:
    """The lines of a text file (without line ends), decoded one at a time.

    ``first_fallback`` is the 1-based number of the first line that was not UTF-8, or None.
    """

    def __init__(self, path: Path, encoding: str) -> None:
        self.path, self.encoding = path, encoding
        self.first_fallback: int | None = None
        self.number = 0  # lines read so far

    def __iter__(self) -> Iterator[str]:
        with open(self.path, "rb") as handle:
            if self.encoding.startswith("utf-16"):
                text = io.TextIOWrapper(handle, encoding=self.encoding, errors="replace", newline=None)
                for line in text:
                    self.number += 1
                    yield line.rstrip("\r\n").lstrip("\ufeff") if self.number == 1 else line.rstrip("\r\n")
                return
            for raw in handle:
                self.number += 1
                if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                line, fell_back = decode_line(raw.rstrip(b"\r\n"))
                if fell_back and self.first_fallback is None:
                    self.first_fallback = self.number
                yield line


def read_text(path: Path, encoding: str) -> tuple[str, int | None]:
    """(whole text, first line that was not UTF-8 or None) of a file read whole."""
    lines = TextLines(path, encoding)
    text = "\n".join(lines)
    return text, lines.first_fallback


def fallback_note(line: int) -> str:
    """The note a reader gives when a line of a file that looked like UTF-8 is not."""
    return f"line {line} is {FALLBACK_NOTE}; the record is kept"
