"""Equinox modules, the LM (decoding, save/load, generate), the NNX wrapper and the public API."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxor.osdn as osdn
from jaxor.osdn import LM, DeltaNetAttention, LMConfig, OSDNAttention, generate


def test_osdn_attention_backends_agree():
    x = jax.random.normal(jax.random.PRNGKey(1), (40, 32))
    make = lambda b: OSDNAttention(32, 2, key=jax.random.PRNGKey(0), backend=b, chunk_size=16, gated=True,
                                   use_apf=True, feedback="next")
    ys = {b: eqx.filter_jit(make(b))(x) for b in ("recurrent", "chunk", "pallas")}
    np.testing.assert_allclose(ys["chunk"], ys["recurrent"], atol=2e-5)
    np.testing.assert_allclose(ys["pallas"], ys["recurrent"], atol=2e-5)
    # parameters of the preconditioner and gates receive gradients
    m = make("recurrent")
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m(x) ** 2)))(m)
    for leaf in (grads.eta_logit, grads.d_init, grads.apf_proj.weight, grads.A_log):
        assert float(jnp.linalg.norm(leaf)) > 0


@pytest.mark.parametrize("mixer", ["osdn", "gated_deltanet", "linear"])
def test_lm_decoding_matches_parallel_forward(mixer):
    cfg = LMConfig(vocab_size=32, d_model=32, num_layers=1, num_heads=2, chunk_size=16, mixer=mixer,
                   use_apf=True, feedback="next", backend="chunk" if mixer == "osdn" else "recurrent")
    lm = LM(cfg, key=jax.random.PRNGKey(0))
    toks = jax.random.randint(jax.random.PRNGKey(1), (24,), 0, 32)
    full = eqx.filter_jit(lm)(toks)
    _, caches = eqx.filter_jit(lm.prefill)(toks[:16])

    def body(c, t):
        lg, c = lm.step(t, c)
        return c, lg

    _, steps = eqx.filter_jit(lambda c, t: jax.lax.scan(body, c, t))(caches, toks[16:])
    np.testing.assert_allclose(steps, full[16:], atol=5e-5)


def test_lm_save_load_and_greedy_generate(tmp_path):
    cfg = LMConfig(vocab_size=16, d_model=16, num_layers=1, backend="recurrent")
    lm = LM(cfg, key=jax.random.PRNGKey(0))
    lm.save(tmp_path / "lm.eqx")
    lm2 = LM.load(tmp_path / "lm.eqx")
    assert lm2.config == cfg
    toks = jnp.arange(10) % 16
    fwd = eqx.filter_jit(lambda m, t: m(t))
    np.testing.assert_array_equal(fwd(lm2, toks[:9]), fwd(lm, toks[:9]))
    out = eqx.filter_jit(generate)(lm, toks[:4], 5, key=jax.random.PRNGKey(1), temperature=0.0)
    assert out.shape == (9,)
    # greedy: every generated token is the argmax of the parallel forward at the previous position
    logits = fwd(lm, out)
    np.testing.assert_array_equal(out[4:], jnp.argmax(logits[3:-1], -1))
    with pytest.raises(ValueError, match="not a file"):
        LM.load(tmp_path / "missing.eqx")


def test_nnx_wrapper_matches_equinox_and_trains():
    eq = OSDNAttention(16, 2, key=jax.random.PRNGKey(0), backend="recurrent")
    m = osdn.EquinoxNNX(eq)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 12, 16))
    loss = nnx.jit(lambda m: jnp.mean((m(x) - x) ** 2))
    np.testing.assert_allclose(loss(m), jnp.mean((jax.vmap(eq)(x) - x) ** 2), rtol=1e-5)
    opt = nnx.Optimizer(m, optax.adam(1e-2), wrt=nnx.Param)
    before = loss(m)
    step = nnx.jit(lambda m, opt: opt.update(m, nnx.grad(lambda m: jnp.mean((m(x) - x) ** 2))(m)))
    step(m, opt)
    step(m, opt)
    assert loss(m) < before


def test_module_bad_input():
    k = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="divide"):
        OSDNAttention(30, 4, key=k)
    with pytest.raises(ValueError, match="backend"):
        DeltaNetAttention(32, 2, key=k, backend="cuda")
    with pytest.raises(ValueError, match="rule"):
        DeltaNetAttention(32, 2, key=k, rule="mamba")
    with pytest.raises(ValueError, match="feedback"):
        OSDNAttention(32, 2, key=k, feedback="prev")
    with pytest.raises(ValueError, match="divide"):
        LMConfig(d_model=30, num_heads=4)
    lm = LM(LMConfig(vocab_size=8, d_model=8, num_layers=1), key=k)
    with pytest.raises(ValueError, match="tokens"):
        lm(jnp.zeros((2, 3), jnp.int32))
    with pytest.raises(ValueError, match="T=0"):
        lm(jnp.zeros((0,), jnp.int32))


def test_public_api():
    for name in osdn.__all__:
        assert getattr(osdn, name) is not None
    import jaxor.kernels.osdn as ko

    assert set(ko.__all__) == {"BlockSizes", "chunk_delta_rule_pallas", "delta_rule_reference"}
