"""Meta-analysis of proportions against R's metafor, live (Rscript in the same run), and the `pool` command.

metafor is the reference: `rma.glmm(measure="PLO")` for the binomial-normal GLMM and
`rma(measure="PLO", method=...)` for inverse-variance pooling, with `predict()` for the
intervals. Nothing here is copied from R's output: both sides run on the same data in the test.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest
from scipy import stats

from helpers.cli import main
from helpers.synthesis.meta import logit_effects, pool, tau2_dl

RSCRIPT = shutil.which("Rscript")

# CAR-T-like sets: small, mostly all-responder series; a 0/n study; a subgroup split
SETS = {
    "cart_twelve": ([5, 8, 15, 4, 6, 3, 7, 5, 2, 6, 3, 2], [5, 8, 15, 5, 7, 3, 8, 6, 2, 6, 4, 4]),
    "with_zero": ([0, 3, 5, 2], [4, 10, 6, 8]),
    "tiny_pair": ([1, 4], [2, 5]),
    "subgroup_cd19": ([5, 15, 6, 7, 2], [5, 15, 7, 8, 2]),
    "subgroup_bcma": ([12, 10, 3], [15, 13, 6]),
    "heterogeneous": ([2, 9, 14, 1, 18, 7], [10, 10, 15, 9, 20, 12]),
}
R_METHODS = {"glmm": None, "dl": "DL", "reml": "REML", "pm": "PM"}

R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
lines <- readLines(args[1])
data(dat.pritz1997, package = "metafor")
pritz <- sprintf("pritz1997 %s %s", paste(dat.pritz1997$xi, collapse=","), paste(dat.pritz1997$ni, collapse=","))
out <- c(paste("DATA", pritz))
for (ln in c(lines, pritz)) {
  parts <- strsplit(ln, " ")[[1]]
  nm <- parts[1]; x <- as.numeric(strsplit(parts[2], ",")[[1]]); n <- as.numeric(strsplit(parts[3], ",")[[1]])
  fits <- list(
    glmm = tryCatch(rma.glmm(measure="PLO", xi=x, ni=n), error=function(e) NULL),
    dl = rma(measure="PLO", xi=x, ni=n, method="DL"),
    reml = rma(measure="PLO", xi=x, ni=n, method="REML"),
    pm = rma(measure="PLO", xi=x, ni=n, method="PM"),
    reml_kh = rma(measure="PLO", xi=x, ni=n, method="REML", test="knha"),
    dl_kh = rma(measure="PLO", xi=x, ni=n, method="DL", test="knha"))
  for (m in names(fits)) {
    f <- fits[[m]]
    if (is.null(f)) { out <- c(out, sprintf("FIT %s %s FAILED", nm, m)); next }
    p <- predict(f, transf=transf.ilogit)
    out <- c(out, sprintf("FIT %s %s %.10f %.10f %.10f %.10f %.10f %.10f", nm, m, p$pred, p$ci.lb, p$ci.ub,
                          p$pi.lb, p$pi.ub, f$tau2))
  }
}
writeLines(out)
"""


