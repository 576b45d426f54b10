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
from jax.sharding import NamedSharding, PartitionSpec

from jaxor import batch
from jaxor.olp._generators import AbstractGenerator, _check_n, check_rng
from jaxor.olp._hindsight import solve_hindsight
from jaxor.olp._philox import philox_key, philox_uniforms
from jaxor.olp._policies import AbstractPolicy, Context

__all__ = ["DEFAULT_CHUNK", "RolloutResult", "rollout", "hindsight_value", "regret", "batch_rollout", "batch_hindsight",
           "split_key", "replay", "batch_replay", "clear_cache"]


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
            chunk: int | None = DEFAULT_CHUNK, rng: str = "threefry") -> RolloutResult:
    """Run ``policy`` on ``n`` orders of ``gen`` drawn from ``key``.

    Args:
        policy: a :class:`jaxor.olp.AbstractPolicy`.
        gen: a :class:`jaxor.olp.AbstractGenerator`; budget ``b = n gen.d``.
        key: PRNG key; orders come from ``split_key(key)[0]``.
        n: horizon, a Python int ``>= 1`` (static).
        chunk: draw the orders ``C = chunk`` periods at a time (static; default
            ``DEFAULT_CHUNK = 100``): an outer ``lax.scan`` over ``ceil(n / C)`` chunks draws the
            chunk's orders ``r [C], a [C, m]`` with one vectorised call
            (:meth:`AbstractGenerator.orders`) and an inner ``lax.scan`` runs the ``C`` policy
            steps. Only ``C x m`` orders (``C x R x m`` under ``vmap``) are ever materialised. The
            orders are *the same* as with ``chunk=None`` (order ``t`` is a function of ``(key, t)``
            only), so results and the hindsight LP of :func:`hindsight_value` are unchanged;
            chunking only moves the PRNG out of the per-step loop, which is what costs on CPU. With
            ``unsafe_rbg``/``rbg`` keys and ``rng="threefry"`` the bits of a vmapped draw depend on
            the batching, so there the chunked orders differ from the per-step ones by design (same
            distribution). ``None`` draws one order per step inside the scan. Ignored by policies
            that read the pre-drawn orders (``needs_orders``).
        rng: ``"threefry"`` (default): JAX's PRNG with the key's own implementation (threefry2x32
            unless the key says otherwise). ``"philox"``: opt-in Philox-4x32-10 *simulation*
            generator in plain ``jnp`` uint32 arithmetic (:func:`jaxor.olp.philox4x32`), keyed
            from the orders key; not cryptographic; about twice as fast as threefry on CPU; same
            distributions, different numbers. Supported by :class:`Acceptance`,
            :class:`FiniteSupport` and :class:`Nonstationary` (``ValueError`` otherwise).

    Returns:
        :class:`RolloutResult`. Jittable (close over ``policy``, ``gen`` and ``n``) and vmappable over
        ``key``.

    Raises:
        ValueError: for ``n < 1``, ``chunk < 1``, an unknown ``rng`` or arguments of the wrong type,
        naming the argument.

    Examples:
        >>> import jax
        >>> from jaxor.olp import Acceptance, FirstOrder, rollout
        >>> res = rollout(FirstOrder(), Acceptance(m=2), jax.random.PRNGKey(0), 100)
        >>> bool((res.used <= 100 * 0.25 + 1e-6).all())
        True
    """
    n = _validate(policy, gen, n)
    chunk = _check_chunk(chunk)
    rng = check_rng(rng, gen)
    k_orders, k_policy = split_key(key)
    d = jnp.asarray(gen.d, jnp.result_type(float))  # the float dtype in force at trace time
    b0 = n * d
    R = A = None
    if policy.needs_orders:
        R, A = gen.draw(k_orders, n, rng)
    ctx = Context(n=n, d=d, R=R, A=A, key=k_policy, gen=gen)
    serve = _server(policy, ctx)

    def step(carry, t):
        order = gen.orders(k_orders, t[None], n, rng) if R is None else (R[t][None], A[t][None])
        return serve(carry, (t, order[0][0], order[1][0]))

    def run_chunk(carry, ts):  # ts [C]: one vectorised draw, then C policy steps
        r, a = gen.orders(k_orders, ts, n, rng)
        return jax.lax.scan(serve, carry, (ts, r, a))[0], None

    carry = _initial_carry(b0, policy.init(ctx))
    if R is not None or chunk is None:
        carry, _ = jax.lax.scan(step, carry, jnp.arange(n))
    else:
        carry = _chunked(run_chunk, carry, n, chunk)
    return _result(carry, b0)


