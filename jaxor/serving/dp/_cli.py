"""``jaxor serve-sim dp``: data-parallel decode routing study (arXiv 2601.17855)."""

from __future__ import annotations

import argparse


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x]


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("dp", help="data-parallel decode load balancing (BF-IO) under a barrier",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--trace", default="azure-conv", help="azure-conv, azure-code or an Azure-schema CSV path")
    p.add_argument("--requests", type=int, default=2000, help="first N requests of the trace")
    p.add_argument("--workers", type=_ints, default=[8], help="G, comma-separated for a sweep")
    p.add_argument("--slots", type=_ints, default=[64], help="B, comma-separated for a sweep")
    p.add_argument("--utilisation", type=float, default=0.9, help="target fraction of the G x B slots in use")
    p.add_argument("--policy", default="rr,jsq,least-kv,pod,bf-io", help="comma-separated routing policies")
    p.add_argument("--horizon", type=int, default=8, help="BF-IO lookahead H (steps)")
    p.add_argument("--d", type=int, default=2, help="power-of-d candidates")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/serve-sim-dp", help="where plots go")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from jaxor.progress import Progress
    from jaxor.serving.dp._study import grid_study, load_trace, plot_study, rows_table

    policies = [x for x in args.policy.split(",") if x]
    tr = load_trace(args.trace, args.requests)
    with Progress(desc="serve-sim dp") as prog:
        study = grid_study(tr, policies=policies, workers=args.workers, slots=args.slots,
                           utilisation=args.utilisation, horizon=args.horizon, d=args.d, seed=args.seed,
                           record_loads=True, progress=prog)
    print(rows_table(study["rows"]))
    figs = plot_study(study, Path(args.out))
    print("plots: " + ", ".join(str(Path(args.out) / f) for f in figs))
    return 0
