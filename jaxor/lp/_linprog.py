"""SciPy-``linprog``-style entry points and MPS/LP file loading for the PDHG solver."""

from __future__ import annotations

import jax.numpy as jnp

from jaxor.lp._pdhg import PDHG, solve
from jaxor.lp._problem import LP

__all__ = ["from_linprog", "linprog", "from_file"]


def _bounds(bounds, n, dtype):
    """``(l, u)`` from linprog bounds: one pair (scalars or ``[n]`` arrays, None = unbounded) or n pairs."""
    if bounds is None:
        return jnp.zeros((n,), dtype), jnp.full((n,), jnp.inf, dtype)
    if isinstance(bounds, tuple) and len(bounds) == 2 and not isinstance(bounds[0], (tuple, list)):
        lo_, hi_ = bounds
        lv = jnp.full((n,), -jnp.inf, dtype) if lo_ is None else jnp.broadcast_to(jnp.asarray(lo_, dtype), (n,))
        uv = jnp.full((n,), jnp.inf, dtype) if hi_ is None else jnp.broadcast_to(jnp.asarray(hi_, dtype), (n,))
        return lv, uv
    bounds = list(bounds)
    if len(bounds) != n:
        raise ValueError(f"bounds must be one (low, high) pair or {n} pairs; got {len(bounds)}")
    lv = jnp.asarray([-jnp.inf if b[0] is None else b[0] for b in bounds], dtype)
    uv = jnp.asarray([jnp.inf if b[1] is None else b[1] for b in bounds], dtype)
    return lv, uv


def from_linprog(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=(0, None), *, dtype=None) -> LP:
    """Build an :class:`LP` from SciPy ``linprog`` arguments (minimise ``c.x`` s.t. ``A_ub x <= b_ub``,
    ``A_eq x = b_eq``, ``bounds``). Dense arrays; works under ``jit``/``vmap`` when ``bounds`` is a pair.

    Raises:
        ValueError: naming the argument, for missing right-hand sides or shape mismatches.
    """
    dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    c = jnp.asarray(c, dtype)
    if c.ndim != 1:
        raise ValueError(f"c must be 1-D [n]; got shape {c.shape}")
    n = c.shape[0]
    blocks, los, his = [], [], []
    for name, Am, bm, eq in (("A_ub", A_ub, b_ub, False), ("A_eq", A_eq, b_eq, True)):
        if Am is None:
            if bm is not None:
                raise ValueError(f"{'b_eq' if eq else 'b_ub'} given without {name}")
            continue
        Am = jnp.asarray(Am, dtype)
        if Am.ndim != 2 or Am.shape[1] != n:
            raise ValueError(f"{name} must have shape (k, {n}); got {Am.shape}")
        if bm is None:
            raise ValueError(f"{name} given without {'b_eq' if eq else 'b_ub'}")
        bm = jnp.asarray(bm, dtype)
        if bm.shape != (Am.shape[0],):
            raise ValueError(f"{'b_eq' if eq else 'b_ub'} must have shape ({Am.shape[0]},); got {bm.shape}")
        blocks.append(Am)
        los.append(bm if eq else jnp.full(bm.shape, -jnp.inf, dtype))
        his.append(bm)
    A = jnp.concatenate(blocks) if blocks else None
    lo = jnp.concatenate(los) if los else None
    hi = jnp.concatenate(his) if his else None
    l, u = _bounds(bounds, n, dtype)
    return LP(c, A, lo, hi, l, u, dtype=dtype)


def linprog(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=(0, None), *, options: PDHG | None = None,
            max_iters=None, warm_start=None, dtype=None):
    """Solve a SciPy-``linprog``-style LP with PDHG; returns a :class:`jaxor.lp.Solution`.

    The row duals ``y`` are ordered ``[A_ub rows, A_eq rows]`` with HiGHS's sign (``<= 0`` on an
    active ``A_ub`` row). For the exact HiGHS answer use ``jaxor.lp.highs.solve_linprog`` (same arguments).

    Examples:
        >>> from jaxor.lp import linprog, PDHG
        >>> sol = linprog([-1.0, -2.0], A_ub=[[1.0, 1.0]], b_ub=[1.0], options=PDHG(eps_rel=1e-7, eps_abs=1e-7))
        >>> round(float(sol.objective), 4)
        -2.0
    """
    return solve(from_linprog(c, A_ub, b_ub, A_eq, b_eq, bounds, dtype=dtype), options, max_iters=max_iters,
                 warm_start=warm_start)


def from_file(path, *, dtype=None) -> LP:
    """Read an MPS or CPLEX-LP file (through HiGHS) as an :class:`LP` (its LP relaxation, minimisation).

    A maximisation file is negated (so ``-objective`` is the file's optimum); see
    ``jaxor.lp.highs.read_model`` for the sense and integrality.
    """
    from jaxor.lp import highs

    return highs.read_model(path).to_lp(dtype)