def _initial_carry(b, state):
    """``(b, reward, state, min budget, accepted)`` at ``t = 0``; ``b [m]``, or ``[m, R]`` batch-last."""
    return (b, jnp.zeros(b.shape[1:], b.dtype), state, b, jnp.zeros(b.shape[1:], jnp.int32))


def _server(policy, ctx):
    """One period of the scan for a single replication (see the module docstring)."""
    dtype = ctx.d.dtype

    def serve(carry, order):
        t, r, a = order
        b, reward, st, bmin, acc = carry
        wish, st = policy.decide(st, t, b, r, a, ctx)
        x = wish & jnp.all(a <= b)
        xf = x.astype(dtype)
        b_next = b - a * xf
        st = policy.update(st, t, r, a, xf, b_next, ctx)
        return (b_next, reward + r * xf, st, jnp.minimum(bmin, b_next), acc + x.astype(jnp.int32)), None

    return serve


def _batch_last_server(policy, ctx):
    """:func:`_server` for a carry and orders with the replications on their last axis."""
    return jax.vmap(_server(policy, ctx), in_axes=(-1, (None, -1, -1)), out_axes=(-1, None))


def _batch_last_result(carry, b0):
    """The :class:`RolloutResult` of a batch-last carry, replications moved to the leading axis."""
    return jax.tree.map(lambda v: jnp.moveaxis(v, -1, 0), _result(carry, b0[:, None]))


def _chunked(run_chunk, carry, n, chunk):
    c = min(chunk, n)
    full = n // c
    carry, _ = jax.lax.scan(run_chunk, carry, jnp.arange(full * c).reshape(full, c))
    if full * c < n:  # the last, shorter chunk
        carry, _ = run_chunk(carry, jnp.arange(full * c, n))
    return carry


def _result(carry, b0):
    b, reward, st, bmin, acc = carry
    fails = st.get("fails", jnp.int32(0)) if isinstance(st, dict) else jnp.int32(0)
    return RolloutResult(reward, b, bmin, b0 - b, acc, jnp.broadcast_to(jnp.asarray(fails, jnp.int32), reward.shape))


def _batch_last_rollout(policy, gen, keys, n, chunk, rng):
    """:func:`rollout` for ``keys [R, ...]`` with the scan *outside* the ``vmap``: every per-step array
    keeps the replications on its last (minor) axis (``b [m, R]``), which XLA:CPU vectorises far
    better than the ``[R, m]`` layout of ``vmap(rollout)``. Same arithmetic, same results; used by
    :func:`batch_rollout` for the O(1)-per-step policies (``policy.stepwise``)."""
    k_orders, k_policy = jax.vmap(split_key)(keys)
    d = jnp.asarray(gen.d, jnp.result_type(float))
    b0 = n * d
    ctx = Context(n=n, d=d, R=None, A=None, key=None, gen=gen)
    serve = _batch_last_server(policy, ctx)
    states = jax.vmap(lambda kp: policy.init(ctx._replace(key=kp)), out_axes=-1)(k_policy)

    if rng == "philox":  # Philox words computed directly in the [k, C, R] layout
        pkeys = jax.vmap(philox_key)(k_orders)  # [R, 2]

        def draw(ts):  # r [C, R], a [C, m, R]
            u = philox_uniforms(pkeys, ts[:, None], gen.n_uniforms, d.dtype)
            r, a = gen.from_uniforms(u, ts[:, None], n)
            return r, jnp.moveaxis(a, 0, 1)
    else:
        def draw(ts):  # r [C, R], a [C, m, R]
            return jax.vmap(lambda ko: gen.orders(ko, ts, n, rng), out_axes=-1)(k_orders)

    def run_chunk(carry, ts):
        r, a = draw(ts)
        return jax.lax.scan(serve, carry, (ts, r, a))[0], None

    def step(carry, t):
        r, a = draw(t[None])
        return serve(carry, (t, r[0], a[0]))

    carry = _initial_carry(jnp.broadcast_to(b0[:, None], (b0.shape[0], keys.shape[0])), states)
    if chunk is None:
        carry, _ = jax.lax.scan(step, carry, jnp.arange(n))
    else:
        carry = _chunked(run_chunk, carry, n, chunk)
    return _batch_last_result(carry, b0)


