"""Restarted PDHG against HiGHS: Netlib optima, random LPs (status and objective), duals' signs,
jit / vmap / traced max_iters / warm start, operator kinds and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse as jsparse
from lp_helpers import VSOLVE, batch_of, feasible_lp

import jaxor
from jaxor.lp import LP, PDHG, MatrixFree, highs, solve, solve_batch, stack
from jaxor.lp._solution import HIGHS_EQUIVALENT

TIGHT = PDHG(eps_abs=1e-9, eps_rel=1e-9)
NETLIB_OPT = {"afiro": -464.7531428571, "sc50b": -70.0}
KINDS = ["feasible"] * 8 + ["infeasible"] * 5 + ["unbounded"] * 5  # 18: every f64 batch has this size


@pytest.mark.parametrize("name", sorted(NETLIB_OPT))
def test_netlib_float64_objective(name, data, x64):
    model = highs.read_model(data(f"netlib/{name}.mps"))
    sol = solve(model.to_lp(jnp.float64), TIGHT, max_iters=100_000)
    assert sol.status_name == "optimal"
    assert abs(float(sol.objective) - NETLIB_OPT[name]) <= 1e-6 * abs(NETLIB_OPT[name])


@pytest.fixture(scope="module")
def classified64():
    with jaxor.float64():
        raw, lps = batch_of(KINDS, 0, jnp.float64)
        sols = VSOLVE(lps, TIGHT, jnp.int32(50_000))
        return raw, lps, jax.tree.map(np.asarray, sols)


def test_random_lps_classified_as_highs_does(classified64):
    raw, _, sols = classified64
    for i, r in enumerate(raw):
        ref = highs.solve(*r, resolve_ambiguous=True)
        got = jaxor.lp.status_name(sols.status[i])
        assert HIGHS_EQUIVALENT[got] == ref.status == {"feasible": "optimal", "infeasible": "infeasible",
                                                       "unbounded": "unbounded"}[KINDS[i]], (i, got, ref.status)
        if ref.status == "optimal":
            assert abs(sols.objective[i] - ref.objective) <= 1e-7 * max(1.0, abs(ref.objective))
            np.testing.assert_allclose(sols.x[i], ref.x, atol=1e-6)
        else:
            assert np.isnan(sols.objective[i])  # never a silent number


def test_certificates_are_rays(classified64):
    """The returned rays satisfy the certificate inequalities of the original problem."""
    raw, _, sols = classified64
    for i, (c, A, lo, hi, l, u) in enumerate(raw):
        if KINDS[i] == "unbounded":
            d, Ad = sols.x[i], A @ sols.x[i]
            assert c @ d < -1e-3
            assert np.all(Ad[np.isfinite(lo)] >= -1e-6) and np.all(Ad[np.isfinite(hi)] <= 1e-6)
            assert np.all(d[np.isfinite(u)] <= 1e-6) and np.all(d[np.isfinite(l)] >= -1e-6)
        if KINDS[i] == "infeasible":
            y = sols.y[i]
            assert np.all(y[~np.isfinite(lo)] <= 1e-9) and np.all(y[~np.isfinite(hi)] >= -1e-9)


def test_float32_batch_traced_cap_and_no_recompile():
    raw, lps = batch_of(["feasible"] * 8, 1, jnp.float32)
    opts = PDHG(eps_abs=1e-6, eps_rel=1e-6)
    short = VSOLVE(lps, opts, jnp.int32(64))
    assert np.all(np.asarray(short.iterations) <= 64) and np.all(np.asarray(short.status) == 3)
    sols = VSOLVE(lps, opts, jnp.int32(20_000))  # a new cap is a value, not a new program
    assert VSOLVE._cache_size() >= 1
    n_compiled = VSOLVE._cache_size()
    VSOLVE(lps, opts, jnp.int32(30_000))
    assert VSOLVE._cache_size() == n_compiled
    assert sols.x.dtype == jnp.float32
    for i, r in enumerate(raw):
        ref = highs.solve(*r)
        assert int(sols.status[i]) == 0
        assert abs(float(sols.objective[i]) - ref.objective) <= 1e-3 * max(1.0, abs(ref.objective))


def test_dual_signs_match_highs_two_variables(x64):
    """Pins HiGHS's sign convention: y >= 0 at a lower row bound, <= 0 at an upper one; z likewise."""
    inf = np.inf
    # LP 1: min -x1 + 2 x2 s.t. x2 >= 0.5 (row at lo), x1 - x2 <= 2.5 (row at hi), x1 + 2 x2 <= 5, 0 <= x <= 4.
    p1 = (np.array([-1.0, 2.0]), np.array([[0.0, 1.0], [1.0, -1.0], [1.0, 2.0]]), np.array([0.5, -inf, -inf]),
          np.array([inf, 2.5, 5.0]), np.zeros(2), np.array([4.0, 4.0]))
    # LP 2: min -x1 - x2 s.t. x1 + 2 x2 <= 4, x1 <= 3 (variable at u); two free rows pad the shape.
    p2 = (np.array([-1.0, -1.0]), np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 1.0]]), np.array([-inf, -inf, -inf]),
          np.array([4.0, inf, inf]), np.zeros(2), np.array([3.0, inf]))
    sols = jax.vmap(lambda p: solve(p, TIGHT))(stack([LP(*p, dtype=jnp.float64) for p in (p1, p2)]))
    refs = [highs.solve(*p) for p in (p1, p2)]
    assert refs[0].y[0] > 0 and refs[0].y[1] < 0  # the convention itself
    assert refs[1].y[0] < 0 and refs[1].z[0] < 0
    for i, ref in enumerate(refs):
        np.testing.assert_allclose(sols.x[i], ref.x, atol=1e-7)
        np.testing.assert_allclose(sols.y[i], ref.y, atol=1e-7)
        np.testing.assert_allclose(sols.z[i], ref.z, atol=1e-7)


