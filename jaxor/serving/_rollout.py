"""Event-skipping ``lax.scan`` rollouts of the KV-cache scheduling model, vmapped and sharded.

Model: Jaillet et al., arXiv 2502.07115 (one worker, KV capacity ``M`` tokens, one token per running
request per round); policies from arXiv 2508.06133 (Sorted-F) and arXiv 2508.14544 (A_max, A_min,
H-SF). The semantics are spelled out in :mod:`jaxor.serving.naive` (the plain-Python oracle); this
module computes the same thing, epoch by epoch, with fixed shapes:

* **event skipping** -- one scan step is one decision epoch (an arrival, a completion or an overflow
  round); the clock jumps straight to the next one, and round durations between epochs are summed in
  closed form (the batch is fixed, KV grows by ``B`` tokens per round);
* **fixed windows** -- ``max_batch`` (``K``) running slots plus ``window`` (``W``) candidate slots form
  ``S = K + W`` slots; per-step work is ``O(S^2)`` and does not depend on the trace length ``N``
  (requests enter the slots from a pointer into the arrival-sorted trace; results are scattered into
  ``[N]`` arrays);
* **batching** -- a rollout is vmapped over lanes = traces x policies and sharded with
  :func:`jaxor.batch.sharded`; the scan runs in chunks of ``chunk`` epochs, reporting progress per chunk
  and stopping once every lane has finished.

Memory check of an admission prefix at epoch ``t`` (arXiv 2502.07115, MC-SF): with planned ends
``e_j = p_j + max(est_j, t - p_j + 1)`` for running requests and ``t + est_c`` for candidates,

.. math::  \\sum_{j \\in R \\cup X,\\; \\tau < e_j} (s_j + \\tau - p_j) \\le M
           \\quad\\text{for } \\tau \\in \\{e_k - 1\\},

evaluated for every prefix ``X`` at once as an ``[C, S]`` cumulative sum.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import batch as _batch
from jaxor.serving._policy import Policy, choose_prefix, initial_estimate, priority_key, stack_policies
from jaxor.serving._timemodel import TimeModel, unit
from jaxor.serving._trace import Trace, validate

__all__ = ["Rollout", "simulate", "summarize", "EMPTY", "WAITING", "RUNNING"]

EMPTY, WAITING, RUNNING = 0, 1, 2
_BIG = np.int32(2**31 - 1)


class Rollout(NamedTuple):
    """Result of :func:`simulate` for ``T`` traces x ``P`` policies of ``N`` requests.

    Attributes:
        completion: ``[T, P, N]`` int32 completion round (-1: rejected or unfinished).
        start: ``[T, P, N]`` int32 start round of the final (successful) run.
        restarts: ``[T, P, N]`` int32 evictions suffered by each request.
        rejected: ``[T, P, N]`` bool, the request can never fit under the policy's planned length.
        completion_time, first_token_time, arrival_time: ``[T, P, N]`` float32 time-model clock.
        evictions: ``[T, P]`` int32 total evictions.
        epochs: ``[T, P]`` int32 decision epochs taken.
        finished: ``[T, P]`` bool, every request completed or was rejected within ``max_epochs``.
        records: None, or a dict of ``[T, P, E]`` per-epoch arrays (``t``, ``clock``, ``kv``, ``batch``,
            ``queue``, ``valid``) when ``record=True``.
    """

    completion: jax.Array
    start: jax.Array
    restarts: jax.Array
    rejected: jax.Array
    completion_time: jax.Array
    first_token_time: jax.Array
    arrival_time: jax.Array
    evictions: jax.Array
    epochs: jax.Array
    finished: jax.Array
    records: dict | None = None


class _Lane(NamedTuple):
    arrival: jax.Array  # [N] (sorted)
    table: jax.Array  # [N+1, 4] rows (prompt, output, initial estimate, prio); row N pads empty slots
    pol: Policy
    memory: jax.Array
    tm: jax.Array  # [4]


class _Carry(NamedTuple):
    t: jax.Array
    clock: jax.Array
    nxt: jax.Array
    finished: jax.Array
    evictions: jax.Array
    epochs: jax.Array
    slot_req: jax.Array  # [S]
    slot_state: jax.Array
    slot_start: jax.Array
    slot_est: jax.Array
    slot_s: jax.Array  # prompt, output and priority of the slot's request (gathered once, on entry)
    slot_o: jax.Array
    slot_prio: jax.Array
    completion: jax.Array  # [N+1]
    start: jax.Array
    restarts: jax.Array
    rejected: jax.Array
    completion_time: jax.Array
    first_token_time: jax.Array
    arrival_time: jax.Array


def _init(lane: _Lane, n_slots: int) -> _Carry:
    n = lane.arrival.shape[0]
    t0 = lane.arrival[0]
    f = jnp.float32
    return _Carry(
        t=t0, clock=lane.tm[0] * t0.astype(f), nxt=jnp.int32(0), finished=jnp.bool_(False),
        evictions=jnp.int32(0), epochs=jnp.int32(0),
        slot_req=jnp.full((n_slots,), n, jnp.int32), slot_state=jnp.zeros((n_slots,), jnp.int32),
        slot_start=jnp.full((n_slots,), -1, jnp.int32), slot_est=jnp.ones((n_slots,), jnp.int32),
        slot_s=jnp.zeros((n_slots,), jnp.int32), slot_o=jnp.ones((n_slots,), jnp.int32),
        slot_prio=jnp.zeros((n_slots,), jnp.int32),
        completion=jnp.full((n + 1,), -1, jnp.int32), start=jnp.full((n + 1,), -1, jnp.int32),
        restarts=jnp.zeros((n + 1,), jnp.int32), rejected=jnp.zeros((n + 1,), bool),
        completion_time=jnp.full((n + 1,), jnp.nan, f), first_token_time=jnp.full((n + 1,), jnp.nan, f),
        arrival_time=jnp.full((n + 1,), jnp.nan, f))


def _pre(lane: _Lane, c: _Carry, *, window: int) -> dict:
    """Steps 1-2 of an epoch (completions, arrivals into the pool) and the overflow test of step 3."""
    n = lane.arrival.shape[0]
    t, clock = c.t, c.clock
    req, st, start, est = c.slot_req, c.slot_state, c.slot_start, c.slot_est
    active = ~c.finished  # finished lanes keep their state; their scatters go to the padding entry n

    # Arrival clock: arrivals are epochs; write the clock at the first request arriving now.
    q_left = jnp.searchsorted(lane.arrival, t, side="left")
    hit = (q_left < n) & (lane.arrival[jnp.minimum(q_left, n - 1)] == t)
    arrival_time = c.arrival_time.at[jnp.where(hit & active, q_left, n)].set(clock)

    # 1. completions
    comp = (st == RUNNING) & (start + c.slot_o == t)
    cidx = jnp.where(comp & active, req, n)
    completion = c.completion.at[cidx].set(t)
    completion_time = c.completion_time.at[cidx].set(clock)
    st = jnp.where(comp, EMPTY, st)
    req = jnp.where(comp, n, req)

    # 2. arrivals enter the pool, oldest first
    n_arrived = jnp.searchsorted(lane.arrival, t, side="right").astype(jnp.int32)
    free = st == EMPTY
    n_wait = jnp.sum(st == WAITING)
    can = jnp.clip(jnp.minimum(jnp.minimum(window - n_wait, jnp.sum(free)), n_arrived - c.nxt), 0)
    rank = jnp.cumsum(free) - 1
    take = free & (rank < can)
    new_req = jnp.minimum(c.nxt + rank, n)
    req = jnp.where(take, new_req, req)
    st = jnp.where(take, WAITING, st)
    row = lane.table[new_req]  # [S, 4]: one gather for the entering requests
    est = jnp.where(take, row[:, 2], est)
    s = jnp.where(take, row[:, 0], c.slot_s)
    o = jnp.where(take, row[:, 1], c.slot_o)
    prio = jnp.where(take, row[:, 3], c.slot_prio)
    start = jnp.where(take, -1, start)
    nxt = c.nxt + can

    run = st == RUNNING
    held = jnp.where(run, s + t - start, 0)
    return dict(req=req, st=st, start=start, est=est, s=s, o=o, prio=prio, nxt=nxt, n_arrived=n_arrived, arrival_time=arrival_time,
                completion=completion, completion_time=completion_time, held=held,
                cur=jnp.maximum(est, t - start + 1), overflow=jnp.sum(held) > lane.memory)


def _evict_mask(lane: _Lane, m: dict):
    """Step 3: ``[S]`` bool, the running requests to evict (current-estimate order) so that memory fits."""
    run = m["st"] == RUNNING
    sign = 1 - 2 * lane.pol.evict_largest
    slots = jnp.arange(run.shape[0], dtype=jnp.int32)
    # A sort of a few dozen entries is slow in XLA; an [S, S] "goes before" matrix is fast.
    key = jnp.where(run, m["cur"] * sign, _BIG)
    r = m["req"]
    # [j, i]: j goes before i (reductions run over the leading axis, which XLA vectorises best)
    first = (key[:, None] < key[None, :]) | ((key[:, None] == key[None, :]) & (
        (r[:, None] > r[None, :]) | ((r[:, None] == r[None, :]) & (slots[:, None] < slots[None, :]))))
    before = jnp.sum(jnp.where(first, m["held"][:, None], 0), axis=0)
    return (before < jnp.sum(m["held"]) - lane.memory) & run


def _post(lane: _Lane, c: _Carry, m: dict, evict, *, max_batch: int, window: int):
    """Steps 3 (apply evictions) to 6 (admission, next epoch, clock). Returns ``(carry, record)``."""
    n = lane.arrival.shape[0]
    m_cap = lane.memory
    c0, c1, c2, c3 = lane.tm[0], lane.tm[1], lane.tm[2], lane.tm[3]
    f32 = jnp.float32
    t, clock = c.t, c.clock
    active = ~c.finished
    req, st, start, est, nxt, n_arrived = m["req"], m["st"], m["start"], m["est"], m["nxt"], m["n_arrived"]
    arrival_time, completion, completion_time = m["arrival_time"], m["completion"], m["completion_time"]
    s, o, prio = m["s"], m["o"], m["prio"]
    cur = m["cur"]
    slots = jnp.arange(st.shape[0], dtype=jnp.int32)

    # 3. apply the evictions
    est = jnp.where(evict, cur, est)
    st = jnp.where(evict, WAITING, st)
    eidx = jnp.where(evict & active, req, n)
    restarts = c.restarts.at[eidx].add(1)
    start_req = c.start.at[eidx].set(-1)
    start = jnp.where(evict, -1, start)
    evictions = c.evictions + jnp.sum(evict)

    # 4. requests whose planned footprint can never fit
    rej = (st == WAITING) & (s + est - 1 > m_cap)
    rejected = c.rejected.at[jnp.where(rej & active, req, n)].set(True)
    st = jnp.where(rej, EMPTY, st)
    req = jnp.where(rej, n, req)

    # 5. admission: candidates in (key, index) order, longest feasible prefix or Sorted-F prefix
    wait = st == WAITING
    run = st == RUNNING
    key = priority_key(lane.pol, req, est, prio)
    # Candidate order (key, request index) via an [S, S] "goes before" matrix; waiting requests are
    # distinct, so their ranks are 0..n_wait-1 and only those positions are used.
    kw = jnp.where(wait, key, _BIG)
    first = (kw[:, None] < kw[None, :]) | ((kw[:, None] == kw[None, :]) & (req[:, None] < req[None, :]))  # [j, i]
    rank = jnp.where(wait, jnp.sum(first & wait[:, None], axis=0), st.shape[0])
    cvalid = jnp.arange(window) < jnp.sum(wait)
    # positions past the waiting requests point to slot 0 for gathers and are dropped in the scatter below
    cand = jnp.zeros_like(slots).at[rank].set(slots, mode="drop")[:window]
    end = jnp.where(run, start + jnp.maximum(est, t - start + 1), t + est)
    pts = jnp.where(run | wait, end - 1, t)  # [S] check rounds
    live = run[:, None] & (end[:, None] > pts[None, :])  # [slot j, point p]
    r_mem = jnp.sum(jnp.where(live, s[:, None] + pts[None, :] - start[:, None], 0), axis=0)  # [S] points
    cs, ce = s[cand], end[cand]
    contrib = jnp.where(cvalid[None, :] & (pts[:, None] < ce[None, :]), cs[None, :] + pts[:, None] - t, 0)  # [P, C]
    fits = jnp.all(r_mem[:, None] + jnp.cumsum(contrib, axis=1) <= m_cap, axis=0)  # [C]
    n_run = jnp.sum(run)
    feasible = fits & cvalid & (n_run + jnp.arange(1, window + 1) <= max_batch)
    n_admit = choose_prefix(lane.pol, feasible, est[cand])
    admit = jnp.zeros_like(run).at[jnp.where(cvalid, cand, st.shape[0])].set(jnp.arange(window) < n_admit,
                                                                            mode="drop")
    st = jnp.where(admit, RUNNING, st)
    start = jnp.where(admit, t, start)
    aidx = jnp.where(admit & active, req, n)
    start_req = start_req.at[aidx].set(t)
    prefill = jnp.sum(jnp.where(admit, s, 0))
    run = st == RUNNING
    bsz = jnp.sum(run)
    kv = jnp.sum(jnp.where(run, s + t - start, 0))
    d_first = c0 + c1 * prefill.astype(f32) + c2 * kv.astype(f32) + c3 * bsz.astype(f32)
    first_token_time = c.first_token_time.at[aidx].set(clock + d_first)

    # 6. next epoch
    next_done = jnp.min(jnp.where(run, start + o, _BIG))
    next_arr = jnp.where(n_arrived < n, lane.arrival[jnp.minimum(n_arrived, n - 1)], _BIG)
    over = jnp.where(bsz > 0, t + (m_cap - kv) // jnp.maximum(bsz, 1) + 1, _BIG)
    over = jnp.where(over < next_done, over, _BIG)
    t_next = jnp.minimum(jnp.minimum(next_done, next_arr), over)
    fin = t_next == _BIG
    k = jnp.where(fin, 0, t_next - t).astype(f32)
    bf = bsz.astype(f32)
    clock_next = clock + (k * c0 + c1 * prefill.astype(f32) + c2 * (k * kv.astype(f32) + bf * k * (k - 1) / 2)
                          + c3 * bf * k)
    new = _Carry(t=jnp.where(fin, t, t_next), clock=clock_next, nxt=nxt, finished=fin, evictions=evictions,
                 epochs=c.epochs + 1, slot_req=req, slot_state=st, slot_start=start, slot_est=est, slot_s=s,
                 slot_o=o, slot_prio=prio,
                 completion=completion, start=start_req, restarts=restarts, rejected=rejected,
                 completion_time=completion_time, first_token_time=first_token_time, arrival_time=arrival_time)
    small = ("t", "clock", "nxt", "finished", "evictions", "epochs", "slot_req", "slot_state", "slot_start", "slot_est",
             "slot_s", "slot_o", "slot_prio")
    new = new._replace(**{f: jnp.where(active, getattr(new, f), getattr(c, f)) for f in small})
    queue = (n_arrived - nxt) + jnp.sum(st == WAITING)
    rec = {"t": t, "clock": clock, "kv": kv, "batch": bsz, "queue": queue, "valid": ~c.finished}
    return new, rec


@functools.lru_cache(maxsize=32)
def _chunk_fn(max_batch: int, window: int, chunk: int, record: bool, shard: bool):
    post = jax.vmap(functools.partial(_post, max_batch=max_batch, window=window))

    def fn(lane: _Lane, carry: _Carry):
        """Batched over lanes (axis 0). Evictions are rare, so their [S, S] work runs under a batch-wide
        ``lax.cond`` (a per-lane cond would evaluate both branches under ``vmap``)."""
        def body(cr, _):
            m = jax.vmap(functools.partial(_pre, window=window))(lane, cr)
            evict = jax.lax.cond(jnp.any(m["overflow"] & ~cr.finished), lambda: jax.vmap(_evict_mask)(lane, m),
                                 lambda: jnp.zeros_like(m["st"], dtype=bool))
            new, rec = post(lane, cr, m, evict)
            return new, (rec if record else None)

        if not record:
            # without per-epoch records, stop as soon as every lane has finished (a scan would run the
            # whole chunk, masked, after the last lane is done)
            def more(state):
                i, cr = state
                return (i < chunk) & ~jnp.all(cr.finished)

            def step(state):
                i, cr = state
                return i + 1, body(cr, None)[0]

            _, carry = jax.lax.while_loop(more, step, (jnp.int32(0), carry))
            return carry, None
        carry, recs = jax.lax.scan(body, carry, None, length=chunk)
        return carry, jax.tree_util.tree_map(lambda x: jnp.moveaxis(x, 0, 1), recs)  # lanes first

    return _batch.sharded(fn) if shard else jax.jit(fn)


@functools.lru_cache(maxsize=32)
def _init_fn(n_slots: int):
    return jax.jit(jax.vmap(lambda lane: _init(lane, n_slots)))


def _as_batch(traces: Trace) -> Trace:
    arr = np.asarray(traces.arrival)
    if arr.ndim == 1:
        validate(traces)
        return Trace(*[np.asarray(x)[None] for x in traces])
    if arr.ndim != 2:
        raise ValueError(f"traces.arrival must be [N] or [T, N]; got shape {arr.shape}")
    for i in range(arr.shape[0]):
        validate(Trace(*[np.asarray(x)[i] for x in traces]))
    return Trace(*[np.asarray(x) for x in traces])


def _as_policies(policies) -> Policy:
    if isinstance(policies, Policy):
        return Policy(*[np.atleast_1d(np.asarray(x, np.int32)) for x in policies])
    return stack_policies(policies)


def simulate(traces: Trace, policies, *, memory: int, max_batch: int = 32, window: int = 32,
             time_model: TimeModel | None = None, max_epochs: int | None = None, chunk: int = 1024,
             record: bool = False, progress=None, shard: bool = True) -> Rollout:
    """Roll out every trace under every policy (``T x P`` lanes in one jitted, sharded call per chunk).

    The rollout is deterministic; seeds enter through the traces (random windows, synthetic workloads,
    interval predictions are all seeded), so "traces x policies x seeds" is ``T = traces x seeds``.

    Args:
        traces: a :class:`~jaxor.serving.Trace` ``[N]`` or stacked ``[T, N]`` (see ``stack``).
        policies: a :class:`~jaxor.serving.Policy`, a stacked ``[P]`` policy, or a list of policies.
        memory: KV-cache capacity ``M`` in tokens (every prompt must be ``<= M``).
        max_batch: running slots ``K`` (a batch-size limit, like vLLM's ``max_num_seqs``).
        window: candidate slots ``W``: the policy sees the ``W`` oldest unadmitted requests (plus evicted
            ones); it bounds the per-epoch work together with ``K``.
        time_model: round durations (default :func:`~jaxor.serving.unit`).
        max_epochs: stop after this many epochs (default ``64 N + 1024``; the loop stops as soon as every
            lane has finished); lanes not done by then have ``finished == False``.
        chunk: epochs per jitted call (progress is reported per chunk); capped at ``max_epochs``. Without
            ``record`` a call also returns as soon as every lane has finished.
        record: also return per-epoch records (KV memory, batch size, queue length, clock).
        progress: optional :class:`jaxor.progress.Progress`, advanced by ``chunk`` per call.
        shard: shard the lanes over local devices with :func:`jaxor.batch.sharded`.

    Returns:
        :class:`Rollout` with leading axes ``[T, P]``.

    Raises:
        ValueError: for a bad trace (naming the field), a prompt larger than ``memory``, or bad sizes.

    Examples:
        >>> import jaxor.serving as sv
        >>> tr = sv.from_arrays([0, 0, 0], [4, 4, 4], [3, 1, 2])
        >>> r = sv.simulate(tr, [sv.fcfs(), sv.hindsight_sf()], memory=8)
        >>> r.completion[0].tolist()  # [trace 0] x [FCFS, H-SF] x requests
        [[3, 1, 5], [5, 1, 2]]
    """
    for name, v in (("max_batch", max_batch), ("window", window), ("chunk", chunk)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v}")
    if int(memory) != memory or memory < 1:
        raise ValueError(f"memory must be a positive whole number of tokens; got {memory}")
    tb = _as_batch(traces)
    for i in range(tb.arrival.shape[0]):
        validate(Trace(*[x[i] for x in tb]), memory)
    pb = _as_policies(policies)
    tm = np.asarray(unit() if time_model is None else time_model, np.float32)
    nt, n = tb.arrival.shape
    npol = pb.estimate.shape[0]
    lanes_t = np.repeat(np.arange(nt), npol)
    lanes_p = np.tile(np.arange(npol), nt)
    nl = nt * npol

    def pad(x, fill):
        return np.concatenate([np.asarray(x, np.int32), np.full((x.shape[0], 1), fill, np.int32)], axis=1)

    pol_l = Policy(*[jnp.asarray(x[lanes_p]) for x in pb])
    est0 = jax.vmap(initial_estimate)(pol_l, jnp.asarray(pad(tb.output, 1)[lanes_t]),
                                      jnp.asarray(pad(tb.upper, 1)[lanes_t]), jnp.asarray(pad(tb.lower, 1)[lanes_t]),
                                      jnp.asarray(pad(tb.pred, 1)[lanes_t]))
    table = jnp.stack([jnp.asarray(pad(tb.prompt, 0)[lanes_t]), jnp.asarray(pad(tb.output, 1)[lanes_t]), est0,
                       jnp.asarray(pad(tb.prio, 0)[lanes_t])], axis=-1)
    lane = _Lane(arrival=jnp.asarray(tb.arrival[lanes_t]), table=table, pol=pol_l,
                 memory=jnp.full((nl,), int(memory), jnp.int32), tm=jnp.asarray(np.tile(tm, (nl, 1))))
    carry = _init_fn(max_batch + window)(lane)
    limit = 64 * n + 1024 if max_epochs is None else int(max_epochs)
    chunk = min(int(chunk), 4 * n + 64, limit)  # eviction-free runs need at most 2 N + 1 epochs
    step = _chunk_fn(int(max_batch), int(window), chunk, bool(record), bool(shard))
    total = int(np.ceil(min(limit, 2 * n + 1) / chunk)) * chunk  # eviction-free runs; grows if needed
    if progress is not None:
        progress.set_total(total)
    recs, done = [], 0
    while done < limit:
        carry, rec = step(lane, carry)
        done += chunk
        if record:
            recs.append(jax.device_get(rec))
        if progress is not None:
            if done > total:
                total = done
                progress.set_total(total)
            progress.update(chunk)
        if bool(jnp.all(carry.finished)):
            break

    def shape(x):
        x = np.asarray(x)
        return x.reshape((nt, npol) + x.shape[1:])

    records = None
    if record:
        records = {k: shape(np.concatenate([r[k] for r in recs], axis=1)) for k in recs[0]}
    return Rollout(completion=shape(carry.completion[:, :n]), start=shape(carry.start[:, :n]),
                   restarts=shape(carry.restarts[:, :n]), rejected=shape(carry.rejected[:, :n]),
                   completion_time=shape(carry.completion_time[:, :n]),
                   first_token_time=shape(carry.first_token_time[:, :n]),
                   arrival_time=_fill_arrival(shape(carry.arrival_time[:, :n]), tb.arrival),
                   evictions=shape(carry.evictions), epochs=shape(carry.epochs), finished=shape(carry.finished),
                   records=records)


def _fill_arrival(at: np.ndarray, arrival: np.ndarray) -> np.ndarray:
    """Copy the clock written at the first request of each arrival round to the rest of its group."""
    first = np.stack([np.searchsorted(a, a, side="left") for a in arrival])  # [T, N]
    return np.take_along_axis(at, np.broadcast_to(first[:, None, :], at.shape), axis=2)


def summarize(rollout: Rollout, traces: Trace) -> dict[str, np.ndarray]:
    """Per-lane metrics ``[T, P]`` from a :class:`Rollout` (completed requests only, rejected counted).

    Keys: ``total_latency`` and ``mean_latency`` (rounds, end-to-end ``C_i - a_i``), ``mean_latency_s``,
    ``p99_latency_s``, ``mean_ttft_s``, ``mean_tpot_s`` (time-model clock), ``throughput_tok_s`` (output
    tokens per clock unit over the makespan), ``evictions``, ``rejected``, ``unfinished``.
    """
    tb = _as_batch(traces)
    arr = np.asarray(tb.arrival)[:, None, :]
    out = np.asarray(tb.output)[:, None, :].astype(np.float64)
    comp = np.asarray(rollout.completion)
    ok = comp >= 0
    lat = np.where(ok, comp - arr, 0).astype(np.float64)
    cnt = np.maximum(ok.sum(-1), 1)
    ct = np.asarray(rollout.completion_time, np.float64)
    ft = np.asarray(rollout.first_token_time, np.float64)
    at = np.asarray(rollout.arrival_time, np.float64)
    lat_s = np.where(ok, ct - at, np.nan)
    ttft = np.where(ok, ft - at, np.nan)
    tpot = np.where(ok & (out > 1), (ct - ft) / np.maximum(out - 1, 1), np.nan)
    span = np.nanmax(np.where(ok, ct, np.nan), axis=-1) - np.nanmin(at, axis=-1)
    with np.errstate(all="ignore"):
        return {
            "total_latency": lat.sum(-1),
            "mean_latency": lat.sum(-1) / cnt,
            "mean_latency_s": np.nanmean(lat_s, axis=-1),
            "p99_latency_s": np.nanpercentile(lat_s, 99, axis=-1),
            "mean_ttft_s": np.nanmean(ttft, axis=-1),
            "mean_tpot_s": np.nanmean(tpot, axis=-1),
            "throughput_tok_s": np.where(ok, out, 0).sum(-1) / span,
            "evictions": np.asarray(rollout.evictions),
            "rejected": np.asarray(rollout.rejected).sum(-1),
            "unfinished": (~ok & ~np.asarray(rollout.rejected)).sum(-1),
        }