def hindsight_value(gen: AbstractGenerator, key: jax.Array, n: int, rng: str = "threefry") -> jax.Array:
    """The exact hindsight LP value on the orders of :func:`rollout` with the same ``key`` and ``rng``
    (scalar)."""
    n = _check_n(n)
    r, a = gen.draw(split_key(key)[0], n, check_rng(rng, gen))
    return solve_hindsight(r, a, n * jnp.asarray(gen.d, r.dtype)).value


def regret(policy: AbstractPolicy, gen: AbstractGenerator, key: jax.Array, n: int, rng: str = "threefry") -> jax.Array:
    """``hindsight_value(gen, key, n, rng) - rollout(policy, gen, key, n, rng=rng).reward`` (scalar)."""
    return hindsight_value(gen, key, n, rng) - rollout(policy, gen, key, n, rng=rng).reward


def batch_rollout(policy: AbstractPolicy, gen: AbstractGenerator, keys: jax.Array, n: int,
                  chunk: int | None = DEFAULT_CHUNK, rng: str = "threefry") -> RolloutResult:
    """:func:`rollout` for every key in ``keys [R, ...]``, one jitted call sharded over devices with
    :func:`jaxor.batch.sharded`; returns a :class:`RolloutResult` with leading axis ``R``.

    ``chunk`` and ``rng`` as in :func:`rollout` (the results do not depend on ``chunk``). For the
    O(1)-per-step policies (``policy.stepwise``: fluid, first-order, mirror descent, decoupled) the
    scan runs outside the ``vmap`` with the replications on the minor axis of every per-step array
    (same results, several times faster on CPU); re-solving policies use ``vmap(rollout)``.
    """
    n = _validate(policy, gen, n)
    chunk = _check_chunk(chunk)
    rng = check_rng(rng, gen)
    return _sharded_rollout(policy, gen, n, chunk, rng)(keys)


def batch_hindsight(gen: AbstractGenerator, keys: jax.Array, n: int, rng: str = "threefry") -> jax.Array:
    """Exact hindsight values ``[R]`` for the replications ``keys [R, ...]`` (vmapped, sharded)."""
    n = _check_n(n)
    rng = check_rng(rng, gen)
    return _sharded_hindsight(gen, n, rng)(keys)


_CACHE: dict = {}


def clear_cache() -> None:
    """Drop the compiled batch rollouts, hindsight solves and replays kept per (policy, generator, n).

    Long studies that sweep many policies and horizons can call it (with ``jax.clear_caches()``)
    between families: each entry holds an XLA executable, and hundreds of them can exhaust the code
    memory of one process.
    """
    _CACHE.clear()


def _cached(kind, obj, gen, n, make, extra=None):
    # Keyed by object identity; the entry keeps the objects alive so an id is never reused.
    key = (kind, id(obj), id(gen), n, extra)
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = (obj, gen, make())
    return _CACHE[key][2]


def _sharded_rollout(policy, gen, n, chunk=DEFAULT_CHUNK, rng="threefry"):
    if policy.stepwise:
        def make():
            return batch.sharded(lambda keys: _batch_last_rollout(policy, gen, keys, n, chunk, rng))
    else:
        def make():
            return batch.sharded(jax.vmap(lambda k: rollout(policy, gen, k, n, chunk, rng)))
    return _cached("rollout", policy, gen, n, make, (chunk, rng))


def _sharded_hindsight(gen, n, rng="threefry"):
    return _cached("hindsight", None, gen, n,
                   lambda: batch.sharded(jax.vmap(lambda k: hindsight_value(gen, k, n, rng))), rng)


# ---------------------------------------------------------------------------------------------------
# Replay: policies on given orders (traces, or inputs shared with another implementation)


def _float_array(x, name):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        if not (jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_):
            raise ValueError(f"{name} must be a real array; got dtype {x.dtype}")
        x = x.astype(jnp.result_type(float))
    return x


