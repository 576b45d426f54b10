"""The chunk's triangular solve: recursive-doubling inverse vs row-by-row forward substitution."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from osdn_helpers import rel

import jaxor
from jaxor.osdn._chunk import forward_substitution, unit_tril_inverse


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _system(key, C, dtype, n=3, D=5):
    """A chunk's ``A = tril(diag(beta) K Kw^T, -1)`` with unit keys, random ``d``, and a right side."""
    ks = jax.random.split(key, 5)
    K = jax.random.normal(ks[0], (n, C, 16), dtype)
    K = K / jnp.linalg.norm(K, axis=-1, keepdims=True)
    Kw = K * jnp.exp(0.3 * jax.random.normal(ks[1], K.shape, dtype))
    beta = jax.nn.sigmoid(jax.random.normal(ks[2], (n, C), dtype))
    A = jnp.tril(beta[..., None] * (K @ jnp.swapaxes(Kw, -1, -2)), -1)
    R = jax.random.normal(ks[3], (n, C, D), dtype)
    G = jax.random.normal(ks[4], (n, C, D), dtype)
    return A, R, G


def _inverse_solve(A, R):
    return unit_tril_inverse(A) @ R


@functools.partial(jax.jit, static_argnums=0)
def _solve_vjp(solve, A, R, G):
    X, vjp = jax.vjp(solve, A, R)
    return X, vjp(G)


@pytest.mark.parametrize("C", [24, 64])   # 16 and 32 run in the full chunk-vs-recurrent tests
def test_inverse_solve_matches_forward_substitution_float64_with_gradients(C):
    with jaxor.float64():
        A, R, G = _system(jax.random.PRNGKey(C), C, jnp.float64)
        X_ref, (dA_ref, dR_ref) = _solve_vjp(forward_substitution, A, R, G)
        X, (dA, dR) = _solve_vjp(_inverse_solve, A, R, G)
        resid = jax.jit(lambda A: (jnp.eye(C, dtype=A.dtype) + A) @ unit_tril_inverse(A))(A)
        assert rel(resid, jnp.broadcast_to(jnp.eye(C), A.shape)) <= 1e-12
    assert rel(X, X_ref) <= 1e-12
    assert rel(dR, dR_ref) <= 1e-10
    # the solve reads only the strict lower triangle, so that is where its gradient lives
    strict = np.tril(np.ones((C, C), bool), -1)
    assert rel(np.where(strict, dA, 0.0), np.where(strict, dA_ref, 0.0)) <= 1e-10
    assert float(np.abs(np.where(strict, 0.0, dA)).max()) == 0.0


def test_inverse_solve_float32_error_close_to_forward_substitution():
    """No cancellation: in float32 the block inverse is as accurate as substitution (vs float64)."""
    with jaxor.float64():
        A64, R64, _ = _system(jax.random.PRNGKey(7), 64, jnp.float64, n=16)
        X64 = jax.jit(forward_substitution)(A64, R64)
    A32, R32 = A64.astype(jnp.float32), R64.astype(jnp.float32)
    err_sub = rel(jax.jit(forward_substitution)(A32, R32), X64)
    err_inv = rel(jax.jit(_inverse_solve)(A32, R32), X64)
    assert err_inv <= 4 * err_sub + 1e-6, (err_inv, err_sub)
