"""Property: no policy ever exceeds the budget, on any generator (hypothesis over family, seed, budget)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from olp_helpers import Switch, all_generators

from jaxor import olp

N = 24
GENS = all_generators()
POLICIES = [olp.FluidDual(jnp.full((4,), 0.3)), olp.FirstOrder(), olp.MirrorDescent("entropic"),
            olp.DynamicLearning(), olp.LiYe(), olp.Decoupled(gamma=2), olp.Decoupled(gamma=1), olp.WaitLess(f=5),
            olp.SingleSample()]


@eqx.filter_jit
def _run(policy, gen, key):
    return olp.rollout(policy, gen, key, N)


@pytest.mark.parametrize("policy", POLICIES, ids=[p.name for p in POLICIES])
@given(idx=st.integers(0, len(GENS) - 1), seed=st.integers(0, 2**30), scale=st.floats(0.05, 2.0))
def test_never_over_budget(policy, idx, seed, scale):
    gen = Switch(GENS, idx, scale)
    res = _run(policy, gen, jax.random.PRNGKey(seed))
    b = np.asarray(gen.budget(N))
    used = np.asarray(res.used)
    assert np.all(np.asarray(res.min_remaining) >= 0)
    assert np.all(used <= b + 1e-4 * (1 + np.abs(b)))
    assert int(res.accepted) <= N
