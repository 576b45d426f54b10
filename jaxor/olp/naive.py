"""Reference rollouts: a Python loop over time that reads like the papers, HiGHS for every LP.

Not exported from :mod:`jaxor.olp`; the tests compare the ``lax.scan`` rollouts with these, and the
benchmark uses :func:`resolve_rollout` as the HiGHS-per-step peer. Orders are passed in as NumPy
arrays (``r [n]``, ``a [n, m]``), budget ``b [m]``; decisions use the same rule as the fast path:
``x_t = 1{r_t > a_t.p_t}`` and ``a_t <= b_t``.

References: Li & Ye, arXiv 1909.05499 (re-solving); Li, Sun & Ye, Math. Programming 2023
(first-order); Xu et al., arXiv 2603.14673 (single-sample re-solving).
"""

from __future__ import annotations

import numpy as np

from jaxor.lp import highs

__all__ = ["lp_dual_price", "first_order_rollout", "resolve_rollout"]


def lp_dual_price(r, a, B) -> np.ndarray:
    """Optimal dual price ``[m]`` of ``max r.x, a^T x <= B, 0 <= x <= 1`` (HiGHS, one solve)."""
    if np.size(r) == 0:
        return np.zeros(np.shape(a)[1])
    return np.maximum(-_highs_lp(r, a, B).y, 0.0)  # HiGHS: y <= 0 on upper-bounded rows of a minimisation


def _highs_lp(r, a, B):
    """HiGHS on ``max r.x, a^T x <= B, 0 <= x <= 1`` (as a minimisation of ``-r.x``); raises if it fails."""
    res = highs.solve(-np.asarray(r, np.float64), np.asarray(a, np.float64).T, None, np.asarray(B, np.float64), 0.0, 1.0)
    if not res.ok:
        raise RuntimeError(f"HiGHS failed: {res.status}")
    return res


def _lp_value(r, a, B) -> float:
    """Optimal value of ``max r.x, a^T x <= B, 0 <= x <= 1`` (0 with no columns)."""
    return 0.0 if np.size(r) == 0 else -float(_highs_lp(r, a, B).objective)


def first_order_rollout(r, a, b, eta=None) -> float:
    """Li-Sun-Ye first-order policy; returns the collected reward."""
    r = np.asarray(r, np.float64)
    a = np.asarray(a, np.float64)
    n, m = a.shape
    b = np.array(b, np.float64)
    d = b / n
    eta = 1.0 / np.sqrt(n) if eta is None else eta
    p = np.zeros(m)
    reward = 0.0
    for t in range(n):
        x = float(r[t] > a[t] @ p and np.all(a[t] <= b))
        b -= a[t] * x
        reward += r[t] * x
        p = np.maximum(p + eta * (a[t] * x - d), 0.0)
    return reward


def resolve_rollout(r, a, b, kind: str = "li_ye", samples=None, copies: int = 1) -> float:
    """Re-solving at every step with one HiGHS LP per step; returns the collected reward.

    ``kind="li_ye"``: after order ``t`` solve the history LP with budget ``(t+1) b_{t+1}/(n-t-1)``.
    ``kind="single_sample"``: before order ``t`` solve the LP of ``samples`` (a pair ``(r_hat, a_hat)``)
    over periods ``t..n-1`` with the remaining budget ``b_t``; with ``copies = K`` the samples are
    ``K`` draws per period (``r_hat [K n]``, draw ``k`` of period ``s`` at ``k n + s``), each weighing
    ``1 / K`` (the LP with rewards and consumptions divided by ``K`` has the same prices).
    ``kind="single_sample_true"``: at order ``t`` solve the LP of the realised order ``t`` and the
    samples of periods ``t+1..n-1`` with budget ``b_t``; accept iff its ``x_t >= 1/2`` (and it fits).
    ``kind="single_sample_compare"``: with ``V(B)`` the LP value of the samples of periods ``t+1..n-1``
    under budget ``B``, accept iff ``r_t + V(b_t - a_t) > V(b_t)`` (and it fits): two solves per step.
    """
    r = np.asarray(r, np.float64)
    a = np.asarray(a, np.float64)
    n, m = a.shape
    b = np.array(b, np.float64)
    p = np.zeros(m)
    reward = 0.0
    for t in range(n):
        if kind == "single_sample":
            rh, ah = samples
            cols = (np.arange(copies)[:, None] * n + np.arange(t, n)[None, :]).ravel()
            p = lp_dual_price(np.asarray(rh)[cols] / copies, np.asarray(ah)[cols] / copies, b)
        if kind == "single_sample_true":
            rh, ah = samples
            rr = np.r_[r[t], np.asarray(rh)[t + 1:]]
            aa = np.vstack([a[t][None], np.asarray(ah)[t + 1:]])
            x = float(_highs_lp(rr, aa, b).x[0] >= 0.5 and np.all(a[t] <= b))
        elif kind == "single_sample_compare":
            rh, ah = (np.asarray(v) for v in samples)
            fits = bool(np.all(a[t] <= b))
            x = float(fits and r[t] + _lp_value(rh[t + 1:], ah[t + 1:], b - a[t]) > _lp_value(rh[t + 1:], ah[t + 1:], b))
        else:
            x = float(r[t] > a[t] @ p and np.all(a[t] <= b))
        b -= a[t] * x
        reward += r[t] * x
        if kind == "li_ye" and t < n - 1:
            p = lp_dual_price(r[: t + 1], a[: t + 1], (t + 1) * np.maximum(b, 0.0) / (n - t - 1))
    return reward
