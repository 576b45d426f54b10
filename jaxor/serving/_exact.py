"""Exact references for the KV-cache scheduling model: DP, HiGHS integer program, LP bounds, LP
scheduler and a local-search improver (arXiv 2508.06133 section on exact and LP-based methods; the
hindsight integer program of arXiv 2502.07115).

All objectives are total end-to-end latency ``sum_i (C_i - a_i)`` with ``C_i = p_i + o_i`` for start
rounds ``p_i >= a_i``, under the memory constraint of every round ``r``

.. math::  \\sum_{i:\\; p_i \\le r < p_i + o_i} (s_i + r - p_i) \\le M .

Exact optima are clairvoyant and have no batch-size limit and no evictions (start times are free); run
the policies with ``max_batch >= n`` and ``window >= n`` to compare like with like.

Start-time window: if some feasible schedule has total latency ``L_ub``, then every optimal schedule has
``C_i - a_i <= L_ub - sum_{j != i} o_j`` (every other request contributes at least ``o_j``), so
``p_i <= a_i + L_ub - sum_j o_j``. Both the DP and the integer program use this window, with ``L_ub``
from the hindsight shortest-first rollout.
"""

from __future__ import annotations

import sys

import numpy as np
import scipy.sparse as sp

from jaxor.serving._trace import Trace, validate

__all__ = ["schedule_cost", "dp_optimum", "ip_optimum", "lp_bound", "lp_priority", "local_search"]


def schedule_cost(trace: Trace, start, memory: int) -> float:
    """Total latency of start rounds ``start`` ``[N]``, or ``inf`` if they break memory or arrivals."""
    a, s, o = (np.asarray(x, np.int64) for x in (trace.arrival, trace.prompt, trace.output))
    p = np.asarray(start, np.int64)
    if p.shape != a.shape:
        raise ValueError(f"start must have shape {a.shape}; got {p.shape}")
    if np.any(p < a):
        return float("inf")
    horizon = int((p + o).max())
    use = np.zeros(horizon + 1, np.int64)
    for i in range(a.shape[0]):
        r = np.arange(p[i], p[i] + o[i])
        use[r] += s[i] + r - p[i]
    if np.any(use > memory):
        return float("inf")
    return float((p + o - a).sum())


def _upper_bound(trace: Trace, memory: int) -> tuple[float, np.ndarray]:
    """A feasible schedule (hindsight shortest-first in the oracle, unlimited batch) and its cost."""
    from jaxor.serving._policy import hindsight_sf
    from jaxor.serving.naive import simulate_reference

    n = trace.n
    ref = simulate_reference(trace, hindsight_sf(), memory=memory, max_batch=n, window=n)
    if np.any(ref["rejected"]):
        raise ValueError(f"requests {np.flatnonzero(ref['rejected']).tolist()} can never fit in memory={memory} "
                         "(prompt + output - 1 > memory); no schedule completes them")
    return schedule_cost(trace, ref["start"], memory), ref["start"]


def _windows(trace: Trace, memory: int):
    validate(trace, memory)
    ub, ub_start = _upper_bound(trace, memory)
    slack = int(round(ub)) - int(np.sum(trace.output))
    return ub, ub_start, max(slack, 0)


