"""Run an agent over OR-Space workspaces and record OR-Space-compatible results (arXiv 2605.28158, §4).

For each instance: stage a fresh participant copy, let the agent act, run its program as the released
protocol does (``_agent_solution.py`` at the workspace root for Build, at the root of ``revised/``
for Revise, run from there; a program left in ``src/`` is accepted too), score it, check the staging
manifest for tampering, and append one JSON line to ``records.jsonl`` (fsync'd). A run directory
can be resumed: finished instances are never redone and a half-written last line is dropped.

Outputs in ``out_dir``: ``records.jsonl`` (per instance), ``predictions.jsonl`` (``workspace_id``,
``status``, ``objective``, ``solver_track``: the release scorer's input), ``explain_answers.jsonl``
(``instance_id``, ``answer``: the release judge's input), ``work/<workspace_id>/`` staged copies.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jaxor.orspace._agents import Agent, AgentReport, AgentTask
from jaxor.orspace._dataset import Dataset, Instance
from jaxor.orspace._exec import ExecResult, check_solver_track, run_program
from jaxor.orspace._explain import score_explain
from jaxor.orspace._scoring import classify_run, default_policy, score_prediction
from jaxor.orspace._stage import check_manifest, stage
from jaxor.verify import TolerancePolicy

__all__ = ["RunConfig", "find_program", "load_records", "perturb_data", "run_benchmark", "score_predictions"]


@dataclasses.dataclass
class RunConfig:
    """Harness settings (defaults are the paper's protocol).

    Attributes:
        timeout_s: wall-clock limit of one program run (180 s in the paper).
        agent_timeout_s: limit handed to agents (command-line agents are killed after it).
        solver_track: ``highspy`` (default), ``gurobipy``, ``pulp`` or ``coptpy`` where installed.
        program_name: the agent program's file name.
        build_program_dir / revise_program_dir: folders (relative to the workspace) the program is saved
            in and run from.
        answer_name: the Explain answer file at the workspace root.
        check_hardcoded: re-run each program on perturbed data; an unchanged objective is flagged.
        perturb_factor: the data perturbation (numbers scaled by it; small integers kept).
        allow_unsandboxed: where Linux namespaces are unavailable, run programs in the sandbox's plain
            subprocess fallback (rlimits and timeout only) instead of recording infrastructure errors.
    """

    timeout_s: float = 180.0
    agent_timeout_s: float = 600.0
    solver_track: str = "highspy"
    program_name: str = "_agent_solution.py"
    build_program_dir: str = "."
    revise_program_dir: str = "revised"
    answer_name: str = "answer.md"
    check_hardcoded: bool = False
    perturb_factor: float = 1.1
    allow_unsandboxed: bool = False

    def __post_init__(self):
        for name in ("timeout_s", "agent_timeout_s", "perturb_factor"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"RunConfig.{name}={v!r} must be a positive number")
        if self.perturb_factor == 1:
            raise ValueError("RunConfig.perturb_factor must differ from 1")
        if not self.program_name.endswith(".py") or "/" in self.program_name:
            raise ValueError(f"RunConfig.program_name={self.program_name!r} must be a .py file name")
        for name in ("build_program_dir", "revise_program_dir"):
            if ".." in Path(getattr(self, name)).parts or Path(getattr(self, name)).is_absolute():
                raise ValueError(f"RunConfig.{name}={getattr(self, name)!r} must be a folder inside the workspace")


def _base_dir(workdir: Path, mode: str, cfg: RunConfig) -> Path:
    return (workdir / (cfg.revise_program_dir if mode == "revise" else cfg.build_program_dir)).resolve()


def find_program(task: AgentTask) -> Path | None:
    """The program to run: ``task.program_path``, else ``src/_agent_solution.py`` or the only ``.py``
    file of ``src/`` beside it."""
    if task.program_path.is_file():
        return task.program_path
    src = task.program_path.parent / "src"
    cand = src / task.program_path.name
    if cand.is_file():
        return cand
    pys = sorted(p for p in src.glob("*.py")) if src.is_dir() else []
    return pys[0] if len(pys) == 1 else None


_LAUNCHER = "_jaxor_run.py"
_LAUNCH_SRC = """import os
import runpy
import sys

os.chdir({folder!r})
sys.path[0] = os.path.dirname(os.path.abspath({prog!r}))
sys.argv = [{prog!r}]
runpy.run_path({prog!r}, run_name="__main__")
"""


def _execute(program: Path, base: Path, cfg: RunConfig, root: Path | None = None) -> ExecResult:
    """Run ``program`` from its run folder ``base`` inside the staged workspace ``root`` (sandboxed).

    The sandbox makes its work folder the only visible one; when ``base`` is a sub-folder (Revise:
    ``revised/``), the whole workspace is mounted and a launcher changes into ``base`` first, so the
    program runs from there as in the release while ``../original`` stays readable.
    """
    root = root or base
    rel = os.path.relpath(program, base)
    folder = os.path.relpath(base, root)
    if rel.startswith("..") or folder.startswith(".."):
        return ExecResult(None, "", f"program {program} is outside its run folder {base}", False, 0.0)
    kw = dict(timeout_s=cfg.timeout_s, solver_track=cfg.solver_track, allow_unsandboxed=cfg.allow_unsandboxed)
    if folder == ".":
        return run_program(rel, root, **kw)
    launcher = root / _LAUNCHER
    launcher.write_text(_LAUNCH_SRC.format(folder=folder, prog=rel), encoding="utf-8")
    try:
        return run_program(_LAUNCHER, root, **kw)
    finally:
        launcher.unlink(missing_ok=True)


_NUM_CELL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def perturb_data(folder: Path, factor: float = 1.1) -> int:
    """Scale numeric CSV cells under every ``data/`` folder of ``folder`` by ``factor`` (integers with
    ``|v| < 10`` such as period counts are kept; other integers are rounded). Returns cells changed."""
    changed = 0
    for path in sorted(folder.rglob("data/*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                s = cell.strip()
                if r == 0 or not _NUM_CELL.match(s):
                    continue
                v = float(s)
                is_int = re.fullmatch(r"[-+]?\d+", s) is not None
                if is_int and abs(v) < 10:
                    continue
                new = str(round(v * factor)) if is_int else repr(v * factor)
                if new != s:
                    rows[r][c] = new
                    changed += 1
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    return changed


_LITERAL_PRINT = re.compile(r"FINAL_OBJ_VALUE:\s*[-+]?\d")


def _hardcode_check(program: Path, workdir: Path, base: Path, obj: float, cfg: RunConfig) -> dict:
    """Dynamic: the program run on a copy with perturbed data prints the same objective (flagged).
    Static: a numeric literal after ``FINAL_OBJ_VALUE:`` in the source (flagged only when the perturbed
    run printed no objective)."""
    out: dict[str, Any] = {"literal_print": bool(_LITERAL_PRINT.search(program.read_text(errors="replace")))}
    copy = workdir.with_name(workdir.name + ".perturbed")
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(workdir, copy)
    try:
        out["cells_changed"] = perturb_data(copy, cfg.perturb_factor)
        res = _execute(copy / program.relative_to(workdir), copy / base.relative_to(workdir), cfg, copy)
        pobj = classify_run(res.returncode, res.stdout, timed_out=res.timed_out).objective
        out["perturbed_objective"] = pobj
        out["data_independent"] = (pobj is not None and out["cells_changed"] > 0
                                   and abs(pobj - obj) <= 1e-9 * max(1.0, abs(obj)))
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    # The perturbation test decides; the static literal check only decides when the perturbed run
    # gave no objective (a legitimate program may print a literal in a fallback branch).
    inconclusive = out.get("perturbed_objective") is None
    out["flagged"] = bool(out.get("data_independent") or (inconclusive and out["literal_print"]))
    return out


def load_records(out_dir: str | Path) -> list[dict]:
    """The complete records of a run directory (a half-written last line is skipped)."""
    path = Path(out_dir) / "records.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "workspace_id" in row:
                rows.append(row)
    return rows


def _append(path: Path, row: dict) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _rewrite_outputs(out_dir: Path, records: list[dict]) -> None:
    """Rewrite records / predictions / answers from the complete records (drops partial lines)."""
    for name, rows in (("records.jsonl", records),
                       ("predictions.jsonl", [_prediction(r) for r in records if r["mode"] != "explain"]),
                       ("explain_answers.jsonl", [_answer_row(r) for r in records if r["mode"] == "explain"])):
        tmp = out_dir / (name + ".tmp")
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, out_dir / name)


def _prediction(rec: dict) -> dict:
    return {"workspace_id": rec["workspace_id"], "status": rec["status"], "objective": rec["objective"],
            "solver_track": rec.get("solver_track")}


def _answer_row(rec: dict) -> dict:
    return {"instance_id": rec.get("instance_id") or rec["workspace_id"], "answer": rec.get("answer") or ""}


def _run_one(inst: Instance, agent: Agent, ds: Dataset, work: Path, cfg: RunConfig,
             policy: TolerancePolicy, judge) -> dict:
    workdir = work / inst.workspace_id
    for p in (workdir, workdir.with_name(workdir.name + ".manifest.json")):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    manifest = stage(inst, workdir, dataset=ds)
    workdir = workdir.resolve()
    base = _base_dir(workdir, inst.mode, cfg)
    task = AgentTask(workspace_id=inst.workspace_id, mode=inst.mode, workdir=workdir,
                     program_path=base / cfg.program_name, answer_path=workdir / cfg.answer_name,
                     question=inst.question, solver_track=cfg.solver_track, timeout_s=cfg.agent_timeout_s)
    task.run_program = lambda: (_execute(p, base, cfg, workdir) if (p := find_program(task)) else
                                ExecResult(None, "", "no program found", False, 0.0))
    rec: dict[str, Any] = {"workspace_id": inst.workspace_id, "mode": inst.mode, "agent": agent.name,
                           "instance_id": inst.metadata.get("instance_id"), "difficulty": inst.difficulty,
                           "domain": inst.domain, "revise_type": inst.revise_type,
                           "solver_track": cfg.solver_track, "started_at": time.time()}
    try:
        rep = agent.act(task)
    except Exception as e:  # agents should not raise; if one does, the instance still gets a record
        rep = AgentReport(error=f"agent raised {type(e).__name__}: {e}")
    rec.update(prompt_tokens=rep.prompt_tokens, completion_tokens=rep.completion_tokens,
               finish_reason=rep.finish_reason, inference_time=rep.inference_time, turns=rep.turns,
               output_truncated=rep.output_truncated, agent_error=rep.error)
    if inst.mode == "explain":
        answer = task.answer_path.read_text(encoding="utf-8") if task.answer_path.is_file() else (rep.answer or "")
        rec["answer"] = answer
        if inst.rubric is None:
            rec.update(status="NoRubric", objective=None, passed=False, outcome="infrastructure_error",
                       error="no rubric for this instance", score=None)
        elif not answer.strip():
            rec.update(status="NoAnswer", objective=None, passed=False, outcome="no_objective",
                       error=rep.error or "no answer", score=0.0, coverage=0.0)
        else:
            try:
                s = score_explain(inst.rubric, answer, judge)
                rec.update(status="Scored", objective=None, passed=None, outcome="scored", score=s.final, coverage=s.coverage, reasoning=s.reasoning,
                           grounding=s.grounding, answer_quality=s.answer_quality,
                           hallucination_penalty=s.hallucination_penalty, exact_hits=s.exact_hits,
                           exact_total=s.exact_total, semantic_hits=s.semantic_hits,
                           semantic_total=s.semantic_total, decisions=s.decisions, error=s.error)
            except Exception as e:  # judge endpoint failures are infrastructure errors
                rec.update(status="JudgeError", objective=None, passed=False, outcome="infrastructure_error",
                           error=f"judge: {type(e).__name__}: {e}", score=None)
    else:
        rec.update(ground_truth=inst.reference_objective, tolerance=inst.tolerance)
        program = find_program(task)
        if program is None:
            rec.update(status="NoProgram", objective=None, extracted_value=None, passed=False,
                       outcome="no_objective", error=rep.error or "no program found", execution_time=0.0)
        else:
            rec["program"] = program.relative_to(workdir).as_posix()
            res = _execute(program, base, cfg, workdir)
            sc = classify_run(res.returncode, res.stdout, timed_out=res.timed_out, infra_error=res.infra_error,
                              ref=inst.reference_objective, tol=inst.tolerance, policy=policy)
            rec.update(status=sc.status, objective=sc.objective if sc.status == "Optimal" else None,
                       extracted_value=sc.objective, passed=sc.passed, outcome=sc.outcome,
                       error=(res.stderr[-2000:] if sc.outcome == "runtime_error" else sc.detail) or rep.error,
                       execution_time=res.wall_s, stdout_tail=res.stdout[-2000:])
            if cfg.check_hardcoded and sc.objective is not None and sc.outcome != "infrastructure_error":
                hc = _hardcode_check(program, workdir, base, sc.objective, cfg)
                rec["hardcoded_check"] = hc
                if hc["flagged"]:
                    why = ("unchanged under data perturbation" if hc.get("data_independent")
                           else "literal print and no objective on perturbed data")
                    rec.update(passed=False, outcome="integrity_violation", error=f"objective looks hard-coded ({why})")
    tamper = check_manifest(manifest, workdir)
    rec["tampering"] = tamper.describe() if tamper.tampered else None
    if tamper.tampered:
        rec.update(passed=False, outcome="integrity_violation", error=f"tampering detected: {tamper.describe()}")
        if inst.mode == "explain":
            rec["score"] = 0.0
    rec["finished_at"] = time.time()
    return rec


def run_benchmark(dataset: Dataset | str | Path, agent: Agent, out_dir: str | Path, *,
                  instances: Iterable[Instance | str] | None = None, config: RunConfig | None = None,
                  judge=None, policy: TolerancePolicy | None = None, resume: bool = True,
                  progress: Any = None, workers: int = 1) -> list[dict]:
    """Run ``agent`` on ``instances`` (default: all of ``dataset``) and write the run directory.

    Args:
        dataset: a :class:`Dataset` or its root.
        agent: any :class:`Agent`.
        out_dir: the run directory; an existing one is resumed (finished instances are skipped).
        instances: instances or workspace ids (in order).
        config: :class:`RunConfig` (paper defaults).
        judge: the Explain judge (a :class:`~jaxor.orspace.LLMJudge`, a callable, or None).
        policy: the Build / Revise tolerance rule (default: ``jaxor.verify``'s ``"orspace"`` policy).
        resume: False refuses a run directory that already holds records.
        progress: a ``jaxor.progress.Progress``-like object (``update``, ``set_total``, ``note``) or None.
        workers: instances run concurrently (threads; each program runs in its own sandbox). Records
            are appended as instances finish, so a resumed run never redoes a finished one.

    Returns:
        All records of the run directory (earlier ones included), in instance order.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    cfg = config or RunConfig()
    check_solver_track(cfg.solver_track)
    policy = policy or default_policy()
    insts = [ds[i] if isinstance(i, str) else i for i in (instances if instances is not None else ds)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    done = {r["workspace_id"]: r for r in load_records(out)}
    if done and not resume:
        raise ValueError(f"out_dir={str(out)!r} already holds {len(done)} records; pass resume=True to continue")
    _rewrite_outputs(out, list(done.values()))
    (out / "run.json").write_text(json.dumps({"agent": agent.name, "dataset": str(ds.root),
                                              "config": dataclasses.asdict(cfg)}, indent=1), encoding="utf-8")
    work = out / "work"
    work.mkdir(exist_ok=True)
    todo = [i for i in insts if i.workspace_id not in done]
    if progress is not None:
        progress.set_total(len(insts))
        progress.update(len(insts) - len(todo))
        if done:
            progress.note(f"resuming: {len(insts) - len(todo)} of {len(insts)} instances already finished")
    if workers < 1:
        raise ValueError(f"workers={workers} must be >= 1")
    lock = threading.Lock()

    def one(inst: Instance) -> None:
        rec = _run_one(inst, agent, ds, work, cfg, policy, judge)
        with lock:
            _append(out / "records.jsonl", rec)
            if inst.mode == "explain":
                _append(out / "explain_answers.jsonl", _answer_row(rec))
            else:
                _append(out / "predictions.jsonl", _prediction(rec))
            done[inst.workspace_id] = rec
            if progress is not None:
                progress.update(1)
                progress.note(f"{inst.workspace_id}: {rec['outcome']}")

    if workers == 1:
        for inst in todo:
            one(inst)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for fut in [pool.submit(one, inst) for inst in todo]:
                fut.result()
    order = {i.workspace_id: k for k, i in enumerate(insts)}
    return sorted(done.values(), key=lambda r: order.get(r["workspace_id"], math.inf))


def score_predictions(dataset: Dataset | str | Path, predictions: str | Path | list[dict], *,
                      allow_missing: bool = False, policy: TolerancePolicy | None = None,
                      modes: Iterable[str] = ("build", "revise")) -> dict:
    """Score a predictions JSONL as the release's ``score_objectives.py`` does.

    Unknown or duplicate workspace ids raise ValueError. A reference without a prediction fails with
    status ``Missing`` (denominator unchanged) unless ``allow_missing`` drops it.

    Returns:
        ``{"objective_match_pass_at_1": {mode: percent}, "rows": [{workspace_id, passed, status}, ...]}``.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    policy = policy or default_policy()
    if isinstance(predictions, (str, Path)):
        lines = Path(predictions).read_text(encoding="utf-8").splitlines()
        predictions = [json.loads(line) for line in lines if line.strip()]
    seen: dict[str, dict] = {}
    for p in predictions:
        wid = p.get("workspace_id")
        if wid in seen:
            raise ValueError(f"predictions hold workspace_id {wid!r} twice")
        if wid not in ds or ds[wid].mode not in modes:
            raise ValueError(f"predictions hold unknown workspace_id {wid!r}")
        seen[wid] = p
    rows, by_mode = [], {}
    for inst in ds:
        if inst.mode not in modes or inst.reference_objective is None:
            continue
        p = seen.get(inst.workspace_id)
        if p is None:
            if allow_missing:
                continue
            rows.append({"workspace_id": inst.workspace_id, "passed": False, "status": "Missing"})
        else:
            ok = score_prediction(p, inst.reference_objective, inst.tolerance, policy)
            rows.append({"workspace_id": inst.workspace_id, "passed": ok, "status": p.get("status")})
        by_mode.setdefault(inst.mode, []).append(rows[-1]["passed"])
    return {"objective_match_pass_at_1": {m: 100.0 * sum(v) / len(v) for m, v in by_mode.items()}, "rows": rows}
