"""OR-Space harness on jaxor's demo workspaces (Zhou et al., arXiv 2605.28158).

Scores the shipped demo set (5 topologies x Build / Revise / Explain) with the reference agent, the
null agent (no program) and a wrong agent (reference objective x 1.05). The paper's rule passes a
Build / Revise run only with an optimal status and |obj - ref| / max(1, |ref|) <= 0.01, so the
expected pass@1 is 100 / 0 / 0. Explain is scored without an LLM judge here (no endpoint on CI):
the exact-match checklist only, semantic items counted as misses. The full run adds the
hard-coded-objective check. (The OR-Space sample ships no reference programs; the sample's must-show
checks run in ``tests/orspace/test_orspace_sample.py`` against the user's copy.)
"""

from __future__ import annotations

from pathlib import Path

import jaxor.orspace as ors
from jaxor.registry import Claim, Result, register


def _agents(ds):
    ref = ors.reference_agent(ds)
    return {"reference": ref, "null": ors.NullAgent(), "wrong_x1.05": ors.ScaledObjectiveAgent(ref, 1.05)}


def _md(header, rows):
    fmt = lambda v: f"{v:.1f}" if isinstance(v, float) else str(v)
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows])


@register("orspace_demo", quick_budget_s=120)
def run(config, out_dir: Path, progress) -> Result:
    """OR-Space scoring of the demo set: reference passes, null and 5%-off agents fail."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    demo = ors.Dataset(ors.demo_root())
    sets = {"demo": (demo, list(demo))}
    total = sum(3 * len(insts) for _, insts in sets.values())
    progress.set_total(total)
    summaries, records = {}, {}
    for set_name, (ds, insts) in sets.items():
        agents = _agents(ds)
        for name, agent in agents.items():
            recs = ors.run_benchmark(ds, agent, out_dir / set_name / name, instances=insts, workers=2)
            progress.update(len(insts))
            records[set_name, name] = recs
            summaries[set_name, name] = ors.summarize(recs)
    claims = []
    d = {k[1]: v for k, v in summaries.items() if k[0] == "demo"}
    for mode in ("build", "revise"):
        claims.append(Claim(f"demo {mode}: reference agent passes every instance", "100%",
                            d["reference"]["pass_at_1"][mode], d["reference"]["pass_at_1"][mode] == 100.0))
        for bad in ("null", "wrong_x1.05"):
            v = d[bad]["pass_at_1"][mode]
            claims.append(Claim(f"demo {mode}: {bad} agent fails every instance", "0%", v, v == 0.0))
    ex = [r for r in records["demo", "reference"] if r["mode"] == "explain"]
    cov = 100.0 * sum(r["exact_hits"] for r in ex) / max(1, sum(r["exact_total"] for r in ex))
    claims.append(Claim("demo explain: reference answers hit every exact-match entity", "100%", cov, cov == 100.0))
    null_ex = d["null"]["explain_mean"]
    claims.append(Claim("demo explain: null agent scores 0", "0", null_ex, null_ex == 0.0))
    if not config.quick:
        ref = ors.reference_agent(demo)
        hard = ors.CallableAgent(lambda t: f"print('FINAL_OBJ_VALUE: {demo[t.workspace_id].reference_objective!r}')\n",
                                 name="hardcoded")
        cfg = ors.RunConfig(check_hardcoded=True)
        insts = demo.filter(mode=["build", "revise"])
        hrec = ors.run_benchmark(demo, hard, out_dir / "demo" / "hardcoded", instances=insts, config=cfg, workers=2)
        rrec = ors.run_benchmark(demo, ref, out_dir / "demo" / "reference_checked", instances=insts, config=cfg,
                                 workers=2)
        flagged = sum(r["outcome"] == "integrity_violation" for r in hrec)
        honest = sum(r["outcome"] == "pass" for r in rrec)
        claims.append(Claim("hard-coded objectives detected (data perturbation + static check)",
                            f"{len(hrec)}/{len(hrec)}", flagged, flagged == len(hrec)))
        claims.append(Claim("reference programs not flagged by the hard-coding check", f"{len(rrec)}/{len(rrec)}",
                            honest, honest == len(rrec)))
    rows = []
    for (set_name, name), s in summaries.items():
        rows.append([set_name, name, s["pass_at_1"].get("build", float("nan")),
                     s["pass_at_1"].get("revise", float("nan")),
                     s["explain_mean"] if s["explain_mean"] is not None else "-"])
    tables = {"pass@1 % (Build, Revise) and Explain mean score (exact-match only, no judge)":
              _md(["set", "agent", "build", "revise", "explain"], rows)}
    s = summaries["demo", "reference"]
    tables["Reference agent on the demo set, by domain"] = _md(
        ["mode", "domain", "pass@1 %"], [[m, k, v] for m, dd in s["by_domain"].items() for k, v in dd.items()])
    tables["Wrong agent (x1.05) outcome classes"] = _md(
        ["mode", "outcome", "count"],
        [[m, k, v] for m, dd in summaries["demo", "wrong_x1.05"]["outcomes"].items() for k, v in dd.items()])
    fig, ax = plt.subplots(figsize=(6, 3))
    names = [n for (sn, n) in summaries if sn == "demo"]
    for k, mode in enumerate(("build", "revise")):
        ax.bar([i + 0.38 * k for i in range(len(names))], [d[n]["pass_at_1"][mode] for n in names], width=0.36,
               label=mode)
    ax.set_xticks([i + 0.19 for i in range(len(names))], names)
    ax.set_ylabel("pass@1 %")
    ax.set_ylim(0, 105)
    ax.legend()
    ax.set_title("OR-Space rule (1% of max(1,|ref|)) on the jaxor demo set", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_dir / "orspace_demo_pass.png", dpi=110)
    plt.close(fig)
    ors.write_report(records["demo", "reference"], out_dir / "demo" / "reference", title="reference agent, demo set")
    metrics = {f"{sn}/{n}/pass_at_1": v["pass_at_1"] for (sn, n), v in summaries.items()}
    metrics.update({f"{sn}/{n}/explain_mean": v["explain_mean"] for (sn, n), v in summaries.items()})
    metrics["demo_instances"] = len(demo)
    return Result(metrics=metrics, claims=claims, figures=["orspace_demo_pass.png"], tables=tables,
                  notes=f"{len(demo)} demo workspaces. Explain scored without a judge (exact-match items only).")