def dp_optimum(trace: Trace, memory: int, *, max_states: int = 2_000_000) -> tuple[float, np.ndarray]:
    """Exact minimum total latency by dynamic programming over rounds (small ``n``).

    State: each request is not started, running with progress ``g`` or done (plus the round while
    arrivals are still to come). Each round the DP chooses which arrived requests to start; the round's
    memory must fit. Costs: each round adds the number of arrived, unfinished requests. Identical requests
    start in index order (symmetry), idling with nothing running after the last arrival is never optimal
    (shifting the rest of the schedule earlier stays feasible), which also makes the recursion finite.

    Args:
        trace: a single trace (``n`` up to about 8-10 with short outputs).
        memory: ``M``.
        max_states: raise ``ValueError`` when the memo grows beyond this (the instance is too large).

    Returns:
        ``(total_latency, start)`` with ``start`` ``[N]`` optimal start rounds.
    """
    _windows(trace, memory)  # validation; raises for requests that can never fit
    a = [int(x) for x in trace.arrival]
    s = [int(x) for x in trace.prompt]
    o = [int(x) for x in trace.output]
    n = len(a)
    last_arrival = max(a)
    twin = [next((j for j in range(i) if s[j] == s[i] and o[j] == o[i] and a[j] == a[i]), -1) for i in range(n)]
    NOT, DONE = -1, -2
    memo: dict = {}

    def subsets(cands, budget, chosen, k, status):
        yield chosen
        for idx in range(k, len(cands)):
            i = cands[idx]
            if s[i] > budget:
                continue
            j = twin[i]
            if j >= 0 and status[j] == NOT and j not in chosen:
                continue
            yield from subsets(cands, budget - s[i], chosen + (i,), idx + 1, status)

    def solve(r, status):
        # After the last arrival the value does not depend on the round (time-invariant state).
        key = (r, status) if r < last_arrival else (-1, status)
        if key in memo:
            return memo[key]
        if len(memo) > max_states:
            raise ValueError(f"dp_optimum: more than max_states={max_states} states; use ip_optimum")
        if all(x == DONE for x in status):
            return 0.0, ()
        used = sum(s[i] + g for i, g in enumerate(status) if g >= 0)
        if used > memory:
            memo[key] = (np.inf, ())
            return memo[key]
        cost_now = sum(1 for i, x in enumerate(status) if x != DONE and a[i] <= r)
        cands = [i for i, x in enumerate(status) if x == NOT and a[i] <= r]
        any_running = any(g >= 0 for g in status)
        best, best_plan = np.inf, ()
        for chosen in subsets(cands, memory - used, (), 0, status):
            if not chosen and not any_running and r >= last_arrival:
                continue  # idling with nothing running never helps once everything has arrived
            nxt = list(status)
            for i in chosen:
                nxt[i] = 0
            for i, g in enumerate(nxt):
                if g >= 0:
                    nxt[i] = DONE if g + 1 == o[i] else g + 1
            val, plan = solve(r + 1, tuple(nxt))
            if val + cost_now < best:
                best, best_plan = val + cost_now, ((0, chosen),) + tuple((d + 1, c) for d, c in plan)
        memo[key] = (best, best_plan)
        return memo[key]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        r0 = min(a)
        val, plan = solve(r0, tuple([NOT] * n))
    finally:
        sys.setrecursionlimit(limit)
    start = np.full(n, -1, np.int64)
    for d, chosen in plan:  # plans are stored relative to their state's round (states are shared)
        for i in chosen:
            start[i] = r0 + d
    return float(val), start


def _time_indexed(trace: Trace, memory: int, slack: int):
    """Columns (i, p) for p in [a_i, a_i + slack]; rows: one assignment per request, memory per round."""
    a, s, o = (np.asarray(x, np.int64) for x in (trace.arrival, trace.prompt, trace.output))
    n = a.shape[0]
    cols_i, cols_p = [], []
    for i in range(n):
        ps = np.arange(a[i], a[i] + slack + 1)
        cols_i.append(np.full(ps.shape, i))
        cols_p.append(ps)
    ci, cp = np.concatenate(cols_i), np.concatenate(cols_p)
    nv = ci.shape[0]
    cost = (cp + o[ci] - a[ci]).astype(np.float64)
    horizon = int((cp + o[ci]).max())
    rows, cols, vals = [], [], []
    rows.append(ci)
    cols.append(np.arange(nv))
    vals.append(np.ones(nv))
    for k in range(nv):
        r = np.arange(cp[k], cp[k] + o[ci[k]])
        rows.append(n + r)
        cols.append(np.full(r.shape, k))
        vals.append((s[ci[k]] + r - cp[k]).astype(np.float64))
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n + horizon, nv))
    lo = np.concatenate([np.ones(n), np.full(horizon, -np.inf)])
    hi = np.concatenate([np.ones(n), np.full(horizon, float(memory))])
    return cost, A, lo, hi, ci, cp


def ip_optimum(trace: Trace, memory: int, *, time_limit: float | None = 60.0) -> tuple[float, np.ndarray, str]:
    """Exact minimum total latency with the time-indexed integer program, solved by HiGHS.

    Binary ``x_{i,p}`` = request ``i`` starts at round ``p`` (``p`` in its window); one start per request;
    per-round memory rows ``sum x_{i,p} (s_i + r - p) <= M`` over ``p <= r < p + o_i``; objective
    ``sum x_{i,p} (p + o_i - a_i)``.

    Returns:
        ``(total_latency, start [N], status)``; on a non-optimal status (time limit) the latency is the
        best known feasible value and the status says so.
    """
    from jaxor.lp import highs

    ub, ub_start, slack = _windows(trace, memory)
    cost, A, lo, hi, ci, cp = _time_indexed(trace, memory, slack)
    res = highs.solve(cost, A, lo, hi, np.zeros_like(cost), np.ones_like(cost), integrality=np.ones(cost.shape[0]),
                      time_limit=time_limit)
    if res.status != "optimal" or res.x is None:
        return ub, np.asarray(ub_start), res.status
    x = np.round(res.x)
    start = np.full(trace.n, -1, np.int64)
    start[ci[x > 0.5]] = cp[x > 0.5]
    # the exact integer cost of the rounded solution (HiGHS's float objective can be off by ~1e-11)
    exact = schedule_cost(trace, start, memory)
    return (exact if np.isfinite(exact) else float(res.objective)), start, res.status


