"""HiGHS occupancy LPs against value iteration in float64 on every environment."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxor
from jaxor import rl

ENVS = ["garnet10x2", "garnet50x5", "riverswim", "gridworld", "lowrank"]
# garnet50x5 adds its own compiles; it runs with -m slow (tests/rl keeps to its time budget)
PARAMS = [pytest.param(n, marks=pytest.mark.slow) if n == "garnet50x5" else n for n in ENVS]


def _build(name):
    k = jax.random.PRNGKey(11)
    if name == "garnet10x2":
        return rl.garnet(k, 10, 2)
    if name == "garnet50x5":
        return rl.garnet(k, 50, 5, gamma=0.95)
    if name == "riverswim":
        return rl.riverswim()
    if name == "gridworld":
        return rl.gridworld(4, slip=0.2)
    return rl.low_rank_mdp(k, 20, 3, 4).mdp


@pytest.fixture(scope="module")
def envs():
    with jaxor.float64():
        yield {n: _build(n) for n in ENVS}


@pytest.mark.parametrize("name", PARAMS)
def test_lp_values_equal_value_iteration(envs, name, x64):
    m = envs[name]
    V, pi_vi, _ = rl.value_iteration(m)
    v_star = float(m.nu @ V)
    primal, dual = rl.solve_primal_lp(m), rl.solve_dual_lp(m)
    assert primal.status == dual.status == "optimal"
    assert abs(primal.value - v_star) < 1e-8 and abs(dual.value - v_star) < 1e-8
    # dual LP optimum is (1 - gamma) V*(nu): the scaled objective
    assert abs(float(np.sum(dual.q * np.asarray(m.r))) - (1 - float(m.gamma)) * v_star) < 1e-9
    # occupancy measures satisfy the flow constraints and sum to 1
    for q in (dual.q, primal.q):
        assert np.abs(np.asarray(rl.flow_residual(m, q))).max() < 1e-9
        assert abs(q.sum() - 1.0) < 1e-9 and q.min() >= 0
    # extracted policies are optimal (evaluated exactly)
    for q in (dual.q, primal.q):
        pi = rl.policy_from_occupancy(q)
        assert abs(float(m.nu @ rl.policy_evaluation(m, pi)) - v_star) < 1e-8
    # flow-row duals are V* where nu > 0 and policy iteration agrees
    mask = np.asarray(m.nu) > 0
    np.testing.assert_allclose(dual.V[mask], np.asarray(V)[mask], atol=1e-8)
    V_pi, _, _ = rl.policy_iteration(m)
    assert abs(float(m.nu @ V_pi) - v_star) < 1e-9


def test_policy_evaluation_matches_truncated_series(envs, x64):
    m = envs["garnet10x2"]
    pi = np.asarray(jax.nn.softmax(jax.random.normal(jax.random.PRNGKey(3), (10, 2))))
    P = np.asarray(m.P)
    P_pi = np.einsum("sa,sat->st", pi, P)
    r_pi = (pi * np.asarray(m.r)).sum(1)
    V, term = np.zeros(10), r_pi.copy()
    for _ in range(600):  # 0.9^600 ~ 1e-28
        V += term
        term = float(m.gamma) * P_pi @ term
    np.testing.assert_allclose(np.asarray(rl.policy_evaluation(m, pi)), V, atol=1e-10)
    q = rl.occupancy_measure(m, pi)
    assert np.abs(np.asarray(rl.flow_residual(m, q))).max() < 1e-12
    np.testing.assert_allclose(np.asarray(rl.policy_from_occupancy(q)), pi, atol=1e-12)


@pytest.mark.parametrize("base", ["garnet10x2", "riverswim"])
def test_constrained_lp_and_lagrangian_solver_agree(envs, base, x64):
    c = rl.constrained(jax.random.PRNGKey(5), envs[base], budget_fraction=0.5)
    lp = rl.solve_cmdp_lp(c)
    sol = rl.solve_cmdp(c)
    assert lp.status == "optimal" and bool(sol.feasible)
    assert abs(float(sol.value) - lp.value) < 1e-8
    b = float(c.budgets[0])
    assert abs(float(sol.cost) - b) < 1e-8  # the budget binds
    # the optimal occupancy is randomised in at least one state
    support = (lp.q > 1e-9).sum(axis=1)
    assert support.max() >= 2
    assert np.abs(np.asarray(rl.flow_residual(c.mdp, lp.q))).max() < 1e-9
    for q in (lp.q, np.asarray(sol.q)):
        v, cost = rl.cmdp_evaluate(c, rl.policy_from_occupancy(q))
        assert abs(float(v) - lp.value) < 1e-8 and float(cost[0]) <= b + 1e-8
    assert abs(float(sol.lam) - abs(float(lp.extra["cost_duals"][0]))) < 1e-6
    # a looser budget than the reward-optimal cost gives back the unconstrained optimum
    loose = rl.ConstrainedMDP(c.mdp, c.costs, c.budgets + 100.0)
    V, _, _ = rl.value_iteration(c.mdp)
    assert abs(float(rl.solve_cmdp(loose).value) - float(c.mdp.nu @ V)) < 1e-8
    # an impossible budget is reported, not raised
    assert not bool(rl.solve_cmdp(rl.ConstrainedMDP(c.mdp, c.costs, c.budgets - 100.0)).feasible)
    assert rl.solve_cmdp_lp(rl.ConstrainedMDP(c.mdp, c.costs, c.budgets - 100.0)).status != "optimal"


def test_finite_horizon_lp_equals_backward_induction(x64):
    k1, k2 = jax.random.split(jax.random.PRNGKey(2))
    H, S, A = 5, 6, 3
    P = jax.random.uniform(k1, (H, S, A, S))
    P = P / P.sum(-1, keepdims=True)
    fh = rl.FiniteHorizonMDP(P, jax.random.uniform(k2, (H, S, A)), jnp.full(S, 1 / S))
    V, pi = rl.backward_induction(fh)
    lp = rl.solve_finite_horizon_lp(fh)
    assert abs(lp.value - float(fh.nu @ V[0])) < 1e-9
    np.testing.assert_allclose(np.asarray(rl.finite_horizon_evaluation(fh, pi)), np.asarray(V), atol=1e-12)
    pi_lp = jax.vmap(rl.policy_from_occupancy)(jnp.asarray(lp.q))
    assert abs(float(fh.nu @ rl.finite_horizon_evaluation(fh, pi_lp)[0]) - lp.value) < 1e-9
    # stage flows: sum_a q_{h+1}(s', a) = sum P_h(s'|s,a) q_h(s,a)
    flow = lp.q[1:].sum(-1) - np.einsum("hsa,hsat->ht", lp.q[:-1], np.asarray(P[:-1]))
    assert np.abs(flow).max() < 1e-9


def test_approximate_and_feature_lps(envs, x64):
    m = envs["garnet10x2"]
    V, _, _ = rl.value_iteration(m)
    v_star = float(m.nu @ V)
    assert abs(rl.solve_approximate_lp(m, np.eye(10)).value - v_star) < 1e-8
    Psi = np.concatenate([np.ones((10, 1)), np.asarray(jax.random.normal(jax.random.PRNGKey(0), (10, 2)))], 1)
    assert rl.solve_approximate_lp(m, Psi).value >= v_star - 1e-9  # an upper bound
    assert abs(rl.solve_approximate_lp(m, np.concatenate([Psi, np.asarray(V)[:, None]], 1)).value
               - v_star) < 1e-8  # exact when V* is in the span
    lr = rl.low_rank_mdp(jax.random.PRNGKey(4), 20, 3, 4)
    V_lr, _, _ = rl.value_iteration(lr.mdp)
    f = rl.solve_feature_lp(lr.Phi, lr.mu, lr.mdp.r, lr.mdp.gamma, lr.mdp.nu)
    assert abs(f.value - float(lr.mdp.nu @ V_lr)) < 1e-8 and f.extra["lam"].shape == (4,)
    oh = rl.one_hot_features(10, 2)
    f1 = rl.solve_feature_lp(oh, np.asarray(m.P).reshape(20, 10).T, m.r, m.gamma, m.nu)
    assert abs(f1.value - v_star) < 1e-8


@settings(max_examples=15)
@given(st.integers(0, 2**31 - 1), st.floats(0.1, 0.9))
def test_random_instances_lp_vi_and_cmdp_agree(seed, frac):
    """Property over random Garnets and budgets (values drawn, shapes fixed: no recompiles)."""
    with jaxor.float64():
        m = rl.garnet(jax.random.PRNGKey(seed), 10, 2)
        V, _, _ = rl.value_iteration(m)
        assert abs(rl.solve_dual_lp(m).value - float(m.nu @ V)) < 1e-8
        c = rl.constrained(jax.random.PRNGKey(seed + 1), m, budget_fraction=frac)
        lp = rl.solve_cmdp_lp(c)
        sol = rl.solve_cmdp(c)
        assert lp.status == "optimal"
        assert abs(float(sol.value) - lp.value) < 1e-8
        assert float(sol.cost) <= float(c.budgets[0]) + 1e-8
