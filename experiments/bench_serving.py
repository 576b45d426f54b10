"""Simulated requests per wall second: jaxor's vmapped event-skipping rollout vs the plain-Python oracle.

Workload (issue 9): 64 traces x 8 policies x 10k requests in one jitted call. A trace is a seeded random
window of 10k requests of the Azure 2023 conversation trace (the code trace has only 8,819 requests),
with interval predictions of quality alpha = 0.5; KV capacity M = 16384 tokens, K = 16 running slots,
W = 8 candidate slots, the linear time model. (With Azure prompts of ~1k tokens, 16 slots rarely bind at
M = 16384. The per-epoch cost of the rollout grows as (K + W)^2, the oracle's more slowly: with K = 32,
W = 16 a full-size run measured 2.6x on a loaded 2-core machine.) The peer is :mod:`jaxor.serving.naive` on the same inputs,
timed on 4 rollouts (trace 0 under FCFS, MC-SF, Sorted-F and A_min) and scaled to requests per second;
its completion rounds are checked against the batched run. The rollout runs in a child process whose
lanes are sharded with ``jaxor.batch.sharded`` over one XLA host device per CPU core (the oracle is
single-threaded Python); on a GPU the child uses the GPU.

``--quick``: 8 traces x 8 policies x 2,000 requests (the oracle on 4 rollouts of 2,000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import jaxor.serving as sv
from jaxor import benchmarking
from jaxor.serving.naive import simulate_reference

POLICY_NAMES = ["fcfs", "mc-sf", "sorted-f", "a-max", "a-min", "h-sf", "a-min(evict largest)", "sorted-f(tie smaller)"]


def _policies():
    return [sv.fcfs(), sv.mc_sf(), sv.sorted_f(), sv.a_max(), sv.a_min(), sv.hindsight_sf(), sv.a_min(evict="largest"),
            sv.sorted_f(tie="smaller")]


def workload(n_traces: int, n_requests: int, seed: int = 0):
    """The seeded benchmark traces (stacked) and the list of single traces."""
    conv = sv.load_azure("azure-conv")
    trs = [sv.with_intervals(sv.random_window(conv, seed * 1000 + i, n_requests), seed * 1000 + i, 0.5)
           for i in range(n_traces)]
    return sv.stack(trs), trs


SETTINGS = dict(memory=16384, max_batch=16, window=8)
PEERS = [0, 1, 2, 4]  # the oracle's 4 rollouts: trace 0 under FCFS, MC-SF, Sorted-F and A_min


def measure_jax(n_traces: int, n_req: int) -> dict:
    """Time the batched rollout (one warm-up for compilation, one timed run); runs in a child process."""
    import jax

    batch, _ = workload(n_traces, n_req)
    pols = _policies()
    out = {}

    def go():
        out["r"] = sv.simulate(batch, pols, time_model=sv.linear(), chunk=1 << 30, **SETTINGS)
        return out["r"].completion

    t = benchmarking.median_time(go, repeats=1, warmup=1)
    roll = out["r"]
    return {"seconds": t, "finished": bool(np.all(roll.finished)), "devices": jax.device_count(),
            "backend": jax.default_backend(), "peer_completions": np.asarray(roll.completion[0, PEERS]).tolist()}


def _jax_in_child(n_traces: int, n_req: int, devices: int) -> dict:
    """Run :func:`measure_jax` in a fresh process with ``devices`` host devices (one per CPU core), so that
    ``jaxor.batch.sharded`` spreads the lanes over every core; on a GPU the child uses the GPU."""
    env = dict(os.environ)
    if devices > 1:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}").strip()
    code = ("import json, sys; from jaxor.experiments.bench_serving import measure_jax; "
            f"print('@@' + json.dumps(measure_jax({n_traces}, {n_req})))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child failed: {proc.stderr[-2000:]}")
    return json.loads(lines[-1][2:])


def run(quick: bool = False) -> list[benchmarking.Ratio]:
    n_traces, n_req = (8, 2000) if quick else (64, 10_000)
    cores = os.cpu_count() or 1
    res = _jax_in_child(n_traces, n_req, cores)
    if not res["finished"]:
        raise RuntimeError("some lanes did not finish within max_epochs")
    pols = _policies()
    jax_rps = n_traces * len(pols) * n_req / res["seconds"]

    _, trs = workload(1, n_req)
    refs = {}

    def oracle_run():
        for j in PEERS:
            refs[j] = simulate_reference(trs[0], pols[j], time_model=sv.linear(), **SETTINGS)

    t_or = benchmarking.median_time(oracle_run, repeats=1 if not quick else 3, warmup=0)
    for k, j in enumerate(PEERS):
        if not np.array_equal(refs[j]["completion"], np.asarray(res["peer_completions"][k])):
            raise RuntimeError(f"oracle and rollout disagree on trace 0, policy {POLICY_NAMES[j]}")
    or_rps = len(PEERS) * n_req / t_or
    note = (f"{n_traces} traces x {len(pols)} policies x {n_req} requests, M={SETTINGS['memory']}, "
            f"K={SETTINGS['max_batch']}, W={SETTINGS['window']}; jaxor {res['seconds']:.1f} s on "
            f"{res['devices']} {res['backend']} device(s) (jaxor.batch.sharded); oracle (single-threaded Python) "
            f"{t_or:.1f} s for 4 rollouts, scaled; completions identical")
    on_gpu = res["backend"] == "gpu"
    return [benchmarking.Ratio(benchmark="serving", case=f"requests/s ({res['backend']} x{res['devices']})",
                               ours=jax_rps, peer=or_rps, peer_name="plain-Python oracle", unit="req/s",
                               ratio=jax_rps / or_rps, target=100.0 if on_gpu else 10.0, note=note)]


if __name__ == "__main__":
    benchmarking.main(run)
