"""The hindsight (offline) LP of an online-LP instance, solved exactly through its m-dimensional dual.

.. math::  \\mathrm{LP}(r, a, b) = \\max_{0 \\le x \\le 1} r^\\top x \\;\\text{s.t.}\\; \\sum_t a_t x_t \\le b
           = \\min_{p \\ge 0} b^\\top p + \\sum_t (r_t - a_t^\\top p)^+ .

Regret (Li & Ye, arXiv 1909.05499; Gao et al., arXiv 2501.02761) is ``LP(r, a, b)`` minus the
reward an online policy collects on the same orders. The value comes from the exact dual simplex
(:func:`jaxor.olp.solve_dual`), warm-started through prefixes of the horizon (a basis of the dual on
the first ``N / 4`` orders with budget ``b / 4`` is nearly optimal for all ``N``), so the solve
stays a handful of pivots per level; HiGHS (``jaxor.lp.highs``) is the independent check in the
tests and in the experiment.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxor.olp._dual import DualSolution, cold_basis, solve_dual

__all__ = ["solve_hindsight"]


def _remap(basis, n_old: int, n_new: int):
    """Keep hinge pieces (indices < n_old), move bound pieces ``n_old + i`` to ``n_new + i``."""
    return jnp.where(basis < n_old, basis, basis - n_old + n_new).astype(jnp.int32)


def solve_hindsight(r, a, b, *, min_level: int = 512, max_iter: int = 2000) -> DualSolution:
    """Exact hindsight LP over all orders: ``max r.x, sum_t a_t x_t <= b, 0 <= x <= 1``.

    Args:
        r: rewards ``[n]``.
        a: consumption ``[n, m]``.
        b: budget ``[m]``.
        min_level: smallest prefix of the warm-start ladder (prefixes ``n / 4^k >= min_level``).
        max_iter: passed to :func:`jaxor.olp.solve_dual` per level (bisection line search).

    Returns:
        :class:`jaxor.olp.DualSolution`; ``value`` is the LP optimum when ``status == 0``.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxor.olp import Acceptance
        >>> gen = Acceptance(m=2)
        >>> r, a = gen.draw(jax.random.PRNGKey(0), 200)
        >>> sol = solve_hindsight(r, a, gen.budget(200))
        >>> int(sol.status)
        0
    """
    r = jnp.asarray(r)
    a = jnp.asarray(a)
    if r.ndim != 1 or a.ndim != 2 or a.shape[0] != r.shape[0]:
        raise ValueError(f"r must be [n] and a [n, m] with the same n; got r {r.shape}, a {a.shape}")
    b = jnp.asarray(b)
    n, m = a.shape
    if b.shape != (m,):
        raise ValueError(f"b must have shape ({m},); got {b.shape}")
    sizes = [n]
    while sizes[-1] // 4 >= min_level:
        sizes.append(sizes[-1] // 4)
    sizes = sizes[::-1]
    basis = cold_basis(sizes[0], m)
    sol = None
    for i, k in enumerate(sizes):
        if i > 0:
            basis = _remap(basis, sizes[i - 1], k)
        scale = k / n
        sol = solve_dual(r[:k], a[:k], b * scale, basis=basis, line_search="bisect", max_iter=max_iter)
        basis = sol.basis
    return sol
