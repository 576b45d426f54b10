"""Arrival scaling, lane construction and per-run metrics for the data-parallel model (arXiv 2601.17855)."""

from __future__ import annotations

import itertools

import numpy as np

from jaxor.serving._trace import Trace, from_arrays
from jaxor.serving.dp._model import ENERGY_BUSY_W, ENERGY_IDLE_W, POLICY_IDS, DPConfig

__all__ = ["scale_to_utilisation", "lanes", "summarize_dp"]


def scale_to_utilisation(trace: Trace, *, workers: int, slots: int, utilisation: float = 0.9) -> Trace:
    """Rescale a trace's arrival times so the offered load fills ``utilisation`` of the ``G x B`` slots.

    A request occupies a slot for ``o_i`` steps, so the arrival rate (requests per step) that keeps on
    average ``u G B`` slots busy is ``lambda = u G B / mean(o)``. Arrival times (any unit) are mapped to
    steps ``floor((a_i - a_0) * lambda_0 / lambda)`` where ``lambda_0`` is the trace's native rate;
    order and burstiness are kept.

    Args:
        trace: one trace whose ``arrival`` is in any time unit (load Azure traces with a small
            ``round_s``, e.g. ``load_azure(..., round_s=1e-3)``, to keep their resolution).
        workers, slots: ``G`` and ``B``.
        utilisation: target fraction of slots in use, in (0, 1.5].
    """
    if workers < 1 or slots < 1:
        raise ValueError(f"workers and slots must be >= 1; got workers={workers}, slots={slots}")
    if not 0 < utilisation <= 1.5:
        raise ValueError(f"utilisation must be in (0, 1.5]; got {utilisation}")
    a = np.asarray(trace.arrival, np.float64)
    span = a[-1] - a[0]
    if trace.n < 2 or span <= 0:
        raise ValueError("the trace needs at least two distinct arrival times to define its rate")
    native = (trace.n - 1) / span
    target = utilisation * workers * slots / float(np.mean(trace.output))
    steps = np.floor((a - a[0]) * native / target)
    return from_arrays(steps, trace.prompt, trace.output, trace.lower, trace.upper, trace.pred, trace.prio)


def lanes(policies, *, workers, slots, kv_capacity: int = 2**31 - 1, horizon: int = 8, d: int = 2,
          seeds=(0,)) -> DPConfig:
    """The product policies x (workers, slots) pairs x seeds as a :class:`DPConfig` of ``[L]`` arrays.

    ``workers`` and ``slots`` are ints or equal-length sequences paired elementwise.
    """
    bad = [p for p in policies if isinstance(p, str) and p not in POLICY_IDS]
    if bad:
        raise ValueError(f"unknown policy {bad}; known: {sorted(POLICY_IDS)}")
    pol = [POLICY_IDS[p] if isinstance(p, str) else int(p) for p in policies]
    gs = np.atleast_1d(workers)
    bs = np.atleast_1d(slots)
    if gs.shape != bs.shape:
        raise ValueError("workers and slots must pair up (equal lengths)")
    rows = [(p, int(g), int(b), kv_capacity, horizon, d, s)
            for p, (g, b), s in itertools.product(pol, zip(gs, bs, strict=True), seeds)]
    return DPConfig(*[np.array(col, dtype=np.int64) for col in zip(*rows, strict=True)])


def summarize_dp(rollout, traces: Trace, *, busy_w: float = ENERGY_BUSY_W, idle_w: float = ENERGY_IDLE_W) -> dict:
    """Per-lane metrics ``[L]``: idle fraction, imbalance, throughput, TPOT, latency, energy.

    The idle fraction counts the steps where some request runs: ``sum_k sum_g idle_gk / (G sum_k T_k)``
    (steps with an empty system measure load, not balance, and are left out).
    """
    st = rollout.steps
    valid = st["valid"] & (st["active"] > 0)
    g = np.asarray(rollout.configs.workers, np.float64)
    t = np.where(valid, st["step_time"], 0.0)
    busy = np.where(valid, st["busy_sum"], 0.0)
    total = t.sum(axis=1)
    idle = (g * total - busy.sum(axis=1))
    out = {}
    out["idle_fraction"] = idle / np.maximum(g * total, 1e-30)
    nv = np.maximum(valid.sum(axis=1), 1)
    out["imbalance_mean"] = np.where(valid, st["imbalance"], 0.0).sum(axis=1) / nv
    out["ratio_mean"] = np.where(valid, st["ratio"], 0.0).sum(axis=1) / nv
    tr = Trace(*[np.atleast_2d(np.asarray(x)) for x in traces])
    o = tr.output.astype(np.float64)
    makespan = np.where(st["valid"], st["step_time"], 0.0).sum(axis=1)
    out["throughput_tok_s"] = o.sum(axis=1) / np.maximum(makespan, 1e-30)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = (rollout.done_time - rollout.first_time) / np.where(o > 1, o - 1, np.nan)
        out["tpot_mean_s"] = np.nanmean(tpot, axis=1)
    clock = st["clock"]
    arr_idx = np.minimum(tr.arrival, clock.shape[1] - 1)
    arr_time = np.take_along_axis(clock, arr_idx, axis=1)
    e2e = rollout.done_time - arr_time
    out["e2e_mean_s"] = np.nanmean(e2e, axis=1)
    out["e2e_p99_s"] = np.nanpercentile(e2e, 99, axis=1)
    out["energy_j"] = busy_w * busy.sum(axis=1) + idle_w * idle
    out["energy_per_token_j"] = out["energy_j"] / o.sum(axis=1)
    out["steps"] = st["valid"].sum(axis=1)
    out["finished"] = np.asarray(rollout.finished)
    return out
