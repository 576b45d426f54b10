"""Gradients of the LP optimal value (envelope theorem) and the smoothed minimiser vs finite differences
of HiGHS solves, on LPs whose primal and dual optima are verified unique."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from lp_helpers import feasible_lp

import jaxor
from jaxor.lp import LP, PDHG, highs, optimal_value, solve_x

TIGHT = PDHG(eps_abs=1e-9, eps_rel=1e-9)


def _unique_lp(seed):
    """A random LP whose HiGHS optimum is a non-degenerate vertex with strictly complementary duals."""
    rng = np.random.default_rng(seed)
    for _ in range(50):
        c, A, lo, hi, l, u = feasible_lp(rng)
        r = highs.solve(c, A, lo, hi, l, u)
        ax = A @ r.x
        tight_r = (np.abs(ax - lo) < 1e-9) | (np.abs(ax - hi) < 1e-9)
        tight_x = (np.abs(r.x - l) < 1e-9) | (np.abs(r.x - u) < 1e-9)
        n_tight = tight_r.sum() + tight_x.sum()
        strict = np.all(np.abs(r.y[tight_r]) > 1e-6) and np.all(np.abs(r.z[tight_x]) > 1e-6)
        if n_tight == A.shape[1] and strict and np.linalg.matrix_rank(
                np.vstack([A[tight_r], np.eye(A.shape[1])[tight_x]])) == A.shape[1]:
            return (c, A, lo, hi, l, u), r
    raise RuntimeError("no non-degenerate LP found")


@pytest.fixture(scope="module")
def problem():
    return _unique_lp(21)


def _fd(args, k, idx, h=1e-6):
    """Central difference of the HiGHS optimum in args[k][idx]; equality rows move lo and hi together."""
    plus = [np.array(a, dtype=float) for a in args]
    minus = [np.array(a, dtype=float) for a in args]
    plus[k][idx] += h
    minus[k][idx] -= h
    lo, hi = args[2], args[3]
    if k in (2, 3) and lo[idx] == hi[idx]:
        plus[5 - k][idx] += h
        minus[5 - k][idx] -= h
    return (highs.solve(*plus).objective - highs.solve(*minus).objective) / (2 * h)


def test_value_gradient_matches_finite_differences(problem, x64):
    args, ref = problem
    jargs = [jnp.asarray(a) for a in args]

    def value(c, A, lo, hi, l, u):
        return optimal_value(LP(c, A, lo, hi, l, u), TIGHT)

    v, grads = jax.value_and_grad(value, argnums=tuple(range(6)))(*jargs)
    assert abs(float(v) - ref.objective) <= 1e-8 * max(1, abs(ref.objective))
    rng = np.random.default_rng(0)
    lo, hi = args[2], args[3]
    for k in range(6):
        entries = [i for i in np.ndindex(np.shape(args[k])) if np.isfinite(args[k][i])]
        for idx in [entries[j] for j in rng.choice(len(entries), size=min(6, len(entries)), replace=False)]:
            g = float(grads[k][idx])
            if k in (2, 3) and lo[idx] == hi[idx]:
                g = float(grads[2][idx] + grads[3][idx])
            assert abs(g - _fd(args, k, idx)) <= 1e-6, (k, idx)
    # closed forms: dv/dc = x*, dv/dlo = max(y, 0)
    np.testing.assert_allclose(grads[0], ref.x, atol=1e-7)
    np.testing.assert_allclose(grads[2], np.maximum(ref.y, 0), atol=1e-7)


def test_value_gradient_under_vmap(problem, x64):
    args, ref = problem
    c, A, lo, hi, l, u = (jnp.asarray(a) for a in args)
    scales = jnp.array([1.0, 1.5])
    f = jax.vmap(jax.grad(lambda s: optimal_value(LP(c * s, A, lo, hi, l, u), TIGHT)))
    got = f(scales)
    # v(s c) is positively homogeneous in s: dv/ds = c.x*(s c) = v(c) at the same vertex
    np.testing.assert_allclose(got, [ref.objective, ref.objective], rtol=1e-7)


def test_smoothed_argmin_derivative_matches_lp_at_a_vertex(problem, x64):
    args, ref = problem
    c, A, lo, hi, l, u = (jnp.asarray(a) for a in args)
    x_of_hi = lambda hi_: solve_x(LP(c, A, lo, hi_, l, u), TIGHT, smoothing=1e-2)  # noqa: E731
    J = np.asarray(jax.jacfwd(x_of_hi)(hi))
    h = 1e-6
    for k in np.flatnonzero(np.isfinite(args[3]) & (args[2] != args[3])):
        e = np.eye(len(args[3]))[k] * h
        fd = (highs.solve(args[0], args[1], args[2], args[3] + e, args[4], args[5]).x
              - highs.solve(args[0], args[1], args[2], args[3] - e, args[4], args[5]).x) / (2 * h)
        np.testing.assert_allclose(J[:, k], fd, atol=1e-5)
    # x* is locally constant in c at a non-degenerate vertex; the smoothing keeps that
    Jc = jax.jacrev(lambda c_: solve_x(LP(c_, A, lo, hi, l, u), TIGHT, smoothing=1e-2))(c)
    assert np.max(np.abs(np.asarray(Jc))) <= 1e-5


def test_smoothed_argmin_off_vertex_is_minus_projection_over_mu(x64):
    """min -x1 - x2 s.t. x1 + x2 <= 1, 0 <= x <= 1: an optimal face; smoothing gives -(1/mu) P_null."""
    c = jnp.array([-1.0, -1.0])
    A = jnp.array([[1.0, 1.0]])
    mu = 0.5
    J = jax.jacfwd(lambda c_: solve_x(LP(c_, A, hi=jnp.array([1.0]), u=1.0), TIGHT, smoothing=mu))(c)
    P = np.eye(2) - np.ones((2, 2)) / 2
    np.testing.assert_allclose(J, -P / mu, atol=1e-6)


def test_smoothing_validation():
    with pytest.raises(ValueError, match="smoothing"):
        solve_x(LP(jnp.ones(2)), smoothing=0.0)
    with jaxor.float64():
        pass
