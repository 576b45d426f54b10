"""Check a generated optimisation program: run it sandboxed, parse its objective, re-solve its model.

SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver code by executing it and by the LP
file it writes. Its released reward parses the objective with ``-?\\d+\\.?\\d*``, which reads
``1e+06`` as ``1``; jaxor parses the last ``FINAL_OBJ_VALUE: <number>`` line with full float syntax,
and when the program wrote a model file it re-solves that file with HiGHS and flags a printed
objective that disagrees (a hard-coded print).
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jaxor.sandbox import Job, Limits, Pool, SandboxResult, run
from jaxor.verify._model_files import ModelCheck, ModelFeatures, check_model_file
from jaxor.verify._tolerance import TolerancePolicy, parse_number

__all__ = ["ProgramCheck", "ProgramSpec", "check_program", "check_programs", "parse_final_objective",
           "parse_final_solution"]

MARKER = "FINAL_OBJ_VALUE"
SOLUTION_MARKER = "FINAL_SOLUTION"
MODEL_SUFFIXES = (".lp", ".mps")
#: how close a printed objective must be to the re-solved one: |a - b| / max(1, |b|) <= 1e-6
AGREEMENT = TolerancePolicy("agreement", "max1", 1e-6, "printed vs re-solved objective")


def parse_final_objective(stdout: str, marker: str = MARKER) -> tuple[bool, float | None, str | None]:
    """Find the last ``<marker>: <value>`` line of ``stdout``.

    Returns ``(found, value, raw)``: ``found`` is False when no such line exists; ``value`` is None
    when the token is ``None``/``nan``/``inf`` or not a number (``raw`` keeps the token). Scientific
    notation (``1e+06``) is read in full.

    Example:
        >>> parse_final_objective("log\\nFINAL_OBJ_VALUE: 1e+06\\n")
        (True, 1000000.0, '1e+06')
    """
    if not isinstance(stdout, str):
        return False, None, None
    pat = re.compile(r"^\s*" + re.escape(marker) + r"\s*[:=]\s*(.*?)\s*$")
    for line in reversed(stdout.splitlines()):
        m = pat.match(line)
        if m:
            raw = m.group(1)
            return True, parse_number(raw), raw
    return False, None, None


def parse_final_solution(stdout: str, marker: str = SOLUTION_MARKER) -> list[float] | None:
    """Values of the last ``<marker>: [v1, v2, ...]`` line (numbers in any separator), or None."""
    if not isinstance(stdout, str):
        return None
    pat = re.compile(r"^\s*" + re.escape(marker) + r"\s*[:=]\s*(.*)$")
    for line in reversed(stdout.splitlines()):
        m = pat.match(line)
        if m:
            toks = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", m.group(1))
            return [float(t) for t in toks]
    return None


@dataclasses.dataclass
class ProgramCheck:
    """What checking one program found.

    Attributes:
        status: ``ok`` (ran, printed a number), ``no_objective`` (ran; printed no line, or
            ``None``/``nan``/``inf``: "no objective", e.g. an infeasible model), or the sandbox status
            when it did not run cleanly (``error``, ``timeout``, ``memory_limit``, ``infra_error``,
            ``invalid_input``, ...).
        objective: the printed objective, parsed (None if none).
        printed: the raw printed token (None when there was no marker line).
        model: the re-solve of the model file the program wrote (None if it wrote none).
        model_file: that file's path relative to the workdir.
        consistent: printed and re-solved agree (both a number within :data:`AGREEMENT`, or both
            no objective); None when there is no model to compare with.
        hardcoded: a number was printed and the written model disagrees (None without a model).
        solution: printed ``FINAL_SOLUTION`` values, else the re-solved model's column values.
        sandbox: the :class:`jaxor.sandbox.SandboxResult`.
        message: a reason for every status but ``ok`` and for every flag.
    """

    status: str
    objective: float | None = None
    printed: str | None = None
    model: ModelCheck | None = None
    model_file: str | None = None
    consistent: bool | None = None
    hardcoded: bool | None = None
    solution: list[float] | None = None
    sandbox: SandboxResult | None = None
    message: str = ""
    id: str | None = None

    @property
    def executed(self) -> bool:
        """The program exited normally (SIRL's ``exec`` term)."""
        return self.sandbox is not None and self.sandbox.status == "ok"

    @property
    def features(self) -> ModelFeatures | None:
        return self.model.features if self.model is not None else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProgramCheck:
        d = dict(d)
        if d.get("sandbox") is not None:
            d["sandbox"] = SandboxResult.from_dict(d["sandbox"])
        if d.get("model") is not None:
            m = dict(d["model"])
            if m.get("features") is not None:
                m["features"] = ModelFeatures(**m["features"])
            d["model"] = ModelCheck(**m)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclasses.dataclass(frozen=True)
class ProgramSpec(Job):
    """One program of a batch for :func:`check_programs`: a :class:`jaxor.sandbox.Job` plus the model
    file it should write (default: the newest ``.lp``/``.mps`` it writes) and the HiGHS solver track."""

    solver_track: str | None = "highspy"
    model_file: str | None = None


def job_key(key: str, code: str | None) -> str:
    """A journal id that changes when the program does: ``<key>-<sha1(code)[:12]>``.

    A resumed batch reuses a journaled result only for the same item *and* the same program."""
    import hashlib

    digest = hashlib.sha1((code or "").encode("utf-8", "replace")).hexdigest()[:12]
    return f"{key}-{digest}"


def _snapshot(wd: Path) -> dict[str, tuple[int, int]]:
    out = {}
    if not wd.is_dir():
        return out
    for dirpath, _, files in os.walk(wd, followlinks=False):
        for f in files:
            p = os.path.join(dirpath, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            out[os.path.relpath(p, wd)] = (st.st_size, st.st_mtime_ns)
    return out


def _written_models(wd: Path, before: dict[str, tuple[int, int]]) -> list[str]:
    """Model files new or changed since ``before``, newest first (regular files only)."""
    found = []
    for rel, sig in _snapshot(wd).items():
        if not rel.lower().endswith(MODEL_SUFFIXES) or before.get(rel) == sig:
            continue
        st = os.lstat(wd / rel)
        if stat.S_ISREG(st.st_mode):
            found.append((st.st_mtime_ns, rel))
    return [rel for _, rel in sorted(found, reverse=True)]


def check_program(code: str | None = None, *, path: str | os.PathLike | None = None,
                  workdir: str | os.PathLike | None = None, stage: str | os.PathLike | None = None,
                  args: Sequence[str] = (), limits: Limits | None = None, solver_track: str | None = "highspy",
                  model_file: str | None = None, marker: str = MARKER, resolve: bool = True,
                  model_time_limit: float = 30.0, model_max_bytes: int = 64 << 20, isolate_model: bool = True,
                  agreement: TolerancePolicy = AGREEMENT,
                  allow_unsandboxed: bool = False, id: str | None = None) -> ProgramCheck:
    """Run a generated program in :mod:`jaxor.sandbox` and verify what it reports.

    Args:
        code: program text (or give ``path``; see :func:`jaxor.sandbox.run` for ``path``,
            ``workdir``, ``stage``, ``args``, ``limits``, ``solver_track``).
        model_file: the model file the program is expected to write (relative to the workdir);
            default: the newest ``.lp``/``.mps`` file it created or changed.
        marker: the objective line marker (``FINAL_OBJ_VALUE``).
        resolve: re-solve the written model with HiGHS and compare (the hard-coded-print check).
        model_time_limit: HiGHS time limit for that re-solve.
        model_max_bytes: larger written model files are not parsed.
        isolate_model: re-solve in a reusable worker process (:func:`check_model_file` with
            ``isolate=True``): a wall-clock limit on load + solve, and a HiGHS crash on a hostile file
            cannot harm the caller. False solves in this process (slightly faster).
        agreement: tolerance for printed vs re-solved objectives.
        allow_unsandboxed: see :func:`jaxor.sandbox.run`.
        id: carried into the result.

    Returns:
        :class:`ProgramCheck`; bad input (empty program, missing file) gives a status, never raises.

    Example:
        >>> c = check_program("print('FINAL_OBJ_VALUE: 2.5e3')")  # doctest: +SKIP
        >>> c.status, c.objective  # doctest: +SKIP
        ('ok', 2500.0)
    """
    own = workdir is None
    tmp = tempfile.TemporaryDirectory(prefix="jaxor-verify-") if own else None
    wd = Path(tmp.name) if own else Path(workdir)
    try:
        before = {}
        if stage is not None and Path(stage).is_dir():
            before = _snapshot(Path(stage))
        elif wd.is_dir():
            before = _snapshot(wd)
        sb = run(code=code, path=path, workdir=wd, stage=stage, args=args, limits=limits,
                 solver_track=solver_track, allow_unsandboxed=allow_unsandboxed, job_id=id)
        res = ProgramCheck(status=sb.status, sandbox=sb, id=id)
        if sb.status in ("invalid_input", "infra_error"):
            res.message = sb.message
            return res
        found, value, raw = parse_final_objective(sb.stdout, marker)
        res.objective, res.printed = value, raw
        res.solution = parse_final_solution(sb.stdout)
        if sb.status == "ok":
            if value is not None:
                res.status = "ok"
            else:
                res.status = "no_objective"
                res.message = (f"printed {marker}: {raw}" if found else f"no '{marker}:' line in the output")
        else:
            res.message = sb.message
        if resolve:
            _resolve_written_model(res, wd, before, model_file, model_time_limit, agreement, model_max_bytes,
                                   isolate_model)
        return res
    finally:
        if tmp is not None:
            tmp.cleanup()


def _resolve_written_model(res: ProgramCheck, wd: Path, before, model_file, time_limit, agreement,
                           max_bytes: int, isolate: bool) -> None:
    if model_file is not None:
        rel = model_file
        if not (wd / rel).exists():
            res.message = (res.message + "; " if res.message else "") + f"expected model file {rel} not written"
            return
    else:
        written = _written_models(wd, before)
        if not written:
            return
        rel = written[0]
    mc = check_model_file(wd / rel, time_limit=time_limit, root=wd, max_bytes=max_bytes, isolate=isolate)
    res.model, res.model_file = mc, rel
    if res.solution is None and mc.x is not None:
        res.solution = mc.x
    if not mc.loaded or mc.status in ("error", "time_limit", "iteration_limit"):
        note = f"written model {rel} not verifiable ({mc.parse_status}/{mc.status})"
        res.message = (res.message + "; " if res.message else "") + note
        return
    solved = mc.objective  # None unless optimal
    printed = res.objective
    if printed is None and res.printed is None:
        res.consistent = None
        return
    if printed is None:
        res.consistent = solved is None
    elif solved is None:
        res.consistent = False
    else:
        res.consistent = agreement.close(printed, solved)
    res.hardcoded = printed is not None and not res.consistent
    if res.hardcoded:
        what = f"{solved:.10g}" if solved is not None else mc.status
        note = f"printed objective {printed:.10g} disagrees with the written model ({what}): hard-coded print?"
        res.message = (res.message + "; " if res.message else "") + note


def check_programs(specs: Sequence[ProgramSpec], *, workers: int | None = None, limits: Limits | None = None,
                   journal: str | os.PathLike | None = None, allow_unsandboxed: bool = False,
                   progress: Any = None, **kw) -> list[ProgramCheck]:
    """:func:`check_program` over a batch on a :class:`jaxor.sandbox.Pool` (journaled, resumable).

    Never raises for a bad item: each gets a status.
    """
    pool = Pool(workers=workers, limits=limits, allow_unsandboxed=allow_unsandboxed)

    def one(spec: ProgramSpec) -> ProgramCheck:
        t0 = time.perf_counter()
        try:
            return check_program(spec.code, path=spec.path, workdir=spec.workdir, stage=spec.stage,
                                 args=spec.args, limits=spec.limits or limits, solver_track=spec.solver_track,
                                 model_file=spec.model_file, allow_unsandboxed=allow_unsandboxed,
                                 id=spec.id, **kw)
        except Exception as e:  # noqa: BLE001 - a batch never dies on one item
            return ProgramCheck(status="infra_error", id=spec.id,
                                message=f"{type(e).__name__}: {e} (after {time.perf_counter() - t0:.1f} s)")

    return pool.map(one, specs, ids=[s.id for s in specs], journal=journal, encode=ProgramCheck.to_dict,
                    decode=ProgramCheck.from_dict, progress=progress)
