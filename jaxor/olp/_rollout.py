"""Rollouts of online-LP policies: ``lax.scan`` over time, ``vmap`` over replications, sharded batches.

One period of the scan (setting of Li & Ye, arXiv 1909.05499, and Gao et al., arXiv 2501.02761):

1. the policy posts ``p_t`` (re-solving policies re-solve here or after the previous order);
2. order ``(r_t, a_t)`` arrives (drawn inside the scan from ``fold_in(key, t)``, ``chunk`` periods
   per vectorised draw by default, or read from the pre-drawn arrays when the policy needs the history);
3. ``x_t = 1{r_t > a_t.p_t} * 1{a_t <= b_t}`` (ties rejected; never over budget);
4. ``b_{t+1} = b_t - a_t x_t``, reward ``+= r_t x_t``; the policy updates.

Regret is the hindsight LP value (:func:`jaxor.olp.solve_hindsight`, exact) minus the reward, on the
same orders (same key).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import batch
from jaxor.olp._generators import AbstractGenerator, _check_n
from jaxor.olp._hindsight import solve_hindsight
from jaxor.olp._policies import AbstractPolicy, Context

__all__ = ["DEFAULT_CHUNK", "RolloutResult", "rollout", "hindsight_value", "regret", "batch_rollout", "batch_hindsight",
           "split_key"]


class RolloutResult(NamedTuple):
    """Outcome of one rollout (add a leading batch axis for :func:`batch_rollout`).

    Attributes:
        reward: collected reward (scalar).
        remaining: final budget ``b_{n+1}`` ``[m]``.
        min_remaining: componentwise minimum of ``b_t`` over the horizon ``[m]`` (never negative).
        used: ``sum_t a_t x_t`` ``[m]`` (at most ``b``).
        accepted: number of accepted orders (int32).
        solver_fails: re-solves that ended short of the KKT tolerance (int32; 0 for first-order).
    """

    reward: jax.Array
    remaining: jax.Array
    min_remaining: jax.Array
    used: jax.Array
    accepted: jax.Array
    solver_fails: jax.Array


def split_key(key):
    """``(orders_key, policy_key)``: the orders of a replication and the policy's own randomness."""
    k1, k2 = jax.random.split(key)
    return k1, k2


def _validate(policy, gen, n):
    if not isinstance(policy, AbstractPolicy):
        raise ValueError(f"policy must be a jaxor.olp policy; got {type(policy).__name__}")
    if not isinstance(gen, AbstractGenerator):
        raise ValueError(f"gen must be a jaxor.olp generator; got {type(gen).__name__}")
    return _check_n(n)


DEFAULT_CHUNK = 100


def _check_chunk(chunk):
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk (periods drawn per PRNG call) must be None or an integer >= 1; got {chunk!r}")
    return int(chunk)


