"""Plain-Python event simulator of the KV-cache scheduling model: the test oracle (no JAX).

It implements exactly the semantics of :func:`jaxor.serving.simulate`, written for clarity rather
than speed (lists, loops, one request at a time). Model: arXiv 2502.07115 (see ``jaxor.serving``).

Semantics (shared with the JAX rollout). Time is in integer rounds. A request admitted at round ``p``
holds ``s + (t - p)`` KV tokens during round ``t`` for ``p <= t < p + o`` and completes at ``p + o``.
The scheduler acts at *decision epochs*: the first arrival, every arrival round, every completion round
and every round at which the running batch's actual memory would exceed ``M`` (an overflow). At an
epoch ``t``, in this order:

1. requests with ``p + o == t`` complete;
2. arrived requests enter the candidate pool, oldest first, while the pool holds fewer than ``window``
   waiting requests and fewer than ``max_batch + window`` requests in all;
3. if the running requests' memory at ``t`` exceeds ``M``, they are evicted in the policy's eviction
   order until it fits; an evicted request returns to the pool waiting, loses its progress, keeps its
   refined estimate ``max(est, t - p + 1)`` and counts one restart;
4. waiting requests whose own planned footprint ``s + est - 1`` exceeds ``M`` are rejected (reported);
5. the waiting requests are sorted by ``(key, index)``; the first ``window`` are the candidates; the
   policy admits a prefix that fits the future-memory check and the batch limit ``max_batch``.
"""

from __future__ import annotations

import numpy as np

from jaxor.serving._policy import (
    CHOOSE_MIN_F,
    EST_LOWER,
    EST_PRED,
    EST_TRUE,
    EST_UPPER,
    KEY_ARRIVAL,
    KEY_ESTIMATE,
    Policy,
)
from jaxor.serving._timemodel import TimeModel, unit
from jaxor.serving._trace import Trace, validate

__all__ = ["simulate_reference"]


def _planned_memory(members, tau):
    """Planned KV tokens at round ``tau`` of ``members`` = [(prompt, start, planned_end)]."""
    return sum(s + tau - p for (s, p, e) in members if p <= tau < e)


def _fits(members, t, memory):
    """True when the planned memory stays <= memory at every round >= t.

    The planned memory is piecewise linear and increasing between planned completions, so its maximum
    over rounds >= t is reached at one of the rounds just before a completion (``e - 1``).
    """
    return all(_planned_memory(members, e - 1) <= memory for (_, _, e) in members if e - 1 >= t)


