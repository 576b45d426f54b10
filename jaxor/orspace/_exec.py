"""Execution for the OR-Space harness.

* :func:`run_program` runs an agent's (untrusted) Python program through :mod:`jaxor.sandbox`: its own
  namespaces, no network, only the program's folder writable, rlimits and a wall-clock limit, the
  solver track checked, solver licence failures reported as infrastructure errors. Nothing is ever
  executed in-process. Where namespaces are unavailable it reports an infrastructure error unless
  ``allow_unsandboxed`` is set (then the sandbox's plain-subprocess fallback with the same limits).
* :func:`run_agent_command` runs a command-line *agent* (the user's own tool, which may need the network
  to reach its model) as a plain subprocess in its own process group with a timeout; the programs it
  leaves are then run by :func:`run_program`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ExecResult", "check_solver_track", "run_agent_command", "run_program"]


@dataclasses.dataclass
class ExecResult:
    """What one execution produced. ``infra_error`` is set when the harness (not the program) failed."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    wall_s: float
    infra_error: str | None = None
    status: str = ""


def check_solver_track(track: str) -> str:
    """Validate ``track`` (``highspy`` default; ``gurobipy``, ``pulp``, ``coptpy`` where installed)."""
    from jaxor.sandbox import SOLVER_TRACKS, solver_track_available

    if track not in SOLVER_TRACKS:
        raise ValueError(f"solver_track={track!r} must be one of {sorted(SOLVER_TRACKS)}")
    if not solver_track_available(track):
        raise ValueError(f"solver_track={track!r} needs the {SOLVER_TRACKS[track]!r} package, which is not installed")
    return track


def run_program(entry: str, workdir: str | Path, *, timeout_s: float = 180.0, solver_track: str | None = "highspy",
                env: Mapping[str, str] | None = None, allow_unsandboxed: bool = False) -> ExecResult:
    """Run ``python <entry>`` with ``workdir`` as its working (and only writable) folder, sandboxed.

    Args:
        entry: the program, relative to ``workdir``.
        workdir: the folder the program runs from (e.g. the staged workspace root, or ``revised/``).
        timeout_s: wall-clock limit (the paper's default is 180 s).
        solver_track: exported as ``JAXOR_SOLVER_TRACK``; a missing track is an infrastructure error.
        env: extra environment variables (the host environment is never passed through).
        allow_unsandboxed: run without namespaces where they are unavailable (rlimits and timeout only).
    """
    from jaxor.sandbox import Limits, SandboxUnavailable, run

    if timeout_s <= 0:
        raise ValueError(f"timeout_s={timeout_s} must be positive")
    try:
        r = run(path=entry, workdir=workdir, limits=Limits(wall_s=float(timeout_s)), solver_track=solver_track,
                env=dict(env or {}), allow_unsandboxed=allow_unsandboxed)
    except SandboxUnavailable as e:
        return ExecResult(None, "", "", False, 0.0, infra_error=str(e), status="infra_error")
    timed_out = r.status in ("timeout", "cpu_limit")
    infra = (r.message or r.status) if (r.infra or r.status == "infra_error") else None
    rc = r.returncode
    stderr = r.stderr
    if r.status in ("memory_limit", "output_limit", "killed", "invalid_input"):
        rc = rc if rc not in (None, 0) else 1
        stderr = (stderr + f"\n[sandbox] {r.status}: {r.message}").strip()
    return ExecResult(rc, r.stdout, stderr, timed_out, float(r.wall_s), infra, r.status)


def _base_env(extra: Mapping[str, str]) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_agent_command(argv: Sequence[str], cwd: str | Path, *, timeout_s: float,
                      env: Mapping[str, str] | None = None) -> ExecResult:
    """Run a command-line agent in ``cwd`` with a wall-clock limit; the whole process group is killed
    on timeout. Never raises for the agent's failures."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s={timeout_s} must be positive")
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=_base_env(env or {}), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, errors="replace",
                                start_new_session=True)
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
    return ExecResult(proc.returncode, (out or "")[-200_000:], (err or "")[-200_000:], timed_out,
                      time.perf_counter() - t0)