def test_operator_kinds_and_masks_agree(classified64, x64):
    raw, lps, sols = classified64
    c, A, lo, hi, l, u = raw[0]
    ref = highs.solve(c, A, lo, hi, l, u).objective
    assert abs(sols.objective[0] - ref) <= 1e-7 * max(1, abs(ref))
    bcoo = solve(LP(c, jsparse.BCOO.fromdense(jnp.asarray(A)), lo, hi, l, u, dtype=jnp.float64), TIGHT)
    mf = MatrixFree(lambda a, x: a @ x, lambda a, y: y @ a, jnp.asarray(A), A.shape)
    free = solve(LP(c, mf, lo, hi, l, u, dtype=jnp.float64), TIGHT)
    for s in (bcoo, free):
        assert s.status_name == "optimal"
        assert abs(float(s.objective) - ref) <= 1e-7 * max(1, abs(ref))
    # Masked columns/rows: the fixed-shape LP equals the smaller one (same compiled program as the batch).
    cm, rm = np.arange(12) < 9, np.arange(8) < 6
    masked = stack([LP(*raw[k], col_mask=cm, row_mask=rm, dtype=jnp.float64) for k in range(len(KINDS))])
    ms = VSOLVE(masked, TIGHT, jnp.int32(50_000))
    for k in range(8):
        c, A, lo, hi, l, u = raw[k]
        small = highs.solve(c[:9], A[:6, :9], lo[:6], hi[:6], l[:9], u[:9])
        if small.status == "optimal":
            assert int(ms.status[k]) == 0
            assert abs(float(ms.objective[k]) - small.objective) <= 1e-7 * max(1, abs(small.objective))
            assert np.all(np.asarray(ms.x[k])[9:] == 0)


def test_warm_start_cuts_iterations(classified64, x64):
    raw, lps, base = classified64
    rng = np.random.default_rng(0)
    new = stack([LP(r[0] * (1 + 1e-3 * rng.normal(size=r[0].shape)), r[1], r[2], r[3], r[4], r[5], dtype=jnp.float64)
                 for r in raw])
    cold = VSOLVE(new, TIGHT, jnp.int32(50_000))
    warm = VSOLVE(new, TIGHT, jnp.int32(50_000), jax.tree.map(jnp.asarray, base.warm_start))
    feas = np.arange(len(KINDS)) < 8
    assert np.all(np.asarray(warm.status) == np.asarray(cold.status))
    np.testing.assert_allclose(np.asarray(warm.objective)[feas], np.asarray(cold.objective)[feas], rtol=1e-7)
    # At eps 1e-9 a 1e-3 head start saves about a third of the work (the bench checks the 2x at eps 1e-4).
    assert np.mean(np.asarray(warm.iterations)[feas]) * 1.4 <= np.mean(np.asarray(cold.iterations)[feas])


def test_solve_batch_compaction_equals_vmap(classified64, x64):
    """Host-side compaction (buckets 18 then 16) gives the vmapped solve's statuses, iterates and counts."""
    raw, lps, ref = classified64
    comp = solve_batch(lps, TIGHT, max_iters=50_000, rounds=4, min_bucket=16)
    np.testing.assert_array_equal(np.asarray(comp.status), ref.status)
    np.testing.assert_array_equal(np.asarray(comp.iterations), ref.iterations)
    feas = np.arange(len(KINDS)) < 8  # (rays of divergent iterates amplify batch-size rounding differences)
    np.testing.assert_allclose(np.asarray(comp.x)[feas], ref.x[feas], rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="lps"):
        jax.jit(lambda p: solve_batch(p).x)(lps)


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
    with pytest.raises(ValueError, match=match.split()[0]):
        highs.solve(**args)


def test_bad_options_and_dtype():
    with pytest.raises(ValueError, match="dtype"):
        LP([1.0], dtype=jnp.float64)
    with pytest.raises(ValueError, match="eps_rel"):
        PDHG(eps_rel=-1.0)
    with pytest.raises(ValueError, match="norm"):
        PDHG(norm="l1")
    with pytest.raises(ValueError, match="max_iters"):
        solve(LP([1.0]), max_iters=-1)


def test_feasible_lp_generator_has_margin():
    c, A, lo, hi, l, u = feasible_lp(np.random.default_rng(0))
    assert highs.solve(c, A, lo, hi, l, u).status == "optimal"
