"""Meta-analysis of single proportions, as R's metafor fits it.

Methods:

* ``glmm`` (default): the binomial-normal model (random-intercept logistic regression) fitted by
  maximum likelihood with adaptive Gauss–Hermite quadrature (7 nodes, as ``metafor::rma.glmm``
  with ``measure="PLO"`` asks of ``lme4::glmer``). No continuity correction: 0/n and n/n studies
  enter with their exact binomial likelihood. The standard error of the pooled logit comes from
  the numerical Hessian of the deviance in (tau, mu), as lme4 computes it.
* ``dl``, ``reml``, ``pm``: inverse-variance pooling of logits (``escalc(measure="PLO")``: 1/2
  added to both cells of a 0/n or n/n study only) with DerSimonian–Laird, restricted maximum
  likelihood or Paule–Mandel tau²; ``knapp_hartung`` gives the Knapp–Hartung standard error and
  t(k-1) limits.

Prediction intervals follow ``metafor::predict``: mu ± crit · sqrt(se² + tau²), crit from the normal
(or, with Knapp–Hartung, the t(k-1)) distribution. I² and Q are the inverse-variance ones
(metafor's formula with the "typical" within-study variance); for ``glmm`` they describe the same
logits with the GLMM's tau².

scipy provides the optimiser, the quadrature nodes and the distributions; what no well-kept
Python library provides (the binomial-normal likelihood by adaptive quadrature, the three tau²
estimators on metafor's conventions) is written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize, special, stats

METHODS = ("glmm", "reml", "dl", "pm")
N_AGQ = 7
LEVEL = 0.95


@dataclass(frozen=True)
class Pooled:
    """One pooled proportion: estimate and limits on the proportion scale, tau² and I² on the logit scale."""

    method: str
    k: int
    events: int
    total: int
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    q: float
    mu: float  # pooled logit
    se: float  # its standard error
    knapp_hartung: bool = False
    note: str = ""

    def as_dict(self) -> dict:
        """Plain dict (for JSON)."""
        return asdict(self)


# ---------------------------------------------------------------- inputs


def check_counts(events: Sequence[int], totals: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Events and totals as integer arrays; ValueError naming the first bad study (0-based)."""
    k = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    if k.shape != n.shape or k.ndim != 1:
        raise ValueError("events and totals must be two lists of the same length")
    if len(k) == 0:
        raise ValueError("no studies to pool")
    for i, (a, b) in enumerate(zip(k, n, strict=True)):
        if not (np.isfinite(a) and np.isfinite(b)) or a != int(a) or b != int(b):
            raise ValueError(f"study {i}: events and total must be whole numbers")
        if b < 1 or a < 0 or a > b:
            raise ValueError(f"study {i}: needs 0 <= events <= total and total >= 1 (got {int(a)}/{int(b)})")
    return k, n


