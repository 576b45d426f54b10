"""Restarted PDHG against HiGHS: Netlib optima, random LPs (status and objective), duals' signs,
jit / vmap / traced max_iters / warm start, operator kinds and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse as jsparse
from lp_helpers import feasible_lp, infeasible_lp, unbounded_lp

import jaxor
from jaxor.lp import LP, PDHG, MatrixFree, highs, solve, stack

TIGHT = PDHG(eps_abs=1e-9, eps_rel=1e-9)
NETLIB_OPT = {"afiro": -464.7531428571, "sc50b": -70.0, "blend": -30.81214985}


@pytest.mark.parametrize("name", sorted(NETLIB_OPT))
def test_netlib_float64_objective(name, data, x64):
    model = highs.read_model(data(f"netlib/{name}.mps"))
    sol = solve(model.to_lp(jnp.float64), TIGHT, max_iters=100_000)
    assert sol.status_name == "optimal"
    assert abs(float(sol.objective) - NETLIB_OPT[name]) <= 1e-6 * abs(NETLIB_OPT[name])


def _batch(kind, seed, count, dtype):
    rng = np.random.default_rng(seed)
    gen = {"feasible": feasible_lp, "infeasible": infeasible_lp, "unbounded": unbounded_lp}
    raw = [gen[k](rng) for k in kind for _ in range(count)]
    return raw, stack([LP(*r, dtype=dtype) for r in raw])


@pytest.fixture(scope="module")
def classified64():
    with jaxor.float64():
        raw, lps = _batch(["feasible", "infeasible", "unbounded"], 0, 6, jnp.float64)
        sols = jax.vmap(lambda p: solve(p, TIGHT, max_iters=50_000))(lps)
        return raw, jax.tree.map(np.asarray, sols)


def test_random_lps_classified_as_highs_does(classified64):
    raw, sols = classified64
    for i, r in enumerate(raw):
        ref = highs.solve(*r, resolve_ambiguous=True)
        got = jaxor.lp.status_name(sols.status[i])
        assert jaxor.lp._solution.HIGHS_EQUIVALENT[got] == ref.status, (i, got, ref.status)
        if ref.status == "optimal":
            assert abs(sols.objective[i] - ref.objective) <= 1e-7 * max(1.0, abs(ref.objective))
        else:
            assert np.isnan(sols.objective[i])  # never a silent number


def test_random_feasible_float32_within_1e3(getkey):
    raw, lps = _batch(["feasible"], 1, 8, jnp.float32)
    sols = jax.vmap(lambda p: solve(p, PDHG(eps_abs=1e-6, eps_rel=1e-6)))(lps)
    assert sols.x.dtype == jnp.float32
    for i, r in enumerate(raw):
        ref = highs.solve(*r)
        assert int(sols.status[i]) == 0
        assert abs(float(sols.objective[i]) - ref.objective) <= 1e-3 * max(1.0, abs(ref.objective))


def test_dual_signs_match_highs_two_variables(x64):
    # max x1 + x2 s.t. x1 + 2 x2 <= 4 (active at hi), x1 - x2 >= -1 (inactive), x1 <= 3 (active at u),
    # x2 >= 0.2 via a row at its lower bound is not active; HiGHS: y <= 0 at an upper row bound, z <= 0 at u.
    c = np.array([-1.0, -1.0])
    A = np.array([[1.0, 2.0], [1.0, -1.0], [0.0, 1.0]])
    lo = np.array([-np.inf, -1.0, 0.2])
    hi = np.array([4.0, np.inf, np.inf])
    ref = highs.solve(c, A, lo, hi, l=0.0, u=np.array([3.0, np.inf]))
    sol = solve(LP(c, A, lo, hi, 0.0, np.array([3.0, np.inf]), dtype=jnp.float64), TIGHT)
    np.testing.assert_allclose(sol.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(sol.y, ref.y, atol=1e-7)
    np.testing.assert_allclose(sol.z, ref.z, atol=1e-7)
    assert ref.y[0] < 0 and ref.z[0] < 0  # the pinned convention itself
    # and a lower-bound case: min x1 + x2 s.t. x1 + x2 >= 1 -> y >= 0
    ref2 = highs.solve(np.array([1.0, 2.0]), np.array([[1.0, 1.0]]), np.array([1.0]), None)
    sol2 = solve(LP(np.array([1.0, 2.0]), np.array([[1.0, 1.0]]), np.array([1.0]), dtype=jnp.float64), TIGHT)
    assert ref2.y[0] > 0
    np.testing.assert_allclose(sol2.y, ref2.y, atol=1e-7)
    np.testing.assert_allclose(sol2.z, ref2.z, atol=1e-7)


def test_operator_kinds_agree(x64):
    rng = np.random.default_rng(3)
    c, A, lo, hi, l, u = feasible_lp(rng)
    dense = solve(LP(c, A, lo, hi, l, u, dtype=jnp.float64), TIGHT)
    bcoo = solve(LP(c, jsparse.BCOO.fromdense(jnp.asarray(A)), lo, hi, l, u, dtype=jnp.float64), TIGHT)
    mf = MatrixFree(lambda a, x: a @ x, lambda a, y: y @ a, jnp.asarray(A), A.shape)
    free = solve(LP(c, mf, lo, hi, l, u, dtype=jnp.float64), TIGHT)
    ref = highs.solve(c, A, lo, hi, l, u).objective
    for s in (dense, bcoo, free):
        assert s.status_name == "optimal"
        assert abs(float(s.objective) - ref) <= 1e-7 * max(1, abs(ref))


def test_masked_columns_equal_the_smaller_lp(x64):
    rng = np.random.default_rng(4)
    c, A, lo, hi, l, u = feasible_lp(rng)
    mask = np.arange(A.shape[1]) < 9
    # the smaller LP: drop the masked columns; the fixed-shape LP keeps them at 0
    ref = highs.solve(c[:9], A[:, :9], lo, hi, l[:9], u[:9])
    sol = solve(LP(c, A, lo, hi, l, u, col_mask=mask, dtype=jnp.float64), TIGHT)
    assert ref.status == "optimal" and sol.status_name == "optimal"
    assert abs(float(sol.objective) - ref.objective) <= 1e-7 * max(1, abs(ref.objective))
    assert np.all(np.asarray(sol.x)[9:] == 0)


def test_jit_vmap_traced_max_iters_and_no_recompile():
    raw, lps = _batch(["feasible"], 5, 4, jnp.float32)
    f = jax.jit(jax.vmap(lambda p, k: solve(p, max_iters=k), in_axes=(0, None)))
    s1 = f(lps, jnp.int32(64))
    assert np.all(np.asarray(s1.iterations) <= 64)
    s2 = f(lps, jnp.int32(10_000))  # a new cap is a value, not a new program
    assert np.all(np.asarray(s2.status) == 0)
    assert f._cache_size() == 1


def test_warm_start_cuts_iterations(x64):
    raw, lps = _batch(["feasible"], 6, 6, jnp.float64)
    opts = PDHG(eps_abs=1e-6, eps_rel=1e-6, eval_every=16)
    run = jax.jit(jax.vmap(lambda p, w: solve(p, opts, warm_start=w)))
    run_cold = jax.jit(jax.vmap(lambda p: solve(p, opts)))
    base = run_cold(lps)
    rng = np.random.default_rng(0)
    new = stack([LP(r[0] * (1 + 1e-3 * rng.normal(size=r[0].shape)), r[1], r[2], r[3], r[4], r[5],
                    dtype=jnp.float64) for r in raw])
    cold = run_cold(new)
    warm = run(new, base.warm_start)
    assert np.all(np.asarray(warm.status) == 0)
    np.testing.assert_allclose(warm.objective, cold.objective, rtol=1e-5, atol=1e-5)
    assert np.mean(np.asarray(warm.iterations)) * 2 <= np.mean(np.asarray(cold.iterations))


@pytest.mark.parametrize("bad, match", [
    (dict(c=[1.0, np.nan]), "c"),
    (dict(A=np.ones((2, 3))), "A"),
    (dict(lo=[2.0], hi=[1.0]), "lo > hi"),
    (dict(l=[1.0, 0.0], u=[0.0, 1.0]), "l > u"),
    (dict(A=[[1.0, np.inf]]), "A"),
    (dict(hi=[1.0, 2.0]), "hi"),
    (dict(lo=[np.nan]), "lo"),
])
def test_bad_input_names_the_argument(bad, match):
    args = dict(c=[1.0, 1.0], A=[[1.0, 1.0]], lo=[0.0], hi=[1.0], l=[0.0, 0.0], u=[1.0, 1.0])
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        LP(**args)
    if match not in ("lo",):
        with pytest.raises(ValueError, match=match.split()[0]):
            highs.solve(**args)


def test_float64_without_x64_raises():
    with pytest.raises(ValueError, match="dtype"):
        LP([1.0], dtype=jnp.float64)
