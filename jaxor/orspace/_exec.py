"""Run untrusted programs (agent programs, command-line agents) for the OR-Space harness.

Every execution goes through :func:`run_untrusted`, which hands the command to ``jaxor.sandbox`` when
that package is installed (namespaced sandbox, licence errors reported as infrastructure errors) and
otherwise to a plain subprocess in its own process group with a wall-clock limit (what the released
OR-Space runner does). Nothing is ever executed in-process.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SOLVER_TRACKS", "ExecResult", "check_solver_track", "run_untrusted"]

# track name -> module the program imports
SOLVER_TRACKS = {"highspy": "highspy", "gurobipy": "gurobipy", "pulp": "pulp", "coptpy": "coptpy"}
_LICENCE_MARKERS = ("GurobiError: License", "No Gurobi license", "license has expired", "COPT license")


@dataclasses.dataclass
class ExecResult:
    """What one execution produced. ``infra_error`` is set when the harness (not the program) failed."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    wall_s: float
    infra_error: str | None = None


def check_solver_track(track: str) -> str:
    """Validate ``track`` (``highspy`` default; ``gurobipy``, ``pulp``, ``coptpy`` where installed)."""
    if track not in SOLVER_TRACKS:
        raise ValueError(f"solver_track={track!r} must be one of {sorted(SOLVER_TRACKS)}")
    if importlib.util.find_spec(SOLVER_TRACKS[track]) is None:
        raise ValueError(f"solver_track={track!r} needs the {SOLVER_TRACKS[track]!r} package, which is not installed")
    return track


def _sandbox():
    try:
        import jaxor.sandbox as sb  # noqa: F401

        return sb
    except ImportError:
        return None


def _tail(s: str, n: int = 200_000) -> str:
    return s if len(s) <= n else s[-n:]


def run_untrusted(argv: Sequence[str], cwd: str | Path, *, timeout_s: float = 180.0,
                  env: dict[str, str] | None = None, writable: Sequence[str | Path] = ()) -> ExecResult:
    """Run ``argv`` in ``cwd`` with a wall-clock limit; never raises for program failures.

    Args:
        argv: the command; ``argv[0] == "python"`` means this interpreter.
        cwd: the staged workspace folder (the only place the program should write).
        timeout_s: wall-clock limit (the release uses 180 s).
        env: extra environment variables.
        writable: extra folders the program may write (sandbox backends only).
    """
    if timeout_s <= 0:
        raise ValueError(f"timeout_s={timeout_s} must be positive")
    argv = [sys.executable if a == "python" and i == 0 else str(a) for i, a in enumerate(argv)]
    sb = _sandbox()
    if sb is not None and hasattr(sb, "run"):
        return _run_sandbox(sb, argv, Path(cwd), timeout_s, env or {}, writable)
    return _run_subprocess(argv, Path(cwd), timeout_s, env or {})


def _base_env(extra: dict[str, str]) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"})
    env.update(extra)
    return env


def _run_subprocess(argv: list[str], cwd: Path, timeout_s: float, env: dict[str, str]) -> ExecResult:
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=_base_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True)
    except OSError as e:
        return ExecResult(None, "", "", False, 0.0, infra_error=f"could not start {argv[0]!r}: {e}")
    try:
        out, err = proc.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    infra = None
    if any(m in (err or "") for m in _LICENCE_MARKERS):
        infra = "solver licence error"
    return ExecResult(proc.returncode, _tail(out or ""), _tail(err or ""), timed_out, wall, infra)


def _run_sandbox(sb, argv, cwd, timeout_s, env, writable) -> ExecResult:  # pragma: no cover - replaced on merge
    res = sb.run(argv, cwd=cwd, timeout_s=timeout_s, env=env)
    return ExecResult(getattr(res, "returncode", None), getattr(res, "stdout", ""), getattr(res, "stderr", ""),
                      bool(getattr(res, "timed_out", False)), float(getattr(res, "wall_s", 0.0)),
                      getattr(res, "infra_error", None))
