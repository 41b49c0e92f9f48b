"""Execute the notebooks with papermill, clean them for byte-stable output, convert them to
static offline HTML and write the site index."""

from __future__ import annotations

import html
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from . import __version__
from .assets_text import CSS, SORT_JS, csp
from .display import cell_text
from .errors import BuildError
from .paths import NOTEBOOKS, REPORTS, ROOT, display_path
from .seeds import manifest_digest

TEMPLATES = Path(__file__).resolve().parent / "templates"
KERNEL = "python3"


@dataclass(frozen=True)
class Job:
    """One notebook run: the notebook, its parameters and where its page goes."""

    notebook: Path
    page: str  # path of the HTML page relative to the site root, e.g. "01-corpus.html"
    title: str
    parameters: dict = field(default_factory=dict)


@dataclass
class Page:
    job: Job
    description: str


def discover(folder: Path = NOTEBOOKS) -> list[Path]:
    """Notebooks in run order (numbered file names)."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> tuple[str, str]:
    """(title, one-line description) from the first markdown cell: `# Title` then a paragraph."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip()]
            title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("# ")), fallback)
            desc = next((ln for ln in lines if not ln.startswith("#")), "")
            return title, desc
    return fallback, ""


def clean(nb: nbformat.NotebookNode, title: str) -> nbformat.NotebookNode:
    """Drop run-specific metadata so the same inputs give the same bytes."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = title
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
        elif not cell.get("id"):
            cell["id"] = f"cell-{i:03d}"
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)
    return nb


def execute(job: Job, out_path: Path) -> nbformat.NotebookNode:
    """Run one notebook with papermill; a failure raises BuildError naming notebook and cell."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    env_before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        papermill.execute_notebook(
            str(job.notebook), str(out_path), parameters=job.parameters or None, kernel_name=KERNEL,
            cwd=str(job.notebook.parent), progress_bar=False, log_output=False, record_timing=False,
        )
    except papermill.PapermillExecutionError as exc:
        raise BuildError(
            f"{display_path(job.notebook)} failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue}); "
            f"the executed notebook with the error is kept at {display_path(out_path)}"
        ) from None
    finally:
        if env_before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
    nb = nbformat.read(out_path, as_version=4)
    nb = clean(nb, job.title)
    nbformat.write(nb, out_path)
    return nb


def footer_html(job: Job, root_prefix: str) -> str:
    params = job.parameters or declared_parameters(job.notebook)
    shown = ", ".join(f"<code>{html.escape(k)}={html.escape(cell_text(v))}</code>" for k, v in sorted(params.items()))
    return (
        f"Notebook <code>{html.escape(display_path(job.notebook))}</code> · parameters: {shown or 'defaults'} · "
        f"data snapshot: seed manifest <code>{manifest_digest()}</code> · helpers {html.escape(__version__)} · "
        f'<a href="{root_prefix}index.html">all reports</a>'
    )


def declared_parameters(notebook: Path) -> dict:
    """Default values from a notebook's `parameters` cell (literals only)."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            values: dict = {}
            exec(compile(cell.source, str(notebook), "exec"), {}, values)  # literals only, by contract
            return {k: v for k, v in values.items() if not k.startswith("_")}
    return {}


def to_html(nb: nbformat.NotebookNode, job: Job) -> str:
    """Static HTML: code hidden, figures embedded, no CDN, our CSS/JS and a strict CSP."""
    depth = job.page.count("/")
    root_prefix = "../" * depth
    exporter = HTMLExporter(template_name="workbook", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    resources = {
        "workbook_css": CSS, "workbook_js": SORT_JS, "workbook_csp": csp(), "workbook_title": job.title,
        "workbook_root": root_prefix, "workbook_footer": footer_html(job, root_prefix),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def index_html(pages: list[Page]) -> str:
    items = "".join(
        f'<li><a href="{html.escape(p.job.page)}">{html.escape(p.job.title)}</a>'
        f'<div class="desc">{html.escape(p.description)}</div></li>'
        for p in pages
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp()}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">"
        f"<title>CAR-T evidence workbook</title><style>{CSS}</style></head><body>"
        "<nav class=\"wb-nav\"><a href=\"index.html\">CAR-T evidence workbook</a></nav>"
        "<div class=\"wb-index\"><h1>CAR-T cell therapy in autoimmune rheumatic diseases: evidence workbook</h1>"
        "<p>Reports built from the shipped seeds and curated tables. Each page shows the parameters and data "
        "snapshot it was built from.</p>"
        f"<ul>{items}</ul>"
        f"<p class=\"desc\">Data snapshot: seed manifest <code>{manifest_digest()}</code> · helpers {html.escape(__version__)}</p>"
        "</div></body></html>\n"
    )


def jobs_for(notebooks: list[Path]) -> list[Job]:
    jobs = []
    for nb_path in notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        title, _ = notebook_title(nb, nb_path.stem)
        jobs.append(Job(notebook=nb_path, page=f"{nb_path.stem}.html", title=title))
    return jobs


def build(out_dir: Path = REPORTS, work_dir: Path | None = None, notebooks: list[Path] | None = None) -> list[Path]:
    """Execute every notebook and write the HTML site into out_dir; returns the pages written."""
    work_dir = work_dir or ROOT / "build"
    jobs = jobs_for(notebooks if notebooks is not None else discover())
    out_dir.mkdir(parents=True, exist_ok=True)
    pages, written = [], []
    for job in jobs:
        nb = execute(job, work_dir / "executed" / f"{Path(job.page).stem}.ipynb")
        target = out_dir / job.page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_html(nb, job), encoding="utf-8")
        written.append(target)
        pages.append(Page(job, notebook_title(nb, job.title)[1]))
    index = out_dir / "index.html"
    index.write_text(index_html(pages), encoding="utf-8")
    written.append(index)
    return written


def refresh(notebooks: list[Path] | None = None) -> list[Path]:
    """Re-execute notebooks in place with their default parameters (their committed outputs)."""
    done = []
    for job in jobs_for(notebooks if notebooks is not None else discover()):
        tmp = job.notebook.with_suffix(".executing.ipynb")
        try:
            execute(job, tmp)
            shutil.move(tmp, job.notebook)
        finally:
            tmp.unlink(missing_ok=True)
        done.append(job.notebook)
    return done


def dumps_json(data: object) -> str:
    """Deterministic JSON for CLI output."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2)
