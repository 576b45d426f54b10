"""Philox-4x32-10, a counter-based *simulation* generator in plain ``jnp`` uint32 arithmetic.

Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011): a keyed
bijection of a 128-bit counter built from ``R`` rounds of

.. math::  (c_0, c_1, c_2, c_3) \\mapsto (\\mathrm{hi}(M_1 c_2) \\oplus c_1 \\oplus k_0,\\; \\mathrm{lo}(M_1 c_2),\\;
           \\mathrm{hi}(M_0 c_0) \\oplus c_3 \\oplus k_1,\\; \\mathrm{lo}(M_0 c_0)),

with ``M_0 = 0xD2511F53``, ``M_1 = 0xCD9E8D57``, the 64-bit products split into their high and low
32-bit words, and the key bumped by the Weyl constants ``(0x9E3779B9, 0xBB67AE85)`` between rounds.
The authors report that 10 rounds pass the TestU01 BigCrush battery with a safety margin (7 rounds
already do). Written here from that published description; checked against the authors' known-answer
vectors in the tests.

This is a **simulation** generator for Monte-Carlo rollouts: fast, reproducible, statistically
sound for that purpose -- *not* a cryptographic generator, and not JAX's default. jaxor uses it
only when a caller opts in (``rng="philox"`` in :func:`jaxor.olp.rollout`); every word is a pure
function of ``(key, counter)``, so results are bit-reproducible from the key and independent of
how the draws are chunked or batched.

The 32 x 32 -> 64-bit products are computed exactly from 16-bit halves (no 64-bit integers, so it
runs with ``jax_enable_x64`` off), and every operation is elementwise over arbitrarily shaped
arrays, which XLA fuses into one vectorised loop.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["philox4x32", "philox_key", "philox_uniforms", "bits_to_uniform"]

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK16 = 0xFFFF


def _u32(v):
    return jnp.asarray(v, jnp.uint32)


def _mulhilo(mult: int, x):
    """``(hi, lo)`` 32-bit words of ``mult * x`` (``mult`` a Python constant, ``x`` uint32), exact."""
    mh, ml = _u32(mult >> 16), _u32(mult & _MASK16)
    xh, xl = x >> 16, x & _u32(_MASK16)
    t = mh * xl + ((ml * xl) >> 16)  # < 2^32: (2^16-1)^2 + 2^16 - 1 < 2^32
    w = (t & _u32(_MASK16)) + ml * xh  # < 2^32 likewise
    hi = mh * xh + (t >> 16) + (w >> 16)
    return hi, _u32(mult) * x


def philox4x32(counter, key, rounds: int = 10):
    """Philox-4x32 (``rounds`` rounds, default 10) of ``counter`` under ``key``.

    Args:
        counter: 4 uint32 arrays (broadcastable to a common shape).
        key: 2 uint32 arrays (broadcastable with the counter words).
        rounds: number of rounds (static); 10 is the published default.

    Returns:
        Tuple of 4 uint32 arrays of the broadcast shape: 128 random bits per counter.

    Examples:
        >>> import jax.numpy as jnp
        >>> out = philox4x32([jnp.uint32(0)] * 4, [jnp.uint32(0)] * 2)
        >>> [hex(int(v)) for v in out]
        ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    c0, c1, c2, c3 = (_u32(c) for c in counter)
    k0, k1 = (_u32(k) for k in key)
    for i in range(rounds):
        if i > 0:
            k0 = k0 + _u32(_W0)
            k1 = k1 + _u32(_W1)
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def philox_key(key: jax.Array) -> jax.Array:
    """The 64-bit Philox key ``[2]`` uint32 of a JAX PRNG key (typed or raw, any implementation):
    two words drawn from ``key`` with JAX's own generator."""
    return jax.random.bits(key, (2,), jnp.uint32)


def bits_to_uniform(hi, lo=None, dtype=jnp.float32):
    """Uniforms in ``[0, 1)`` from uint32 words (elementwise).

    float32: one word ``hi`` per number, its top 23 bits as the mantissa (a ``2^-23`` grid, like
    ``jax.random.uniform``). float64: two words ``(hi, lo)`` per number, the top 52 of their 64 bits
    as the mantissa (needs ``jax_enable_x64``).
    """
    dtype = jnp.dtype(dtype)
    if dtype == jnp.float32:
        f = jax.lax.bitcast_convert_type((hi >> 9) | _u32(0x3F800000), jnp.float32)
        return f - jnp.float32(1.0)
    if dtype == jnp.float64:
        w = ((hi.astype(jnp.uint64) << 32) | lo.astype(jnp.uint64)) >> 12
        f = jax.lax.bitcast_convert_type(w | jnp.uint64(0x3FF0000000000000), jnp.float64)
        return f - 1.0
    raise ValueError(f"dtype must be float32 or float64; got {dtype}")


def philox_uniforms(pkey: jax.Array, t, k: int, dtype) -> jax.Array:
    """``k`` uniforms per period: ``[k, *batch]`` with ``batch = broadcast(t.shape, pkey.shape[:-1])``.

    Args:
        pkey: Philox keys ``[..., 2]`` uint32 (:func:`philox_key`).
        t: periods (int array broadcastable with ``pkey[..., 0]``).
        k: uniforms per period (static).
        dtype: float32 or float64.

    Returns:
        ``[k, *batch]``: the uniform index leads, so the batch axes keep their layout (replications on
        the minor axis vectorise on CPU).

    Layout of the stream (fixed, so every number depends only on ``(pkey, t, j)``, not on chunking or
    batching): period ``t``'s words come from the counters ``(t, block, 0, 0)``, ``block = 0, 1, ...``,
    4 words per block, in order; one word per float32 uniform, two (high, low) per float64 uniform.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> u = philox_uniforms(philox_key(jax.random.PRNGKey(0)), jnp.arange(5), 3, jnp.float32)
        >>> u.shape
        (3, 5)
    """
    dtype = jnp.dtype(dtype)
    per = 1 if dtype == jnp.float32 else 2
    nblocks = -(-k * per // 4)
    k0, k1 = pkey[..., 0], pkey[..., 1]
    t = jnp.asarray(t).astype(jnp.uint32)
    batch = jnp.broadcast_shapes(t.shape, k0.shape)
    t = jnp.broadcast_to(t, batch)
    words = []
    for blk in range(nblocks):
        words.extend(philox4x32((t, _u32(blk), _u32(0), _u32(0)), (k0, k1)))
    if per == 1:
        return jnp.stack([bits_to_uniform(w, dtype=dtype) for w in words[:k]])
    return jnp.stack([bits_to_uniform(words[2 * j], words[2 * j + 1], dtype) for j in range(k)])
