"""``jaxor reproduce``: run registered experiments, write results.json, report.md and docs/results/<name>.md."""

from __future__ import annotations

import json
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from jaxor import registry
from jaxor._info import environment
from jaxor.progress import Progress

_CHECKOUT = Path(__file__).resolve().parent.parent


def default_docs_dir() -> Path | None:
    """``<checkout>/docs/results`` when running from a source checkout, else None (installed wheel)."""
    if (_CHECKOUT / "pyproject.toml").exists() and (_CHECKOUT / "docs").is_dir():
        return _CHECKOUT / "docs" / "results"
    return None


def _claims_table(claims: list[dict[str, Any]]) -> str:
    if not claims:
        return "_No claims checked._\n"
    rows = ["| claim | target | measured | met |", "|---|---|---|---|"]
    for c in claims:
        rows.append(f"| {c['claim']} | {c['target']} | {c['measured']} | {'yes' if c['met'] else '**no**'} |")
    return "\n".join(rows) + "\n"


def experiment_markdown(rec: dict[str, Any], fig_prefix: str = "") -> str:
    """The markdown section for one experiment record (used in report.md and docs/results)."""
    cfg = rec["config"]
    out = [f"## {rec['name']}\n", f"{rec['description']}\n",
           f"- status: **{rec['status']}**, {rec['elapsed_s']:.1f} s, quick={cfg['quick']}, seed={cfg['seed']}",
           f"- backend: {rec['environment']['backend']}, devices: {len(rec['environment']['devices'])}, "
           f"jax {rec['environment']['packages'].get('jax')}\n"]
    if rec["status"] != "ok":
        out.append("```\n" + rec.get("error", "") + "\n```\n")
        return "\n".join(out)
    out.append("### Claims\n")
    out.append(_claims_table(rec["claims"]))
    for title, table in rec.get("tables", {}).items():
        out.append(f"### {title}\n\n{table}\n")
    if rec.get("notes"):
        out.append(rec["notes"] + "\n")
    for fig in rec.get("figures", []):
        out.append(f"![{fig}]({fig_prefix}{fig})\n")
    return "\n".join(out)


def _run_one(exp: registry.Experiment, cfg: registry.RunConfig, out_dir: Path, env: dict[str, Any]) -> dict[str, Any]:
    exp_dir = out_dir / exp.name
    exp_dir.mkdir(parents=True, exist_ok=True)
    rec: dict[str, Any] = {"name": exp.name, "description": exp.description, "environment": env,
                           "config": {"quick": cfg.quick, "seed": cfg.seed, "options": cfg.options},
                           "quick_budget_s": exp.quick_budget_s}
    t0 = time.perf_counter()
    with Progress(desc=exp.name) as prog:
        try:
            res = exp.run(cfg, exp_dir, prog)
            if not isinstance(res, registry.Result):
                raise TypeError(f"experiment {exp.name} returned {type(res).__name__}, not jaxor.registry.Result")
            rec.update(status="ok", metrics=registry.jsonable(res.metrics),
                       claims=[c.to_json() for c in res.claims], figures=list(res.figures),
                       tables=dict(res.tables), notes=res.notes)
        except Exception:  # a crash is recorded and reported, and the run goes on
            rec.update(status="crashed", error=traceback.format_exc(), metrics={}, claims=[], figures=[])
    rec["elapsed_s"] = time.perf_counter() - t0
    (exp_dir / "results.json").write_text(json.dumps(rec, indent=2, default=str))
    return rec


def _finished(out_dir: Path, name: str, cfg: registry.RunConfig) -> dict[str, Any] | None:
    f = out_dir / name / "results.json"
    if not f.exists():
        return None
    try:
        rec = json.loads(f.read_text())
    except (json.JSONDecodeError, OSError):
        return None
    same = rec.get("config", {}).get("quick") == cfg.quick and rec.get("config", {}).get("seed") == cfg.seed
    return rec if rec.get("status") == "ok" and same else None


def reproduce(names: list[str] | None, *, quick: bool, seed: int, out_dir: Path, resume: bool,
              docs_dir: Path | None, echo=print) -> int:
    """Run experiments; returns the process exit code (0 unless an experiment crashed)."""
    exps = registry.discover()
    if not exps:
        echo("No experiments are registered yet; nothing to reproduce.")
        return 0
    if names:
        unknown = sorted(set(names) - set(exps))
        if unknown:
            echo(f"unknown experiment(s): {', '.join(unknown)}; registered: {', '.join(exps)}")
            return 2
        exps = {n: exps[n] for n in names}
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = registry.RunConfig(quick=quick, seed=seed)
    env = environment()
    records = []
    for i, (name, exp) in enumerate(exps.items(), 1):
        prev = _finished(out_dir, name, cfg) if resume else None
        if prev is not None:
            echo(f"[{i}/{len(exps)}] {name}: finished earlier, skipped (--resume)")
            records.append(prev)
            continue
        echo(f"[{i}/{len(exps)}] {name}: {exp.description}")
        rec = _run_one(exp, cfg, out_dir, env)
        met = sum(c["met"] for c in rec["claims"])
        echo(f"    {rec['status']} in {rec['elapsed_s']:.1f} s; claims met {met}/{len(rec['claims'])}")
        records.append(rec)
        if docs_dir is not None and rec["status"] == "ok":
            _write_docs(rec, out_dir / name, docs_dir)
    summary = {"environment": env, "config": {"quick": quick, "seed": seed}, "experiments": records}
    (out_dir / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    report = ["# jaxor reproduce report\n", f"quick={quick}, seed={seed}\n", "| experiment | status | claims met | seconds |",
              "|---|---|---|---|"]
    for r in records:
        report.append(f"| {r['name']} | {r['status']} | {sum(c['met'] for c in r['claims'])}/{len(r['claims'])} "
                      f"| {r['elapsed_s']:.1f} |")
    report.append("")
    report += [experiment_markdown(r, fig_prefix=f"{r['name']}/") for r in records]
    (out_dir / "report.md").write_text("\n".join(report))
    echo(f"report: {out_dir / 'report.md'}")
    crashed = [r["name"] for r in records if r["status"] != "ok"]
    if crashed:
        echo(f"crashed: {', '.join(crashed)}")
    return 1 if crashed else 0


def _write_docs(rec: dict[str, Any], exp_dir: Path, docs_dir: Path) -> None:
    docs_dir.mkdir(parents=True, exist_ok=True)
    fig_dir = docs_dir / rec["name"]
    for fig in rec.get("figures", []):
        src = exp_dir / fig
        if src.exists():
            (fig_dir / fig).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, fig_dir / fig)
    header = (f"# Results: {rec['name']}\n\n_Regenerated by `jaxor reproduce{' --quick' if rec['config']['quick'] else ''} "
              f"{rec['name']}`; numbers are measured, not copied._\n\n")
    (docs_dir / f"{rec['name']}.md").write_text(header + experiment_markdown(rec, fig_prefix=f"{rec['name']}/"))
