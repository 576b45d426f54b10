"""Data-parallel decode rollouts as ``lax.scan`` over steps, vmapped over lanes and sharded.

Paper: arXiv 2601.17855 (BF-IO). Semantics: :mod:`jaxor.serving.dp._model` (the oracle in
:mod:`jaxor.serving.dp.naive` computes the same thing in plain Python).

A *lane* is one (trace, routing configuration) pair; a configuration fixes the policy, ``G``, ``B``,
the KV capacity, ``H``, ``d`` and the seed, all traced, so traces x policies x seeds x (G, B) run as
one batch: worker and slot arrays have the static shape ``[max_workers, max_slots]`` and a lane with
smaller ``G`` or ``B`` masks the rest. One scan step is one decode step (every step changes the loads,
so there is nothing to skip); the scan runs in chunks with a host loop that reports progress and stops
once every lane has finished. Per step: at most ``max_assign`` routing decisions (a ``fori_loop``), then
the barrier step. BF-IO keeps the predicted loads ``[G, H]`` and updates them after each assignment, so
a decision costs ``O(G H)``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import batch as _batch
from jaxor.serving._timemodel import TimeModel
from jaxor.serving._trace import Trace
from jaxor.serving.dp._model import POLICY_IDS, DPConfig, dp_time_model, pod_candidate

__all__ = ["DPRollout", "simulate_dp"]

_BIG = np.int32(2**31 - 1)


class DPRollout(NamedTuple):
    """Result of :func:`simulate_dp` for ``L`` lanes of ``N`` requests and ``K`` recorded steps.

    Attributes:
        worker, start, done: ``[L, N]`` int32 worker, start step and completion step (-1: not finished).
        first_time, done_time: ``[L, N]`` float32 clock at the first token and at completion.
        finished: ``[L]`` bool, every request completed within ``max_steps``.
        steps: dict of ``[L, K]`` per-step arrays: ``step_time``, ``busy_sum``, ``imbalance`` (max - mean
            KV load), ``ratio`` (max / mean), ``queue`` (arrived, unrouted), ``active`` (running requests),
            ``clock`` (time at the step's start), ``valid`` (the lane was still running).
        loads: None, or ``[L, K, max_workers]`` int32 KV load per worker (``record_loads=True``).
        configs: the lanes' :class:`DPConfig` as ``[L]`` arrays.
    """

    worker: np.ndarray
    start: np.ndarray
    done: np.ndarray
    first_time: np.ndarray
    done_time: np.ndarray
    finished: np.ndarray
    steps: dict
    loads: np.ndarray | None
    configs: DPConfig


class _Lane(NamedTuple):
    arrival: jax.Array  # [N+1], padded with _BIG
    prompt: jax.Array  # [N+1]
    output: jax.Array  # [N+1]
    pred: jax.Array  # [N+1]
    cfg: DPConfig
    tm: jax.Array  # [4] float32 (c0, c1, c2, c3)


class _Carry(NamedTuple):
    rid: jax.Array  # [G, B] request in slot, -1 empty
    kv: jax.Array  # [G, B]
    gen: jax.Array  # [G, B]
    out: jax.Array  # [G, B]
    pred: jax.Array  # [G, B]
    s: jax.Array  # [G, B]
    res: jax.Array  # [G] reserved KV
    ptr: jax.Array
    rr: jax.Array
    k: jax.Array
    clock: jax.Array
    worker: jax.Array  # [N+1]
    start: jax.Array
    done: jax.Array
    first_time: jax.Array
    done_time: jax.Array


def _init(n: int, gm: int, bm: int) -> _Carry:
    z = jnp.zeros((gm, bm), jnp.int32)
    m1 = jnp.full((n + 1,), -1, jnp.int32)
    nan = jnp.full((n + 1,), jnp.nan, jnp.float32)
    return _Carry(z - 1, z, z, z, z, z, jnp.zeros((gm,), jnp.int32), jnp.int32(0), jnp.int32(0), jnp.int32(0),
                  jnp.float32(0.0), m1, m1, m1, nan, nan)


def _predicted(kv, gen, pred, active, hm: int):
    """``[G, B, H]`` predicted load: ``kv + h`` while ``h < max(pred - gen, 1)``."""
    h = jnp.arange(hm, dtype=jnp.int32)
    rem = jnp.maximum(pred - gen, 1)
    live = active[..., None] & (h < rem[..., None])
    return jnp.where(live, kv[..., None] + h, 0)


def _route(lane: _Lane, c: _Carry, *, gm: int, bm: int, hm: int, max_assign: int):
    cfg = lane.cfg
    n = lane.arrival.shape[0] - 1
    gidx = jnp.arange(gm, dtype=jnp.int32)
    bidx = jnp.arange(bm, dtype=jnp.int32)
    wmask = gidx < cfg.workers
    smask = bidx < cfg.slots
    hmask = jnp.arange(hm) < cfg.horizon
    active = c.rid >= 0
    base = jnp.where(hmask, _predicted(c.kv, c.gen, c.pred, active, hm).sum(axis=1), 0)  # [G, H]
    load = jnp.where(active, c.kv, 0).sum(axis=1)
    count = active.sum(axis=1).astype(jnp.int32)
    prefill = jnp.zeros((gm,), jnp.int32)

    def choose(i, feas, load, count, base, rr):
        s_i, p_i = lane.prompt[i], lane.pred[i]
        big = jnp.int32(_BIG)

        def rr_fn():
            dist = jnp.where(feas, (gidx - rr) % jnp.maximum(cfg.workers, 1), big)
            return jnp.argmin(dist).astype(jnp.int32)

        def jsq_fn():
            return jnp.argmin(jnp.where(feas, count, big)).astype(jnp.int32)

        def lkv_fn():
            return jnp.argmin(jnp.where(feas, load, big)).astype(jnp.int32)

        def pod_fn():
            js = jnp.arange(8, dtype=jnp.uint32)  # d <= 8
            cand = pod_candidate(cfg.seed.astype(jnp.uint32), i.astype(jnp.uint32), js,
                                 cfg.workers.astype(jnp.uint32))
            picked = jnp.zeros((gm,), bool).at[cand].max(js < cfg.d.astype(jnp.uint32))
            pool = feas & picked
            pool = jnp.where(pool.any(), pool, feas)
            return jnp.argmin(jnp.where(pool, load, big)).astype(jnp.int32)

        def bfio_fn():
            h = jnp.arange(hm, dtype=jnp.int32)
            add = jnp.where(hmask & (h < jnp.maximum(p_i, 1)), s_i + h, 0)  # [H]
            col = jnp.where(wmask[:, None], base, -1)  # inactive workers never hold the max
            top = col.max(axis=0)
            is_top = col == top
            n_top = is_top.sum(axis=0)
            second = jnp.where(is_top & (n_top == 1), -1, col).max(axis=0)
            # max over the other workers: the top unless g alone holds it, then the runner-up
            others = jnp.where(is_top & (n_top == 1), second, top)  # [G, H]
            total = jnp.where(hmask, jnp.maximum(others, base + add), 0).sum(axis=1)
            own = (base + add).sum(axis=1)
            t_min = jnp.where(feas, total, big).min()
            tie = feas & (total == t_min)
            return jnp.argmin(jnp.where(tie, own, big)).astype(jnp.int32)

        return jax.lax.switch(cfg.policy, [rr_fn, jsq_fn, lkv_fn, pod_fn, bfio_fn])

    def body(_, st):
        c, load, count, base, prefill, go = st
        i = c.ptr
        s_i, o_i = lane.prompt[i], lane.output[i]
        empty = (c.rid < 0) & smask
        feas = wmask & empty.any(axis=1) & (c.res + s_i + o_i <= cfg.kv_capacity)
        do = go & (i < n) & (lane.arrival[i] <= c.k) & feas.any()
        g = choose(i, feas, load, count, base, c.rr)
        b = jnp.argmax(empty[g]).astype(jnp.int32)
        upd = lambda a, v: a.at[g, b].set(jnp.where(do, v, a[g, b]))
        h = jnp.arange(hm, dtype=jnp.int32)
        add = jnp.where(hmask & (h < jnp.maximum(lane.pred[i], 1)), s_i + h, 0)
        c = c._replace(
            rid=upd(c.rid, i), kv=upd(c.kv, s_i), gen=upd(c.gen, 0), out=upd(c.out, o_i),
            pred=upd(c.pred, lane.pred[i]), s=upd(c.s, s_i),
            res=c.res.at[g].add(jnp.where(do, s_i + o_i, 0)),
            ptr=c.ptr + do.astype(jnp.int32),
            rr=jnp.where(do & (cfg.policy == POLICY_IDS["rr"]), (g + 1) % jnp.maximum(cfg.workers, 1), c.rr),
            worker=c.worker.at[i].set(jnp.where(do, g, c.worker[i])),
            start=c.start.at[i].set(jnp.where(do, c.k, c.start[i])),
        )
        load = load.at[g].add(jnp.where(do, s_i, 0))
        count = count.at[g].add(do.astype(jnp.int32))
        base = base.at[g].add(jnp.where(do, add, 0))
        prefill = prefill.at[g].add(jnp.where(do, s_i, 0))
        return c, load, count, base, prefill, do

    c, load, count, base, prefill, _ = jax.lax.fori_loop(
        0, max_assign, body, (c, load, count, base, prefill, jnp.bool_(True)))
    return c, load, count, prefill


def _step(lane: _Lane, c: _Carry, *, gm: int, bm: int, hm: int, max_assign: int, record_loads: bool):
    n = lane.arrival.shape[0] - 1
    running = (c.ptr < n) | (c.rid >= 0).any()
    c, load, count, prefill = _route(lane, c, gm=gm, bm=bm, hm=hm, max_assign=max_assign)
    c0, c1, c2, c3 = lane.tm[0], lane.tm[1], lane.tm[2], lane.tm[3]
    wmask = jnp.arange(gm) < lane.cfg.workers
    busy = jnp.where(count > 0, c0 + c1 * prefill.astype(jnp.float32) + c2 * load.astype(jnp.float32)
                     + c3 * count.astype(jnp.float32), 0.0)
    step = jnp.maximum(busy.max(), c0)
    g_f = lane.cfg.workers.astype(jnp.float32)
    mean = jnp.where(wmask, load, 0).sum().astype(jnp.float32) / g_f
    mx = jnp.where(wmask, load, 0).max().astype(jnp.float32)
    queue = ((jnp.arange(n + 1) >= c.ptr) & (lane.arrival <= c.k)).sum()
    rec = {"step_time": step, "busy_sum": busy.sum(), "imbalance": mx - mean,
           "ratio": jnp.where(mean > 0, mx / jnp.where(mean > 0, mean, 1.0), 1.0), "queue": queue.astype(jnp.int32),
           "active": count.sum().astype(jnp.int32), "clock": c.clock, "valid": running}
    if record_loads:
        rec["loads"] = load
    clock = c.clock + step
    active = c.rid >= 0
    gen = jnp.where(active, c.gen + 1, c.gen)
    kv = jnp.where(active, c.kv + 1, c.kv)
    first = active & (gen == 1)
    fin = active & (gen == c.out)
    ridx = jnp.where(active, c.rid, n)  # slot -> request (padding row n absorbs empty slots)
    first_time = c.first_time.at[jnp.where(first, ridx, n)].set(clock)
    done_time = c.done_time.at[jnp.where(fin, ridx, n)].set(clock)
    done = c.done.at[jnp.where(fin, ridx, n)].set(c.k)
    res = c.res - jnp.where(fin, c.s + c.out, 0).sum(axis=1)
    new = c._replace(rid=jnp.where(fin, -1, c.rid), kv=kv, gen=gen, res=res, k=c.k + 1, clock=clock,
                     first_time=first_time.at[n].set(jnp.nan), done_time=done_time.at[n].set(jnp.nan),
                     done=done.at[n].set(-1))
    new = jax.tree_util.tree_map(lambda a, b: jnp.where(running, a, b), new, c)
    return new, rec


@functools.lru_cache(maxsize=32)
def _chunk_fn(gm: int, bm: int, hm: int, max_assign: int, chunk: int, record_loads: bool, shard: bool):
    def one(lane: _Lane, carry: _Carry):
        def body(cr, _):
            return _step(lane, cr, gm=gm, bm=bm, hm=hm, max_assign=max_assign, record_loads=record_loads)

        return jax.lax.scan(body, carry, None, length=chunk)

    fn = jax.vmap(one)
    return _batch.sharded(fn) if shard else jax.jit(fn)


def _validate(tr: Trace, cfgs: DPConfig) -> None:
    for f in ("workers", "slots", "horizon", "d"):
        v = np.asarray(getattr(cfgs, f))
        if np.any(v < 1):
            raise ValueError(f"{f} must be >= 1; got {sorted(set(v[v < 1].tolist()))}")
    if np.any(np.asarray(cfgs.d) > 8):
        raise ValueError("d must be <= 8")
    for name in ("arrival", "prompt", "output", "pred"):
        a = np.asarray(getattr(tr, name), dtype=np.float64)
        if np.any(~np.isfinite(a)):
            raise ValueError(f"{name} holds NaN or Inf")
    if np.any(np.asarray(tr.output) < 1):
        raise ValueError("output must be >= 1 for every request")
    if np.any(np.asarray(tr.prompt) < 0):
        raise ValueError("prompt must be >= 0 for every request")
    if np.any(np.diff(np.asarray(tr.arrival), axis=-1) < 0):
        raise ValueError("arrival must be sorted (non-decreasing) within each trace")
    foot = np.asarray(tr.prompt) + np.asarray(tr.output)
    cap = np.asarray(cfgs.kv_capacity)
    worst = foot.max(axis=-1)
    if np.any(worst > cap):
        raise ValueError(f"kv_capacity={cap.min()} is smaller than a request's footprint prompt + output = "
                         f"{worst.max()}: that request could never be served (raise kv_capacity or drop it)")


def simulate_dp(traces: Trace, configs: DPConfig, *, max_workers: int | None = None, max_slots: int | None = None,
                max_horizon: int | None = None, max_assign: int = 16, time_model: TimeModel | None = None,
                max_steps: int = 200_000, chunk: int = 512, record_loads: bool = False, progress=None,
                shard: bool = True) -> DPRollout:
    """Roll out lanes ``l = 0..L-1``: trace ``traces[l]`` under routing configuration ``configs[l]``.

    Args:
        traces: a :class:`jaxor.serving.Trace` with ``[L, N]`` arrays (use :func:`jaxor.serving.stack`;
            arrivals are in steps, see :func:`scale_to_utilisation`), or ``[N]`` for one lane.
        configs: :class:`DPConfig` of ``[L]`` arrays (see :func:`lanes`), or scalars for one lane.
        max_workers, max_slots, max_horizon: static array sizes (default: the largest in ``configs``).
        max_assign: routing decisions per step at most.
        time_model: per-worker step cost (default :func:`dp_time_model`).
        max_steps: safety bound on the number of steps.
        chunk: steps per jitted scan call (progress is reported per chunk).
        record_loads: also return each worker's KV load at every step.
        progress: optional :class:`jaxor.progress.Progress`.
        shard: shard lanes over local devices with :func:`jaxor.batch.sharded`.

    Returns:
        :class:`DPRollout` (NumPy arrays).

    Raises:
        ValueError: ``G`` or ``B`` < 1, NaN, unsorted arrivals, or a request larger than a worker's KV.
    """
    tr = Trace(*[np.atleast_2d(np.asarray(x)) for x in traces])
    cfgs = DPConfig(*[np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in configs])
    nl = tr.arrival.shape[0]
    if any(np.asarray(x).shape != (nl,) for x in cfgs):
        raise ValueError(f"configs must hold one entry per lane ({nl}); got shapes {[np.shape(x) for x in cfgs]}")
    _validate(tr, cfgs)
    if np.any(np.asarray(cfgs.policy) < 0) or np.any(np.asarray(cfgs.policy) >= len(POLICY_IDS)):
        raise ValueError(f"policy ids must be in 0..{len(POLICY_IDS) - 1}")
    gm = int(max_workers or cfgs.workers.max())
    bm = int(max_slots or cfgs.slots.max())
    hm = int(max_horizon or cfgs.horizon.max())
    if cfgs.workers.max() > gm or cfgs.slots.max() > bm or cfgs.horizon.max() > hm:
        raise ValueError("max_workers / max_slots / max_horizon must cover every lane's configuration")
    if max_assign < 1 or chunk < 1:
        raise ValueError("max_assign and chunk must be >= 1")
    tm = time_model or dp_time_model()
    n = tr.arrival.shape[1]

    def pad(x, fill):
        return jnp.asarray(np.concatenate([np.asarray(x, np.int32), np.full((nl, 1), fill, np.int32)], axis=1))

    lane = _Lane(pad(tr.arrival, _BIG), pad(tr.prompt, 0), pad(tr.output, 1), pad(tr.pred, 1),
                 DPConfig(*[jnp.asarray(np.minimum(x, _BIG), jnp.int32) for x in cfgs]),
                 jnp.tile(jnp.asarray(tm, jnp.float32), (nl, 1)))
    carry = jax.vmap(lambda _: _init(n, gm, bm))(jnp.arange(nl))
    fn = _chunk_fn(gm, bm, hm, int(max_assign), int(chunk), bool(record_loads), bool(shard))
    recs = []
    if progress is not None:
        est = int(np.max(tr.arrival[:, -1])) + int(np.max(tr.output)) + 1
        progress.set_total(int(np.ceil(est / chunk)) * chunk)
    steps = 0
    while steps < max_steps:
        carry, rec = fn(lane, carry)
        recs.append(jax.device_get(rec))
        steps += chunk
        if progress is not None:
            progress.update(chunk)
        if not bool(np.any(np.asarray(rec["valid"])[:, -1])):
            break
    steps_out = {k: np.concatenate([r[k] for r in recs], axis=1) for k in recs[0]}
    loads = steps_out.pop("loads", None)
    c = jax.device_get(carry)
    finished = (np.asarray(c.ptr) == n) & ~np.any(np.asarray(c.rid) >= 0, axis=(1, 2))
    return DPRollout(np.asarray(c.worker)[:, :n], np.asarray(c.start)[:, :n], np.asarray(c.done)[:, :n],
                     np.asarray(c.first_time)[:, :n], np.asarray(c.done_time)[:, :n], finished, steps_out, loads,
                     cfgs)
