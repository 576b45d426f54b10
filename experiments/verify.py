"""Solver-informed verification (SIRL, arXiv 2505.11792): containment, hard-coded prints, parsing, throughput."""

from __future__ import annotations

import os
import re
import uuid

import numpy as np

from jaxor.registry import Claim, Result, register
from jaxor.sandbox import Job, Limits, Pool
from jaxor.verify import ProgramSpec, check_programs, parse_final_objective

HOSTILE = {
    "infinite loop": ("while True:\n    pass\n", Limits(wall_s=2.0), "timeout"),
    "fork bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                  Limits(wall_s=2.5, max_processes=32), "timeout"),
    "memory growth": ("x = []\nwhile True:\n    x.append(bytearray(8 << 20))\n",
                      Limits(wall_s=5.0, memory_bytes=160 << 20), "memory_limit"),
    "print 1 GB": ("import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * (1 << 20))\n",
                   Limits(wall_s=5.0, max_output_bytes=1 << 20), "output_limit"),
    "read host file": ("open('/etc/shadow').read()\n", Limits(wall_s=5.0), "error"),
    "write outside": ("open('/usr/evil', 'w').write('x')\n", Limits(wall_s=5.0), "error"),
    "loopback socket": ("import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)\n",
                        Limits(wall_s=5.0), "error"),
    "escaped grandchild": ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                           "        time.sleep(30)\n    os._exit(0)\n", Limits(wall_s=5.0), "ok"),
    "kill parent": ("import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n"
                    "    pass\n", Limits(wall_s=5.0), "ok"),
}

MODEL = """
import highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
xs = [h.addVariable(lb=0, ub={ub}) for i in range(5)]
h.addConstr(sum((i + 1) * x for i, x in enumerate(xs)) <= {cap})
h.maximize(sum(({w} - i) * x for i, x in enumerate(xs)))
h.writeModel("model.mps")
print("FINAL_OBJ_VALUE:", {printed})
"""

SIRL_RELEASED_RE = re.compile(r"-?\d+\.?\d*")  # the released reward's objective regex (a pitfall)


def _live(token: str) -> int:
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    n += token.encode() in f.read()
            except OSError:
                pass
    return n


