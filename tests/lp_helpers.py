"""Random LP generators with a clear margin for the LP-engine tests (feasible, infeasible, unbounded)."""

from __future__ import annotations

import numpy as np


def feasible_lp(rng, m=8, n=12):
    """A bounded, feasible LP with a strictly interior point: box bounds, mixed row types."""
    A = rng.normal(size=(m, n))
    x0 = rng.uniform(0.2, 0.8, size=n)
    ax = A @ x0
    lo = ax - rng.uniform(0.1, 1.0, size=m)
    hi = ax + rng.uniform(0.1, 1.0, size=m)
    kind = rng.integers(0, 4, size=m)            # 0: two-sided, 1: <=, 2: >=, 3: equality
    lo = np.where(kind == 1, -np.inf, lo)
    hi = np.where(kind == 2, np.inf, hi)
    lo = np.where(kind == 3, ax, lo)
    hi = np.where(kind == 3, ax, hi)
    c = rng.normal(size=n)
    l = np.zeros(n)
    u = np.where(rng.uniform(size=n) < 0.5, 1.0, rng.uniform(1.0, 3.0, size=n))
    return c, A, lo, hi, l, u


def infeasible_lp(rng, m=8, n=12):
    """Row 1 asks a.x >= b + 1 where row 0 says a.x <= b: primal infeasible with margin 1 (scaled)."""
    c, A, lo, hi, l, u = feasible_lp(rng, m, n)
    A[1] = A[0]
    x0 = rng.uniform(0.2, 0.8, size=n)
    b = A[0] @ x0
    lo[0], hi[0] = -np.inf, b
    lo[1], hi[1] = b + 1.0 + abs(b) * 0.1, np.inf
    return c, A, lo, hi, l, u


def unbounded_lp(rng, m=8, n=12):
    """Feasible with a ray d >= 0 (on columns with u = inf) with A d inside every row's recession cone
    and c.d < 0 by a margin: dual infeasible (unbounded)."""
    c, A, lo, hi, l, u = feasible_lp(rng, m, n)
    lo = np.where(np.isfinite(lo) & np.isfinite(hi), -np.inf, lo)  # one-sided rows only ...
    eq = lo == hi
    lo[eq] = -np.inf                                                  # ... and no equalities
    d = np.zeros(n)
    cols = rng.choice(n, size=3, replace=False)
    d[cols] = rng.uniform(0.5, 1.0, size=3)
    u[cols] = np.inf
    # Make A d = -sign so that rows x <= hi get A d < 0 and rows x >= lo get A d > 0.
    target = np.where(np.isfinite(hi), -1.0, 1.0)
    A = A + np.outer(target - A @ d, d) / (d @ d)
    # Keep the interior point feasible: recentre the bounds on A x0.
    x0 = rng.uniform(0.2, 0.8, size=n)
    ax = A @ x0
    lo = np.where(np.isfinite(lo), ax - 0.5, lo)
    hi = np.where(np.isfinite(hi), ax + 0.5, hi)
    c = c - d * ((c @ d) + 1.0) / (d @ d)                               # c.d = -1
    return c, A, lo, hi, l, u


def batch_of(kinds, seed, dtype, m=8, n=12):
    """``(raw tuples, stacked LP)`` for a list of kinds ("feasible", "infeasible", "unbounded")."""
    from jaxor.lp import LP, stack

    rng = np.random.default_rng(seed)
    gen = {"feasible": feasible_lp, "infeasible": infeasible_lp, "unbounded": unbounded_lp}
    raw = [gen[k](rng, m, n) for k in kinds]
    return raw, stack([LP(*r, dtype=dtype) for r in raw])


def vsolve():
    """One jitted, vmapped solve shared by the tests (options static, cap and warm start traced)."""
    import functools

    import jax

    from jaxor.lp import solve

    @functools.partial(jax.jit, static_argnames=("opts",))
    def run(lps, opts, max_iters, warm=None):
        return jax.vmap(lambda p, w: solve(p, opts, max_iters=max_iters, warm_start=w))(lps, warm)

    return run


VSOLVE = vsolve()
