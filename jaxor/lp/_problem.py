"""The :class:`LP` pytree: ``min c.x + c0  s.t.  lo <= A x <= hi,  l <= x <= u``.

Validated at construction (shapes always; values whenever they are concrete, i.e. outside ``jit``).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from jaxor._precision import require_x64
from jaxor.lp._operator import DenseOperator, MatrixFree, SparseOperator, as_operator

__all__ = ["LP", "stack"]


def _concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


class LP(eqx.Module):
    """A linear program in row-bounded form (HiGHS's form), as a pytree.

    .. math:: \\min_x\\; c^\\top x + c_0 \\quad\\text{s.t.}\\quad lo \\le A x \\le hi,\\qquad l \\le x \\le u

    Rows with ``lo == hi`` are equalities; ``-inf``/``+inf`` mark absent bounds.

    Args:
        c: objective ``[n]``.
        A: constraint matrix ``[m, n]``: a dense array, a ``jax.experimental.sparse.BCOO``, a SciPy
            sparse matrix, a :class:`MatrixFree` operator (a pair of matvec functions), or None (no rows).
        lo, hi: row bounds ``[m]`` (defaults ``-inf`` / ``+inf``; scalars broadcast).
        l, u: variable bounds ``[n]`` (defaults ``0`` / ``+inf``, as in HiGHS and SciPy).
        c0: objective constant.
        col_mask: optional ``[n]`` booleans; a False column is fixed at 0 (``l = u = c = 0``). With
            ``row_mask`` (False rows get ``lo = -inf, hi = +inf``) this lets an LP that grows inside
            ``lax.scan`` keep one static shape: allocate the largest ``A`` and unmask as it grows.
        dtype: float32 or float64 (float64 needs ``jaxor.float64()``); default: JAX's default float.

    Raises:
        ValueError: naming the argument, for a shape mismatch, NaN/Inf in ``c`` or ``A``, NaN bounds,
            ``lo > hi``, ``l > u``, ``lo = +inf`` or ``hi = -inf`` (values are checked when concrete).

    Examples:
        >>> import jax.numpy as jnp
        >>> lp = LP(c=jnp.array([-1.0, -1.0]), A=jnp.array([[1.0, 2.0]]), hi=jnp.array([4.0]), u=3.0)
        >>> lp.shape
        (1, 2)
    """

    c: jax.Array
    A: DenseOperator | SparseOperator | MatrixFree
    lo: jax.Array
    hi: jax.Array
    l: jax.Array
    u: jax.Array
    c0: jax.Array

    def __init__(self, c, A=None, lo=None, hi=None, l=None, u=None, *, c0=0.0, col_mask=None, row_mask=None,
                 dtype=None):
        require_x64(dtype, "dtype")
        if dtype is None:
            dtype = jnp.result_type(float)  # float64 only when x64 is on
        dtype = jnp.dtype(dtype)
        if not jnp.issubdtype(dtype, jnp.floating):
            raise ValueError(f"dtype must be a float type; got {dtype}")
        c = jnp.asarray(c, dtype)
        if c.ndim != 1:
            raise ValueError(f"c must be 1-D [n]; got shape {c.shape}")
        n = c.shape[0]
        op = as_operator(A, dtype, n)
        m = op.shape[0]

        def vec(name, v, size, default):
            if v is None:
                return jnp.full((size,), default, dtype)
            a = jnp.asarray(v, dtype)
            if a.ndim == 0:
                a = jnp.full((size,), a, dtype)
            if a.shape != (size,):
                raise ValueError(f"{name} must have shape ({size},); got {a.shape}")
            return a

        lo = vec("lo", lo, m, -jnp.inf)
        hi = vec("hi", hi, m, jnp.inf)
        l = vec("l", l, n, 0.0)
        u = vec("u", u, n, jnp.inf)
        c0 = jnp.asarray(c0, dtype)
        if c0.shape != ():
            raise ValueError(f"c0 must be a scalar; got shape {c0.shape}")
        if col_mask is not None:
            cm = jnp.asarray(col_mask)
            if cm.shape != (n,):
                raise ValueError(f"col_mask must have shape ({n},); got {cm.shape}")
            cm = cm.astype(bool)
            c = jnp.where(cm, c, 0.0)
            l = jnp.where(cm, l, 0.0)
            u = jnp.where(cm, u, 0.0)
        if row_mask is not None:
            rm = jnp.asarray(row_mask)
            if rm.shape != (m,):
                raise ValueError(f"row_mask must have shape ({m},); got {rm.shape}")
            rm = rm.astype(bool)
            lo = jnp.where(rm, lo, -jnp.inf)
            hi = jnp.where(rm, hi, jnp.inf)
        self.c, self.A, self.lo, self.hi, self.l, self.u, self.c0 = c, op, lo, hi, l, u, c0
        _check_values(self)

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: rows and columns."""
        return (self.lo.shape[-1], self.c.shape[-1])

    @property
    def dtype(self):
        return self.c.dtype

    def residual_products(self, x, y):
        """``(A x, A^T y)`` (convenience)."""
        return self.A.mv(x), self.A.rmv(y)

    def objective(self, x):
        """``c.x + c0``."""
        return self.c @ x + self.c0


def _check_values(lp: LP) -> None:
    arrays = [lp.c, lp.lo, lp.hi, lp.l, lp.u, lp.c0]
    if not all(_concrete(a) for a in arrays):
        return
    if not bool(jnp.all(jnp.isfinite(lp.c))):
        raise ValueError("c holds NaN or Inf")
    if not bool(jnp.isfinite(lp.c0)):
        raise ValueError("c0 is NaN or Inf")
    if all(_concrete(v) for v in jax.tree.leaves(lp.A)) and not bool(lp.A.leaves_finite()):
        raise ValueError("A holds NaN or Inf")
    for name, v in (("lo", lp.lo), ("hi", lp.hi), ("l", lp.l), ("u", lp.u)):
        if bool(jnp.any(jnp.isnan(v))):
            raise ValueError(f"{name} holds NaN")
    for name, v, bad in (("lo", lp.lo, jnp.inf), ("l", lp.l, jnp.inf), ("hi", lp.hi, -jnp.inf),
                         ("u", lp.u, -jnp.inf)):
        if bool(jnp.any(v == bad)):
            raise ValueError(f"{name} holds {float(bad)} (an unsatisfiable bound)")
    if bool(jnp.any(lp.lo > lp.hi)):
        idx = np.flatnonzero(np.asarray(lp.lo > lp.hi))[:10].tolist()
        raise ValueError(f"lo > hi in rows {idx}")
    if bool(jnp.any(lp.l > lp.u)):
        idx = np.flatnonzero(np.asarray(lp.l > lp.u))[:10].tolist()
        raise ValueError(f"l > u in columns {idx}")


def stack(lps) -> LP:
    """Stack LPs of one shape and kind into a batched LP (leading batch axis) for ``vmap``.

    Raises:
        ValueError: if the LPs differ in shape, dtype or operator kind.
    """
    lps = list(lps)
    if not lps:
        raise ValueError("lps is empty")
    s0 = jax.tree.structure(lps[0])
    for i, p in enumerate(lps[1:], 1):
        if jax.tree.structure(p) != s0 or p.shape != lps[0].shape:
            raise ValueError(f"lps[{i}] differs from lps[0] in shape or kind; batch LPs must share one form")
    return jax.tree.map(lambda *xs: jnp.stack(xs), *lps)
