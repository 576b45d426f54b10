"""A grid study: one Azure (or given) trace, routing policies x (G, B) pairs, one sharded rollout.

Used by ``jaxor serve-sim dp`` and the ``load_balancing`` experiment (arXiv 2601.17855).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from jaxor.serving._trace import Trace, load_azure, stack
from jaxor.serving.dp._metrics import lanes, scale_to_utilisation, summarize_dp
from jaxor.serving.dp._model import POLICY_IDS, dp_time_model, load_only_time_model
from jaxor.serving.dp._rollout import simulate_dp

__all__ = ["load_trace", "grid_study", "plot_study", "rows_table"]


def load_trace(name: str = "azure-conv", n_requests: int | None = 2000, *, offset: int = 0) -> Trace:
    """Requests ``offset .. offset + n_requests`` of a trace, arrival times in milliseconds."""
    tr = load_azure(name, round_s=1e-3)
    if n_requests is not None:
        if not 2 <= n_requests <= tr.n - offset:
            raise ValueError(f"n_requests must be in [2, {tr.n - offset}]; got {n_requests}")
        sl = slice(offset, offset + n_requests)
        tr = Trace(*[np.asarray(x)[sl] for x in tr])
    return tr


def grid_study(trace: Trace, *, policies=("rr", "jsq", "least-kv", "pod", "bf-io"), workers=(8,), slots=(64,),
               utilisation: float = 0.9, horizon: int = 8, d: int = 2, seed: int = 0, max_assign: int = 16,
               kv_capacity: int | None = None, record_loads: bool = False, progress=None) -> dict:
    """Roll out every policy on every (G, B) pair, arrivals scaled to ``utilisation`` for each pair.

    Returns a dict with ``rows`` (one per lane: policy, G, B, and the metrics of :func:`summarize_dp` under
    the default time model, plus ``idle_fraction_load`` under the load-only model), and the rollouts.
    """
    pairs = list(itertools.product(workers, slots))
    cap = int(kv_capacity) if kv_capacity is not None else 2**31 - 1
    traces, cfg_parts = [], []
    for g, b in pairs:
        scaled = scale_to_utilisation(trace, workers=g, slots=b, utilisation=utilisation)
        for p in policies:
            traces.append(scaled)
            cfg_parts.append(lanes([p], workers=g, slots=b, kv_capacity=cap, horizon=horizon, d=d, seeds=(seed,)))
    from jaxor.serving.dp._model import DPConfig

    cfgs = DPConfig(*[np.concatenate([getattr(c, f) for c in cfg_parts]) for f in DPConfig._fields])
    batch = stack(traces)
    out = simulate_dp(batch, cfgs, max_assign=max_assign, time_model=dp_time_model(), record_loads=record_loads,
                      progress=progress)
    out_load = simulate_dp(batch, cfgs, max_assign=max_assign, time_model=load_only_time_model())
    m = summarize_dp(out, batch)
    m_load = summarize_dp(out_load, batch)
    names = {v: k for k, v in POLICY_IDS.items()}
    rows = []
    for li in range(len(traces)):
        row = {"policy": names[int(cfgs.policy[li])], "G": int(cfgs.workers[li]), "B": int(cfgs.slots[li])}
        row.update({k: float(v[li]) for k, v in m.items()})
        row["idle_fraction_load"] = float(m_load["idle_fraction"][li])
        row["imbalance_mean_load"] = float(m_load["imbalance_mean"][li])
        rows.append(row)
    return {"rows": rows, "rollout": out, "traces": batch}


def rows_table(rows) -> str:
    head = ("| policy | G | B | idle (time model) | idle (load only) | mean max-mean KV | max/mean | tok/s | "
            "TPOT ms | E2E s | energy J/tok |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
    return head + "\n".join(
        f"| {r['policy']} | {r['G']} | {r['B']} | {r['idle_fraction']:.3f} | {r['idle_fraction_load']:.3f} | "
        f"{r['imbalance_mean']:.0f} | {r['ratio_mean']:.3f} | {r['throughput_tok_s']:.0f} | "
        f"{1e3 * r['tpot_mean_s']:.2f} | {r['e2e_mean_s']:.2f} | {r['energy_per_token_j']:.3f} |" for r in rows)


def plot_study(study: dict, out_dir: Path, *, lane_pair=None) -> list[str]:
    """Idle fraction over time and load per worker for one (G, B) pair; idle against G and B. PNG names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, ro = study["rows"], study["rollout"]
    figs = []
    pairs = sorted({(r["G"], r["B"]) for r in rows})
    g0, b0 = lane_pair or pairs[-1]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for li, r in enumerate(rows):
        if (r["G"], r["B"]) != (g0, b0):
            continue
        st = ro.steps
        valid = st["valid"][li] & (st["active"][li] > 0)
        t = np.where(valid, st["step_time"][li], 0.0)
        idle = np.where(valid, r["G"] * st["step_time"][li] - st["busy_sum"][li], 0.0)
        w = 100
        kern = np.ones(w)
        frac = np.convolve(idle, kern, "same") / np.maximum(np.convolve(r["G"] * t, kern, "same"), 1e-30)
        ax.plot(np.arange(frac.size)[valid], frac[valid], label=r["policy"], lw=1)
    ax.set_xlabel("decode step")
    ax.set_ylabel(f"idle fraction ({w}-step window)")
    ax.set_title(f"barrier idle, G={g0}, B={b0}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "idle_over_time.png", dpi=110)
    plt.close(fig)
    figs.append("idle_over_time.png")
    if ro.loads is not None:
        sel = [(li, r) for li, r in enumerate(rows) if (r["G"], r["B"]) == (g0, b0) and r["policy"] in ("jsq", "bf-io")]
        if sel:
            fig, axes = plt.subplots(1, len(sel), figsize=(6 * len(sel), 3.2), sharey=True, squeeze=False)
            for ax, (li, r) in zip(axes[0], sel, strict=True):
                k = int(ro.steps["valid"][li].sum())
                ax.plot(ro.loads[li, :k, :r["G"]], lw=0.6)
                ax.set_title(f"KV load per worker: {r['policy']}")
                ax.set_xlabel("decode step")
            axes[0][0].set_ylabel("KV tokens")
            fig.tight_layout()
            fig.savefig(out_dir / "load_per_worker.png", dpi=110)
            plt.close(fig)
            figs.append("load_per_worker.png")
    if len(pairs) > 1:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        for pol in sorted({r["policy"] for r in rows}):
            for ax, key in zip(axes, ("G", "B"), strict=True):
                other = "B" if key == "G" else "G"
                fix = max(r[other] for r in rows)
                pts = sorted((r[key], r["idle_fraction_load"]) for r in rows if r["policy"] == pol and r[other] == fix)
                if len(pts) > 1:
                    ax.plot(*zip(*pts, strict=True), "o-", label=pol)
                ax.set_xlabel(key)
                ax.set_xscale("log", base=2)
                ax.set_title(f"idle (load-only model) vs {key}, {other}={fix}")
        axes[0].set_ylabel("idle fraction")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "idle_vs_G_B.png", dpi=110)
        plt.close(fig)
        figs.append("idle_vs_G_B.png")
    return figs
