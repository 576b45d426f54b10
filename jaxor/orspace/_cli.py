"""``jaxor orspace list|stage|run|score|validate|new``: a thin layer over :mod:`jaxor.orspace`."""

from __future__ import annotations

import json
import sys


def _dataset(args):
    from jaxor.orspace import Dataset, demo_root

    return Dataset(args.root) if args.root else Dataset(demo_root())


def _filters(args) -> dict:
    return {k: v for k, v in dict(mode=args.mode, domain=args.domain, difficulty=args.difficulty,
                                  revise_type=args.revise_type, ids=args.ids).items() if v}


def _cmd_list(args) -> int:
    ds = _dataset(args)
    insts = ds.filter(**_filters(args))
    if args.json:
        print(json.dumps([{"workspace_id": i.workspace_id, "mode": i.mode, "difficulty": i.difficulty,
                           "domain": i.domain, "revise_type": i.revise_type} for i in insts], indent=1))
        return 0
    print(f"{'workspace_id':<24}{'mode':<9}{'difficulty':<11}{'domain':<24}revise_type")
    for i in insts:
        print(f"{i.workspace_id:<24}{i.mode:<9}{i.difficulty or '-':<11}{i.domain or '-':<24}{i.revise_type or '-'}")
    print(f"{len(insts)} of {len(ds)} workspaces in {ds.root}", file=sys.stderr)
    return 0


def _cmd_stage(args) -> int:
    from pathlib import Path

    from jaxor.orspace import stage

    ds = _dataset(args)
    for wid in args.workspace_ids:
        m = stage(ds[wid], Path(args.out) / wid, dataset=ds)
        print(f"staged {wid} -> {m.staged_dir} ({len(m.files)} files; stripped keys: {m.stripped_keys or 'none'})")
    return 0


def _agent(args, ds):
    import jaxor.orspace as ors

    kind = args.agent
    if kind == "reference":
        return ors.reference_agent(ds)
    if kind == "wrong":
        return ors.ScaledObjectiveAgent(ors.reference_agent(ds), args.wrong_factor, name=f"wrong{args.wrong_factor:g}")
    if kind == "null":
        return ors.NullAgent()
    if kind == "command":
        import shlex

        if not args.command:
            raise SystemExit("--agent command needs --command")
        return ors.CommandAgent(shlex.split(args.command), timeout_s=args.agent_timeout)
    if kind == "python":
        import importlib

        if not args.callable or ":" not in args.callable:
            raise SystemExit("--agent python needs --callable module:function")
        mod, fn = args.callable.split(":", 1)
        return ors.CallableAgent(getattr(importlib.import_module(mod), fn))
    if not args.model:
        raise SystemExit(f"--agent {kind} needs --model")
    kw = dict(base_url=args.base_url, api_key_env=args.api_key_env, temperature=args.temperature,
              max_tokens=args.max_tokens)
    if kind == "llm":
        return ors.LLMAgent(args.model, **kw)
    return ors.ToolLLMAgent(args.model, max_turns=args.max_turns, **kw)


def _cmd_run(args) -> int:
    import jaxor.orspace as ors
    from jaxor.progress import Progress

    ds = _dataset(args)
    insts = ds.filter(**_filters(args))
    agent = _agent(args, ds)
    judge = None
    if args.judge_model:
        judge = ors.LLMJudge(args.judge_model, base_url=args.judge_base_url or args.base_url,
                             api_key_env=args.api_key_env, dataset_root=ds.root)
    cfg = ors.RunConfig(timeout_s=args.timeout, agent_timeout_s=args.agent_timeout, solver_track=args.solver_track,
                        check_hardcoded=args.check_hardcoded, allow_unsandboxed=args.allow_unsandboxed)
    with Progress(desc=f"orspace {agent.name}") as prog:
        recs = ors.run_benchmark(ds, agent, args.out, instances=insts, config=cfg, judge=judge,
                                 resume=not args.no_resume, progress=prog, workers=args.workers)
    path = ors.write_report(recs, args.out, title=f"OR-Space run: {agent.name} on {ds.root.name}")
    s = ors.summarize(recs)
    print(json.dumps({"pass_at_1": s["pass_at_1"], "explain_mean": s["explain_mean"], "outcomes": s["outcomes"],
                      "report": str(path)}, indent=1))
    return 0


def _cmd_score(args) -> int:
    import jaxor.orspace as ors

    if args.run:
        recs = ors.load_records(args.run)
        path = ors.write_report(recs, args.run, title=f"OR-Space run {args.run}")
        print(json.dumps({**{k: ors.summarize(recs)[k] for k in ("pass_at_1", "explain_mean")},
                          "report": str(path)}, indent=1))
        return 0
    if not args.predictions:
        raise SystemExit("give --predictions FILE or --run DIR")
    res = ors.score_predictions(_dataset(args), args.predictions, allow_missing=args.allow_missing)
    print(json.dumps(res if args.verbose else res["objective_match_pass_at_1"], indent=1))
    return 0


