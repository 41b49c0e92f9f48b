"""Build the site: execute notebooks with papermill (in parallel, skipping unchanged ones),
clean them for byte-stable output, convert them to static offline HTML, write the index.

The no-op path (nothing changed) imports nothing heavy: fingerprints are plain sha256 over
the inputs, and cached pages are copied into place. The snapshot id is stamped into every page
when the site is assembled, so a page whose own inputs did not change is reused as it is."""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import sys
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers import __version__
from helpers.core.digests import code_digest, digest_paths, update_with_paths
from helpers.core.errors import BuildError
from helpers.core.paths import NOTEBOOKS, REPORTS, ROOT, SEEDS, display_path
from helpers.report.assets import CSS, SORT_JS, csp

TEMPLATES = Path(__file__).resolve().parent / "templates"
KERNEL = "python3"
CACHE_FORMAT = "2"
SNAPSHOT_MARK = "<!--wb:snapshot-id-->"  # replaced by the snapshot id when the site is assembled
ALWAYS_READ = ("schema", "vocabulary")  # every page reads its codes and labels from these
# Inputs a page may depend on that are not part of the snapshot (so not in its id): the example library
# exports notebook 06 builds its library from.
PAGE_INPUTS = {"library": [SEEDS / "library"]}


def page_input_digests() -> dict[str, str]:
    """One content hash per page input group outside the snapshot (see ``PAGE_INPUTS``)."""
    return {group: digest_paths(paths, salt=group) for group, paths in PAGE_INPUTS.items()}


@dataclass(frozen=True)
class Job:
    """One notebook run: the notebook, its parameters and where its page goes."""

    notebook: Path
    page: str  # page path relative to the site root, e.g. "01-corpus.html" or "diseases/SSc.html"
    title: str
    parameters: dict = field(default_factory=dict)
    depends: tuple[str, ...] = ("documents", "vocabulary", "clinical", "trials", "published")
    group: str = "notebooks"  # "notebooks" or "diseases": where the index lists it
    summary: str = ""

    @property
    def key(self) -> str:
        """The page path as a flat file name, used to name its cache and executed notebook."""
        return self.page.replace("/", "__").removesuffix(".html")


@dataclass
class BuildReport:
    """What a build wrote, which pages it executed and which it reused from the cache."""

    written: list[Path]
    ran: list[str]
    reused: list[str]


@dataclass
class Outcome:
    """A planned page, whether this build ran it, and its one-line description for the index."""

    job: Job
    ran: bool
    description: str


# ---------------------------------------------------------------- notebook metadata (no nbformat)


def discover(folder: Path = NOTEBOOKS) -> list[Path]:
    """Notebooks in run order (numbered file names)."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_title(nb: dict, fallback: str) -> tuple[str, str]:
    """(title, one-line description) from the first markdown cell: `# Title` then a paragraph."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            lines = [ln.strip() for ln in source.splitlines() if ln.strip()]
            title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("# ")), fallback)
            desc = next((ln for ln in lines if not ln.startswith("#")), "")
            return title, _plain(desc)
    return fallback, ""


def _plain(markdown: str) -> str:
    """Markdown inline markup removed (for the index's one-line descriptions)."""
    import re

    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"`|\*", "", text)


def declared_parameters(notebook: Path) -> dict:
    """Default values from a notebook's `parameters` cell (literals only, by contract)."""
    import ast

    for cell in _read_json(notebook).get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            values = {}
            for node in ast.parse(source).body:
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                    values[node.target.id] = ast.literal_eval(node.value)
            values.pop("output_dir", None)  # where files go, not what the page shows
            return values
    return {}


def _disease_sets(work_dir: Path | None) -> list:
    """The per-disease parameter sets, cached under work_dir by snapshot id and code (computing them
    means loading the snapshot: too slow for a no-op rebuild)."""
    from helpers.evidence.inputs import current_snapshot_id

    cache = None
    if work_dir is not None:
        key = hashlib.sha256(f"{current_snapshot_id()}|{code_digest()}".encode()).hexdigest()[:16]
        cache = work_dir / "cache" / f"disease-sets-{key}.json"
        if cache.exists():
            return [tuple(x) for x in json.loads(cache.read_text(encoding="utf-8"))]
    from helpers.evidence.snapshot import load_snapshot
    from helpers.synthesis.diseases import disease_parameter_sets

    sets = disease_parameter_sets(load_snapshot())
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(sets, sort_keys=True), encoding="utf-8")
    return sets


