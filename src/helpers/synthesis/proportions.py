"""Proportions with confidence intervals and random-effects pooling. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

from helpers.core.errors import ParameterError

CONTINUITY = 0.5


def _check_alpha(alpha: float) -> float:
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r}: must be a number strictly between 0 and 1 (e.g. 0.05)")
    return float(alpha)


def _check_count(k: object, n: object, where: str = "") -> tuple[int, int]:
    """Validate one (events, total) pair; ``where`` names the study in messages."""
    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not _is_whole(value):
            raise ParameterError(f"{where}{name}={value!r}: must be a whole number")
    k_int, n_int = int(k), int(n)  # type: ignore[arg-type]
    if n_int <= 0:
        raise ParameterError(
            f"{where}n={n_int}: the denominator must be >= 1; leave studies without evaluable patients out"
        )
    if not 0 <= k_int <= n_int:
        raise ParameterError(f"{where}k={k_int}, n={n_int}: events must be between 0 and n")
    return k_int, n_int


def _is_whole(value: object) -> bool:
    try:
        as_float = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(as_float) and as_float == int(as_float)


def _z(alpha: float) -> float:
    return float(sps.norm.ppf(1 - alpha / 2))


def wilson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k events out of n."""
    k, n = _check_count(k, n)
    z = _z(_check_alpha(alpha))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper–Pearson, beta) interval for k events out of n."""
    k, n = _check_count(k, n)
    alpha = _check_alpha(alpha)
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


@dataclass(frozen=True)
class PooledProportion:
    """A random-effects pooled proportion (back-transformed from the logit scale)."""

    estimate: float
    ci_low: float
    ci_high: float
    tau2: float
    i2: float
    k_studies: int
    n_total: int
    n_events: int
    q: float
    method: str = "DL"


def logit_with_variance(k: int, n: int) -> tuple[float, float]:
    """Logit of k/n and its variance; adds 0.5 to events and non-events when k is 0 or n."""
    events, non_events = float(k), float(n - k)
    if k == 0 or k == n:
        events, non_events = events + CONTINUITY, non_events + CONTINUITY
    return math.log(events / non_events), 1 / events + 1 / non_events


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _dersimonian_laird(
    effects: Sequence[float], variances: Sequence[float]
) -> tuple[float, float, float, float, float]:
    """(pooled effect, its standard error, tau², I², Q) by DerSimonian–Laird."""
    weights = [1 / v for v in variances]
    sum_w = sum(weights)
    fixed = sum(w * y for w, y in zip(weights, effects, strict=True)) / sum_w
    q = sum(w * (y - fixed) ** 2 for w, y in zip(weights, effects, strict=True))
    df = len(effects) - 1
    c = sum_w - sum(w * w for w in weights) / sum_w
    tau2 = max(0.0, (q - df) / c) if df > 0 else 0.0
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    re_weights = [1 / (v + tau2) for v in variances]
    pooled = sum(w * y for w, y in zip(re_weights, effects, strict=True)) / sum(re_weights)
    return pooled, math.sqrt(1 / sum(re_weights)), tau2, i2, q


def pooled_proportion(
    events: Sequence[int], totals: Sequence[int], method: str = "DL", alpha: float = 0.05
) -> PooledProportion:
    """Pool proportions k_i/n_i: random effects (DerSimonian–Laird) on the logit scale."""
    if method != "DL":
        raise ParameterError(f"method={method!r}: only 'DL' (DerSimonian–Laird) is implemented")
    events, totals = list(events), list(totals)
    if len(events) != len(totals):
        raise ParameterError(
            f"events has {len(events)} values but totals has {len(totals)}; give one events and one total per study"
        )
    if not events:
        raise ParameterError("no studies to pool: events and totals are empty")
    pairs = [_check_count(k, n, f"study {i}: ") for i, (k, n) in enumerate(zip(events, totals, strict=True))]
    z = _z(_check_alpha(alpha))
    logits = [logit_with_variance(k, n) for k, n in pairs]
    pooled, se, tau2, i2, q = _dersimonian_laird([y for y, _ in logits], [v for _, v in logits])
    return PooledProportion(
        estimate=_expit(pooled),
        ci_low=_expit(pooled - z * se),
        ci_high=_expit(pooled + z * se),
        tau2=tau2,
        i2=i2,
        k_studies=len(pairs),
        n_total=sum(n for _, n in pairs),
        n_events=sum(k for k, _ in pairs),
        q=q,
        method=method,
    )