def logit_effects(events: Sequence[int], totals: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Logits and their sampling variances as ``escalc(measure="PLO")``: 1/2 added to both cells of 0/n or n/n."""
    k, n = check_counts(events, totals)
    zero = (k == 0) | (k == n)
    k = np.where(zero, k + 0.5, k)
    n = np.where(zero, n + 1.0, n)
    y = np.log(k / (n - k))
    v = 1.0 / k + 1.0 / (n - k)
    return y, v


# ---------------------------------------------------------------- tau² (inverse variance)


def _fixed(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float, np.ndarray]:
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    return mu, float(1.0 / np.sum(w)), w


def cochran_q(y: np.ndarray, v: np.ndarray) -> float:
    """Cochran's Q around the fixed-effect mean."""
    mu, _, w = _fixed(y, v, 0.0)
    return float(np.sum(w * (y - mu) ** 2))


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian–Laird tau² (truncated at 0)."""
    w = 1.0 / v
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float(max(0.0, (cochran_q(y, v) - (len(y) - 1)) / c)) if len(y) > 1 else 0.0


def tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule–Mandel tau²: the generalised Q equals k - 1 (0 when Q at tau² = 0 is already below)."""
    k = len(y)

    def excess(tau2: float) -> float:
        mu, _, w = _fixed(y, v, tau2)
        return float(np.sum(w * (y - mu) ** 2) - (k - 1))

    if k < 2 or excess(0.0) <= 0:
        return 0.0
    high = max(1.0, float(np.var(y)) * 10)
    while excess(high) > 0:
        high *= 10
    return float(optimize.brentq(excess, 0.0, high, xtol=1e-12))


def tau2_reml(y: np.ndarray, v: np.ndarray, tol: float = 1e-10, max_iter: int = 500) -> float:
    """REML tau² by Fisher scoring from the DL value (metafor's algorithm), truncated at 0."""
    if len(y) < 2:
        return 0.0
    tau2 = tau2_dl(y, v)
    for _ in range(max_iter):
        w = 1.0 / (v + tau2)
        p_y = w * y - w * np.sum(w * y) / np.sum(w)  # P y
        p_diag = w - w**2 / np.sum(w)
        trace_p = np.sum(p_diag)
        trace_pp = np.sum(w**2) - 2 * np.sum(w**3) / np.sum(w) + (np.sum(w**2) / np.sum(w)) ** 2
        step = (np.sum(p_y**2) - trace_p) / trace_pp
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < tol:
            return float(new)
        tau2 = new
    return float(tau2)


TAU2 = {"dl": tau2_dl, "reml": tau2_reml, "pm": tau2_pm}


def i_squared(v: np.ndarray, tau2: float) -> float:
    """I² (%) as metafor computes it: tau² over tau² plus the typical within-study variance."""
    if len(v) < 2:
        return 0.0
    w = 1.0 / v
    s2 = (len(v) - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
    return float(100 * tau2 / (tau2 + s2))


# ---------------------------------------------------------------- binomial-normal GLMM

_NODES, _WEIGHTS = hermegauss(N_AGQ)
_WEIGHTS = _WEIGHTS / np.sqrt(2 * np.pi)  # weights for the standard normal density


def _log_lik_terms(u: np.ndarray, eta0: np.ndarray, tau: float, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    eta = eta0 + tau * u
    return k * -np.logaddexp(0, -eta) + (n - k) * -np.logaddexp(0, eta) - 0.5 * u**2


def glmm_deviance(mu: float, tau: float, k: np.ndarray, n: np.ndarray, n_agq: int = N_AGQ) -> float:
    """-2 log-likelihood of the binomial-normal model by adaptive Gauss–Hermite quadrature."""
    nodes, weights = (_NODES, _WEIGHTS) if n_agq == N_AGQ else hermegauss(n_agq)
    if n_agq != N_AGQ:
        weights = weights / np.sqrt(2 * np.pi)
    eta0 = np.full_like(k, mu)
    u = np.zeros_like(k)
    for _ in range(50):  # Newton steps to each study's conditional mode
        p = special.expit(eta0 + tau * u)
        grad = tau * (k - n * p) - u
        hess = -(tau**2) * n * p * (1 - p) - 1
        step = grad / hess
        u = u - step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = special.expit(eta0 + tau * u)
    sigma = 1.0 / np.sqrt(tau**2 * n * p * (1 - p) + 1)
    points = u[:, None] + sigma[:, None] * nodes[None, :]
    g = _log_lik_terms(points, eta0[:, None], tau, k[:, None], n[:, None])
    log_int = special.logsumexp(np.log(weights)[None, :] + g + 0.5 * nodes[None, :] ** 2, axis=1)
    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return float(-2 * np.sum(log_choose + np.log(sigma) + log_int))


def _hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian (the step lme4's deriv12 uses)."""
    dim = len(x)
    h = np.zeros((dim, dim))
    f0 = f(x)
    for i in range(dim):
        e_i = np.eye(dim)[i] * step
        h[i, i] = (f(x + e_i) - 2 * f0 + f(x - e_i)) / step**2
        for j in range(i + 1, dim):
            e_j = np.eye(dim)[j] * step
            h[i, j] = h[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                4 * step**2
            )
    return h


def glmm_fit(events: Sequence[int], totals: Sequence[int]) -> tuple[float, float, float]:
    """(mu, tau, se of mu) of the binomial-normal model by maximum likelihood."""
    k, n = check_counts(events, totals)
    y, v = logit_effects(k, n)
    start_tau = np.sqrt(tau2_dl(y, v)) if len(k) > 1 else 0.0
    start = np.array([max(start_tau, 0.1), float(np.sum(y / v) / np.sum(1 / v))])

    def deviance(x: np.ndarray) -> float:
        return glmm_deviance(x[1], abs(x[0]), k, n)

    if len(k) == 1:
        mu = float(special.logit(np.clip(k[0] / n[0], 1e-12, 1 - 1e-12)))
        res = optimize.minimize_scalar(lambda m: glmm_deviance(m, 0.0, k, n), bracket=(mu - 1, mu + 1))
        mu, tau = float(res.x), 0.0
    else:
        res = optimize.minimize(
            deviance,
            start,
            method="L-BFGS-B",
            bounds=[(0.0, 50.0), (-30.0, 30.0)],
            options={"ftol": 1e-14, "gtol": 1e-9},
        )
        tau, mu = float(res.x[0]), float(res.x[1])
    if tau > 1e-4:
        h = _hessian(deviance, np.array([tau, mu]))
        cov = 2 * np.linalg.inv(h)
        se = float(np.sqrt(cov[1, 1]))
    else:  # tau on the boundary: the curvature in mu alone
        h = _hessian(lambda m: glmm_deviance(m[0], 0.0, k, n), np.array([mu]))
        se = float(np.sqrt(2 / h[0, 0]))
    return mu, tau, se


# ---------------------------------------------------------------- pooling

NAN = float("nan")


def _unpooled(method: str, k: np.ndarray, n: np.ndarray, knapp_hartung: bool, level: float, note: str) -> Pooled:
    """The summed proportion with its exact interval, when no model can be fitted (no PI, no tau²)."""
    events, total = int(k.sum()), int(n.sum())
    alpha = 1 - level
    low = 0.0 if events == 0 else float(stats.beta.ppf(alpha / 2, events, total - events + 1))
    high = 1.0 if events == total else float(stats.beta.ppf(1 - alpha / 2, events + 1, total - events))
    return Pooled(
        method=method,
        k=len(k),
        events=events,
        total=total,
        estimate=events / total,
        ci_low=low,
        ci_high=high,
        pi_low=NAN,
        pi_high=NAN,
        tau2=NAN,
        i2=NAN,
        q=cochran_q(*logit_effects(k, n)) if len(k) > 1 else NAN,
        mu=NAN,
        se=NAN,
        knapp_hartung=knapp_hartung,
        note=note,
    )


def pool(
    events: Sequence[int],
    totals: Sequence[int],
    method: str = "glmm",
    knapp_hartung: bool = False,
    level: float = LEVEL,
) -> Pooled:
    """Pool single proportions by ``method`` (glmm, reml, dl, pm); estimates back on the proportion scale."""
    if method not in METHODS:
        raise ValueError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if knapp_hartung and method == "glmm":
        raise ValueError("Knapp-Hartung applies to the inverse-variance methods (reml, dl, pm), not to glmm")
    k, n = check_counts(events, totals)
    y, v = logit_effects(k, n)
    if len(k) == 1:
        return _unpooled(
            method, k, n, knapp_hartung, level, "one study: its own estimate (Clopper–Pearson), not pooled"
        )
    if method == "glmm" and (np.all(k == n) or np.all(k == 0)):
        return _unpooled(
            method,
            k,
            n,
            knapp_hartung,
            level,
            f"every study {'n/n' if np.all(k == n) else '0/n'}: no finite maximum-likelihood GLMM estimate "
            "(metafor's rma.glmm stops too); summed proportion with its exact interval, no heterogeneity estimate",
        )
    note = ""
    if method == "glmm":
        mu, tau, se = glmm_fit(k, n)
        tau2 = tau**2
        crit = stats.norm.ppf(0.5 + level / 2)
    else:
        tau2 = TAU2[method](y, v)
        mu, var, w = _fixed(y, v, tau2)
        se = float(np.sqrt(var))
        crit = stats.norm.ppf(0.5 + level / 2)
        if knapp_hartung and len(k) > 1:
            se = float(np.sqrt(np.sum(w * (y - mu) ** 2) / ((len(k) - 1) * np.sum(w))))
            crit = stats.t.ppf(0.5 + level / 2, len(k) - 1)
    pi_half = crit * np.sqrt(se**2 + tau2)
    return Pooled(
        method=method,
        k=len(k),
        events=int(k.sum()),
        total=int(n.sum()),
        estimate=float(special.expit(mu)),
        ci_low=float(special.expit(mu - crit * se)),
        ci_high=float(special.expit(mu + crit * se)),
        pi_low=float(special.expit(mu - pi_half)),
        pi_high=float(special.expit(mu + pi_half)),
        tau2=float(tau2),
        i2=i_squared(v, tau2),
        q=cochran_q(y, v),
        mu=float(mu),
        se=float(se),
        knapp_hartung=bool(knapp_hartung),
        note=note,
    )


def weights(events: Sequence[int], totals: Sequence[int], tau2: float) -> list[float]:
    """Each study's share (%) of the pooled estimate: inverse-variance weights 1/(v_i + tau²) on the
    escalc logits (for the GLMM, at its tau², as forest plots of metafor's rma.glmm approximate them;
    equal shares when tau² is not estimable)."""
    _, v = logit_effects(events, totals)
    if tau2 != tau2:  # NaN: every study n/n
        return [100.0 / len(v)] * len(v)
    w = 1.0 / (v + tau2)
    return [float(x) for x in 100 * w / np.sum(w)]
