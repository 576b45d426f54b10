"""Fits over replications with bootstrap confidence intervals.

Regret and suboptimality curves are judged by their log-log slope (``regret ~ C n^slope``) or by a
linear fit against a transformed size (``regret ~ a + b (log n)^2``). Both fit the *mean over
replications* at each size and get a percentile-bootstrap interval by resampling replications
(whole rows, so the dependence between sizes within one replication is kept).

Post-processing of small tables: NumPy, not JAX.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["LineFit", "fit_line", "loglog_slope", "bootstrap_ci"]


class LineFit(NamedTuple):
    """A least-squares line ``y = intercept + slope * x`` with a bootstrap interval on the slope."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    r2: float
    n_boot: int

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high

    def __str__(self) -> str:
        return f"{self.slope:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}] (R^2 {self.r2:.3f})"


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    xm, ym = x.mean(), y.mean()
    sxx = ((x - xm) ** 2).sum()
    slope = ((x - xm) * (y - ym)).sum() / sxx
    intercept = ym - slope * xm
    resid = y - (intercept + slope * x)
    sst = ((y - ym) ** 2).sum()
    r2 = 1.0 - (resid**2).sum() / sst if sst > 0 else 1.0
    return float(slope), float(intercept), float(r2)


def _as_reps(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2:
        raise ValueError(f"y must have shape (replications, sizes) or (sizes,); got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y holds NaN or Inf")
    return y


def fit_line(x, y, *, transform_x: Callable = np.asarray, transform_y: Callable = np.asarray,
             n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> LineFit:
    """Fit ``transform_y(mean_r y[r, :])`` against ``transform_x(x)`` with a bootstrap slope interval.

    Args:
        x: sizes, shape ``(K,)``, at least 2 distinct values.
        y: measurements, shape ``(R, K)`` (R replications) or ``(K,)`` (then the interval collapses).
        transform_x, transform_y: applied to x and to the replication mean (e.g. ``np.log``).
        n_boot: bootstrap resamples of the replications.
        level: interval coverage, in (0, 1).
        seed: NumPy seed of the resampling.
    """
    x = np.asarray(x, dtype=np.float64)
    y = _as_reps(y)
    if x.ndim != 1 or x.shape[0] != y.shape[1]:
        raise ValueError(f"x must have shape ({y.shape[1]},) to match y's sizes axis; got {x.shape}")
    if len(np.unique(x)) < 2:
        raise ValueError("x needs at least two distinct sizes")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    tx = np.asarray(transform_x(x), dtype=np.float64)

    def fit(rows: np.ndarray) -> tuple[float, float, float]:
        ty = np.asarray(transform_y(rows.mean(axis=0)), dtype=np.float64)
        return _ols(tx, ty)

    slope, intercept, r2 = fit(y)
    if not np.isfinite(slope):
        raise ValueError("the transformed means are not finite (a log of a non-positive mean?)")
    r = y.shape[0]
    if r < 2 or n_boot < 1:
        return LineFit(slope, intercept, slope, slope, r2, 0)
    rng = np.random.default_rng(seed)
    boots = np.array([fit(y[rng.integers(0, r, size=r)])[0] for _ in range(n_boot)])
    boots = boots[np.isfinite(boots)]
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha])
    return LineFit(slope, intercept, float(lo), float(hi), r2, int(boots.size))


def _positive_log(v: np.ndarray) -> np.ndarray:
    if np.any(v <= 0):
        raise ValueError("log-log fit needs positive mean values at every size; "
                         f"got {v.tolist()} (fit log E[y] only where it is positive)")
    return np.log(v)


def loglog_slope(x, y, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> LineFit:
    """Slope of ``log E[y]`` against ``log x`` (``E`` = mean over replications) with a bootstrap CI.

    Examples:
        >>> import numpy as np
        >>> n = np.array([1e2, 1e3, 1e4])
        >>> round(loglog_slope(n, 3 * n ** 0.5).slope, 6)
        0.5
    """
    x = np.asarray(x, dtype=np.float64)
    if np.any(x <= 0):
        raise ValueError("x must be positive for a log-log fit")

    def logmean(v):
        # A bootstrap resample can have a non-positive mean where the data is near 0: give NaN,
        # which fit_line drops, rather than failing the whole interval.
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)

    y = _as_reps(y)
    _positive_log(y.mean(axis=0))
    return fit_line(x, y, transform_x=np.log, transform_y=logmean, n_boot=n_boot, level=level, seed=seed)


def bootstrap_ci(samples, statistic: Callable[[np.ndarray], float] = np.mean, *, n_boot: int = 2000,
                 level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """``(estimate, low, high)``: a statistic of 1-D ``samples`` with a percentile-bootstrap interval."""
    s = np.asarray(samples, dtype=np.float64).ravel()
    if s.size == 0:
        raise ValueError("samples is empty")
    est = float(statistic(s))
    if s.size == 1:
        return est, est, est
    rng = np.random.default_rng(seed)
    boots = np.array([statistic(s[rng.integers(0, s.size, size=s.size)]) for _ in range(n_boot)])
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha])
    return est, float(lo), float(hi)
