"""Proportion CIs and DerSimonian–Laird pooling, checked against independent results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint

from helpers.core.errors import HelpersError, ParameterError
from helpers.synthesis.proportions import PooledProportion, clopper_pearson_ci, pooled_proportion, wilson_ci

CASES = [(0, 1), (0, 12), (1, 1), (3, 10), (7, 9), (15, 15), (42, 100), (1, 250)]


@pytest.mark.parametrize("k,n", CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_matches_statsmodels(k: int, n: int, alpha: float) -> None:
    expected = proportion_confint(k, n, alpha=alpha, method="wilson")
    assert wilson_ci(k, n, alpha) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("k,n", CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_clopper_pearson_matches_statsmodels_beta(k: int, n: int, alpha: float) -> None:
    expected = proportion_confint(k, n, alpha=alpha, method="beta")
    assert clopper_pearson_ci(k, n, alpha) == pytest.approx(expected, abs=1e-12)


def test_exact_interval_bounds_at_the_edges() -> None:
    # k = 0: upper bound solves (1 - p)^n = alpha/2, a textbook closed form.
    assert clopper_pearson_ci(0, 10) == pytest.approx((0.0, 1 - 0.025 ** (1 / 10)))
    assert clopper_pearson_ci(10, 10) == pytest.approx((0.025 ** (1 / 10), 1.0))


def test_numpy_integers_are_accepted() -> None:
    assert wilson_ci(np.int64(3), np.int64(10)) == pytest.approx(wilson_ci(3, 10))


@pytest.mark.parametrize("func", [wilson_ci, clopper_pearson_ci])
@pytest.mark.parametrize(
    "k,n,needle", [(0, 0, "n=0"), (5, 4, "k=5"), (-1, 4, "k=-1"), (1.5, 4, "k=1.5"), (1, "x", "n='x'")]
)
def test_invalid_counts_raise_parameter_error(func, k, n, needle) -> None:
    with pytest.raises(ParameterError, match=needle):
        func(k, n)


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, True])
def test_invalid_alpha(alpha) -> None:
    with pytest.raises(ParameterError, match="alpha"):
        wilson_ci(1, 2, alpha)


def _logit_cc(k: int, n: int) -> tuple[float, float]:
    """Logit and variance, computed here independently (0.5 correction at 0 and n)."""
    a, b = (k + 0.5, n - k + 0.5) if k in (0, n) else (k, n - k)
    return math.log(a / b), 1 / a + 1 / b


def _expit(x: float) -> float:
    return math.exp(x) / (1 + math.exp(x))


def test_pooled_matches_statsmodels_dersimonian_laird() -> None:
    events, totals = [2, 9, 14, 0, 6], [10, 11, 20, 7, 6]
    logits = np.array([_logit_cc(k, n) for k, n in zip(events, totals, strict=True)])
    ref = combine_effects(logits[:, 0], logits[:, 1], method_re="dl", use_t=False)
    assert ref.tau2 > 0  # heterogeneous on purpose (statsmodels does not truncate at 0)
    low, high = ref.conf_int(alpha=0.05, use_t=False)[1]

    res = pooled_proportion(events, totals)

    assert isinstance(res, PooledProportion)
    assert res.estimate == pytest.approx(_expit(ref.mean_effect_re), rel=1e-10)
    assert (res.ci_low, res.ci_high) == pytest.approx((_expit(low), _expit(high)), rel=1e-10)
    assert res.tau2 == pytest.approx(ref.tau2, rel=1e-10)
    assert res.i2 == pytest.approx(ref.i2, rel=1e-10)
    assert res.q == pytest.approx(ref.q, rel=1e-10)
    assert (res.k_studies, res.n_total, res.n_events) == (5, 54, 31)


def test_pooled_hand_worked_two_study_example() -> None:
    # Study A 3/9: logit -ln 2, var 1/3 + 1/6 = 1/2.  Study B 6/9: logit +ln 2, var 1/2.
    # FE weights 2 and 2 -> mean 0; Q = 2(ln2)^2 * 2 = 4 ln^2 2; df = 1; C = 4 - 8/4 = 2;
    # tau2 = (4 ln^2 2 - 1) / 2; RE weights 1/(1/2 + tau2) each -> mean 0, so p = 1/2;
    # SE^2 = (1/2 + tau2) / 2 = ln^2 2, so the CI is expit(+-z ln 2) = 2^+-z / (1 + 2^+-z).
    z = norm.ppf(0.975)
    q = 4 * math.log(2) ** 2
    res = pooled_proportion([3, 6], [9, 9])
    assert res.estimate == pytest.approx(0.5)
    assert res.tau2 == pytest.approx((q - 1) / 2)
    assert res.i2 == pytest.approx((q - 1) / q)
    assert res.q == pytest.approx(q)
    assert res.ci_low == pytest.approx(2**-z / (1 + 2**-z))
    assert res.ci_high == pytest.approx(2**z / (1 + 2**z))


def test_homogeneous_studies_have_zero_heterogeneity() -> None:
    res = pooled_proportion([2, 4, 6], [10, 20, 30])
    assert res.tau2 == 0.0 and res.i2 == 0.0 and res.q == pytest.approx(0.0, abs=1e-12)
    assert res.estimate == pytest.approx(0.2)
    # tau2 = 0 -> fixed-effect SE: 1/sqrt(sum of 1/var), var = 1/k + 1/(n-k)
    se = 1 / math.sqrt(sum(1 / (1 / k + 1 / (n - k)) for k, n in [(2, 10), (4, 20), (6, 30)]))
    z = norm.ppf(0.975)
    assert res.ci_low == pytest.approx(_expit(math.log(0.25) - z * se))
    assert res.ci_high == pytest.approx(_expit(math.log(0.25) + z * se))


@pytest.mark.parametrize("k,n,expected", [(0, 10, 0.5 / 11), (10, 10, 10.5 / 11)])
def test_continuity_correction_on_a_single_study(k: int, n: int, expected: float) -> None:
    res = pooled_proportion([k], [n])
    assert res.estimate == pytest.approx(expected)
    assert res.tau2 == 0.0 and res.i2 == 0.0 and res.k_studies == 1
    assert res.ci_low < expected < res.ci_high


def test_continuity_correction_only_where_needed() -> None:
    # one study at 0/8 and one at 4/8; the 4/8 study must not be corrected
    logits = np.array([_logit_cc(0, 8), _logit_cc(4, 8)])
    assert logits[1, 0] == 0.0 and logits[1, 1] == pytest.approx(0.5)
    ref = combine_effects(logits[:, 0], logits[:, 1], method_re="dl", use_t=False)
    assert pooled_proportion([0, 4], [8, 8]).estimate == pytest.approx(_expit(ref.mean_effect_re))


@pytest.mark.parametrize(
    "events,totals,needle",
    [
        ([1, 2], [5, 0], "study 1: n=0"),
        ([6], [5], "study 0: k=6, n=5"),
        ([1, 2], [5], "events has 2 values but totals has 1"),
        ([], [], "no studies"),
    ],
)
def test_pooled_rejects_bad_input(events, totals, needle) -> None:
    with pytest.raises(ParameterError, match=needle):
        pooled_proportion(events, totals)


def test_pooled_unknown_method() -> None:
    with pytest.raises(HelpersError, match="method='REML'"):
        pooled_proportion([1], [2], method="REML")
