"""Pallas kernels (interpret mode on CPU) against the float64 recurrence: forward and backward.

The float32 error of the Pallas path must stay within 2x the float32 error of the XLA chunkwise path
(both measured against the float64 token-by-token reference). GPU runs (compiled Triton) use the
``gpu`` marker and skip elsewhere.
"""

import functools

import jax
import jax.numpy as jnp
import pytest
from jaxor.kernels.osdn import BlockSizes, chunk_delta_rule_pallas
from osdn_helpers import inputs, rel

import jaxor
from jaxor.osdn import chunk_delta_rule, recurrent_delta_rule

INTERPRET = True
SHAPE = dict(B=1, T=100, H=2, K=32, V=16)      # B*H <= 2, T <= 128 (not a multiple of C), d <= 32
C = 32
ARGS = ("q", "k", "v", "beta", "g", "d", "S0")


def _loss(fn, q, k, v, beta, g, d, S0, do, dS):
    o, S = fn(q, k, v, beta, g, d, S0)
    return jnp.sum(o * do) + jnp.sum(S * dS), (o, S)


def _run(fn, dat):
    f = jax.jit(jax.value_and_grad(functools.partial(_loss, fn), argnums=tuple(range(7)), has_aux=True))
    (_, (o, S)), grads = f(*(dat[a] for a in ARGS), dat["do"], dat["dS"])
    return [o, S, *grads]


def _pallas(q, k, v, beta, g, d, S0, interpret=INTERPRET):
    return chunk_delta_rule_pallas(q, k, v, beta, g=g, k_write=d * k, initial_state=S0, chunk_size=C,
                                   interpret=interpret)


def _xla(q, k, v, beta, g, d, S0):
    return chunk_delta_rule(q, k, v, beta, g=g, d=d, initial_state=S0, chunk_size=C)


def _ref(q, k, v, beta, g, d, S0):
    return recurrent_delta_rule(q, k, v, beta, g=g, d=d, initial_state=S0)


@pytest.fixture(scope="module")
def cases():
    with jaxor.float64():
        d64 = inputs(jax.random.PRNGKey(3), **SHAPE)
        ref = _run(_ref, d64)
    d32 = {a: x.astype(jnp.float32) for a, x in d64.items()}
    return d64, d32, ref


def test_pallas_float32_error_within_2x_of_xla_chunk_forward_and_backward(cases):
    _, d32, ref = cases
    pal, xla = _run(_pallas, d32), _run(_xla, d32)
    names = ["o", "S_T"] + [f"d{a}" for a in ARGS]
    for name, p, x, r in zip(names, pal, xla, ref, strict=True):
        ep, ex = rel(p, r), rel(x, r)
        assert ep <= 2 * ex, (name, ep, ex)
        assert ep < 1e-5, (name, ep)


def test_pallas_bfloat16_inputs_accumulate_in_float32_without_recompiling(cases):
    d64, d32, ref = cases
    b = {a: x.astype(jnp.bfloat16) for a, x in d32.items()}
    f = jax.jit(_pallas)
    o, S = f(*(b[a] for a in ARGS))
    assert o.dtype == jnp.bfloat16 and S.dtype == jnp.float32
    assert rel(o, ref[0]) < 3e-2 and rel(S, ref[1]) < 3e-2
    n = f._cache_size()                       # a second call with new values does not recompile
    jax.block_until_ready(f(*(b[a] * 0.5 for a in ARGS)))
    assert f._cache_size() == n


def test_pallas_bad_input():
    q = jnp.ones((1, 8, 1, 16))
    b = jnp.full((1, 8, 1), 0.5)
    with pytest.raises(ValueError, match="power of two"):
        chunk_delta_rule_pallas(q, q, q, b, chunk_size=24)
    with pytest.raises(ValueError, match="T=0"):
        chunk_delta_rule_pallas(q[:, :0], q[:, :0], q[:, :0], b[:, :0])
    with pytest.raises(ValueError, match="shape"):
        chunk_delta_rule_pallas(q[0], q[0], q[0], b)
    with pytest.raises(ValueError, match="backward_impl"):
        chunk_delta_rule_pallas(q, q, q, b, backward_impl="triton")
    with pytest.raises(ValueError, match="disagrees"):
        chunk_delta_rule_pallas(q, q, q, b, chunk_size=16, block_sizes=BlockSizes(chunk=32))


@pytest.mark.gpu
def test_pallas_compiled_on_gpu(cases):
    if jax.default_backend() != "gpu":
        pytest.skip("needs a GPU (compiled Triton kernels)")
    _, d32, ref = cases
    pal = _run(functools.partial(_pallas, interpret=False), d32)
    xla = _run(_xla, d32)
    for p, x, r in zip(pal, xla, ref, strict=True):
        assert rel(p, r) <= 2 * max(rel(x, r), 1e-6)