def _check_policy_inputs(policy, b, m, gen, key):
    if not isinstance(policy, AbstractPolicy):
        raise ValueError(f"policy must be a jaxor.olp policy; got {type(policy).__name__}")
    if b.shape != (m,):
        raise ValueError(f"b (the budget) must have shape ({m},); got {b.shape}")
    if not isinstance(b, jax.core.Tracer) and not bool(jnp.all(b >= 0)):
        raise ValueError(f"b (the budget) must be nonnegative; got {np.asarray(b).tolist()}")
    if policy.needs_gen:
        if not isinstance(gen, AbstractGenerator):
            raise ValueError(f"gen: {type(policy).__name__} draws its samples from a generator; pass gen=")
        if key is None:
            raise ValueError(f"key: {type(policy).__name__} draws its samples with a PRNG key; pass key(s)=")


def _check_orders(policy, r, a, b, gen, key, layout):
    """Validate the orders in ``layout`` (``"n"``: ``r [n], a [n, m]``; ``"Rn"``: ``r [R, n], a [R, n, m]``;
    ``"nR"``: ``r [n, R], a [n, m, R]``) and ``b [m]``; returns them in one floating dtype."""
    r, a, b = _float_array(r, "r"), _float_array(a, "a"), _float_array(b, "b")
    want_r = {"n": "(n,)", "Rn": "(R, n)", "nR": "(n, R)"}[layout]
    want_a = {"n": "(n, m)", "Rn": "(R, n, m)", "nR": "(n, m, R)"}[layout]
    if r.ndim != len(layout):
        raise ValueError(f"r (rewards) must have shape {want_r}; got {r.shape}")
    m_axis = 1 if layout == "nR" else -1
    if a.ndim != r.ndim + 1 or tuple(np.delete(a.shape, m_axis)) != r.shape:
        raise ValueError(f"a (consumptions) must have shape {want_a} matching r {r.shape}; got {a.shape}")
    _check_n(r.shape[0] if layout != "Rn" else r.shape[1])
    _check_policy_inputs(policy, b, a.shape[m_axis], gen, key)
    dtype = jnp.result_type(r.dtype, a.dtype, b.dtype)
    return r.astype(dtype), a.astype(dtype), b.astype(dtype)


def _replay_one(policy, r, a, b, key, gen):
    n = r.shape[0]
    d = b / n
    ctx = Context(n=n, d=d, R=r if policy.needs_orders else None, A=a if policy.needs_orders else None,
                  key=key, gen=gen)
    carry, _ = jax.lax.scan(_server(policy, ctx), _initial_carry(b, policy.init(ctx)), (jnp.arange(n), r, a))
    return _result(carry, b)


def replay(policy: AbstractPolicy, r, a, b, key: jax.Array | None = None,
           gen: AbstractGenerator | None = None) -> RolloutResult:
    """Run ``policy`` on the given orders: a trace replay (no generator in the loop).

    The same period as :func:`rollout` (post ``p_t``, see order ``t``, accept iff ``r_t > a_t.p_t`` and
    ``a_t <= b_t``, update), with the orders read from ``r [n]`` and ``a [n, m]`` and the initial average
    budget ``d = b / n``. Use it for recorded order streams, or to hand the *same* inputs to jaxor and to
    another implementation. The hindsight LP of these orders is ``solve_hindsight(r, a, b)``.

    Args:
        policy: a :class:`jaxor.olp.AbstractPolicy`.
        r: rewards ``[n]``.
        a: consumptions ``[n, m]``.
        b: total budget ``[m]``, nonnegative.
        key: the policy's own PRNG key; needed only by policies that sample (single-sample re-solving
            draws its one sample per period from ``gen`` with it).
        gen: generator for such policies (``policy.needs_gen``); otherwise unused.

    Returns:
        :class:`RolloutResult`. Jittable and vmappable over the arrays.

    Raises:
        ValueError: for shapes that do not match, a negative budget, ``n < 1``, or a sampling policy
        without ``gen``/``key``, naming the argument.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxor.olp import FirstOrder, replay
        >>> res = replay(FirstOrder(), jnp.array([1.0, 0.1, 0.9]), jnp.ones((3, 1)), jnp.array([2.0]))
        >>> round(float(res.reward), 4), int(res.accepted)   # 0.1 is below the price 0.19 after order 0
        (1.9, 2)
    """
    r, a, b = _check_orders(policy, r, a, b, gen, key, "n")
    return _replay_one(policy, r, a, b, key, gen)


