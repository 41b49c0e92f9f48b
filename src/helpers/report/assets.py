"""CSS and JavaScript inlined into every published page (offline: nothing is fetched)."""

from __future__ import annotations

import base64
import hashlib

CSS = """
body { margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 0 1.2rem 2rem; }
.wb-nav { background: #12395b; color: #fff; padding: .6rem 1.2rem; font: 600 14px/1.4 system-ui, sans-serif; }
.wb-nav a { color: #fff; text-decoration: none; }
.wb-footer { border-top: 1px solid #ccc; margin-top: 2rem; padding-top: .6rem; color: #555; font: 12px/1.5 system-ui, sans-serif; }
.wb-footer code { background: #f3f3f3; padding: 0 .25rem; }
table.wb-table { border-collapse: collapse; font: 12px/1.4 system-ui, sans-serif; margin: .6rem 0 1rem; }
table.wb-table caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
table.wb-table th, table.wb-table td, .jp-RenderedHTMLCommon table.wb-table th, .jp-RenderedHTMLCommon table.wb-table td { border: 1px solid #d6d6d6; padding: .25rem .45rem; vertical-align: top; text-align: left; max-width: 28rem; }
.jp-RenderedHTMLCommon table.wb-table td.num, table.wb-table td.num { text-align: right; }
table.wb-table th { background: #eef3f8; position: relative; }
table.sortable th { cursor: pointer; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
table.wb-table td.long, .jp-RenderedHTMLCommon table.wb-table td.long { min-width: 16rem; }
table.wb-table td.na { color: #8a8a8a; font-style: italic; }
.wb-columns { display: flex; gap: 1rem; align-items: flex-start; }
.wb-col { flex: 1 1 0; min-width: 0; border: 1px solid #ddd; border-radius: 4px; padding: .5rem .8rem; font: 13px/1.5 system-ui, sans-serif; }
.wb-col h4 { margin: .2rem 0 .4rem; font-size: 13px; }
.wb-narrative { font: 14px/1.6 system-ui, sans-serif; background: #f7f9fb; border-left: 3px solid #1b6ca8; padding: .6rem .9rem; }
.wb-status-error { color: #a40000; font-weight: 600; }
.wb-index { font: 15px/1.6 system-ui, sans-serif; max-width: 980px; margin: 0 auto; padding: 1rem 1.2rem 2rem; }
.wb-index h1 { font-size: 24px; }
.wb-index li { margin: .4rem 0; }
.wb-index .desc { color: #444; font-size: 14px; }
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? cmp : -cmp;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def script_hash(js: str = SORT_JS) -> str:
    """CSP hash of the one inline script the pages are allowed to run."""
    return "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")


def csp(js: str = SORT_JS) -> str:
    """Content-Security-Policy: no network at all, inline styles, only our own script."""
    return f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{script_hash(js)}'; base-uri 'none'; form-action 'none'"
