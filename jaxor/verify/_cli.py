"""``jaxor verify eval|model|program``: a thin argparse layer over :mod:`jaxor.verify`.

Context: SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver programs by running them.
"""

from __future__ import annotations

import argparse
import json
import os


def _dump(obj, path: str | None) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(obj, f, indent=1, default=str)


def _cmd_eval(args: argparse.Namespace) -> int:
    from jaxor.sandbox import Limits
    from jaxor.verify import POLICIES, evaluate

    policies = args.tolerance or list(POLICIES)
    try:
        rep = evaluate(args.data, args.pred, policies=policies, workers=args.workers,
                       limits=Limits(wall_s=args.wall), journal=args.journal,
                       allow_unsandboxed=args.allow_unsandboxed)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    print(rep.format(per_item=not args.quiet, limit=None if args.all_items else 50))
    _dump(rep.to_dict(), args.json)
    return 0


def _cmd_model(args: argparse.Namespace) -> int:
    from jaxor.verify import check_model_file

    r = check_model_file(args.file, time_limit=args.time_limit, sanitize=not args.no_sanitize,
                         resolve_ambiguous=args.resolve_ambiguous)
    print(f"parse: {r.parse_status}   status: {r.status}   objective: {r.objective}")
    if r.features is not None:
        f = r.features
        print(f"sense: {f.sense}   vars: {f.n_vars} (int {f.n_int}, bin {f.n_bin})   cons: {f.n_cons}   "
              f"nnz: {f.nnz}   offset: {f.offset:g}")
    if r.message:
        print(r.message)
    _dump(r.to_dict(), args.json)
    return 0 if r.status == "optimal" else 1


def _cmd_program(args: argparse.Namespace) -> int:
    from jaxor.sandbox import Limits, SandboxUnavailable
    from jaxor.verify import check_program

    limits = Limits(wall_s=args.wall, memory_bytes=args.memory_mb << 20)
    try:
        r = check_program(path=os.path.abspath(args.file), workdir=args.workdir, limits=limits, solver_track=args.track,
                          model_file=args.model_file, allow_unsandboxed=args.allow_unsandboxed)
    except SandboxUnavailable as e:
        print(f"error: {e}")
        return 2
    print(f"status: {r.status}   objective: {r.objective}   printed: {r.printed!r}")
    if r.model is not None:
        print(f"model file: {r.model_file}   re-solve: {r.model.status} {r.model.objective}   "
              f"consistent: {r.consistent}   hard-coded: {r.hardcoded}")
    sb = r.sandbox
    if sb is not None:
        print(f"sandbox: {sb.status}   wall {sb.wall_s:.2f} s   cpu {sb.cpu_s}   sandboxed {sb.sandboxed}")
    if r.message:
        print(r.message)
    if sb is not None and sb.stderr and r.status != "ok":
        print("--- stderr (tail) ---\n" + sb.stderr[-2000:])
    _dump(r.to_dict(), args.json)
    return 0 if r.status == "ok" and not r.hardcoded else 1


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("verify", help="verify optimisation models, programs and benchmark predictions")
    sub = p.add_subparsers(dest="verify_command", metavar="WHAT")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])

    e = sub.add_parser("eval", help="accuracy per tolerance policy on an en_question/en_answer benchmark")
    e.add_argument("--data", required=True, help="benchmark JSONL (en_question/en_answer)")
    e.add_argument("--pred", required=True, help="predictions JSONL: id + objective | code | completion")
    e.add_argument("--tolerance", action="append", default=None, metavar="NAME",
                   help="policy (sirl, orspace, orlm, optmath, optibench, or NAME@TOL); repeatable; default all")
    e.add_argument("--workers", type=int, default=None, help="parallel sandboxes for code predictions")
    e.add_argument("--wall", type=float, default=60.0, help="wall-clock limit per program (s)")
    e.add_argument("--journal", default=None, help="JSONL journal: an interrupted run resumes")
    e.add_argument("--json", default=None, help="write the full report here")
    e.add_argument("--quiet", action="store_true", help="no per-item table")
    e.add_argument("--all-items", action="store_true", help="print every item (default: first 50)")
    e.add_argument("--allow-unsandboxed", action="store_true")
    e.set_defaults(func=_cmd_eval)

    m = sub.add_parser("model", help="load an LP/MPS file with HiGHS, solve, report status and structure")
    m.add_argument("file")
    m.add_argument("--time-limit", type=float, default=60.0)
    m.add_argument("--no-sanitize", action="store_true", help="do not rewrite bracketed LP names")
    m.add_argument("--resolve-ambiguous", action="store_true", help="split 'infeasible or unbounded'")
    m.add_argument("--json", default=None)
    m.set_defaults(func=_cmd_model)

    g = sub.add_parser("program", help="run a generated program in the sandbox and verify its objective")
    g.add_argument("file")
    g.add_argument("--workdir", default=None, help="working directory (default: a fresh temporary one)")
    g.add_argument("--wall", type=float, default=60.0)
    g.add_argument("--memory-mb", type=int, default=4096)
    g.add_argument("--track", default="highspy", help="solver track (highspy, gurobipy, coptpy, pulp, scipy)")
    g.add_argument("--model-file", default=None, help="model file the program writes (default: newest .lp/.mps)")
    g.add_argument("--allow-unsandboxed", action="store_true")
    g.add_argument("--json", default=None)
    g.set_defaults(func=_cmd_program)