def _area_lp(trace: Trace, memory: int, ratio: float, ub: float):
    """The bucketed area relaxation for large n (cumulative completion variables ``z_{i,b}``)."""
    a, s, o = (np.asarray(x, np.float64) for x in (trace.arrival, trace.prompt, trace.output))
    n = a.shape[0]
    w = o * s + o * (o - 1) / 2  # memory-rounds request i needs: sum_{k<o} (s + k)
    cmax = float((a + o).max() + max(ub - o.sum(), 0))
    b = [0.0, 1.0]
    while b[-1] < cmax:
        b.append(float(np.ceil(max(b[-1] * ratio, b[-1] + 1))))
    B = np.asarray(b)  # bucket k = (B[k-1], B[k]], k = 1..K
    K = B.shape[0] - 1
    # z[i, k] = P(C_i <= B[k]) for k = 1..K; z[i, K] = 1; cost of bucket k: max(B[k-1] + 1, a_i + o_i) - a_i.
    lo_c = np.maximum(B[None, :-1] + 1, (a + o)[:, None]) - a[:, None]  # [n, K]
    # sum_k cost_k (z_k - z_{k-1}) = cost_K - sum_{k<K} z_k (cost_{k+1} - cost_k)
    c = -(lo_c[:, 1:] - lo_c[:, :-1])  # [n, K-1] coefficients of z_1..z_{K-1}
    c0 = float(lo_c[:, -1].sum())
    nv = n * (K - 1)
    idx = np.arange(nv).reshape(n, K - 1)
    # z_{i,k} = 0 where B[k] < a_i + o_i (cannot be complete yet): upper bound 0.
    u = np.where(B[None, 1:K] < (a + o)[:, None], 0.0, 1.0).ravel()
    rows, cols, vals = [], [], []
    r = 0
    for k in range(K - 1):  # area: sum_i w_i z_{i,k} <= M * B[k+1]
        rows.append(np.full(n, r))
        cols.append(idx[:, k])
        vals.append(w)
        r += 1
    area_rows = r
    if K > 2:  # monotone: z_{i,k} - z_{i,k+1} <= 0
        m = n * (K - 2)
        rr = r + np.arange(m)
        rows += [rr, rr]
        cols += [idx[:, :-1].ravel(), idx[:, 1:].ravel()]
        vals += [np.ones(m), -np.ones(m)]
        r += m
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, nv))
    hi = np.concatenate([memory * B[1:K], np.zeros(r - area_rows)])
    lo = np.full(r, -np.inf)
    return c.ravel(), c0, A, lo, hi, u, idx, B


def lp_bound(trace: Trace, memory: int, *, method: str = "auto", bucket_ratio: float = 1.05,
             time_limit: float | None = 300.0) -> float:
    """A lower bound on the optimal total latency from an LP relaxation, solved by HiGHS.

    Args:
        trace: a single trace.
        memory: ``M``.
        method: ``"time-indexed"`` (the relaxation of :func:`ip_optimum`; small ``n``), ``"area"`` (large
            ``n``: completion buckets ``(B_{k-1}, B_k]`` growing by ``bucket_ratio``; the requests completed
            by ``B_k`` need memory-rounds ``sum w_i <= M B_k`` with ``w_i = o_i s_i + o_i (o_i - 1) / 2``, and
            a request completing in bucket ``k`` has latency at least ``max(B_{k-1} + 1, a_i + o_i) - a_i``),
            or ``"auto"`` (time-indexed when it has at most 20,000 columns).
        bucket_ratio: growth factor of the area buckets (finer buckets: tighter, larger LP).
        time_limit: HiGHS seconds.

    Returns:
        The bound (a float); ``ValueError`` if HiGHS does not reach optimality.
    """
    res, _, _ = _relaxation(trace, memory, method, bucket_ratio, time_limit, "lp_bound")
    return float(res.objective)


