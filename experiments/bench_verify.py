"""Throughput of program verification: the sandbox pool vs one program at a time (same run).

Each program is what an LLM writes for the HiGHS track: it imports highspy, builds a small LP,
writes ``model.mps`` and prints ``FINAL_OBJ_VALUE``; verifying it means running it in
:mod:`jaxor.sandbox` and re-solving the written model (:func:`jaxor.verify.check_programs`).
Also reported: the per-program sandbox overhead (namespaced run minus a plain subprocess run of the
same trivial program, median of repeats).

Context: SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver programs by running them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from jaxor import benchmarking
from jaxor.sandbox import Limits
from jaxor.sandbox import run as sandbox_run
from jaxor.verify import ProgramSpec, check_program, check_programs

PROGRAM = """
import highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
xs = [h.addVariable(lb=0, ub={ub}, name=f"x{{i}}") for i in range(6)]
h.addConstr(sum((i + 1) * x for i, x in enumerate(xs)) <= {cap})
h.addConstr(xs[0] + xs[1] >= 1)
h.maximize(sum((7 - i) * x for i, x in enumerate(xs)))
h.writeModel("model.mps")
print("FINAL_OBJ_VALUE:", h.getInfo().objective_function_value)
"""


def _programs(n: int) -> list[ProgramSpec]:
    return [ProgramSpec(id=f"p{i}", code=PROGRAM.format(ub=2 + i % 5, cap=10 + i)) for i in range(n)]


def _overhead(repeats: int) -> tuple[float, float]:
    """Median seconds of a trivial program: (sandboxed, plain subprocess)."""
    lim = Limits(wall_s=30)
    sb, plain = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = sandbox_run(code="pass", limits=lim, keep_workdir=False)
        sb.append(time.perf_counter() - t0)
        assert r.status == "ok", r.message
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "program.py"), "w") as f:
                f.write("pass\n")
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "program.py"], cwd=d, check=True, capture_output=True, timeout=30)
            plain.append(time.perf_counter() - t0)
    return statistics.median(sb), statistics.median(plain)


def run(quick: bool = False) -> list[benchmarking.Ratio]:
    n = 8 if quick else 24
    workers = 4
    specs = _programs(n)
    lim = Limits(wall_s=60)

    def serial():
        out = [check_program(s.code, limits=lim, id=s.id) for s in specs]
        assert all(c.status == "ok" and c.consistent for c in out), [c.message for c in out]

    def pooled():
        out = check_programs(specs, workers=workers, limits=lim)
        assert all(c.status == "ok" and c.consistent for c in out), [c.message for c in out]

    repeats = 3
    t_serial = benchmarking.median_time(serial, repeats=repeats, warmup=1)
    t_pool = benchmarking.median_time(pooled, repeats=repeats, warmup=0)
    sb, plain = _overhead(5 if quick else 9)
    cores = len(os.sched_getaffinity(0))
    return [
        benchmarking.Ratio("verify", f"pool({workers}) vs one by one, {n} programs, {cores} cores", n / t_pool,
                           n / t_serial, "serial", "programs/s", t_serial / t_pool, target=1.7,
                           note=f"median of {repeats}"),
        benchmarking.Ratio("verify", "sandbox overhead per program (trivial program)", sb * 1e3, plain * 1e3,
                           "plain subprocess", "ms", plain / sb, target=None,
                           note=f"overhead {1e3 * (sb - plain):.0f} ms/program"),
    ]


if __name__ == "__main__":
    benchmarking.main(run)