def simulate_reference(trace: Trace, pol: Policy, *, memory: int, max_batch: int = 32, window: int = 32,
                       time_model: TimeModel | None = None) -> dict:
    """Simulate one trace under one policy, event by event, in plain Python.

    Args:
        trace: a single :class:`~jaxor.serving.Trace`.
        pol: a single :class:`~jaxor.serving.Policy`.
        memory: KV-cache capacity ``M`` in tokens.
        max_batch: at most this many requests run at once (``K`` slots).
        window: candidate-pool size ``W``.
        time_model: round durations (default unit rounds).

    Returns:
        dict of NumPy arrays ``[N]``: ``completion`` (round, -1 if rejected), ``start`` (final start
        round), ``restarts``, ``rejected`` (bool), ``completion_time`` / ``first_token_time`` /
        ``arrival_time`` (time-model clock), plus scalars ``evictions``, ``epochs`` and ``makespan``.
    """
    validate(trace, memory)
    tm = unit() if time_model is None else time_model
    n = trace.n
    arrival = [int(x) for x in trace.arrival]
    s = [int(x) for x in trace.prompt]
    o = [int(x) for x in trace.output]
    source = {EST_TRUE: trace.output, EST_UPPER: trace.upper, EST_LOWER: trace.lower, EST_PRED: trace.pred}
    est = [int(x) for x in source[int(pol.estimate)]]
    prio = [int(x) for x in trace.prio]

    state = ["future"] * n  # future -> waiting -> running -> done / rejected (running -> waiting on eviction)
    start = [-1] * n
    completion = [-1] * n
    restarts = [0] * n
    completion_time = [np.nan] * n
    first_token_time = [np.nan] * n
    arrival_time = [np.nan] * n
    pool = []  # request ids that are waiting or running
    nxt = 0
    evictions = 0
    epochs = 0
    t = arrival[0]
    clock = tm.c0 * t  # idle rounds before the first arrival last c0 each

    def key_of(i):
        if int(pol.key) == KEY_ARRIVAL:
            return (i, i)
        if int(pol.key) == KEY_ESTIMATE:
            return (est[i], i)
        return (prio[i], i)

    seen = 0  # requests whose arrival round has been reached
    while True:
        epochs += 1
        while seen < n and arrival[seen] <= t:
            arrival_time[seen] = clock  # every arrival round is an epoch, so arrival[seen] == t here
            seen += 1
        # 1. completions
        for i in list(pool):
            if state[i] == "running" and start[i] + o[i] == t:
                state[i] = "done"
                completion[i] = t
                completion_time[i] = clock
                pool.remove(i)
        # 2. arrivals enter the pool
        while (nxt < n and arrival[nxt] <= t and sum(state[i] == "waiting" for i in pool) < window
               and len(pool) < max_batch + window):
            state[nxt] = "waiting"
            pool.append(nxt)
            nxt += 1
        # 3. overflow -> eviction
        running = [i for i in pool if state[i] == "running"]
        used = sum(s[i] + t - start[i] for i in running)
        if used > memory:
            def current_est(i, t=t):
                return max(est[i], t - start[i] + 1)

            if int(pol.evict_largest):
                order = sorted(running, key=lambda i: (-current_est(i), -i))
            else:
                order = sorted(running, key=lambda i: (current_est(i), -i))
            for i in order:
                if used <= memory:
                    break
                used -= s[i] + t - start[i]
                est[i] = current_est(i)
                state[i] = "waiting"
                start[i] = -1
                restarts[i] += 1
                evictions += 1
        # 4. requests that can never fit under their planned length
        for i in list(pool):
            if state[i] == "waiting" and s[i] + est[i] - 1 > memory:
                state[i] = "rejected"
                pool.remove(i)
        # 5. admission
        running = [i for i in pool if state[i] == "running"]
        members = [(s[i], start[i], start[i] + max(est[i], t - start[i] + 1)) for i in running]
        candidates = sorted((i for i in pool if state[i] == "waiting"), key=key_of)[:window]
        feasible_prefix = 0
        for m in range(1, len(candidates) + 1):
            if len(running) + m > max_batch:
                break
            trial = members + [(s[i], t, t + est[i]) for i in candidates[:m]]
            if not _fits(trial, t, memory):
                break
            feasible_prefix = m
        take = feasible_prefix
        if int(pol.chooser) == CHOOSE_MIN_F and feasible_prefix > 0:
            # F_m = (sum of the first m planned lengths) / m^2, in float32 like the JAX rollout.
            best, take = None, 0
            total = np.float32(0.0)
            for m in range(1, feasible_prefix + 1):
                total = np.float32(total + np.float32(est[candidates[m - 1]]))
                f = np.float32(total / np.float32(m * m))
                if best is None or f < best or (f == best and int(pol.f_tie_larger)):
                    best, take = f, m
        prefill = 0
        for i in candidates[:take]:
            state[i] = "running"
            start[i] = t
            prefill += s[i]
        running = [i for i in pool if state[i] == "running"]
        batch = len(running)
        kv = sum(s[i] + t - start[i] for i in running)
        first_round = tm.c0 + tm.c1 * prefill + tm.c2 * kv + tm.c3 * batch
        for i in candidates[:take]:
            first_token_time[i] = clock + first_round
        # 6. next epoch: next arrival, next completion, or next overflow of the running batch
        events = []
        if seen < n:
            events.append(arrival[seen])  # the first arrival after t
        if running:
            next_done = min(start[i] + o[i] for i in running)
            events.append(next_done)
            overflow = t + (memory - kv) // batch + 1  # first round at which kv + batch * (r - t) > memory
            if overflow < next_done:
                events.append(overflow)
        if not events:
            break
        t_next = min(events)
        k = t_next - t
        clock += (k * tm.c0 + tm.c1 * prefill + tm.c2 * (k * kv + batch * k * (k - 1) // 2) + tm.c3 * batch * k)
        t = t_next
    return {
        "completion": np.array(completion, np.int64),
        "start": np.array(start, np.int64),
        "restarts": np.array(restarts, np.int64),
        "rejected": np.array([x == "rejected" for x in state]),
        "completion_time": np.array(completion_time),
        "first_token_time": np.array(first_token_time),
        "arrival_time": np.array(arrival_time),
        "evictions": evictions,
        "epochs": epochs,
        "makespan": max([c for c in completion if c >= 0], default=0),
    }
