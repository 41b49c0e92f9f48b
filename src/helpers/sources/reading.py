"""Turn a file's bytes into text, or explain exactly why it cannot be read."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from helpers.core.errors import IngestError
from helpers.core.paths import display_path

DEFAULT_MAX_MB = 20.0

_MAGIC = {
    b"%PDF": "a PDF",
    b"PK\x03\x04": "a ZIP archive (e.g. .docx/.xlsx)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
}


@dataclass(frozen=True)
class DecodedText:
    """A file's text and the encoding it was read with."""

    text: str
    encoding: str
    size: int


def read_text(path: Path, max_mb: float = DEFAULT_MAX_MB) -> DecodedText:
    """Read a document file as text; raise IngestError naming the file and the fix."""
    name = display_path(path)
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{name}: the file is empty (0 bytes); re-export the page or remove the file.")
    if size > max_mb * 1024 * 1024:
        raise IngestError(
            f"{name}: the file is {size / 1024 / 1024:.1f} MB, above the {max_mb:g} MB limit for one document; "
            "split the export into smaller files or raise the limit (--max-mb / max_mb parameter)."
        )
    raw = path.read_bytes()
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            raise IngestError(
                f"{name}: this is {kind}, not a text page; save the page as text (UTF-8) and add that file instead."
            )
    text, encoding = _decode(raw, name)
    if not text.strip():
        raise IngestError(f"{name}: the file holds only whitespace; re-export the page or remove the file.")
    return DecodedText(text=text.replace("\r\n", "\n").replace("\r", "\n"), encoding=encoding, size=size)


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(raw, "utf-16", name), "utf-16"
    if b"\x00" in raw[:4096]:
        # UTF-16 without a BOM shows a NUL in every other byte of ASCII text.
        for enc in ("utf-16-le", "utf-16-be"):
            half = raw[1::2] if enc == "utf-16-le" else raw[0::2]
            if half.count(0) > 0.9 * len(half):
                return _strict(raw, enc, name), enc
        raise IngestError(f"{name}: binary content (NUL bytes), not a text page; export the document as UTF-8 text.")
    try:
        text = raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        encoding = "cp1252"
    if _control_share(text) > 0.05:
        raise IngestError(
            f"{name}: binary content (control characters), not a text page; export the document as UTF-8 text."
        )
    return text, encoding


def _strict(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{name}: looks like {encoding} but is truncated or corrupt at byte {exc.start}; re-export it as UTF-8."
        ) from exc


def _control_share(text: str) -> float:
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f" or 0x80 <= ord(ch) < 0xA0 or ch == "\ufffd")
    return bad / max(len(sample), 1)
