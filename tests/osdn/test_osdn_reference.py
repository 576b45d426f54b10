"""Recurrent vs naive vs chunkwise OSDN in float64: outputs, states, every gradient; decoding; identities."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from osdn_helpers import inputs, rel

import jaxor
from jaxor.osdn import (
    OSDNState,
    chunk_delta_rule,
    chunk_osdn,
    init_state,
    naive,
    osdn_step,
    recurrent_delta_rule,
    recurrent_osdn,
)

TOL = 1e-10
HYP = dict(d_min=0.1, d_max=1.5)


@pytest.fixture(scope="module")
def data64():
    with jaxor.float64():
        return inputs(jax.random.PRNGKey(0))


def _loss(fn, feedback, q, k, v, beta, g, lam, eta, d_init, S0, do, dS):
    H, K = q.shape[2], q.shape[3]
    st = init_state(q.shape[0], H, K, v.shape[-1], d_init=d_init, dtype=q.dtype)._replace(S=S0)
    o, st, frac = fn(q, k, v, beta, g=g, apf_gate=lam, eta=eta, initial_state=st, feedback=feedback, **HYP)
    return jnp.sum(o * do) + jnp.sum(st.S * dS) + jnp.sum(st.d), (o, st, frac)


ARGS = ("q", "k", "v", "beta", "g", "lam")


@functools.cache
def _grad_fn(fn, feedback):
    return jax.jit(jax.value_and_grad(functools.partial(_loss, fn, feedback), argnums=tuple(range(9)), has_aux=True))


def _grads(fn, feedback, dat):
    eta = jnp.array([0.9, 0.6], jnp.float64)
    d_init = 1.0 + 0.2 * jnp.sin(jnp.arange(16.0, dtype=jnp.float64)).reshape(2, 8)
    (_, aux), grads = _grad_fn(fn, feedback)(*(dat[a] for a in ARGS), eta, d_init, dat["S0"], dat["do"], dat["dS"])
    return aux, grads


_CHUNK = {C: functools.partial(chunk_osdn, chunk_size=C) for C in (16, 32, 64)}


@pytest.mark.parametrize("C,feedback", [(16, "same"), (32, "next"), (64, "same")], ids=lambda x: str(x))
def test_chunk_matches_recurrent_float64_with_all_gradients(data64, C, feedback):
    with jaxor.float64():
        (o_r, st_r, fr_r), g_r = _grads(recurrent_osdn, feedback, data64)
        (o_c, st_c, fr_c), g_c = _grads(_CHUNK[C], feedback, data64)
    assert data64["q"].shape[1] % C != 0
    assert rel(o_c, o_r) <= TOL and rel(st_c.S, st_r.S) <= TOL and rel(st_c.d, st_r.d) <= TOL
    assert float(fr_c) == float(fr_r)
    names = ARGS + ("eta", "d_init", "S0")
    for name, a, b in zip(names, g_c, g_r, strict=True):
        assert float(np.linalg.norm(np.asarray(b))) > 0, name          # every gradient is exercised
        assert rel(a, b) <= TOL, (name, rel(a, b))
    # the preconditioner really varied per token (otherwise K Kw^T vs Kw K^T would go unnoticed)
    assert float(np.std(np.asarray(st_r.d))) > 1e-3


def test_fixed_random_d_chunk_vs_recurrent_and_gradient(data64):
    """Random per-token d: catches a swapped K Kw^T / Kw K^T or a wrong write key anywhere."""
    with jaxor.float64():
        args = tuple(data64[a] for a in ("q", "k", "v", "beta", "g", "d", "S0"))

        def loss(fn, q, k, v, beta, g, d, S0):
            o, S = fn(q, k, v, beta, g=g, d=d, initial_state=S0)
            return jnp.sum(o * data64["do"]) + jnp.sum(S * data64["dS"])

        gr = jax.jit(jax.grad(functools.partial(loss, recurrent_delta_rule), argnums=tuple(range(7))))(*args)
        gc = jax.jit(jax.grad(functools.partial(loss, functools.partial(chunk_delta_rule, chunk_size=16)),
                              argnums=tuple(range(7))))(*args)
        for a, b in zip(gc, gr, strict=True):
            assert rel(a, b) <= TOL
        # a deliberately swapped chunk (write with k, erase with d*k) must disagree
        o_ok, _ = recurrent_delta_rule(*args[:4], g=args[4], d=args[5])
        o_sw, _ = chunk_delta_rule(args[0], args[5] * args[1], args[2], args[3], g=args[4], d=1 / args[5],
                                   chunk_size=16)
        assert rel(o_sw, o_ok) > 1e-3


def test_ungated_chunk_skips_decay_and_matches_recurrent_float64(data64):
    """``g=None`` takes the chunk path without decay factors; still equal to the scan, gradients too."""
    args = tuple(data64[a] for a in ("q", "k", "v", "beta", "d", "S0"))

    def loss(fn, q, k, v, beta, d, S0):
        o, S = fn(q, k, v, beta, d=d, initial_state=S0)
        return jnp.sum(o * data64["do"]) + jnp.sum(S * data64["dS"])

    with jaxor.float64():
        gr = jax.jit(jax.grad(functools.partial(loss, recurrent_delta_rule), argnums=tuple(range(6))))(*args)
        gc = jax.jit(jax.grad(functools.partial(loss, functools.partial(chunk_delta_rule, chunk_size=32)),
                              argnums=tuple(range(6))))(*args)
        fwd = lambda fn, q, k, v, beta, d, S0: fn(q, k, v, beta, d=d, initial_state=S0)
        o_r, S_r = jax.jit(functools.partial(fwd, recurrent_delta_rule))(*args)
        o_c, S_c = jax.jit(functools.partial(fwd, functools.partial(chunk_delta_rule, chunk_size=32)))(*args)
    assert rel(o_c, o_r) <= TOL and rel(S_c, S_r) <= TOL
    for a, b in zip(gc, gr, strict=True):
        assert float(np.linalg.norm(np.asarray(b))) > 0 and rel(a, b) <= TOL


def test_segmented_chunk_core_matches_recurrent_float64(data64):
    """Segments of chunks (here 3 chunks of 16, padded to 2 segments) carry the state exactly."""
    from jaxor.osdn._chunk import chunk_core

    args = tuple(data64[a] for a in ("q", "k", "v", "beta", "g", "d", "S0"))

    def loss(fn, q, k, v, beta, g, d, S0):
        o, S = fn(q, k, v, beta, g, d, S0)
        return jnp.sum(o * data64["do"]) + jnp.sum(S * data64["dS"]), (o, S)

    seg = lambda q, k, v, beta, g, d, S0: chunk_core(q * 8 ** -0.5, k, d * k, v, beta, g, S0, chunk_size=16,
                                                     segment_chunks=3)
    ref = lambda q, k, v, beta, g, d, S0: recurrent_delta_rule(q, k, v, beta, g=g, d=d, initial_state=S0)
    with jaxor.float64():
        outs = [jax.jit(jax.grad(functools.partial(loss, f), argnums=tuple(range(7)), has_aux=True))(*args)
                for f in (seg, ref)]
    (g_s, (o_s, S_s)), (g_r, (o_r, S_r)) = outs
    assert -(-data64["q"].shape[1] // 16) % 3 != 0          # the last segment is padded
    assert rel(o_s, o_r) <= TOL and rel(S_s, S_r) <= TOL
    for a, b in zip(g_s, g_r, strict=True):
        assert rel(a, b) <= TOL


def test_recurrent_matches_naive_loop(data64):
    sl = {a: (None if data64[a] is None else data64[a][:, :12]) for a in ("q", "k", "v", "beta", "g", "lam")}
    for fb in ("same", "next"):
        with jaxor.float64():
            o, st, _ = recurrent_osdn(sl["q"], sl["k"], sl["v"], sl["beta"], g=sl["g"], apf_gate=sl["lam"],
                                      eta=0.8, feedback=fb, **HYP)
        o_n, S_n, d_n = naive.naive_osdn(sl["q"], sl["k"], sl["v"], sl["beta"], sl["g"], eta=0.8,
                                         apf_gate=sl["lam"], feedback=fb, **HYP)
        assert rel(o, o_n) <= TOL and rel(st.S, S_n) <= TOL and rel(st.d, d_n) <= TOL


def test_two_halves_with_carried_state_equal_one_run(data64):
    dat = data64
    run = jax.jit(lambda q, k, v, b, lam, st: chunk_osdn(q, k, v, b, apf_gate=lam, initial_state=st, eta=0.7,
                                                         feedback="next", chunk_size=16, **HYP))
    names = ("q", "k", "v", "beta", "lam")
    with jaxor.float64():
        fresh = init_state(1, 2, 8, 6, dtype=jnp.float64)
        full_o, full_st, _ = run(*(dat[a] for a in names), fresh)
        cut = 25                                    # not a multiple of the chunk: the carry crosses a chunk
        o1, st1, _ = run(*(dat[a][:, :cut] for a in names), fresh)
        o2, st2, _ = run(*(dat[a][:, cut:] for a in names), st1)
    assert rel(jnp.concatenate([o1, o2], axis=1), full_o) <= TOL
    for a, b in zip(st2, full_st, strict=True):
        assert rel(a, b) <= TOL


def test_decoding_steps_match_parallel_forward(data64):
    dat = {a: (None if x is None else x.astype(jnp.float32)) for a, x in data64.items()}
    T = 20
    o_par, st_par, _ = jax.jit(functools.partial(chunk_osdn, eta=0.8, feedback="next", chunk_size=16, **HYP))(
        *(dat[a][:, :T] for a in ("q", "k", "v", "beta")), g=dat["g"][:, :T], apf_gate=dat["lam"][:, :T])
    st = init_state(1, 2, 8, 6)
    step = jax.jit(functools.partial(osdn_step, eta=0.8, feedback="next", **HYP))
    outs = []
    for t in range(T):
        o, st = step(st, *(dat[a][:, t] for a in ("q", "k", "v", "beta")), g=dat["g"][:, t],
                     apf_gate=dat["lam"][:, t])
        outs.append(o)
    np.testing.assert_allclose(np.stack(outs, 1), o_par, atol=2e-5)
    np.testing.assert_allclose(st.S, st_par.S, atol=2e-5)
    np.testing.assert_allclose(st.d, st_par.d, atol=1e-6)


def test_token_local_contraction_identity():
    """Post-write residual on the same token = (1 - beta <d, k*k>) x pre-write residual (decayed state)."""
    rng = np.random.default_rng(0)
    with jaxor.float64():
        for _ in range(5):
            B, H, K, V = 2, 3, 8, 5
            S = jnp.asarray(rng.normal(size=(B, H, K, V)))
            d = jnp.asarray(rng.uniform(0.2, 1.5, size=(B, H, K)))
            k = jnp.asarray(rng.normal(size=(B, H, K)))
            k = k / jnp.linalg.norm(k, axis=-1, keepdims=True)
            v, beta = jnp.asarray(rng.normal(size=(B, H, V))), jnp.asarray(rng.uniform(0, 1, (B, H)))
            g = jnp.asarray(-rng.uniform(0, 1, (B, H)))
            st = OSDNState(S, d, jnp.zeros((B, H, K)), jnp.zeros((B, H)), jnp.ones((B, H)))
            _, new = osdn_step(st, k, k, v, beta, g=g, eta=0.5, d_min=0.0, d_max=2.0)
            pre = jnp.einsum("bhkv,bhk->bhv", jnp.exp(g)[..., None, None] * S, k) - v
            post = jnp.einsum("bhkv,bhk->bhv", new.S, k) - v
            factor = 1 - beta * jnp.sum(d * k * k, -1)
            np.testing.assert_allclose(post, factor[..., None] * pre, rtol=1e-12, atol=1e-12)
            # the non-trivial eigenvalue of I - beta (d*k) k^T is that factor, inside [-1, 1]
            M = np.eye(K) - float(beta[0, 0]) * np.outer(np.asarray(d[0, 0] * k[0, 0]), np.asarray(k[0, 0]))
            ev = np.sort(np.linalg.eigvals(M).real)
            assert abs(ev[0] - float(factor[0, 0])) < 1e-10 and -1 <= ev[0] <= 1


def test_same_token_feedback_fixed_point_and_next_token_leaves_disjoint_keys():
    """Same-token feedback drives beta <d, k*k> -> 1 for a repeated key; next-token ignores disjoint keys."""
    T, K = 400, 4
    k = jnp.zeros((1, T, 1, K)).at[..., 0].set(1.0)
    beta = jnp.full((1, T, 1), 0.8)
    _, st, _ = recurrent_osdn(k, k, k, beta, eta=1.0, d_max=2.0, feedback="same")
    assert abs(0.8 * float(st.d[0, 0, 0]) - 1.0) < 1e-4
    kk = jnp.zeros((1, T, 1, K)).at[:, ::2, :, 0].set(1.0).at[:, 1::2, :, 1].set(1.0)
    _, st, _ = recurrent_osdn(kk, kk, kk, beta, eta=1.0, d_max=2.0, feedback="next")
    np.testing.assert_allclose(st.d, 1.0)


def test_clip_fraction_reported():
    k = jnp.zeros((1, 50, 1, 4)).at[..., 0].set(1.0)
    b = jnp.full((1, 50, 1), 0.3)             # fixed point d = 1/0.3 lies above d_max: feature 0 clips
    _, st, frac = jax.jit(functools.partial(recurrent_osdn, eta=1.0, d_max=1.5))(k, k, k, b)
    assert 0.2 < float(frac) < 0.25 and float(st.d[0, 0, 0]) == 1.5


def test_bad_input_raises_clear_errors():
    q = jnp.ones((1, 8, 2, 4))
    b = jnp.full((1, 8, 2), 0.5)
    with pytest.raises(ValueError, match="rank 4"):
        recurrent_osdn(q[0], q[0], q[0], b[0])
    with pytest.raises(ValueError, match="T=0"):
        chunk_osdn(q[:, :0], q[:, :0], q[:, :0], b[:, :0])
    with pytest.raises(ValueError, match="beta contains NaN"):
        chunk_osdn(q, q, q, b.at[0, 3, 1].set(jnp.nan))
    with pytest.raises(ValueError, match="beta must have shape"):
        recurrent_delta_rule(q, q, q, b[:, :4])
    with pytest.raises(ValueError, match="feedback"):
        chunk_osdn(q, q, q, b, feedback="prev")
    with pytest.raises(ValueError, match="d_min"):
        recurrent_osdn(q, q, q, b, d_min=2.0, d_max=1.0)
    with pytest.raises(ValueError, match="chunk_size"):
        chunk_delta_rule(q, q, q, b, chunk_size=0)
    with pytest.raises(ValueError, match="eta"):
        chunk_osdn(q, q, q, b, eta=jnp.ones(3))
    with pytest.raises(ValueError, match="float64"):
        recurrent_osdn(q, q, q, b, dtype=jnp.float64)
    # under jit the NaN check still fires (eqx.error_if)
    f = jax.jit(lambda bb: chunk_osdn(q, q, q, bb, chunk_size=16)[0])
    with pytest.raises(Exception, match="beta contains NaN"):
        jax.block_until_ready(f(b.at[0, 0, 0].set(jnp.nan)))
