"""Derivatives of LP solutions: the optimal value (exact, envelope theorem) and the minimiser (smoothed).

Optimal value ``v(c, A, lo, hi, l, u, c0) = min {c.x + c0 : lo <= A x <= hi, l <= x <= u}``. Where the
primal and dual optima ``x*, (y*, z*)`` are unique, ``v`` is differentiable with (Freund, "Postoptimal
analysis of a linear program under simultaneous changes in matrix coefficients", Math. Prog. Study
24, 1985; the sensitivity rules of any LP text)

.. math::
   \\partial v/\\partial c = x^*,\\quad \\partial v/\\partial A = -y^* x^{*\\top},\\quad
   \\partial v/\\partial lo = \\max(y^*, 0),\\quad \\partial v/\\partial hi = \\min(y^*, 0),\\quad
   \\partial v/\\partial l = \\max(z^*, 0),\\quad \\partial v/\\partial u = \\min(z^*, 0)

in HiGHS's sign convention (``y >= 0`` at a lower row bound). For an equality row (``lo = hi = b``)
whose two bounds move together the chain rule gives ``dv/db = y``. Elsewhere (degenerate or
non-unique optima) these are one element of the (super/sub)differential, not a derivative.

The minimiser ``x*`` is piecewise constant in ``c`` and piecewise linear in the bounds, so its
derivative is smoothed (:func:`solve_x`): at the LP optimum ``x*`` the derivatives are those of the
proximally regularised problem

.. math:: x_\\mu(\\theta) = \\arg\\min_x\\; c^\\top x + \\tfrac{\\mu}{2}\\|x - x^*\\|^2
          \\;\\text{s.t. the LP's constraints},

whose solution at ``theta`` is exactly ``x*`` (the proximal term vanishes there), differentiated
implicitly through its KKT system with the active set of ``x*`` held fixed (as in the QP layers of
Amos and Kolter, "OptNet", arXiv:1703.00443, and the quadratic smoothing of Wilder, Dilkina, Tambe,
"Melding the data-decisions pipeline", arXiv:1809.05504). ``mu`` sets the smoothing: the derivative
in ``c`` is ``-(1/mu)`` times the projection onto the null space of the active constraints (zero at a
non-degenerate vertex, where the true derivative is zero too); derivatives in the bounds and in
``A`` do not depend on ``mu`` at a non-degenerate vertex and equal the LP's own.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxor.lp._pdhg import PDHG, _solve_impl, check_args
from jaxor.lp._problem import LP

__all__ = ["optimal_value", "solve_x"]


def optimal_value(lp: LP, options: PDHG | None = None, *, max_iters=None, warm_start=None):
    """The optimal value of ``lp``, differentiable in every array of the LP (``c``, ``A``, bounds, ``c0``).

    Forward and reverse mode, under ``jit`` and ``vmap``. The derivative rule is the envelope theorem
    in the module docstring; it is valid where the primal and dual optima are unique and is as
    accurate as the solve (set ``options`` eps tighter for tighter gradients). For an infeasible or
    unbounded LP the value is NaN.

    Args:
        lp: :class:`jaxor.lp.LP`; a :class:`jaxor.lp.MatrixFree` operator is differentiated in its
            ``params`` through ``jax.jvp`` of its ``matvec``.
        options, max_iters, warm_start: as for :func:`jaxor.lp.solve`.

    Returns:
        scalar ``c.x* + c0``.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxor.lp import LP, PDHG, optimal_value
        >>> f = lambda b: optimal_value(LP(jnp.array([1.0, 2.0]), jnp.array([[1.0, 1.0]]), lo=b),
        ...                             PDHG(eps_abs=1e-7, eps_rel=1e-7))
        >>> round(float(jax.grad(f)(jnp.array([1.0]))[0]), 3)   # the row's dual
        1.0
    """
    options, mi = check_args(lp, options, max_iters)
    return _value(options, lp, mi, warm_start)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _value(options, lp, max_iters, warm):
    return _solve_impl(lp, options, max_iters, warm).objective


@_value.defjvp
def _value_jvp(options, primals, tangents):
    lp, max_iters, warm = primals
    dlp = tangents[0]
    sol = _solve_impl(lp, options, max_iters, warm)
    x, y, z = (jax.lax.stop_gradient(v) for v in (sol.x, sol.y, sol.z))
    _, dAx = jax.jvp(lambda op: op.mv(x), (lp.A,), (dlp.A,))
    dv = (dlp.c @ x - y @ dAx + jnp.maximum(y, 0.0) @ dlp.lo + jnp.minimum(y, 0.0) @ dlp.hi
          + jnp.maximum(z, 0.0) @ dlp.l + jnp.minimum(z, 0.0) @ dlp.u + dlp.c0)
    return sol.objective, dv


def solve_x(lp: LP, options: PDHG | None = None, *, smoothing: float = 1e-2, active_tol: float | None = None,
            max_iters=None, warm_start=None):
    """The LP minimiser ``x*`` with the smoothed derivative described in the module docstring.

    The active set of ``x*`` is read off the solution: a row or variable bound is active where its
    dual is nonzero beyond ``active_tol`` or its slack is within ``active_tol * (1 + |bound|)``. The
    tangent solves the (regularised) KKT system of the proximal QP with that active set, so the
    derivative has the cost of one dense ``(m + 2n)``-square solve (dense operators only).

    Args:
        lp: :class:`jaxor.lp.LP` with a dense or sparse ``A``.
        options, max_iters, warm_start: as for :func:`jaxor.lp.solve`.
        smoothing: ``mu > 0``, the proximal weight (smaller = closer to the LP's piecewise-constant
            ``dx*/dc``, larger = smoother).
        active_tol: activity threshold; None: ``100 * max(eps_abs, eps_rel)`` of ``options``.

    Returns:
        ``x*`` ``[n]`` (same value as ``solve(lp).x``), differentiable in ``c``, ``A``, ``lo``, ``hi``, ``l``, ``u``.

    Raises:
        ValueError: for ``smoothing <= 0`` or a matrix-free operator.
    """
    options, mi = check_args(lp, options, max_iters)
    if not smoothing > 0:
        raise ValueError(f"smoothing must be > 0; got {smoothing}")
    if lp.A.abs_max() is None:
        raise ValueError("lp.A: solve_x needs a dense or sparse A (a matrix-free operator has no active-set matrix)")
    tol = 100 * max(options.eps_abs, options.eps_rel) if active_tol is None else float(active_tol)
    return _argmin(options, float(smoothing), tol, lp, mi, warm_start)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def _argmin(options, mu, tol, lp, max_iters, warm):
    return _solve_impl(lp, options, max_iters, warm).x


@_argmin.defjvp
def _argmin_jvp(options, mu, tol, primals, tangents):
    lp, max_iters, warm = primals
    dlp = tangents[0]
    sol = _solve_impl(lp, options, max_iters, warm)
    x, y, z = (jax.lax.stop_gradient(v) for v in (sol.x, sol.y, sol.z))
    m, n = lp.shape
    dt = x.dtype
    A = lp.A.todense()
    Ax = A @ x

    def side(v, lo, hi, dual):
        """Active (bool) and whether it is the lower side, per constraint value ``v``."""
        near_lo = jnp.isfinite(lo) & (jnp.abs(v - jnp.where(jnp.isfinite(lo), lo, 0.0))
                                      <= tol * (1 + jnp.abs(jnp.where(jnp.isfinite(lo), lo, 0.0))))
        near_hi = jnp.isfinite(hi) & (jnp.abs(v - jnp.where(jnp.isfinite(hi), hi, 0.0))
                                      <= tol * (1 + jnp.abs(jnp.where(jnp.isfinite(hi), hi, 0.0))))
        lower = (jnp.isfinite(lo) & (dual > tol)) | (near_lo & ~(dual < -tol))
        upper = (jnp.isfinite(hi) & (dual < -tol)) | (near_hi & ~(dual > tol))
        return lower | upper, lower

    act_r, low_r = side(Ax, lp.lo, lp.hi, y)
    act_x, low_x = side(x, lp.l, lp.u, z)
    _, dA = jax.jvp(lambda op: op.todense(), (lp.A,), (dlp.A,))
    G = jnp.concatenate([A, jnp.eye(n, dtype=dt)])                 # [m + n, n]
    dG = jnp.concatenate([dA, jnp.zeros((n, n), dt)])
    lam = jnp.concatenate([y, z])
    act = jnp.concatenate([act_r, act_x])
    dg = jnp.concatenate([jnp.where(low_r, dlp.lo, dlp.hi), jnp.where(low_x, dlp.l, dlp.u)])
    Gm = jnp.where(act[:, None], G, 0.0)
    delta = mu * float(jnp.finfo(dt).eps) ** 0.5
    D = jnp.where(act, -delta, 1.0)
    K = jnp.block([[mu * jnp.eye(n, dtype=dt), -Gm.T], [Gm, jnp.diag(D)]])
    r1 = -dlp.c + dG.T @ lam
    r2 = jnp.where(act, dg - dG @ x, 0.0)
    sol_t = jnp.linalg.solve(K, jnp.concatenate([r1, r2]))
    return sol.x, sol_t[:n]
