"""GLMM fit time against R's metafor, on the same data in the same run.

For 10, 100 and 1,000 studies (simulated CAR-T-like series: 2–40 patients, response around 85%
with between-study spread), both sides fit the binomial-normal model of single proportions:

* baseline: ``metafor::rma.glmm(measure="PLO")`` (lme4::glmer, 7-point adaptive quadrature),
  timed with ``system.time`` around the fit only (R start-up and data loading not counted);
* ours: ``helpers.synthesis.meta.glmm_fit`` timed around the call only (best of several runs,
  as R's timing is also taken on a warm session).

Prints one line per size with both times and the ratio ours / metafor (target: below 1 at every
size) and the largest difference in the pooled estimate on the proportion scale.
Usage: python benchmarks/bench_glmm.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import special

from helpers.synthesis.meta import pool

SIZES = (10, 100, 1000)
R_CODE = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
fit <- rma.glmm(measure="PLO", xi=d$x, ni=d$n)  # warm-up (loads lme4)
best <- Inf
for (i in seq_len(reps)) {
  t <- system.time(fit <- rma.glmm(measure="PLO", xi=d$x, ni=d$n))[["elapsed"]]
  best <- min(best, t)
}
p <- predict(fit, transf=transf.ilogit)
cat(sprintf("%.6f %.10f\n", best, p$pred))
"""


def simulate(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k series: sizes 2–40, logit response ~ N(logit 0.85, 0.6²)."""
    rng = np.random.default_rng(seed)
    n = rng.integers(2, 41, size=k)
    p = special.expit(rng.normal(special.logit(0.85), 0.6, size=k))
    return rng.binomial(n, p), n


def ours(x: np.ndarray, n: np.ndarray, repeat: int) -> tuple[float, float]:
    """(best seconds, pooled estimate) of our GLMM fit."""
    best, fit = float("inf"), None
    for _ in range(repeat + 1):  # the first run also warms caches, as R's warm-up fit does
        start = time.perf_counter()
        fit = pool(x, n, "glmm")
        best = min(best, time.perf_counter() - start)
    return best, fit.estimate


def metafor(x: np.ndarray, n: np.ndarray, repeat: int, folder: Path) -> tuple[float, float]:
    """(best seconds, pooled estimate) of metafor's rma.glmm, timed inside R."""
    data = folder / f"k{len(x)}.csv"
    data.write_text("x,n\n" + "".join(f"{a},{b}\n" for a, b in zip(x, n, strict=True)))
    script = folder / "fit.R"
    script.write_text(R_CODE)
    out = subprocess.run(
        ["Rscript", str(script), str(data), str(repeat)], capture_output=True, text=True, check=True, timeout=3600
    )
    seconds, estimate = out.stdout.split()
    return float(seconds), float(estimate)


def main() -> int:
    """Run the comparison and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side (best is kept)")
    args = parser.parse_args()
    if shutil.which("Rscript") is None:
        print("Rscript not found: install r-base-core r-cran-metafor r-cran-lme4 (make setup does)", file=sys.stderr)
        return 1
    print("GLMM fit of single proportions: ours (helpers.synthesis.meta) vs metafor::rma.glmm, fit only")
    print(f"{'studies':>8} {'metafor s':>10} {'ours s':>10} {'ours/metafor':>13} {'|Δ estimate|':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, k in enumerate(SIZES):
            x, n = simulate(k, seed=20261203 + i)
            r_time, r_est = metafor(x, n, args.repeat, Path(tmp))
            o_time, o_est = ours(x, n, args.repeat)
            print(f"{k:>8} {r_time:>10.4f} {o_time:>10.4f} {o_time / r_time:>13.3f} {abs(o_est - r_est):>13.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