def rollout(policy: AbstractPolicy, gen: AbstractGenerator, key: jax.Array, n: int,
            chunk: int | None = DEFAULT_CHUNK) -> RolloutResult:
    """Run ``policy`` on ``n`` orders of ``gen`` drawn from ``key``.

    Args:
        policy: a :class:`jaxor.olp.AbstractPolicy`.
        gen: a :class:`jaxor.olp.AbstractGenerator`; budget ``b = n gen.d``.
        key: PRNG key; orders come from ``split_key(key)[0]``.
        n: horizon, a Python int ``>= 1`` (static).
        chunk: draw the orders ``C = chunk`` periods at a time (static; default
            ``DEFAULT_CHUNK = 100``): an outer ``lax.scan`` over ``ceil(n / C)`` chunks draws the
            chunk's orders ``r [C], a [C, m]`` with one vectorised call (``vmap`` of
            :meth:`AbstractGenerator.order` over the chunk's periods) and an inner ``lax.scan``
            runs the ``C`` policy steps. Only ``C x m`` orders (``C x R x m`` under ``vmap``) are
            ever materialised. The orders are *the same* as with ``chunk=None`` (order ``t`` is
            still ``sample(fold_in(key, t), t, n)``), so results and the hindsight LP of
            :func:`hindsight_value` are unchanged; chunking only moves the PRNG out of the
            per-step loop, which is what costs on CPU (many small kernels per step). With
            ``unsafe_rbg``/``rbg`` keys the bits of a vmapped draw depend on the batching, so there the
            chunked orders differ from the per-step ones by design (same distribution; use
            threefry keys, JAX's default, for orders identical to :meth:`AbstractGenerator.draw`).
            ``None`` draws one order per step inside the scan. Ignored by policies that read
            the pre-drawn orders (``needs_orders``).

    Returns:
        :class:`RolloutResult`. Jittable (close over ``policy``, ``gen`` and ``n``) and vmappable over
        ``key``.

    Raises:
        ValueError: for ``n < 1``, ``chunk < 1`` or arguments of the wrong type, naming the argument.

    Examples:
        >>> import jax
        >>> from jaxor.olp import Acceptance, FirstOrder, rollout
        >>> res = rollout(FirstOrder(), Acceptance(m=2), jax.random.PRNGKey(0), 100)
        >>> bool((res.used <= 100 * 0.25 + 1e-6).all())
        True
    """
    n = _validate(policy, gen, n)
    chunk = _check_chunk(chunk)
    k_orders, k_policy = split_key(key)
    d = jnp.asarray(gen.d, jnp.result_type(float))  # the float dtype in force at trace time
    b0 = n * d
    R = A = None
    if policy.needs_orders:
        R, A = gen.draw(k_orders, n)
    ctx = Context(n=n, d=d, R=R, A=A, key=k_policy, gen=gen)
    state = policy.init(ctx)
    dtype = b0.dtype

    def serve(carry, order):
        t, r, a = order
        b, reward, st, bmin, acc = carry
        p, allow, st = policy.price(st, t, b, ctx)
        x = allow & (r > a @ p) & jnp.all(a <= b)
        xf = x.astype(dtype)
        b_next = b - a * xf
        st = policy.update(st, t, r, a, xf, b_next, ctx)
        return (b_next, reward + r * xf, st, jnp.minimum(bmin, b_next), acc + x.astype(jnp.int32)), None

    def step(carry, t):
        order = gen.order(k_orders, t, n) if R is None else (R[t], A[t])
        return serve(carry, (t, *order))

    def run_chunk(carry, ts):  # ts [C]: one vectorised draw, then C policy steps
        r, a = jax.vmap(lambda t: gen.order(k_orders, t, n))(ts)
        return jax.lax.scan(serve, carry, (ts, r, a))[0], None

    carry = (b0, jnp.zeros((), dtype), state, b0, jnp.int32(0))
    if R is not None or chunk is None:
        carry, _ = jax.lax.scan(step, carry, jnp.arange(n))
    else:
        c = min(chunk, n)
        full = n // c
        carry, _ = jax.lax.scan(run_chunk, carry, jnp.arange(full * c).reshape(full, c))
        if full * c < n:  # the last, shorter chunk
            carry, _ = run_chunk(carry, jnp.arange(full * c, n))
    b, reward, st, bmin, acc = carry
    fails = st.get("fails", jnp.int32(0)) if isinstance(st, dict) else jnp.int32(0)
    return RolloutResult(reward, b, bmin, b0 - b, acc, jnp.asarray(fails, jnp.int32))


def hindsight_value(gen: AbstractGenerator, key: jax.Array, n: int) -> jax.Array:
    """The exact hindsight LP value on the orders of :func:`rollout` with the same ``key`` (scalar)."""
    n = _check_n(n)
    r, a = gen.draw(split_key(key)[0], n)
    return solve_hindsight(r, a, n * jnp.asarray(gen.d, r.dtype)).value


def regret(policy: AbstractPolicy, gen: AbstractGenerator, key: jax.Array, n: int) -> jax.Array:
    """``hindsight_value(gen, key, n) - rollout(policy, gen, key, n).reward`` (scalar)."""
    return hindsight_value(gen, key, n) - rollout(policy, gen, key, n).reward


def batch_rollout(policy: AbstractPolicy, gen: AbstractGenerator, keys: jax.Array, n: int,
                  chunk: int | None = DEFAULT_CHUNK) -> RolloutResult:
    """:func:`rollout` for every key in ``keys [R, 2]``, one jitted vmapped call sharded over devices
    with :func:`jaxor.batch.sharded`; returns a :class:`RolloutResult` with leading axis ``R``.
    ``chunk`` as in :func:`rollout` (same results for every value)."""
    n = _validate(policy, gen, n)
    chunk = _check_chunk(chunk)
    return _sharded_rollout(policy, gen, n, chunk)(keys)


def batch_hindsight(gen: AbstractGenerator, keys: jax.Array, n: int) -> jax.Array:
    """Exact hindsight values ``[R]`` for the replications ``keys [R, 2]`` (vmapped, sharded)."""
    n = _check_n(n)
    return _sharded_hindsight(gen, n)(keys)


_CACHE: dict = {}


def _cached(kind, obj, gen, n, make, extra=None):
    # Keyed by object identity; the entry keeps the objects alive so an id is never reused.
    key = (kind, id(obj), id(gen), n, extra)
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = (obj, gen, make())
    return _CACHE[key][2]


def _sharded_rollout(policy, gen, n, chunk=DEFAULT_CHUNK):
    return _cached("rollout", policy, gen, n,
                   lambda: batch.sharded(jax.vmap(lambda k: rollout(policy, gen, k, n, chunk))), chunk)


def _sharded_hindsight(gen, n):
    return _cached("hindsight", None, gen, n, lambda: batch.sharded(jax.vmap(lambda k: hindsight_value(gen, k, n))))
