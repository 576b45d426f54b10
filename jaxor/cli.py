"""The ``jaxor`` command. This file only lists the groups; each capability adds its own.

A capability module exposes ``add_cli(subparsers)``, which adds its parser(s) and sets
``func=<callable(args) -> int>`` as the handler. Groups whose module is not installed are left out.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

# (parent group or None, module exposing add_cli). "serve-sim" is a parent group shared by two modules.
PLUGINS: list[tuple[str | None, str]] = [
    (None, "jaxor.lp._cli"),            # jaxor lp ...
    (None, "jaxor.verify._cli"),        # jaxor verify ...
    (None, "jaxor.orspace._cli"),       # jaxor orspace ...
    ("serve-sim", "jaxor.serving._cli"),     # jaxor serve-sim single ...
    ("serve-sim", "jaxor.serving.dp._cli"),  # jaxor serve-sim dp ...
]


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _cmd_info(args: argparse.Namespace) -> int:
    from jaxor._info import environment, format_environment

    print(format_environment(environment()))
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from jaxor._reproduce import default_docs_dir, reproduce

    docs = None if args.no_docs else (Path(args.docs_dir) if args.docs_dir else default_docs_dir())
    return reproduce(args.names or None, quick=args.quick, seed=args.seed, out_dir=Path(args.out),
                     resume=args.resume, docs_dir=docs)


def _cmd_bench(args: argparse.Namespace) -> int:
    from jaxor import benchmarking, registry

    mods = registry.benchmark_modules()
    wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in args.names}
    if wanted:
        known = {m.rsplit(".", 1)[1] for m in mods}
        unknown = sorted(wanted - known)
        if unknown:
            print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(sorted(known)) or 'none'}")
            return 2
        mods = [m for m in mods if m.rsplit(".", 1)[1] in wanted]
    if not mods:
        print("No benchmarks are available yet.")
        return 0
    rows, failed = [], []
    for m in mods:
        print(f"running {m} ...", file=sys.stderr)
        try:
            rows += importlib.import_module(m).run(quick=args.quick)
        except Exception as e:  # one broken benchmark must not hide the others' ratios
            failed.append(f"{m}: {type(e).__name__}: {e}")
    print(benchmarking.format_table(rows))
    for f in failed:
        print(f"FAILED {f}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxor", description="jaxor: differentiable optimization in JAX")
    parser.add_argument("--no-cache", action="store_true", help="do not use the persistent compilation cache")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="versions, backend and devices")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("reproduce", help="run the registered experiments and write a report")
    p.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (default: all)")
    p.add_argument("--quick", action="store_true", help="the small run sized for 2 CPU cores")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="skip experiments already finished in --out")
    p.add_argument("--out", default="runs/reproduce", help="output directory (default: %(default)s)")
    p.add_argument("--docs-dir", default=None, help="where to regenerate <name>.md (default: docs/results of a checkout)")
    p.add_argument("--no-docs", action="store_true", help="do not regenerate docs/results")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("bench", help="run benchmark scripts and print one ratio table")
    p.add_argument("names", nargs="*", metavar="NAME", help="benchmarks, e.g. lp or bench_lp (default: all)")
    p.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    p.set_defaults(func=_cmd_bench)

    parents: dict[str, argparse._SubParsersAction] = {}
    for parent, module in PLUGINS:
        if not _module_available(module):
            continue
        target = sub
        if parent is not None:
            if parent not in parents:
                gp = sub.add_parser(parent, help="LLM-serving simulators")
                parents[parent] = gp.add_subparsers(dest=f"{parent}_command", metavar="MODE")
                gp.set_defaults(func=lambda a, gp=gp: (gp.print_help(), 1)[1])
            target = parents[parent]
        importlib.import_module(module).add_cli(target)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if not args.no_cache:
        from jaxor._cache import enable_compilation_cache

        enable_compilation_cache()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