def _cmd_validate(args) -> int:
    from jaxor.orspace import validate

    rep = validate(_dataset(args), run_programs=not args.no_run)
    for p in rep.problems:
        print(f"PROBLEM {p}")
    print(f"{len(rep.checks)} workspaces checked, {len(rep.problems)} problems")
    return 0 if rep.ok else 1


def _cmd_new(args) -> int:
    from jaxor.orspace import DOMAINS, generate, validate

    domains = tuple(args.domains) if args.domains else DOMAINS
    ds = generate(args.out, domains=domains, seed=args.seed, start=args.start)
    print(f"wrote {len(ds)} workspaces to {ds.root}")
    if not args.no_validate:
        rep = validate(ds)
        for p in rep.problems:
            print(f"PROBLEM {p}")
        return 0 if rep.ok else 1
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("orspace", help="OR-Space workspace benchmark harness")
    sub = p.add_subparsers(dest="orspace_command", metavar="ACTION")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])

    def common(q, filters=True):
        q.add_argument("--root", default=None, help="dataset root (Workspace_OR/ + evaluation/); default: demo set")
        if filters:
            q.add_argument("--mode", nargs="*", choices=["build", "revise", "explain"])
            q.add_argument("--domain", nargs="*")
            q.add_argument("--difficulty", nargs="*")
            q.add_argument("--revise-type", nargs="*", dest="revise_type")
            q.add_argument("--ids", nargs="*", help="workspace ids")

    q = sub.add_parser("list", help="list and filter workspaces")
    common(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_cmd_list)

    q = sub.add_parser("stage", help="stage participant copies with sha256 manifests")
    common(q, filters=False)
    q.add_argument("workspace_ids", nargs="+")
    q.add_argument("--out", required=True)
    q.set_defaults(func=_cmd_stage)

    q = sub.add_parser("run", help="run an agent over workspaces (resumable)")
    common(q)
    q.add_argument("--agent", default="reference",
                   choices=["reference", "null", "wrong", "command", "python", "llm", "llm-tools"])
    q.add_argument("--command", help="command-line agent, e.g. \"python my_agent.py {workdir}\"")
    q.add_argument("--callable", help="python agent as module:function")
    q.add_argument("--model")
    q.add_argument("--base-url", dest="base_url")
    q.add_argument("--api-key-env", dest="api_key_env", default="OPENAI_API_KEY")
    q.add_argument("--temperature", type=float, default=0.0)
    q.add_argument("--max-tokens", dest="max_tokens", type=int, default=8192)
    q.add_argument("--max-turns", dest="max_turns", type=int, default=12)
    q.add_argument("--judge-model", dest="judge_model")
    q.add_argument("--judge-base-url", dest="judge_base_url")
    q.add_argument("--wrong-factor", dest="wrong_factor", type=float, default=1.05)
    q.add_argument("--timeout", type=float, default=180.0, help="program wall-clock limit (s)")
    q.add_argument("--agent-timeout", dest="agent_timeout", type=float, default=600.0)
    q.add_argument("--solver-track", dest="solver_track", default="highspy")
    q.add_argument("--check-hardcoded", dest="check_hardcoded", action="store_true")
    q.add_argument("--allow-unsandboxed", dest="allow_unsandboxed", action="store_true")
    q.add_argument("--no-resume", dest="no_resume", action="store_true")
    q.add_argument("--workers", type=int, default=1, help="instances run at once (each program sandboxed)")
    q.add_argument("--out", required=True)
    q.set_defaults(func=_cmd_run)

    q = sub.add_parser("score", help="score a predictions JSONL, or re-report a run directory")
    common(q, filters=False)
    q.add_argument("--predictions")
    q.add_argument("--run")
    q.add_argument("--allow-missing", dest="allow_missing", action="store_true")
    q.add_argument("--verbose", action="store_true")
    q.set_defaults(func=_cmd_score)

    q = sub.add_parser("validate", help="validate a dataset (reference passes, no leaks, perturbation, revise)")
    common(q, filters=False)
    q.add_argument("--no-run", dest="no_run", action="store_true", help="static checks only")
    q.set_defaults(func=_cmd_validate)

    q = sub.add_parser("new", help="generate new workspaces (five domains, three modes)")
    q.add_argument("--out", required=True)
    q.add_argument("--domains", nargs="*")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--start", type=int, default=1)
    q.add_argument("--no-validate", dest="no_validate", action="store_true")
    q.set_defaults(func=_cmd_new)
