"""Exact BF-IO: the step's joint assignment as a small integer program (HiGHS), and its comparison with
the jittable greedy rule on the same states. Paper: arXiv 2601.17855.

For the requests ``j`` routed in one step, binary ``x_{jg}`` and continuous ``M_h``:

.. math::  \\min \\sum_{h<H} M_h \\quad\\text{s.t.}\\quad
   M_h \\ge \\hat L_{g}(h) + \\sum_j \\hat w_j(h) x_{jg}\\ \\forall g, h;\\quad
   \\sum_g x_{jg} = 1;\\quad \\sum_j x_{jg} \\le \\text{free}_g;\\quad
   \\sum_j (s_j + o_j) x_{jg} \\le C - \\text{res}_g.

Minimising ``sum_h max_g`` is minimising the cumulative max-minus-mean imbalance, because the mean
does not depend on the assignment. HiGHS is reached only through :mod:`jaxor.lp.highs`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from jaxor.lp import highs
from jaxor.serving._trace import Trace
from jaxor.serving.dp.naive import new_request_load, predicted_loads, simulate_dp_reference

__all__ = ["bfio_exact_assignment", "assignment_objective", "compare_bfio"]


def assignment_objective(base: np.ndarray, adds: np.ndarray, assign) -> int:
    """``sum_h max_g`` of the predicted loads ``base [G, H]`` plus requests ``adds [J, H]`` on ``assign [J]``."""
    tot = np.array(base, dtype=np.int64).copy()
    for j, g in enumerate(assign):
        tot[g] += adds[j]
    return int(tot.max(axis=0).sum())


def bfio_exact_assignment(base, adds, free, kv_room, foot, *, time_limit: float = 10.0):
    """Optimal joint assignment of ``J`` requests to ``G`` workers.

    Args:
        base: ``[G, H]`` predicted loads of the running requests.
        adds: ``[J, H]`` predicted loads of the requests to route.
        free: ``[G]`` free slots. kv_room: ``[G]`` KV tokens left. foot: ``[J]`` footprints ``s + o``.

    Returns:
        ``(assign [J] or None, objective or None, status)``.
    """
    base = np.asarray(base, np.float64)
    adds = np.asarray(adds, np.float64)
    G, H = base.shape
    J = adds.shape[0]
    nx = J * G
    c = np.concatenate([np.zeros(nx), np.ones(H)])
    rows, lo, hi = [], [], []
    for j in range(J):  # each request goes somewhere
        r = np.zeros(nx + H)
        r[j * G:(j + 1) * G] = 1
        rows.append(r), lo.append(1), hi.append(1)
    for g in range(G):  # slots and KV room
        r = np.zeros(nx + H)
        r[g:nx:G] = 1
        rows.append(r), lo.append(-np.inf), hi.append(free[g])
        r = np.zeros(nx + H)
        r[g:nx:G] = foot
        rows.append(r), lo.append(-np.inf), hi.append(kv_room[g])
    for g in range(G):  # M_h >= base_gh + sum_j adds_jh x_jg
        for h in range(H):
            r = np.zeros(nx + H)
            r[nx + h] = 1
            r[g:nx:G] = -adds[:, h]
            rows.append(r), lo.append(base[g, h]), hi.append(np.inf)
    A = sp.csr_matrix(np.array(rows))
    l = np.concatenate([np.zeros(nx), np.full(H, -np.inf)])
    u = np.concatenate([np.ones(nx), np.full(H, np.inf)])
    integ = np.concatenate([np.ones(nx), np.zeros(H)])
    res = highs.solve(c, A, np.array(lo, float), np.array(hi, float), l, u, integrality=integ,
                      time_limit=time_limit)
    if res.status != "optimal":
        return None, None, res.status
    x = res.x[:nx].reshape(J, G)
    return np.argmax(x, axis=1), res.objective, res.status


def compare_bfio(trace: Trace, *, workers: int, slots: int, kv_capacity: int | None = None, horizon: int = 8,
                 max_assign: int = 16, max_states: int = 200, time_model=None) -> dict:
    """Run greedy BF-IO (the oracle) and, at every step that routes requests (up to ``max_states``),
    solve the same step exactly; report agreement and the objective gap.

    Returns:
        dict with ``states``, ``identical`` (fraction of steps with the same assignment), ``greedy_optimal``
        (fraction where greedy's objective equals the optimum), ``gap_mean``/``gap_max`` (relative
        objective gap, greedy over exact, minus one) and ``requests_per_state``.
    """
    states = []

    def snap(state):
        if len(states) < max_states:
            states.append(state)

    sim = simulate_dp_reference(trace, policy="bf-io", workers=workers, slots=slots, kv_capacity=kv_capacity,
                                horizon=horizon, max_assign=max_assign, time_model=time_model, on_route=snap)
    C = int(kv_capacity) if kv_capacity is not None else np.iinfo(np.int32).max
    prompt, output, pred = (np.asarray(x) for x in (trace.prompt, trace.output, trace.pred))
    ident, opt, gaps, sizes = [], [], [], []
    for st in states:
        batch = np.flatnonzero(sim["start"] == st["k"])
        if batch.size == 0:
            continue
        base = np.array([predicted_loads([(kv, gen, pr) for (kv, gen, pr, _, _) in rs], horizon) for rs in st["run"]])
        adds = np.array([new_request_load(int(prompt[j]), int(pred[j]), horizon) for j in batch])
        free = np.array([slots - len(rs) for rs in st["run"]])
        room = C - np.array(st["res"], dtype=np.int64)
        greedy = sim["worker"][batch]
        g_obj = assignment_objective(base, adds, greedy)
        ex, ex_obj, status = bfio_exact_assignment(base, adds, free, room, prompt[batch] + output[batch])
        if ex is None:
            continue
        ex_obj = assignment_objective(base, adds, ex)
        ident.append(bool(np.array_equal(ex, greedy)))
        opt.append(g_obj == ex_obj)
        gaps.append(g_obj / ex_obj - 1.0 if ex_obj > 0 else 0.0)
        sizes.append(batch.size)
    gaps = np.array(gaps) if gaps else np.zeros(0)
    return {"states": len(ident), "identical": float(np.mean(ident)) if ident else float("nan"),
            "greedy_optimal": float(np.mean(opt)) if opt else float("nan"),
            "gap_mean": float(gaps.mean()) if gaps.size else float("nan"),
            "gap_max": float(gaps.max()) if gaps.size else float("nan"),
            "requests_per_state": float(np.mean(sizes)) if sizes else float("nan")}
