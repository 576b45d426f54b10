"""Validation of the MDP containers: bad input raises ValueError naming the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxor import rl


def _valid(S=3, A=2):
    P = np.full((S, A, S), 1.0 / S)
    return dict(P=P, r=np.zeros((S, A)), gamma=0.9, nu=np.full(S, 1.0 / S))


def test_valid_mdp_builds_and_reports_sizes():
    m = rl.TabularMDP(**_valid())
    assert (m.num_states, m.num_actions) == (3, 2)


@given(st.one_of(st.floats(1.0, 10.0), st.floats(-10.0, -1e-6)))
def test_gamma_outside_unit_interval_raises(g):
    with pytest.raises(ValueError, match="gamma"):
        rl.TabularMDP(**{**_valid(), "gamma": g})


@given(st.floats(0.01, 0.5))
def test_rows_not_summing_to_one_raise(eps):
    kw = _valid()
    kw["P"] = kw["P"].copy()
    kw["P"][1, 0, 0] += eps
    with pytest.raises(ValueError, match="P must sum to 1"):
        rl.TabularMDP(**kw)


def test_negative_probabilities_and_bad_nu_raise():
    kw = _valid()
    P = kw["P"].copy()
    P[0, 0] = [1.5, -0.5, 0.0]
    with pytest.raises(ValueError, match="negative"):
        rl.TabularMDP(**{**kw, "P": P})
    with pytest.raises(ValueError, match="nu"):
        rl.TabularMDP(**{**kw, "nu": np.array([0.5, 0.6, 0.0])})
    with pytest.raises(ValueError, match="NaN"):
        rl.TabularMDP(**{**kw, "r": np.full((3, 2), np.nan)})


@pytest.mark.parametrize("field,value,match", [
    ("r", np.zeros((3, 3)), "r must have shape"),
    ("nu", np.full(4, 0.25), "nu must have shape"),
    ("P", np.full((3, 2, 4), 0.25), "P must have shape"),
    ("gamma", np.array([0.9, 0.9]), "gamma must be a scalar"),
])
def test_mismatched_shapes_raise(field, value, match):
    with pytest.raises(ValueError, match=match):
        rl.TabularMDP(**{**_valid(), field: value})


def test_constrained_and_finite_horizon_validation():
    m = rl.TabularMDP(**_valid())
    rl.ConstrainedMDP(m, np.zeros((1, 3, 2)), np.ones(1))
    with pytest.raises(ValueError, match="costs"):
        rl.ConstrainedMDP(m, np.zeros((1, 2, 3)), np.ones(1))
    with pytest.raises(ValueError, match="budgets"):
        rl.ConstrainedMDP(m, np.zeros((2, 3, 2)), np.ones(1))
    with pytest.raises(ValueError, match="mdp"):
        rl.ConstrainedMDP("not an mdp", np.zeros((1, 3, 2)), np.ones(1))
    fh = rl.FiniteHorizonMDP(_valid()["P"], np.zeros((3, 2)), _valid()["nu"], horizon=4)
    assert fh.horizon == 4
    with pytest.raises(ValueError, match="horizon"):
        rl.FiniteHorizonMDP(_valid()["P"], np.zeros((3, 2)), _valid()["nu"])
    with pytest.raises(ValueError, match="r must have shape"):
        rl.FiniteHorizonMDP(np.full((4, 3, 2, 3), 1 / 3), np.zeros((5, 3, 2)), _valid()["nu"])


def test_traced_construction_skips_value_checks_but_vmaps():
    """Environments build under vmap (tracers): shapes checked, values not."""
    ms = jax.vmap(lambda k: rl.garnet(k, 10, 2))(jax.random.split(jax.random.PRNGKey(0), 3))
    assert ms.P.shape == (3, 10, 2, 10)
    np.testing.assert_allclose(np.asarray(ms.P.sum(-1)), 1.0, atol=1e-5)


def test_api_boundary_errors():
    m = rl.TabularMDP(**_valid())
    with pytest.raises(ValueError, match="pi must have shape"):
        rl.policy_evaluation(m, jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="branching"):
        rl.garnet(jax.random.PRNGKey(0), 4, 2, branching=9)
    with pytest.raises(ValueError, match="budget_fraction"):
        rl.constrained(jax.random.PRNGKey(0), m, budget_fraction=1.5)
    with pytest.raises(ValueError, match="schedule"):
        rl.sample_count_stream(jax.random.PRNGKey(0), m.P, (10, 5))
    with pytest.raises(ValueError, match="allocation"):
        rl.sample_counts(jax.random.PRNGKey(0), m.P, 10, allocation="greedy")
    with pytest.raises(ValueError, match="weights"):
        rl.ResolveOptions(weights="all").check()
    with pytest.raises(ValueError, match="one constraint"):
        rl.solve_cmdp(rl.ConstrainedMDP(m, np.zeros((2, 3, 2)), np.ones(2)))
    with pytest.raises(ValueError, match="Psi"):
        rl.solve_approximate_lp(m, np.ones((4, 2)))


def test_plain_jax_solve_matches_numpy_and_pivots(x64):
    """jaxor.rl's dense solve (used instead of LAPACK's batched getrf, which deadlocks on 2 cores) is
    Gaussian elimination with partial pivoting: it must solve systems whose leading entry is zero."""
    from jaxor._linalg import solve

    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 7, 7))
    A[:, 0, 0] = 0.0  # no pivoting -> division by zero
    b = rng.normal(size=(4, 7, 3))
    x = jax.vmap(solve)(jnp.asarray(A), jnp.asarray(b))
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)
    xv = solve(jnp.asarray(A[0]), jnp.asarray(b[0, :, 0]))
    np.testing.assert_allclose(np.asarray(xv), np.linalg.solve(A[0], b[0, :, 0]), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="square"):
        solve(jnp.ones((2, 3)), jnp.ones(2))
