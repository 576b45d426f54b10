"""The LP engine's batched PDHG on the occupancy LP agrees with value iteration / HiGHS to 1e-6."""

import jax
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
