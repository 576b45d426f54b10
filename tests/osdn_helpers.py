"""Shared inputs and error measures for the OSDN tests."""

import jax
import jax.numpy as jnp
import numpy as np


def inputs(key, B=1, T=50, H=2, K=8, V=6, dtype=jnp.float64, gated=True, apf=True):
    """Random L2-normalised q/k, values, gates; cotangents for o and the final state."""
    ks = jax.random.split(key, 10)
    n = lambda x: x / jnp.linalg.norm(x, axis=-1, keepdims=True)
    q = n(jax.random.normal(ks[0], (B, T, H, K), dtype))
    k = n(jax.random.normal(ks[1], (B, T, H, K), dtype))
    v = jax.random.normal(ks[2], (B, T, H, V), dtype)
    beta = jax.nn.sigmoid(jax.random.normal(ks[3], (B, T, H), dtype))
    g = jax.nn.log_sigmoid(jax.random.normal(ks[4], (B, T, H), dtype)) * 0.3 if gated else None
    lam = jax.nn.sigmoid(jax.random.normal(ks[5], (B, T, H), dtype) + 2.0) if apf else None
    S0 = jax.random.normal(ks[6], (B, H, K, V), dtype) * 0.5
    do = jax.random.normal(ks[7], (B, T, H, V), dtype)
    dS = jax.random.normal(ks[8], (B, H, K, V), dtype)
    d = jnp.exp(0.4 * jax.random.normal(ks[9], (B, T, H, K), dtype))
    return dict(q=q, k=k, v=v, beta=beta, g=g, lam=lam, S0=S0, do=do, dS=dS, d=d)


def rel(a, b):
    """Relative RMS error of ``a`` against reference ``b`` (NaN check first)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert not np.isnan(a).any(), "NaN in result"
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))