@register("verify", quick_budget_s=150)
def run(config, out_dir, progress):
    """Sandbox containment, hard-coded print detection, objective parsing and pool throughput."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(config.seed)
    progress.set_total(4)
    claims, tables, metrics = [], {}, {}

    # 1. hostile programs through the pool
    token = f"jaxor-exp-{uuid.uuid4().hex[:8]}"
    jobs = [Job(k, code=c, args=(token,), limits=lim) for k, (c, lim, _) in HOSTILE.items()]
    res = Pool(workers=4).run(jobs)
    leftover = _live(token)
    rows = ["| program | status | expected | wall (s) | limit |", "|---|---|---|---|---|"]
    ok = 0
    for (k, (_, lim, want)), r in zip(HOSTILE.items(), res, strict=True):
        ok += r.status == want
        rows.append(f"| {k} | {r.status} | {want} | {r.wall_s:.2f} | {lim.wall_s:g} s |")
    tables["hostile programs (pool of 4 sandboxes)"] = "\n".join(rows)
    claims.append(Claim("every hostile program ends with its expected status", f"{len(HOSTILE)}/{len(HOSTILE)}",
                        f"{ok}/{len(HOSTILE)}", ok == len(HOSTILE)))
    claims.append(Claim("nothing left running after the batch", "0 processes", leftover, leftover == 0))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(list(HOSTILE), [r.wall_s for r in res], color="tab:blue", label="wall until end")
    ax.scatter([lim.wall_s for _, lim, _ in HOSTILE.values()], list(HOSTILE), color="red", marker="|", s=200,
               label="wall limit")
    ax.set_xlabel("seconds")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "hostile.png", dpi=110)
    plt.close(fig)
    progress.update()

    # 2. hard-coded print detection by re-solving the written model
    n = 12 if config.quick else 40
    specs, truth = [], []
    for i in range(n):
        fake = i % 2 == 1
        printed = "h.getInfo().objective_function_value"
        if fake:
            printed = repr(float(np.round(rng.uniform(1, 100) * (1 + rng.uniform(0.01, 0.5)), 3)))
        specs.append(ProgramSpec(f"p{i}", code=MODEL.format(ub=int(rng.integers(1, 5)), cap=int(rng.integers(5, 30)),
                                                           w=int(rng.integers(6, 10)), printed=printed)))
        truth.append(fake)
    checks = check_programs(specs, workers=4, limits=Limits(wall_s=60))
    flagged = [bool(c.hardcoded) for c in checks]
    tp = sum(f and t for f, t in zip(flagged, truth, strict=True))
    fp = sum(f and not t for f, t in zip(flagged, truth, strict=True))
    fn = sum(t and not f for f, t in zip(flagged, truth, strict=True))
    metrics.update(hardcoded_tp=tp, hardcoded_fp=fp, hardcoded_fn=fn, programs=n)
    claims.append(Claim("hard-coded prints flagged (re-solving the written model)", "all, no false alarm",
                        f"TP {tp}, FP {fp}, FN {fn} of {n}", fp == 0 and fn == 0))
    progress.update()

    # 3. objective parsing: jaxor vs the released SIRL regex
    outputs = ["1e+06", "-2.5E-3", "3.0", "-1.2e5", "7", "4.5e2", "None", "nan", "1,234.5", "-0.0"]
    want = [1e6, -2.5e-3, 3.0, -1.2e5, 7.0, 450.0, None, None, 1234.5, 0.0]
    ours = [parse_final_objective(f"FINAL_OBJ_VALUE: {o}")[1] for o in outputs]
    theirs = []
    for o in outputs:
        m = SIRL_RELEASED_RE.search(o)
        theirs.append(float(m.group(0)) if m else None)
    right = [a == w for a, w in zip(ours, want, strict=True)]
    right_re = [a == w for a, w in zip(theirs, want, strict=True)]
    rows = ["| printed | jaxor | released regex | truth |", "|---|---|---|---|"]
    rows += [f"| {o} | {a} | {b} | {w} |" for o, a, b, w in zip(outputs, ours, theirs, want, strict=True)]
    tables["objective parsing"] = "\n".join(rows)
    claims.append(Claim("FINAL_OBJ_VALUE parsed right (scientific notation, None, nan)", f"{len(outputs)}/{len(outputs)}",
                        f"{sum(right)}/{len(outputs)} (released regex: {sum(right_re)}/{len(outputs)})",
                        all(right)))
    progress.update()

    # 4. throughput: the pool vs one by one (the benchmark script, same run)
    from jaxor.experiments import bench_verify

    ratios = bench_verify.run(quick=config.quick)
    thr, ovh = ratios[0], ratios[1]
    metrics.update(pool_programs_per_s=thr.ours, serial_programs_per_s=thr.peer, pool_speedup=thr.ratio,
                   sandbox_ms=ovh.ours, plain_subprocess_ms=ovh.peer)
    claims.append(Claim("programs verified per second, pool vs one by one (2 cores)", ">= 1.7x",
                        round(thr.ratio, 2), thr.ratio >= 1.7))
    tables["throughput"] = ("| mode | programs/s |\n|---|---|\n"
                            f"| one by one | {thr.peer:.2f} |\n| pool | {thr.ours:.2f} |\n\n"
                            f"sandbox overhead per program: {ovh.ours - ovh.peer:.0f} ms "
                            f"({ovh.ours:.0f} ms sandboxed vs {ovh.peer:.0f} ms plain subprocess, trivial program)")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(["one by one", "pool"], [thr.peer, thr.ours], color=["gray", "tab:green"])
    ax.set_ylabel("programs verified / s")
    fig.tight_layout()
    fig.savefig(out_dir / "throughput.png", dpi=110)
    plt.close(fig)
    progress.update()
    return Result(metrics=metrics, claims=claims, figures=["hostile.png", "throughput.png"], tables=tables)
