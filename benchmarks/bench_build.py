"""Build benchmark, measured side by side in one run on the shipped seeds.

1. full build (`python -m helpers build`: parallel workers, cold cache) against the naive loop a
   user would write: `papermill` then `jupyter nbconvert --to html --no-input` per notebook run
   (the same runs, including one per disease) — target: at most 0.5x the naive time;
2. a no-op rebuild (nothing changed) — target: under 1 s, CLI start-up included;
3. a rebuild after changing one seed file (seeds/evidence/trials.csv) — only the notebook runs
   that depend on it execute again.

Runs on a copy of the project (WORKBOOK_ROOT) so the working tree is untouched.
Usage: python benchmarks/bench_build.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def copy_project(dest: Path) -> Path:
    for name in ("notebooks", "seeds"):
        shutil.copytree(
            REPO / name, dest / name, ignore=shutil.ignore_patterns("*.executing.ipynb", ".ipynb_checkpoints")
        )
    shutil.copy(REPO / "requirements.lock", dest / "requirements.lock")
    return dest


def env_for(root: Path) -> dict:
    env = dict(os.environ, WORKBOOK_ROOT=str(root), SOURCE_DATE_EPOCH="0", CI="1")
    return env


def timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def planned_runs(root: Path) -> list[tuple[str, dict, str]]:
    code = (
        "import json; from helpers.report.build import jobs_for, discover; "
        "print(json.dumps([[str(j.notebook), j.parameters, j.key] for j in jobs_for(discover())]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env_for(root), capture_output=True, text=True, check=True)
    return [tuple(x) for x in json.loads(out.stdout)]


def naive_loop(root: Path, runs: list[tuple[str, dict, str]]) -> float:
    out = root / "naive"
    out.mkdir()
    env = env_for(root)
    start = time.perf_counter()
    for notebook, params, key in runs:
        args = [
            str(BIN / "papermill"),
            notebook,
            str(out / f"{key}.ipynb"),
            "--cwd",
            str(Path(notebook).parent),
            "--no-progress-bar",
            "-k",
            "python3",
        ]
        for k, v in params.items():
            args += ["-p", k, str(v)]
        timed(args, env, root)
        timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out / f"{key}.ipynb")], env, root)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_project(Path(tmp) / "project")
        env = env_for(root)
        build = [sys.executable, "-m", "helpers", "build", "--out", str(root / "reports")]
        runs = planned_runs(root)
        print(f"notebook runs per build: {len(runs)} ({len({r[0] for r in runs})} notebooks)")

        naive = naive_loop(root, runs)
        full, _ = timed(build, env, root)
        noop, noop_out = timed(build, env, root)
        trials = root / "seeds" / "evidence" / "trials.csv"
        trials.write_text(trials.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        touched, touched_out = timed(build, env, root)

        print(f"naive loop (papermill + nbconvert per run): {naive:8.2f} s   [baseline]")
        print(
            f"helpers build, cold cache:                  {full:8.2f} s   = {full / naive:.2f}x naive (target <= 0.50x)"
        )
        print(
            f"helpers build, nothing changed:             {noop:8.2f} s   = {noop / naive:.3f}x naive (target < 1 s) "
            f"-> {noop_out.strip()}"
        )
        print(
            f"helpers build, trials.csv changed:          {touched:8.2f} s   = {touched / naive:.2f}x naive "
            f"-> {touched_out.strip()}"
        )


if __name__ == "__main__":
    main()
