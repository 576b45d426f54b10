"""``jaxor lp solve FILE.mps [--backend pdhg|highs]``: solve an MPS/LP file and print the result."""

from __future__ import annotations

import argparse
import json


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("lp", help="linear programs: solve MPS/LP files with PDHG or HiGHS")
    sub = p.add_subparsers(dest="lp_command", metavar="ACTION")
    s = sub.add_parser("solve", help="solve an MPS or CPLEX-LP file")
    s.add_argument("file", help="model file (.mps, .mps.gz, .lp)")
    s.add_argument("--backend", choices=("pdhg", "highs"), default="pdhg")
    s.add_argument("--eps", type=float, default=1e-8, help="PDHG relative and absolute tolerance (default 1e-8)")
    s.add_argument("--max-iters", type=int, default=200_000, help="PDHG iteration cap")
    s.add_argument("--float32", action="store_true", help="PDHG in float32 (default float64)")
    s.add_argument("--time-limit", type=float, default=None, help="HiGHS time limit in seconds")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=_solve)
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])


def _solve(args: argparse.Namespace) -> int:
    import time

    from jaxor.lp import highs

    try:
        model = highs.read_model(args.file)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    out = {"file": args.file, "backend": args.backend, **highs.features(model)}
    if args.backend == "highs":
        res = highs.solve_model(model, time_limit=args.time_limit)
        out.update(status=res.status, objective=res.objective, iterations=res.iterations, time_s=res.runtime_s)
    else:
        import jax.numpy as jnp

        import jaxor
        from jaxor.lp import PDHG, solve

        if model.integrality is not None:
            out["note"] = "integrality ignored: PDHG solves the LP relaxation"
        dtype = jnp.float32 if args.float32 else jnp.float64
        with jaxor.float64():
            lp = model.to_lp(dtype)
            t0 = time.perf_counter()
            sol = solve(lp, PDHG(eps_abs=args.eps, eps_rel=args.eps), max_iters=args.max_iters)
            sol.objective.block_until_ready()
            dt = time.perf_counter() - t0
        status = sol.status_name
        obj = model.objective_from_min(float(sol.objective)) if status == "optimal" else None
        out.update(status=status, objective=obj, iterations=int(sol.iterations), time_s_incl_compile=dt,
                   primal_residual=float(sol.primal_residual), dual_residual=float(sol.dual_residual),
                   gap=float(sol.gap))
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>18}: {v}")
    return 0 if out["status"] == "optimal" else 1
