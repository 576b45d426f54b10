"""Dense linear solves written in plain JAX operations, for the small systems solved inside vmapped
programs (jaxor.rl policy evaluation and feature regressions). jaxor.olp's dual simplex and jaxor.lp's
differentiation still call ``jnp.linalg.solve``: no stall was ever observed there, and moving them would
change their floating-point results; they are the candidates if one appears.

Why not ``jnp.linalg.solve``: on CPU it lowers to LAPACK ``getrf`` through an FFI kernel that splits a
batch of systems over XLA's intra-op thread pool and blocks until the pieces finish. When two such
kernels run concurrently inside one vmapped program (the seed-batched re-solving runs of jaxor.rl did)
on a machine with two cores, each occupies a pool thread while waiting for work that can only run on
the other: the program never finishes (observed with jaxlib 0.10.2: every runtime thread parked, two of
them inside ``ParallelBatchMap``). Gaussian elimination with partial pivoting as a ``fori_loop`` is the
same algorithm as unblocked ``getrf`` + ``getrs``, vectorises across a ``vmap`` batch, differentiates
by ordinary autodiff, and has no nested thread pool.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["solve"]


def solve(A: jax.Array, b: jax.Array) -> jax.Array:
    """Solve ``A x = b`` for one square system (``vmap`` for batches).

    Args:
        A: ``[n, n]`` non-singular matrix.
        b: ``[n]`` or ``[n, k]`` right-hand side(s).

    Returns:
        ``x`` with the shape of ``b``.
    """
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix [n, n]; got shape {A.shape}")
    if b.shape[0] != A.shape[0] or b.ndim not in (1, 2):
        raise ValueError(f"b must have shape [n] or [n, k] with n = {A.shape[0]}; got {b.shape}")
    vec = b.ndim == 1
    B = b[:, None] if vec else b
    dt = jnp.result_type(A, B)
    n = A.shape[0]
    rows = jnp.arange(n)
    M = jnp.concatenate([A.astype(dt), B.astype(dt)], axis=1)

    def eliminate(j, M):
        # partial pivoting: bring the largest remaining entry of column j to row j
        p = jnp.argmax(jnp.where(rows >= j, jnp.abs(M[:, j]), -1.0))
        row_j, row_p = M[j], M[p]
        M = M.at[j].set(row_p).at[p].set(row_j)
        factors = jnp.where(rows > j, M[:, j] / M[j, j], 0.0)
        return M - factors[:, None] * M[j][None, :]

    M = jax.lax.fori_loop(0, n, eliminate, M)
    U, Y = jnp.triu(M[:, :n]), M[:, n:]

    def substitute(t, X):
        i = n - 1 - t
        return X.at[i].set((Y[i] - U[i] @ X) / U[i, i])

    X = jax.lax.fori_loop(0, n, substitute, jnp.zeros_like(Y))
    return X[:, 0] if vec else X
