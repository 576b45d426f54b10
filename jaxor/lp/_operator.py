"""Constraint-matrix operators for :class:`jaxor.lp.LP`: dense, sparse (COO) and matrix-free.

Each operator is an equinox Module (a pytree, so problems jit and vmap) with ``mv(x) = A x``,
``rmv(y) = A^T y`` and ``scale(r, s) = diag(r) A diag(s)``; dense and sparse operators also give the
row/column absolute maxima and sums used by Ruiz and Pock-Chambolle scaling (a matrix-free operator
reports ``None`` and is left unscaled). Shapes are static metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.experimental import sparse as jsparse

__all__ = ["DenseOperator", "SparseOperator", "MatrixFree", "as_operator"]


class DenseOperator(eqx.Module):
    """A dense ``[m, n]`` matrix."""

    a: jax.Array  # [m, n]

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.a.shape[-2:])

    def mv(self, x):
        return self.a @ x

    def rmv(self, y):
        return y @ self.a

    def abs_max(self):
        aa = jnp.abs(self.a)
        return jnp.max(aa, axis=1, initial=0.0), jnp.max(aa, axis=0, initial=0.0)

    def abs_pow_sum(self, p_row, p_col):
        aa = jnp.abs(self.a)
        return jnp.sum(_pow(aa, p_row), axis=1), jnp.sum(_pow(aa, p_col), axis=0)

    def scale(self, r, s):
        return DenseOperator(r[:, None] * self.a * s[None, :])

    def todense(self):
        return self.a

    def leaves_finite(self):
        return jnp.all(jnp.isfinite(self.a))


class SparseOperator(eqx.Module):
    """A sparse matrix in coordinate form: ``A[rows[k], cols[k]] += data[k]`` (duplicates add)."""

    data: jax.Array  # [nnz]
    rows: jax.Array  # [nnz] int32
    cols: jax.Array  # [nnz] int32
    shape: tuple[int, int] = eqx.field(static=True)

    def mv(self, x):
        return jax.ops.segment_sum(self.data * x[self.cols], self.rows, num_segments=self.shape[0])

    def rmv(self, y):
        return jax.ops.segment_sum(self.data * y[self.rows], self.cols, num_segments=self.shape[1])

    def abs_max(self):
        aa = jnp.abs(self.data)
        rm = jax.ops.segment_max(aa, self.rows, num_segments=self.shape[0])
        cm = jax.ops.segment_max(aa, self.cols, num_segments=self.shape[1])
        return jnp.maximum(rm, 0.0), jnp.maximum(cm, 0.0)  # empty segments give -inf

    def abs_pow_sum(self, p_row, p_col):
        aa = jnp.abs(self.data)
        return (jax.ops.segment_sum(_pow(aa, p_row), self.rows, num_segments=self.shape[0]),
                jax.ops.segment_sum(_pow(aa, p_col), self.cols, num_segments=self.shape[1]))

    def scale(self, r, s):
        return SparseOperator(self.data * r[self.rows] * s[self.cols], self.rows, self.cols, self.shape)

    def todense(self):
        return jnp.zeros(self.shape, self.data.dtype).at[self.rows, self.cols].add(self.data)

    def leaves_finite(self):
        return jnp.all(jnp.isfinite(self.data))


class MatrixFree(eqx.Module):
    """A matrix given by its products: ``A x = matvec(params, x)``, ``A^T y = rmatvec(params, y)``.

    ``params`` is any pytree of arrays (it is batched by ``vmap`` and differentiated by
    :func:`jaxor.lp.optimal_value`); the two functions are static. The operator is not rescaled by
    Ruiz/Pock-Chambolle (its entries are unknown); pre-scale it yourself if it is badly conditioned.

    Args:
        matvec: ``(params, x[n]) -> [m]``.
        rmatvec: ``(params, y[m]) -> [n]``; must be the exact transpose of ``matvec``.
        params: pytree of arrays.
        shape: ``(m, n)``.

    Examples:
        >>> import jax.numpy as jnp
        >>> op = MatrixFree(lambda a, x: a @ x, lambda a, y: y @ a, jnp.eye(2), (2, 2))
        >>> op.mv(jnp.ones(2)).tolist()
        [1.0, 1.0]
    """

    matvec: Callable[[Any, jax.Array], jax.Array] = eqx.field(static=True)
    rmatvec: Callable[[Any, jax.Array], jax.Array] = eqx.field(static=True)
    params: Any
    shape: tuple[int, int] = eqx.field(static=True)
    r: jax.Array | None = None  # row scaling applied on top (set by :meth:`scale`)
    s: jax.Array | None = None

    def mv(self, x):
        out = self.matvec(self.params, x if self.s is None else self.s * x)
        return out if self.r is None else self.r * out

    def rmv(self, y):
        out = self.rmatvec(self.params, y if self.r is None else self.r * y)
        return out if self.s is None else self.s * out

    def abs_max(self):
        return None

    def abs_pow_sum(self, p_row, p_col):
        return None

    def scale(self, r, s):
        r0 = r if self.r is None else self.r * r
        s0 = s if self.s is None else self.s * s
        return MatrixFree(self.matvec, self.rmatvec, self.params, self.shape, r0, s0)

    def todense(self):
        n = self.shape[1]
        return jax.vmap(self.mv, in_axes=1, out_axes=1)(jnp.eye(n, dtype=_dtype_of(self.params)))

    def leaves_finite(self):
        leaves = [jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(self.params)
                  if jnp.issubdtype(jnp.asarray(v).dtype, jnp.inexact)]
        return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


def _pow(a, p: float):
    """``|a|^p`` with ``0^0 = 0`` (structural zeros do not count), specialised for p in {0, 1, 2}."""
    if p == 1:
        return a
    if p == 2:
        return a * a
    if p == 0:
        return (a != 0).astype(a.dtype)
    return jnp.where(a > 0, a ** p, 0.0)


def _dtype_of(params):
    leaves = [v for v in jax.tree.leaves(params) if jnp.issubdtype(jnp.asarray(v).dtype, jnp.inexact)]
    return jnp.asarray(leaves[0]).dtype if leaves else jnp.float32


def as_operator(A, dtype, n: int):
    """Wrap ``A`` (array, BCOO, SciPy sparse, operator or None) as an operator of dtype ``dtype``.

    Raises:
        ValueError: if ``A`` is not 2-D or has a column count other than ``n``.
    """
    if A is None:
        return DenseOperator(jnp.zeros((0, n), dtype))
    if isinstance(A, (DenseOperator, SparseOperator, MatrixFree)):
        op = A
    elif isinstance(A, jsparse.BCOO):
        if A.ndim != 2 or A.n_batch or A.n_dense:
            raise ValueError(f"A as BCOO must be a plain 2-D matrix; got shape {A.shape}, "
                             f"n_batch={A.n_batch}, n_dense={A.n_dense}")
        idx = A.indices
        op = SparseOperator(jnp.asarray(A.data, dtype), idx[:, 0].astype(jnp.int32), idx[:, 1].astype(jnp.int32),
                            tuple(A.shape))
    elif hasattr(A, "tocoo") and hasattr(A, "nnz"):  # SciPy sparse
        coo = A.tocoo()
        op = SparseOperator(jnp.asarray(coo.data, dtype), jnp.asarray(coo.row, jnp.int32),
                            jnp.asarray(coo.col, jnp.int32), tuple(coo.shape))
    else:
        a = jnp.asarray(A, dtype)
        if a.ndim != 2:
            raise ValueError(f"A must be 2-D [m, n]; got shape {a.shape}")
        op = DenseOperator(a)
    if op.shape[1] != n:
        raise ValueError(f"A must have {n} columns to match c; got shape {op.shape}")
    if isinstance(op, DenseOperator) and op.a.dtype != dtype:
        op = DenseOperator(op.a.astype(dtype))
    if isinstance(op, SparseOperator) and op.data.dtype != dtype:
        op = SparseOperator(op.data.astype(dtype), op.rows, op.cols, op.shape)
    return op