@pytest.fixture(scope="module")
def metafor(tmp_path_factory) -> dict:
    """{(set, method): (estimate, ci_low, ci_high, pi_low, pi_high, tau2) or None when metafor fails}, and the data."""
    if RSCRIPT is None:
        pytest.fail("Rscript is missing: `make test` installs Debian's r-base-core r-cran-metafor r-cran-lme4")
    folder = tmp_path_factory.mktemp("metafor")
    (folder / "sets.txt").write_text(
        "\n".join(f"{name} {','.join(map(str, x))} {','.join(map(str, n))}" for name, (x, n) in SETS.items()) + "\n"
    )
    (folder / "fit.R").write_text(R_SCRIPT)
    done = subprocess.run(
        [RSCRIPT, str(folder / "fit.R"), str(folder / "sets.txt")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    fits, data = {}, dict(SETS)
    for line in done.stdout.splitlines():
        parts = line.split()
        if parts[0] == "DATA":
            data[parts[1]] = ([int(v) for v in parts[2].split(",")], [int(v) for v in parts[3].split(",")])
        elif parts[0] == "FIT":
            fits[parts[1], parts[2]] = None if parts[3] == "FAILED" else tuple(float(v) for v in parts[3:9])
    return {"fits": fits, "data": data}


def _close_tau2(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= max(0.005, 0.05 * theirs)


@pytest.mark.parametrize("name", [*SETS, "pritz1997"])
@pytest.mark.parametrize("method", ["glmm", "dl", "reml", "pm", "reml_kh", "dl_kh"])
def test_pool_matches_metafor(metafor, name, method):
    ref = metafor["fits"][name, method]
    x, n = metafor["data"][name]
    base, kh = method.removesuffix("_kh"), method.endswith("_kh")
    fit = pool(x, n, base, knapp_hartung=kh)
    if ref is None:  # metafor cannot fit it (every study n/n): we say so and do not pool
        assert (
            all(a == b for a, b in zip(x, n, strict=True)) and "no finite maximum-likelihood GLMM estimate" in fit.note
        )
        assert math.isnan(fit.tau2) and math.isnan(fit.pi_low) and fit.estimate == 1.0
        return
    ours = (fit.estimate, fit.ci_low, fit.ci_high, fit.pi_low, fit.pi_high)
    for label, a, b in zip(("estimate", "ci_low", "ci_high", "pi_low", "pi_high"), ours, ref[:5], strict=True):
        assert abs(a - b) <= 0.001, (name, method, label, a, b)
    assert _close_tau2(fit.tau2, ref[5]), (name, method, fit.tau2, ref[5])


def test_every_set_was_fitted_by_metafor(metafor):
    # the comparison above only means something if R produced a fit for (almost) every case
    assert len(metafor["fits"]) == (len(SETS) + 1) * 6
    failed = [key for key, value in metafor["fits"].items() if value is None]
    assert failed == []  # no shipped set is all n/n; that case is tested below


def test_all_responder_series_glmm_is_reported_not_pooled(metafor):
    fit = pool([5, 8, 15, 3], [5, 8, 15, 3])
    assert fit.estimate == 1.0 and fit.ci_high == 1.0
    assert abs(fit.ci_low - stats.beta.ppf(0.025, 31, 1)) < 1e-12  # exact one-sided lower limit of 31/31
    assert math.isnan(fit.tau2) and "metafor's rma.glmm stops too" in fit.note


def test_zero_and_full_studies_get_the_escalc_correction():
    y, v = logit_effects([0, 4, 5], [5, 8, 5])
    assert y[0] == pytest.approx(math.log(0.5 / 5.5)) and v[0] == pytest.approx(1 / 0.5 + 1 / 5.5)
    assert y[1] == 0.0 and v[1] == pytest.approx(0.5)
    assert y[2] == pytest.approx(math.log(5.5 / 0.5))
    assert tau2_dl(y[:1], v[:1]) == 0.0


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="study 1: needs 0 <= events <= total"):
        pool([1, 6], [2, 5])
    with pytest.raises(ValueError, match="method 'fe'"):
        pool([1, 2], [2, 5], method="fe")
    with pytest.raises(ValueError, match="Knapp-Hartung applies"):
        pool([1, 2], [2, 5], knapp_hartung=True)


# ---------------------------------------------------------------- the command


def _csv(tmp_path, text: str):
    path = tmp_path / "studies.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_pool_command_json_matches_the_engine(tmp_path, capsys):
    x, n = SETS["heterogeneous"]
    rows = "".join(f"s{i},{a},{b},{'A' if i < 3 else 'B'}\n" for i, (a, b) in enumerate(zip(x, n, strict=True)))
    path = _csv(tmp_path, "study,resp,total,arm\n" + rows)
    assert main(["pool", str(path), "--events", "resp", "--total", "total", "--method", "reml", "--json"]) == 0
    pooled = json.loads(capsys.readouterr().out)["pooled"]
    direct = pool(x, n, "reml")
    assert len(pooled) == 1 and pooled[0]["group"] is None and pooled[0]["k"] == 6
    assert pooled[0]["estimate"] == pytest.approx(direct.estimate) and pooled[0]["method"] == "reml"
    assert set(pooled[0]) >= {"group", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q"}
    assert main(["pool", str(path), "--events", "resp", "--total", "total", "--by", "arm", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)["pooled"]
    assert [g["group"] for g in groups] == ["A", "B"] and [g["k"] for g in groups] == [3, 3]
    assert groups[1]["estimate"] == pytest.approx(pool(x[3:], n[3:]).estimate)


def test_pool_command_single_study_group_is_not_pooled(tmp_path, capsys):
    path = _csv(tmp_path, "resp,total,arm\n3,4,A\n5,6,B\n7,9,B\n")
    assert main(["pool", str(path), "--events", "resp", "--total", "total", "--by", "arm"]) == 0
    text = capsys.readouterr().out
    assert "group A: k=1" in text and "one study: its own estimate" in text and "group B: k=2" in text


@pytest.mark.parametrize(
    "content,args,message",
    [
        ("resp,total\n3,4\n", ["--events", "x"], "no column 'x'"),
        ("resp,total\n3,4\n5,4\n", [], "line 3, column 'resp': 5 events exceed the total 4"),
        ("resp,total\n3,four\n", [], "line 2, column 'total': 'four' is not a number"),
        ("resp,total\n2.5,4\n", [], "line 2, column 'resp': '2.5' is not a whole count"),
        ("", [], "the file is empty"),
        ("resp,total\n", [], "no study rows under the header"),
    ],
)
def test_pool_command_bad_input_exits_1_naming_row_and_column(tmp_path, capsys, content, args, message):
    path = _csv(tmp_path, content)
    argv = ["pool", str(path), "--events", "resp", "--total", "total", *args]
    if "--events" in args:
        argv = ["pool", str(path), "--total", "total", *args]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_pool_command_bad_arguments_exit_2(tmp_path, capsys):
    path = _csv(tmp_path, "resp,total\n3,4\n")
    with pytest.raises(SystemExit) as info:
        main(["pool", str(path), "--events", "resp", "--total", "total", "--method", "fe"])
    assert info.value.code == 2
    assert main(["pool", str(path), "--events", "resp", "--total", "total", "--knapp-hartung"]) == 2
    assert "--knapp-hartung applies" in capsys.readouterr().err


def test_weights_are_inverse_variance_shares_at_the_model_tau2():
    from helpers.synthesis.meta import weights

    y, v = logit_effects([3, 8, 5], [5, 10, 9])
    shares = weights([3, 8, 5], [5, 10, 9], 0.2)
    assert sum(shares) == pytest.approx(100.0)
    expected = [100 * (1 / (vi + 0.2)) / sum(1 / (vj + 0.2) for vj in v) for vi in v]
    assert shares == pytest.approx(expected)
    assert weights([2, 3], [2, 3], float("nan")) == [50.0, 50.0]  # every study n/n: no model, equal shares
