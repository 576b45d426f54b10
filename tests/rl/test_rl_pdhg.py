"""The LP engine's batched PDHG on the occupancy LP agrees with value iteration / HiGHS to 1e-6."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxor import rl


def test_pdhg_dual_lp_vmapped_over_garnets(x64):
    ms = jax.vmap(lambda k: rl.garnet(k, 10, 2))(jax.random.split(jax.random.PRNGKey(0), 3))
    values, qs, sols = jax.jit(jax.vmap(lambda m: rl.solve_dual_lp_pdhg(m)))(ms)
    assert np.all(np.asarray(sols.status) == 0)
    for i in range(3):
        m = jax.tree_util.tree_map(lambda x, i=i: x[i], ms)
        V, _, _ = rl.value_iteration(m)
        assert abs(float(values[i]) - float(m.nu @ V)) < 1e-6
        assert np.abs(np.asarray(rl.flow_residual(m, qs[i]))).max() < 1e-6
        pi = rl.policy_from_occupancy(qs[i])
        assert abs(float(m.nu @ rl.policy_evaluation(m, pi)) - float(m.nu @ V)) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["garnet10x2", "garnet50x5", "riverswim", "gridworld", "lowrank", "constrained"])
def test_pdhg_every_environment(name, x64):
    k = jax.random.PRNGKey(11)
    costs = budgets = None
    if name == "garnet10x2":
        m = rl.garnet(k, 10, 2)
    elif name == "garnet50x5":
        m = rl.garnet(k, 50, 5, gamma=0.95)
    elif name == "riverswim":
        m = rl.riverswim()
    elif name == "gridworld":
        m = rl.gridworld(4, slip=0.2)
    elif name == "lowrank":
        m = rl.low_rank_mdp(k, 20, 3, 4).mdp
    else:
        c = rl.constrained(jax.random.PRNGKey(5), rl.garnet(k, 10, 2))
        m, costs, budgets = c.mdp, c.costs, c.budgets
    v, q, sol = rl.solve_dual_lp_pdhg(m, costs=costs, budgets=budgets)
    assert int(sol.status) == 0
    ref = rl.solve_cmdp_lp(rl.ConstrainedMDP(m, costs, budgets)).value if costs is not None \
        else float(m.nu @ rl.value_iteration(m)[0])
    assert abs(float(v) - ref) < 1e-6
    assert np.abs(np.asarray(rl.flow_residual(m, q))).max() < 1e-6


def test_gradients_through_the_lp_engine_match_the_envelope_rule(x64):
    """d V*/d(features) through jaxor.lp.optimal_value (PDHG) equals the policy-iteration envelope rule."""
    lr = rl.low_rank_mdp(jax.random.PRNGKey(7), 5, 2, 2)

    def build(Phi, theta):
        P = jnp.einsum("sad,td->sat", Phi, lr.mu)
        return rl.TabularMDP(P / P.sum(-1, keepdims=True), Phi @ theta, lr.mdp.gamma, lr.mdp.nu)

    f_lp = jax.jit(jax.value_and_grad(lambda Phi, th: rl.optimal_value_pdhg(build(Phi, th)), argnums=(0, 1)))
    f_pi = jax.jit(jax.value_and_grad(lambda Phi, th: rl.optimal_value(build(Phi, th)), argnums=(0, 1)))
    (v1, (gP1, gt1)), (v2, (gP2, gt2)) = f_lp(lr.Phi, lr.theta), f_pi(lr.Phi, lr.theta)
    assert abs(float(v1 - v2)) < 1e-6
    np.testing.assert_allclose(np.asarray(gt1), np.asarray(gt2), atol=1e-5)
    np.testing.assert_allclose(np.asarray(gP1), np.asarray(gP2), atol=1e-5)


@pytest.mark.slow
def test_constrained_value_gradient_is_the_multiplier(x64):
    c = rl.constrained(jax.random.PRNGKey(5), rl.garnet(jax.random.PRNGKey(11), 10, 2))
    g = jax.grad(lambda b: rl.optimal_value_pdhg(c.mdp, costs=c.costs, budgets=b))(c.budgets)
    assert abs(float(g[0]) - float(rl.solve_cmdp(c).lam)) < 1e-5
