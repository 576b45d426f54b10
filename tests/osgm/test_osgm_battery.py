"""The optax contrib battery (optax/contrib/_common_test.py habits) over every OSGM configuration."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from osgm_helpers import IDS, OPTIMIZERS_UNDER_TEST, PROBLEMS, extras, make, run_scan

from jaxor.osgm import ScaleByOSGMState, osgm_anchor

STEPS = 5000
CASES = [(e, prob) for e in OPTIMIZERS_UNDER_TEST for prob in PROBLEMS if prob not in e.get("skip", ())]


@pytest.mark.parametrize("entry,problem", CASES, ids=[f"{e['name']}-{p}" for e, p in CASES])
def test_converges(entry, problem):
    loss, p0, sol = PROBLEMS[problem]
    params, state = jax.jit(lambda p: run_scan(entry, make(entry), loss, p, STEPS))(p0)
    for got in (params, osgm_anchor(state)):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(sol), strict=True):
            np.testing.assert_allclose(a, b, rtol=3e-2, atol=3e-2)
    assert int(state.n_nonfinite) == 0


@pytest.mark.parametrize("entry", OPTIMIZERS_UNDER_TEST, ids=IDS)
def test_unknown_extra_args_ignored_and_no_recompile(entry):
    loss, p0, _ = PROBLEMS["mixed_tree"]
    opt = make(entry)
    traces = []

    @jax.jit
    def step(p, s):
        traces.append(1)
        u, s = opt.update(jax.grad(loss)(p), s, p, some_unknown_arg=jnp.ones(3), **extras(entry, loss, p))
        return optax.apply_updates(p, u), s

    p, s = step(p0, opt.init(p0))
    p, s = step(p, s)
    assert len(traces) == 1
    assert isinstance(s, ScaleByOSGMState)


@pytest.mark.parametrize("entry", OPTIMIZERS_UNDER_TEST, ids=IDS)
def test_inject_hyperparams_matches(entry):
    loss, p0, _ = PROBLEMS["parabola"]
    plain = make(entry)
    injected = optax.inject_hyperparams(entry["factory"])(**entry["kwargs"])
    p1, s1 = jax.jit(lambda p: run_scan(entry, plain, loss, p, 30))(p0)
    p2, s2 = jax.jit(lambda p: run_scan(entry, injected, loss, p, 30))(p0)
    np.testing.assert_allclose(p1, p2, rtol=1e-6, atol=1e-7)
    # the injected learning rate is a live hyperparameter
    assert "learning_rate" in s2.hyperparams


@pytest.mark.parametrize("entry", OPTIMIZERS_UNDER_TEST[:3], ids=IDS[:3])
def test_constant_schedule_matches_float(entry):
    loss, p0, _ = PROBLEMS["rosenbrock"]
    lr = entry["kwargs"]["learning_rate"]
    p1, _ = jax.jit(lambda p: run_scan(entry, make(entry), loss, p, 50))(p0)
    p2, _ = jax.jit(lambda p: run_scan(entry, make(entry, learning_rate=optax.constant_schedule(lr)), loss, p,
                                       50))(p0)
    np.testing.assert_array_equal(p1, p2)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float32])
@pytest.mark.parametrize("entry", OPTIMIZERS_UNDER_TEST[:3], ids=IDS[:3])
def test_dtype_preserved_and_state_stable(entry, dtype):
    loss = PROBLEMS["mixed_tree"][0]
    p0 = {"a": jnp.zeros(3, dtype), "b": jnp.zeros((2, 2), jnp.float32)}  # mixed-dtype pytree
    opt = make(entry)
    s0 = opt.init(p0)
    lossf = lambda p: loss(jax.tree.map(lambda x: x.astype(jnp.float32), p))

    @jax.jit
    def step(p, s):
        u, s = opt.update(jax.grad(lossf)(p), s, p, **extras(entry, lossf, p))
        return u, optax.apply_updates(p, u), s

    u, p, s = step(p0, s0)
    u, p, s = step(p, s)
    assert jax.tree.map(lambda x: x.dtype, u) == jax.tree.map(lambda x: x.dtype, p0)
    assert jax.tree.map(lambda x: x.dtype, p) == jax.tree.map(lambda x: x.dtype, p0)
    assert jax.tree.map(lambda x: (x.shape, x.dtype), s) == jax.tree.map(lambda x: (x.shape, x.dtype), s0)
    # reductions accumulate in at least float32
    assert s.f.dtype == jnp.float32 and s.gnorm2.dtype == jnp.float32
    assert all(bool(jnp.all(jnp.isfinite(x.astype(jnp.float32)))) for x in jax.tree.leaves(s))


@pytest.mark.parametrize("entry", OPTIMIZERS_UNDER_TEST[:3], ids=IDS[:3])
def test_multisteps(entry):
    loss, p0, sol = PROBLEMS["parabola"]
    k = 3
    opt = optax.MultiSteps(make(entry), every_k_schedule=k)

    def step(carry, i):
        p, s = carry
        u, s = opt.update(jax.grad(loss)(p), s, p, **extras(entry, loss, p))
        return (optax.apply_updates(p, u), s), jnp.max(jnp.abs(u))

    (p, s), umax = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), jnp.arange(3000)))(p0)
    umax = np.asarray(umax)
    assert np.all(umax[np.arange(3000) % k != k - 1] == 0.0)  # non-final micro-steps do not move
    np.testing.assert_allclose(p, sol, rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("entry", OPTIMIZERS_UNDER_TEST[:3], ids=IDS[:3])
def test_map_params_on_state(entry):
    loss, p0, _ = PROBLEMS["mixed_tree"]
    opt = make(entry)
    s = opt.init(p0)
    s2 = optax.tree_utils.tree_map_params(opt, lambda x: x + 1.0, s)
    assert jax.tree.structure(s2) == jax.tree.structure(s)