def _relaxation(trace, memory, method, bucket_ratio, time_limit, caller):
    """Solve the chosen LP relaxation; returns ``(result, method, expected completion [N])``."""
    from jaxor.lp import highs

    if method not in ("auto", "time-indexed", "area"):
        raise ValueError(f"method must be 'auto', 'time-indexed' or 'area'; got {method!r}")
    if not bucket_ratio > 1:
        raise ValueError(f"bucket_ratio must be > 1; got {bucket_ratio}")
    ub, _, slack = _windows(trace, memory)
    if method == "auto":
        method = "time-indexed" if trace.n * (slack + 1) <= 20_000 else "area"
    if method == "time-indexed":
        cost, A, lo, hi, ci, cp = _time_indexed(trace, memory, slack)
        res = highs.solve(cost, A, lo, hi, np.zeros_like(cost), np.ones_like(cost), time_limit=time_limit)
    else:
        c, c0, A, lo, hi, u, idx, B = _area_lp(trace, memory, bucket_ratio, ub)
        res = highs.solve(c, A, lo, hi, np.zeros_like(c), u, c0=c0, time_limit=time_limit)
    if res.status != "optimal":
        raise ValueError(f"{caller}: HiGHS returned status {res.status!r}")
    n = trace.n
    if method == "time-indexed":
        expect = np.bincount(ci, weights=res.x * (cp + np.asarray(trace.output)[ci]), minlength=n)
    else:
        z = np.concatenate([res.x[idx], np.ones((n, 1))], axis=1)  # CDF of C_i at B[1..K]
        expect = np.diff(np.concatenate([np.zeros((n, 1)), z], axis=1), axis=1) @ B[1:]
    return res, method, expect


def lp_priority(trace: Trace, memory: int, *, method: str = "auto", bucket_ratio: float = 1.05,
                time_limit: float | None = 300.0) -> Trace:
    """The LP-based scheduler of arXiv 2508.06133 ("Sorted-LP"): order requests by LP completion time.

    Solves the relaxation of :func:`lp_bound` and sets ``prio`` to the rank of each request's fractional
    expected completion (ties by arrival), so ``simulate(trace, priority_order(), ...)`` runs the
    requests in LP order with the usual memory check.

    Returns:
        A copy of ``trace`` with ``prio`` set.
    """
    _, _, expect = _relaxation(trace, memory, method, bucket_ratio, time_limit, "lp_priority")
    order = np.lexsort((np.arange(trace.n), np.round(expect, 6)))
    prio = np.empty(trace.n, np.int32)
    prio[order] = np.arange(trace.n, dtype=np.int32)
    return trace._replace(prio=prio)


def local_search(trace: Trace, memory: int, *, init_prio=None, max_iters: int = 50, max_batch: int | None = None,
                 window: int | None = None) -> tuple[Trace, float, list[float]]:
    """Improve an admission order by best-improvement adjacent swaps (arXiv 2508.06133's local search).

    Every iteration evaluates all ``n - 1`` adjacent swaps of the current order in one vmapped rollout
    (:func:`~jaxor.serving.simulate` with :func:`~jaxor.serving.priority_order`) and keeps the best
    improving one; it stops at a local optimum or after ``max_iters``.

    Args:
        trace: a single trace.
        memory: ``M``.
        init_prio: starting priorities ``[N]`` (default: shortest output first, as H-SF).
        max_iters: iteration cap.
        max_batch, window: rollout sizes (default ``n``: no batch or window limit).

    Returns:
        ``(trace with the best prio, its total latency, history of total latencies)``.
    """
    from jaxor.serving._policy import priority_order
    from jaxor.serving._rollout import simulate
    from jaxor.serving._trace import stack

    validate(trace, memory)
    n = trace.n
    kb = n if max_batch is None else max_batch
    kw = n if window is None else window
    if init_prio is None:
        order = np.lexsort((np.arange(n), np.asarray(trace.output)))
    else:
        order = np.lexsort((np.arange(n), np.asarray(init_prio)))

    def prio_of(order):
        p = np.empty(n, np.int32)
        p[order] = np.arange(n, dtype=np.int32)
        return p

    def costs(orders):
        batch = stack([trace._replace(prio=prio_of(od)) for od in orders])
        r = simulate(batch, priority_order(), memory=memory, max_batch=kb, window=kw, shard=False)
        comp = np.asarray(r.completion)[:, 0, :]
        lat = np.where(comp >= 0, comp - np.asarray(trace.arrival)[None], np.inf)
        return lat.sum(-1)

    best, history = None, []
    for _ in range(max_iters + 1):
        # lane 0: the current order; lanes 1..n-1: its adjacent swaps (one compiled shape throughout)
        cands = [order]
        for k in range(n - 1):
            od = order.copy()
            od[k], od[k + 1] = od[k + 1], od[k]
            cands.append(od)
        vals = costs(cands)
        if best is None:
            best = float(vals[0])
            history.append(best)
        j = int(np.argmin(vals))
        if not vals[j] < best:
            break
        best, order = float(vals[j]), cands[j]
        history.append(best)
    return trace._replace(prio=prio_of(order)), best, history