def _replay_time_major(policy, r, a, b):
    """``r [n, R]``, ``a [n, m, R]``: the batch-last scan of the stepwise policies, reading each period's
    ``[m, R]`` slice in place (no transpose of the inputs)."""
    n, nrep = r.shape
    ctx = Context(n=n, d=b / n, R=None, A=None, key=None, gen=None)
    states = jax.vmap(lambda _: policy.init(ctx), out_axes=-1)(jnp.arange(nrep))
    carry = _initial_carry(jnp.broadcast_to(b[:, None], (b.shape[0], nrep)), states)
    carry, _ = jax.lax.scan(_batch_last_server(policy, ctx), carry, (jnp.arange(n), r, a))
    return _batch_last_result(carry, b)


def _make_replay(policy, gen, time_major):
    """The jitted batch replay ``(r, a, b, keys) -> RolloutResult`` with ``R`` leading."""
    def fn(r, a, b, keys):
        if policy.stepwise:  # the batch-last scan wants [n, R] and [n, m, R]
            return _replay_time_major(policy, r, a, b) if time_major else \
                _replay_time_major(policy, r.T, jnp.moveaxis(a, 0, -1), b)
        if time_major:
            r, a = r.T, jnp.moveaxis(a, -1, 0)
        one = jax.vmap(lambda rr, aa, k: _replay_one(policy, rr, aa, b, k, gen), in_axes=(0, 0, 0 if keys is not None else None))
        return one(r, a, keys)
    return jax.jit(fn)


def _place(x, axis, mesh):
    """Pad ``axis`` of ``x`` to a multiple of the device count (:func:`jaxor.batch.pad_batch`) and shard
    it over the mesh's batch axis."""
    x, _ = batch.pad_batch(x, mesh.devices.size, axis=axis)
    spec = [None] * x.ndim
    spec[axis % x.ndim] = batch.BATCH_AXIS
    return jax.device_put(x, NamedSharding(mesh, PartitionSpec(*spec)))


def batch_replay(policy: AbstractPolicy, r, a, b, keys: jax.Array | None = None,
                 gen: AbstractGenerator | None = None, time_major: bool = False) -> RolloutResult:
    """:func:`replay` for a batch of ``R`` order streams of one horizon, one jitted call sharded over devices.

    Args:
        policy, b, gen: as in :func:`replay` (one budget ``b [m]`` for every stream).
        r: rewards ``[R, n]``, or ``[n, R]`` with ``time_major=True``.
        a: consumptions ``[R, n, m]``, or ``[n, m, R]`` with ``time_major=True``.
        keys: policy keys ``[R, ...]`` for sampling policies (``policy.needs_gen``).
        time_major: the layout in which the batch-last scan of the O(1)-per-step policies
            (``policy.stepwise``) reads each period's ``[m, R]`` slice in place; batch-first inputs of
            such policies are transposed once inside the call (an extra pass over ``n m R`` numbers,
            which is the order of the policy's own work). Other policies always run as
            ``vmap(replay)``.

    Returns:
        :class:`RolloutResult` with leading axis ``R``.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxor.olp import FirstOrder, batch_replay, replay
        >>> r = jax.random.uniform(jax.random.PRNGKey(0), (3, 50)); a = jnp.ones((3, 50, 2))
        >>> res = batch_replay(FirstOrder(), r, a, jnp.array([10.0, 10.0]))
        >>> bool(jnp.allclose(res.reward[1], replay(FirstOrder(), r[1], a[1], jnp.array([10.0, 10.0])).reward))
        True
    """
    if not isinstance(time_major, bool):
        raise ValueError(f"time_major must be a bool; got {time_major!r}")
    r, a, b = _check_orders(policy, r, a, b, gen, None if keys is None else keys[0], "nR" if time_major else "Rn")
    nrep = r.shape[-1] if time_major else r.shape[0]
    fn = _cached("replay", policy, gen, None, lambda: _make_replay(policy, gen, time_major), (time_major, keys is None))
    mesh = batch.batch_mesh()
    if mesh.devices.size > 1:  # replications sharded over the local devices, the budget replicated
        axis = -1 if time_major else 0
        r, a = _place(r, axis, mesh), _place(a, axis, mesh)
        keys = None if keys is None else _place(keys, 0, mesh)
        b = jax.device_put(b, NamedSharding(mesh, PartitionSpec()))
    return jax.tree.map(lambda y: y[:nrep], fn(r, a, b, keys))