PARAMETER_SETS = "parameter-sets.yaml"
SLUG_RE = r"[a-z0-9][a-z0-9-]*"


def parameter_set_jobs(notebooks: list[Path], file: Path | None = None) -> list[Job]:
    """The extra pages of ``notebooks/parameter-sets.yaml`` whose notebook is in ``notebooks``.

    Each entry names a notebook, a slug, a title and parameters the notebook declares; anything
    else is a BuildError naming the file and the entry."""
    import re

    import yaml

    file = file or (notebooks[0].parent if notebooks else NOTEBOOKS) / PARAMETER_SETS
    if not file.exists():
        return []
    where = display_path(file)
    try:
        entries = yaml.safe_load(file.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise BuildError(f"{where}: not valid YAML ({exc.__class__.__name__}); fix the file") from None
    if not isinstance(entries, list):
        raise BuildError(f"{where}: expected a list of entries (notebook, slug, title, parameters)")
    by_name = {p.name: p for p in notebooks}
    jobs, slugs = [], set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != {"notebook", "slug", "title", "parameters"}:
            raise BuildError(f"{where}, entry {i}: needs exactly notebook, slug, title and parameters")
        slug, params = str(entry["slug"]), entry["parameters"]
        if not re.fullmatch(SLUG_RE, slug) or slug in slugs:
            raise BuildError(f"{where}, entry {i}: slug {slug!r} must be unique, lower-case letters, digits, '-'")
        slugs.add(slug)
        nb_path = by_name.get(str(entry["notebook"]))
        if nb_path is None:
            continue  # a build of other notebooks
        unknown = sorted(set(params or {}) - set(declared_parameters(nb_path)))
        if not isinstance(params, dict) or unknown:
            raise BuildError(f"{where}, entry {i}: {nb_path.name} has no parameter(s) {', '.join(unknown)}")
        depends = tuple(_read_json(nb_path).get("metadata", {}).get("workbook", {}).get("depends", Job.depends))
        jobs.append(Job(nb_path, f"sensitivity/{slug}.html", str(entry["title"]), params, depends, "sensitivity"))
    return jobs


def jobs_for(notebooks: list[Path], work_dir: Path | None = None) -> list[Job]:
    """One job per notebook, or one per disease for notebooks whose metadata says `per: disease`,
    plus the extra pages of ``notebooks/parameter-sets.yaml``."""
    jobs = []
    for nb_path in notebooks:
        nb = _read_json(nb_path)
        meta = nb.get("metadata", {}).get("workbook", {})
        title, _ = notebook_title(nb, nb_path.stem)
        depends = tuple(meta.get("depends", Job.depends))
        if meta.get("per") == "disease":
            for params, label, summary in _disease_sets(work_dir):
                jobs.append(
                    Job(
                        nb_path,
                        f"diseases/{params['disease']}.html",
                        f"{label}: CAR-T evidence",
                        params,
                        depends,
                        "diseases",
                        summary,
                    )
                )
        else:
            jobs.append(Job(nb_path, f"{nb_path.stem}.html", title, {}, depends))
    return jobs + parameter_set_jobs(notebooks)


# ---------------------------------------------------------------- fingerprints and cache


def fingerprint(job: Job, code: str, inputs: dict[str, str]) -> str:
    """What decides a page: the code, the job, the notebook's bytes and the inputs it reads."""
    h = hashlib.sha256(code.encode())
    h.update(json.dumps({**asdict(job), "notebook": display_path(job.notebook)}, sort_keys=True, default=str).encode())
    update_with_paths(h, [job.notebook])
    for group in sorted(set(job.depends) | set(ALWAYS_READ)):
        if group not in inputs:
            raise BuildError(
                f"{display_path(job.notebook)}: metadata workbook.depends names '{group}'; "
                f"use input groups: {', '.join(sorted(inputs))}"
            )
        h.update(f"{group}={inputs[group]}".encode())
    return h.hexdigest()


def _cache_dir(work_dir: Path, job: Job) -> Path:
    return work_dir / "cache" / job.key


def _cached(work_dir: Path, job: Job, fp: str) -> bool:
    stamp = _cache_dir(work_dir, job) / "fingerprint"
    return stamp.exists() and stamp.read_text() == fp


# ---------------------------------------------------------------- execution (worker side)


def clean(nb, title: str):
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


def execute(job: Job, out_path: Path, outputs: Path | None = None):
    """Run one notebook with papermill; a failure raises BuildError naming notebook and cell.

    ``outputs`` is the folder the notebook writes its figures and tables to (its ``output_dir``).
    """
    import tempfile

    import nbformat
    import papermill

    from helpers.report.kernel import QuietKernelManager, kernel_config

    out_path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        with tempfile.TemporaryDirectory(prefix="wb-kernel-") as sockets:
            papermill.execute_notebook(
                str(job.notebook),
                str(out_path),
                kernel_name=KERNEL,
                parameters={**job.parameters, **({"output_dir": str(outputs)} if outputs else {})} or None,
                cwd=str(job.notebook.parent),
                progress_bar=False,
                log_output=False,
                record_timing=False,
                kernel_manager_class=QuietKernelManager,
                config=kernel_config(Path(sockets)),
            )
    except papermill.PapermillExecutionError as exc:
        raise BuildError(
            f"{display_path(job.notebook)}{_param_text(job)} failed in cell {_source_cell(out_path, exc.exec_count)} "
            f"({exc.ename}: {exc.evalue}); "
            f"the executed notebook with the error is kept at {display_path(out_path)}"
        ) from None
    nb = clean(nbformat.read(out_path, as_version=4), job.title)
    nbformat.write(nb, out_path)
    return nb


def _source_cell(executed: Path, exec_count: int) -> int:
    """The failing cell's number among the notebook's own code cells (the cell papermill injects
    for the parameters is not one of them), from the executed copy."""
    cells = [c for c in _read_json(executed).get("cells", []) if c.get("cell_type") == "code"]
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return exec_count - 1 if injected and injected[0] < exec_count else exec_count


def _param_text(job: Job) -> str:
    return f" (parameters {json.dumps(job.parameters, sort_keys=True)})" if job.parameters else ""


def footer_html(job: Job, root_prefix: str) -> str:
    """The page footer: notebook, its parameters, data snapshot, helpers version and a link home."""
    from helpers.report.tables import cell_text

    params = {**declared_parameters(job.notebook), **job.parameters}
    shown = ", ".join(
        f"<code>{html.escape(k)}={html.escape(cell_text(v) if v != [] else '[]')}</code>"
        for k, v in sorted(params.items())
    )
    return (
        f"Notebook <code>{html.escape(display_path(job.notebook))}</code> · parameters: {shown or 'none'} · "
        f"data snapshot <code>{SNAPSHOT_MARK}</code> · helpers {html.escape(__version__)} · "
        f'<a href="{root_prefix}index.html">all reports</a>'
    )


def to_html(nb, job: Job) -> str:
    """Static HTML: code hidden, figures embedded, no CDN, our CSS/JS and a strict CSP."""
    from nbconvert import HTMLExporter

    root_prefix = "../" * job.page.count("/")
    exporter = HTMLExporter(template_name="workbook", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    resources = {
        "workbook_css": CSS,
        "workbook_js": SORT_JS,
        "workbook_csp": csp(),
        "workbook_title": job.title,
        "workbook_root": root_prefix,
        "workbook_footer": footer_html(job, root_prefix),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def run_job(job: Job, work_dir: Path, fp: str) -> str:
    """Worker: execute, convert and store one job in the cache; returns its description line."""
    cache = _cache_dir(work_dir, job)
    shutil.rmtree(cache, ignore_errors=True)
    (cache / "figures").mkdir(parents=True)
    (cache / "data").mkdir(parents=True)
    nb = execute(job, work_dir / "executed" / f"{job.key}.ipynb", outputs=cache)
    (cache / "page.html").write_text(to_html(nb, job), encoding="utf-8")
    description = job.summary or notebook_title(nb, job.title)[1]
    (cache / "description.txt").write_text(description, encoding="utf-8")
    (cache / "fingerprint").write_text(fp)
    return description


# ---------------------------------------------------------------- the site


REFERENCE_EXPORTS = (("included_studies.ris", "RIS"), ("included_studies.bib", "BibTeX"))


def index_html(outcomes: list[Outcome], exports: tuple[str, ...] = ()) -> str:
    """The site's front page: every notebook page and every disease page, with one line each,
    and the reference exports (RIS, BibTeX) when the build wrote them."""

    def items(group: str) -> str:
        return "".join(
            f'<li><a href="{html.escape(o.job.page)}">{html.escape(o.job.title)}</a>'
            f'<div class="desc">{html.escape(o.description)}</div></li>'
            for o in outcomes
            if o.job.group == group
        )

    diseases = items("diseases")
    disease_block = f"<h2>Reports per disease</h2><ul>{diseases}</ul>" if diseases else ""
    extra = items("sensitivity")
    if extra:
        disease_block += (
            "<h2>Sensitivity pages</h2><p>The clinical evidence page run again with other parameters "
            f"(<code>notebooks/{PARAMETER_SETS}</code>):</p><ul>{extra}</ul>"
        )
    links = [f'<a href="data/{name}">{label}</a>' for name, label in REFERENCE_EXPORTS if name in exports]
    export_block = (
        "<h2>References for your reference manager</h2><p>Every included report and registered trial, "
        f"with authors, title, journal or congress, DOI, PMID and registry link: {' · '.join(links)} "
        "(Zotero, EndNote and Mendeley import both).</p>"
        if links
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
        f"<title>CAR-T evidence workbook</title><style>{CSS}</style></head><body>"
        '<nav class="wb-nav"><a href="index.html">CAR-T evidence workbook</a></nav>'
        '<div class="wb-index"><h1>CAR-T cell therapy in autoimmune rheumatic diseases: evidence workbook</h1>'
        "<p>Reports built from the shipped seeds and curated tables. Each page shows the parameters and data "
        'snapshot it was built from. Every figure is also under <a href="figures/">figures/</a> (SVG and PNG) and '
        'every table under <a href="data/">data/</a> (CSV).</p>'
        f"<h2>Notebook reports</h2><ul>{items('notebooks')}</ul>{disease_block}{export_block}"
        f'<p class="desc">Data snapshot <code>{SNAPSHOT_MARK}</code> · helpers {html.escape(__version__)}</p>'
        "</div></body></html>\n"
    )


def listing_html(folder: Path, title: str) -> str:
    """A static index of a folder's files (figures/, data/) so links resolve offline without a server listing."""
    links = "".join(
        f'<li><a href="{html.escape(p.name)}">{html.escape(p.name)}</a></li>'
        for p in sorted(folder.iterdir())
        if p.name != "index.html"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}"><title>{html.escape(title)}</title>'
        f'<style>{CSS}</style></head><body><nav class="wb-nav"><a href="../index.html">CAR-T evidence workbook</a>'
        f'</nav><div class="wb-index"><h1>{html.escape(title)}</h1><ul>{links}</ul></div></body></html>\n'
    )


def _publish(outcomes: list[Outcome], work_dir: Path, out_dir: Path, snapshot: str) -> list[Path]:
    """Copy cached pages (stamped with the snapshot id), figures and tables into out_dir; remove stale files."""
    for sub in ("figures", "data", "diseases", "sensitivity"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    for stale in [*out_dir.glob("[0-9][0-9]-*.html"), out_dir / "index.html"]:
        stale.unlink(missing_ok=True)
    written = []
    for o in outcomes:
        cache = _cache_dir(work_dir, o.job)
        target = out_dir / o.job.page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_stamp((cache / "page.html").read_text(encoding="utf-8"), snapshot), encoding="utf-8")
        written.append(target)
        prefix = f"{o.job.key.removeprefix('sensitivity__')}__" if o.job.group == "sensitivity" else ""
        for sub in ("figures", "data"):
            for f in sorted((cache / sub).iterdir()):
                if f.name.startswith("."):
                    continue  # write locks and the like: not part of the site
                (out_dir / sub).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, out_dir / sub / f"{prefix}{f.name}")
    for sub, title in (("figures", "Figures (SVG and PNG)"), ("data", "Tables (CSV)")):
        if (out_dir / sub).exists():
            (out_dir / sub / "index.html").write_text(listing_html(out_dir / sub, title), encoding="utf-8")
    index = out_dir / "index.html"
    exports = tuple(name for name, _ in REFERENCE_EXPORTS if (out_dir / "data" / name).exists())
    index.write_text(_stamp(index_html(outcomes, exports), snapshot), encoding="utf-8")
    written.append(index)
    return written


def _stamp(page: str, snapshot: str) -> str:
    return page.replace(SNAPSHOT_MARK, html.escape(snapshot))


def _progress(total: int):
    """A tqdm bar on an interactive terminal; nothing in CI logs or pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="notebooks", unit="nb", file=sys.stderr)


def build(
    out_dir: Path = REPORTS,
    work_dir: Path | None = None,
    notebooks: list[Path] | None = None,
    jobs: int | None = None,
    force: bool = False,
) -> BuildReport:
    """Execute what changed (in parallel), reuse the rest, and write the site into out_dir."""
    work_dir = (work_dir or ROOT / "build").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    from helpers.evidence.inputs import input_digests, snapshot_id

    inputs = input_digests()
    planned = jobs_for(notebooks if notebooks is not None else discover(), work_dir)
    code = code_digest()
    fps = {j.key: fingerprint(j, code, {**inputs, **page_input_digests()}) for j in planned}
    todo = [j for j in planned if force or not _cached(work_dir, j, fps[j.key])]
    ran = {j.key for j in todo}
    if todo:
        from helpers.evidence.snapshot import load_snapshot

        load_snapshot()  # once here, so the notebooks running in parallel all find it in the disk cache
        _run_all(todo, work_dir, fps, jobs)
    outcomes = [
        Outcome(j, j.key in ran, (_cache_dir(work_dir, j) / "description.txt").read_text(encoding="utf-8"))
        for j in planned
    ]
    written = _publish(outcomes, work_dir, out_dir, snapshot_id(inputs))
    return BuildReport(written, sorted(ran), sorted(j.key for j in planned if j.key not in ran))


def _run_all(todo: list[Job], work_dir: Path, fps: dict[str, str], jobs: int | None) -> None:
    bar = _progress(len(todo))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_job, j, work_dir, fps[j.key]): j for j in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in done:
                exc = fut.exception()
                if exc is not None:
                    for other in pending:
                        other.cancel()
                    if bar:
                        bar.close()
                    raise (
                        exc
                        if isinstance(exc, BuildError)
                        else BuildError(f"{display_path(futures[fut].notebook)}: {exc.__class__.__name__}: {exc}")
                    ) from None
                if bar:
                    bar.update(1)
    if bar:
        bar.close()


def refresh(notebooks: list[Path] | None = None) -> list[Path]:
    """Re-execute notebooks in place with their default parameters (their committed outputs)."""
    import nbformat

    done = []
    for nb_path in notebooks if notebooks is not None else discover():
        title, _ = notebook_title(_read_json(nb_path), nb_path.stem)
        tmp = nb_path.with_suffix(".executing.ipynb")
        try:
            nb = execute(Job(nb_path, f"{nb_path.stem}.html", title), tmp)
            nbformat.write(nb, nb_path)
        finally:
            tmp.unlink(missing_ok=True)
        done.append(nb_path)
    return done


def dumps_json(data: object) -> str:
    """Deterministic JSON for CLI output."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2)
