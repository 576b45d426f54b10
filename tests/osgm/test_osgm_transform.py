"""scale_by_osgm against the NumPy reference loop, plus bad input, NaN skips, null steps and vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxor.osgm import osgm_anchor, scale_by_osgm
from jaxor.osgm.naive import osgm_reference

H = np.array([1.0, 3.0, 10.0, 0.5])


def _soft_quartic(x):  # smooth, convex, not quadratic
    return 0.5 * jnp.sum(H * x ** 2) + 0.1 * jnp.sum(jnp.log(jnp.cosh(x)) * jnp.arange(1.0, 5.0))


def _run_transform(opt, x0, steps, *, value=True, hvp=False):
    vg = jax.value_and_grad(_soft_quartic)
    hvp_fn = lambda p, v: jax.jvp(jax.grad(_soft_quartic), (p,), (v,))[1]

    @jax.jit
    def step(x, s):
        v, g = vg(x)
        kw = {}
        if value:
            kw["value"] = v
        if hvp:
            kw["hvp_fn"] = hvp_fn
        u, s = opt.update(g, s, x, **kw)
        return optax.apply_updates(x, u), s

    x, s = jnp.asarray(x0), opt.init(jnp.asarray(x0))
    trials = [np.asarray(x)]
    for _ in range(steps):
        x, s = step(x, s)
        trials.append(np.asarray(x))
    return np.asarray(trials), s


REF_CASES = {
    "diag-h": dict(learning_rate=0.05),
    "scalar-h": dict(learning_rate=0.05, preconditioner="scalar"),
    "diag-h-momentum": dict(learning_rate=0.05, momentum=True, beta_learning_rate=0.3),
    "diag-ratio": dict(learning_rate=0.05, feedback="ratio"),
    "diag-gradnorm": dict(learning_rate=0.05, feedback="gradient_norm"),
    "diag-ogd-pmax": dict(learning_rate=0.02, learner="ogd", p_max=0.3),
    "no-safeguard-momentum": dict(learning_rate=0.02, momentum=True, safeguard=False),
}


@pytest.mark.parametrize("name", list(REF_CASES))
def test_matches_numpy_reference(name, x64):
    kw = REF_CASES[name]
    x0 = np.array([1.0, -2.0, 0.5, 3.0])
    steps = 40
    trials, state = _run_transform(scale_by_osgm(**kw), x0, steps, hvp=kw.get("feedback") == "gradient_norm")
    f = lambda x: float(_soft_quartic(jnp.asarray(x)))
    g = lambda x: np.asarray(jax.grad(_soft_quartic)(jnp.asarray(x)))
    hv = lambda x, v: np.asarray(jax.jvp(jax.grad(_soft_quartic), (jnp.asarray(x),), (jnp.asarray(v),))[1])
    ref_kw = {k: v for k, v in kw.items() if k not in ("preconditioner", "p_max")}
    ref = osgm_reference(f, g, x0, steps, diagonal=kw.get("preconditioner", "diagonal") == "diagonal",
                         p_max=kw.get("p_max", np.inf), hvp_fn=hv, **ref_kw)
    np.testing.assert_allclose(trials, ref["trials"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(osgm_anchor(state)), ref["anchors"][-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(state.p), ref["p"], rtol=1e-9, atol=1e-12)
    assert int(state.n_null) == ref["n_null"]
    assert f(ref["anchors"][-1]) < 0.05 * f(x0)  # and it actually optimizes


def test_null_steps_never_increase_f():
    # A large learning rate on Rosenbrock from (-1.2, 1) forces many null steps; accepted values only go down.
    rosen = lambda p: (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2
    opt = scale_by_osgm(0.05, momentum=True)

    def step(carry, _):
        x, s = carry
        v, g = jax.value_and_grad(rosen)(x)
        u, s = opt.update(g, s, x, value=v)
        return (optax.apply_updates(x, u), s), (s.f, s.n_null)

    x0 = jnp.asarray([-1.2, 1.0])
    _, (fs, nulls) = jax.jit(lambda x: jax.lax.scan(step, (x, opt.init(x)), length=300))(x0)
    fs = np.asarray(fs)
    assert int(nulls[-1]) > 20
    assert np.all(np.diff(fs) <= 0.0)
    assert fs[-1] < 1e-2 * rosen(x0)


def test_first_trial_repeats_x0_and_is_a_null_step():
    opt = scale_by_osgm(0.1)
    x = jnp.asarray([1.0, 2.0])
    f = lambda x: jnp.sum(x ** 2)
    update = jax.jit(lambda s: opt.update(jax.grad(f)(x), s, x, value=f(x)))
    u, s = update(opt.init(x))
    np.testing.assert_array_equal(u, 0.0)  # P0 = 0: the first trial is x0 itself
    u, s = update(s)
    assert int(s.n_null) == 1  # f(x+) = f(x) is not a decrease (strict test)
    assert np.all(np.asarray(s.p) > 0)


@pytest.mark.parametrize("momentum", [False, True])
def test_nonfinite_gradient_is_skipped(momentum):
    opt = scale_by_osgm(0.1, momentum=momentum)
    f = lambda x: jnp.sum(x ** 2)
    x = jnp.asarray([1.0, -1.0, 2.0])
    s = opt.init(x)
    update = jax.jit(lambda g, s, x: opt.update(g, s, x, value=f(x)))
    for _ in range(5):
        u, s = update(jax.grad(f)(x), s, x)
        x = optax.apply_updates(x, u)
    p_before, anchor = np.asarray(s.p), np.asarray(s.x)
    bad = jnp.asarray([jnp.nan, 1.0, jnp.inf])
    u, s2 = update(bad, s, x)
    assert int(s2.n_nonfinite) == 1 and int(s2.n_null) == int(s.n_null)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(s2))
    np.testing.assert_array_equal(s2.x, anchor)
    np.testing.assert_allclose(s2.p, 0.5 * p_before)
    # the next trial restarts from the anchor without momentum, with the shrunk P
    np.testing.assert_allclose(x + u, anchor - 0.5 * p_before * np.asarray(s.g), rtol=1e-6)
    u, s3 = update(jax.grad(f)(x + u), s2, x + u)
    assert int(s3.n_nonfinite) == 1 and bool(jnp.all(jnp.isfinite(u)))


def test_missing_extra_args_fail_at_trace_time():
    x = jnp.ones(3)
    g = jnp.ones(3)
    with pytest.raises(ValueError, match="value"):
        opt = scale_by_osgm(feedback="ratio")
        jax.jit(lambda s: opt.update(g, s, x))(opt.init(x))
    with pytest.raises(ValueError, match="value"):
        opt = scale_by_osgm(safeguard=True)
        jax.jit(lambda s: opt.update(g, s, x))(opt.init(x))
    with pytest.raises(ValueError, match="hvp_fn"):
        opt = scale_by_osgm(feedback="gradient_norm")
        jax.jit(lambda s: opt.update(g, s, x, value=1.0))(opt.init(x))
    with pytest.raises(ValueError, match="params"):
        opt = scale_by_osgm()
        opt.update(g, opt.init(x))


@pytest.mark.parametrize("kwargs,name", [
    (dict(learning_rate=-1.0), "learning_rate"), (dict(learning_rate=0.0), "learning_rate"),
    (dict(preconditioner="full"), "preconditioner"), (dict(feedback="polyak"), "feedback"),
    (dict(learner="adam"), "learner"), (dict(beta_max=1.5), "beta_max"), (dict(beta_init=-0.1), "beta_init"),
    (dict(p_max=0.0), "p_max"), (dict(p_init=-1.0), "p_init"), (dict(eps=float("nan")), "eps"),
    (dict(p_init=2.0, p_max=1.0), "p_init"), (dict(nonfinite_shrink=2.0), "nonfinite_shrink"),
    (dict(safeguard="yes"), "safeguard"),
])
def test_invalid_hyperparameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        scale_by_osgm(**kwargs)


def test_vmap_over_independent_runs():
    opt = scale_by_osgm(0.05, momentum=True)
    f = lambda x, h: 0.5 * jnp.sum(h * x ** 2)

    def run(x0, h):
        def step(carry, _):
            x, s = carry
            v, g = jax.value_and_grad(f)(x, h)
            u, s = opt.update(g, s, x, value=v)
            return (optax.apply_updates(x, u), s), None
        (x, s), _ = jax.lax.scan(step, (x0, opt.init(x0)), length=60)
        return x, s.p

    x0s = jnp.asarray([[1.0, 2.0], [-1.0, 0.5], [3.0, -3.0]])
    hs = jnp.asarray([[1.0, 2.0], [4.0, 1.0], [0.5, 5.0]])
    xs, ps = jax.jit(jax.vmap(run))(x0s, hs)
    for i in range(3):
        xi, pi = jax.jit(run)(x0s[i], hs[i])
        np.testing.assert_allclose(xs[i], xi, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ps[i], pi, rtol=1e-5, atol=1e-6)
