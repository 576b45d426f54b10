"""The exact dual simplex against HiGHS (an independent exact LP solver)."""

import jax
import numpy as np
import pytest

from jaxor.lp import highs
from jaxor.olp import dual_objective, solve_dual, solve_hindsight


def _highs(r, a, B, w):
    res = highs.solve(-r, a.T, None, B, 0.0, w)
    assert res.ok
    return -res.objective, res


@pytest.fixture(scope="module")
def jsolve():
    return jax.jit(lambda r, a, B, w, bs: solve_dual(r, a, B, w, basis=bs, max_iter=500))


@pytest.mark.parametrize("kind", ["uniform", "negative", "masked"])
def test_solve_dual_matches_highs(x64, jsolve, kind):
    rng = np.random.default_rng({"uniform": 0, "negative": 1, "masked": 2}[kind])
    N, m = 300, 3
    for _ in range(4):
        if kind == "negative":  # Li-Ye input II: negative consumption, r = sum a
            a = 0.5 + rng.normal(size=(N, m))
            r = a.sum(1)
        else:
            a = rng.uniform(0, 2, (N, m))
            r = rng.uniform(0, 1, N)
        w = (rng.uniform(size=N) < 0.6).astype(float) if kind == "masked" else np.ones(N)
        B = rng.uniform(0.1, 0.4, m) * w.sum()
        sol = jsolve(r, a, B, w, np.arange(N, N + m, dtype=np.int32))
        val, res = _highs(r, a, B, w)
        assert int(sol.status) == 0
        np.testing.assert_allclose(float(sol.value), val, rtol=1e-9, atol=1e-9)
        # primal feasibility and value of the returned x
        x = np.asarray(sol.x)
        assert np.all(x >= -1e-9) and np.all(x <= w + 1e-9)
        assert np.all(a.T @ x <= B + 1e-7)
        np.testing.assert_allclose(r @ x, val, rtol=1e-9, atol=1e-9)
        # the dual value at p equals g(p)
        np.testing.assert_allclose(float(dual_objective(sol.p, r, a, B, w)), val, rtol=1e-9)
        # warm start from the optimal basis after a budget change reaches the same optimum
        B2 = B * 1.05
        warm = jsolve(r, a, B2, w, sol.basis)
        val2, _ = _highs(r, a, B2, w)
        assert int(warm.status) == 0
        np.testing.assert_allclose(float(warm.value), val2, rtol=1e-9)


def test_hindsight_ladder_matches_highs(x64):
    rng = np.random.default_rng(5)
    n, m = 5000, 4
    a = rng.uniform(0, 2, (n, m))
    r = rng.uniform(0, 1, n)
    b = np.full(m, 0.25 * n)
    sol = solve_hindsight(r, a, b, min_level=256)
    val, res = _highs(r, a, b, np.ones(n))
    assert int(sol.status) == 0
    np.testing.assert_allclose(float(sol.value), val, rtol=1e-11)
    np.testing.assert_allclose(np.asarray(sol.p), np.maximum(-res.y, 0), atol=1e-9)


def test_one_dimensional_closed_form(x64):
    # m = 1, a = 1: accept the k best rewards; price = the (k+1)-th largest reward.
    r = np.array([0.9, 0.1, 0.5, 0.7, 0.3])
    sol = solve_dual(r, np.ones((5, 1)), np.array([2.0]))
    assert float(sol.value) == pytest.approx(1.6)
    assert float(sol.p[0]) == pytest.approx(0.5)


def test_bad_input_names_argument():
    r = np.ones(4)
    with pytest.raises(ValueError, match="A must"):
        solve_dual(r, np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="B must"):
        solve_dual(r, np.ones((4, 2)), np.ones(3))
    with pytest.raises(ValueError, match="weights"):
        solve_dual(r, np.ones((4, 2)), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="line_search"):
        solve_dual(r, np.ones((4, 2)), np.ones(2), line_search="newton")
