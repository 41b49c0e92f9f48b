"""Headless Chromium (Debian's package) driven by Playwright, on pages served from 127.0.0.1."""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve folder on a free loopback port; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextlib.contextmanager
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            "Debian's chromium is not installed: run `make setup` (apt-get install chromium chromium-driver)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def visit(b: object, url: str, action=None) -> tuple[Visit, object]:
    """Open url in a fresh page, recording console messages, requests, errors and dialogs."""
    page = b.new_page()
    record = Visit(url)
    page.on("console", lambda m: record.console.append((m.type, m.text)))
    page.on("request", lambda r: record.requests.append(r.url))
    page.on("pageerror", lambda e: record.page_errors.append(str(e)))
    page.on("dialog", lambda d: (record.dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)
    result = action(page) if action else None
    page.close()
    return record, result
