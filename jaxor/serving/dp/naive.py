"""Plain-Python simulator of the data-parallel decode model: the test oracle (no JAX).

The semantics are those of :mod:`jaxor.serving.dp._model`, written step by step for clarity: lists of
running requests per worker, one routing decision at a time. Paper: arXiv 2601.17855.
"""

from __future__ import annotations

import numpy as np

from jaxor.serving._timemodel import TimeModel
from jaxor.serving._trace import Trace
from jaxor.serving.dp._model import POLICY_IDS, dp_time_model, pod_candidate

__all__ = ["simulate_dp_reference", "predicted_loads", "bfio_scores"]


def predicted_loads(running, horizon: int) -> list[int]:
    """``Lhat(h)`` for ``h < horizon`` of one worker's running requests ``[(kv, gen, pred)]``."""
    return [sum(kv + h for (kv, gen, pred) in running if h < max(pred - gen, 1)) for h in range(horizon)]


def new_request_load(prompt: int, pred: int, horizon: int) -> list[int]:
    """Predicted load of a request about to start: ``s + h`` while ``h < pred``."""
    return [prompt + h if h < max(pred, 1) else 0 for h in range(horizon)]


def bfio_scores(base: list[list[int]], add: list[int]) -> list[tuple[int, int]]:
    """For each worker g: (sum_h max_g' Lhat with the request on g, g's own predicted load sum)."""
    out = []
    for g in range(len(base)):
        total, own = 0, 0
        for h in range(len(add)):
            col = [base[q][h] + (add[h] if q == g else 0) for q in range(len(base))]
            total += max(col)
            own += base[g][h] + add[h]
        out.append((total, own))
    return out


def simulate_dp_reference(trace: Trace, *, policy: str, workers: int, slots: int, kv_capacity: int | None = None,
                          horizon: int = 8, d: int = 2, seed: int = 0, max_assign: int = 16,
                          time_model: TimeModel | None = None, max_steps: int = 1_000_000,
                          on_route=None) -> dict:
    """Simulate one trace under one routing policy; returns per-request and per-step arrays.

    ``on_route(state)``, if given, is called before each step's routing with a dict describing the
    state (used to compare greedy and exact BF-IO on the same states).
    """
    if policy not in POLICY_IDS:
        raise ValueError(f"policy must be one of {sorted(POLICY_IDS)}; got {policy!r}")
    tm = time_model or dp_time_model()
    G, B = int(workers), int(slots)
    C = int(kv_capacity) if kv_capacity is not None else np.iinfo(np.int32).max
    arrival = [int(a) for a in np.asarray(trace.arrival)]
    prompt = [int(a) for a in np.asarray(trace.prompt)]
    output = [int(a) for a in np.asarray(trace.output)]
    pred = [int(a) for a in np.asarray(trace.pred)]
    n = len(arrival)
    run: list[list[dict]] = [[] for _ in range(G)]
    res = [0] * G
    worker = [-1] * n
    start = [-1] * n
    done = [-1] * n
    first_time = [np.nan] * n
    done_time = [np.nan] * n
    steps = {"step_time": [], "busy_sum": [], "imbalance": [], "ratio": [], "queue": [], "active": [],
             "clock": []}
    ptr, rr, k, clock = 0, 0, 0, 0.0
    while (ptr < n or any(run)) and k < max_steps:
        prefill = [0] * G
        if on_route is not None and ptr < n and arrival[ptr] <= k:
            on_route({"k": k, "ptr": ptr, "run": [[(r["kv"], r["gen"], r["pred"], r["out"], r["s"]) for r in rs]
                                                  for rs in run], "res": list(res)})
        for _ in range(max_assign):
            if not (ptr < n and arrival[ptr] <= k):
                break
            i = ptr
            feas = [g for g in range(G) if len(run[g]) < B and res[g] + prompt[i] + output[i] <= C]
            if not feas:
                break
            load = [sum(r["kv"] for r in run[g]) for g in range(G)]
            if policy == "rr":
                g = next(q % G for q in range(rr, rr + G) if q % G in feas)
                rr = (g + 1) % G
            elif policy == "jsq":
                g = min(feas, key=lambda q: (len(run[q]), q))
            elif policy == "least-kv":
                g = min(feas, key=lambda q: (load[q], q))
            elif policy == "pod":
                cands = sorted({int(pod_candidate(seed, i, j, G)) for j in range(d)} & set(feas))
                pool = cands if cands else feas
                g = min(pool, key=lambda q: (load[q], q))
            else:  # bf-io
                base = [predicted_loads([(r["kv"], r["gen"], r["pred"]) for r in run[q]], horizon) for q in range(G)]
                sc = bfio_scores(base, new_request_load(prompt[i], pred[i], horizon))
                g = min(feas, key=lambda q: (sc[q][0], sc[q][1], q))
            run[g].append({"i": i, "kv": prompt[i], "gen": 0, "out": output[i], "pred": pred[i], "s": prompt[i]})
            res[g] += prompt[i] + output[i]
            prefill[g] += prompt[i]
            worker[i], start[i] = g, k
            ptr += 1
        load = [sum(r["kv"] for r in run[g]) for g in range(G)]
        cnt = [len(run[g]) for g in range(G)]
        busy = [(tm.c0 + tm.c1 * prefill[g] + tm.c2 * load[g] + tm.c3 * cnt[g]) if cnt[g] else 0.0
                for g in range(G)]
        step = max(max(busy), tm.c0)
        mean = sum(load) / G
        steps["step_time"].append(step)
        steps["busy_sum"].append(sum(busy))
        steps["imbalance"].append(max(load) - mean)
        steps["ratio"].append(max(load) / mean if mean > 0 else 1.0)
        steps["queue"].append(sum(1 for j in range(ptr, n) if arrival[j] <= k))
        steps["active"].append(sum(cnt))
        steps["clock"].append(clock)
        clock += step
        for g in range(G):
            keep = []
            for r in run[g]:
                r["gen"] += 1
                r["kv"] += 1
                if r["gen"] == 1:
                    first_time[r["i"]] = clock
                if r["gen"] == r["out"]:
                    done[r["i"]] = k
                    done_time[r["i"]] = clock
                    res[g] -= r["s"] + r["out"]
                else:
                    keep.append(r)
            run[g] = keep
        k += 1
    return {"worker": np.array(worker), "start": np.array(start), "done": np.array(done),
            "first_time": np.array(first_time), "done_time": np.array(done_time),
            "finished": ptr == n and not any(run), "steps": {a: np.array(b) for a, b in steps.items()}}
