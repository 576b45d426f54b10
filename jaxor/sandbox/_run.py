"""Run one untrusted Python program in Linux namespaces with resource limits.

Used for SIRL-style solver-verified rewards (Chen et al., "Solver-Informed RL", arXiv 2505.11792),
whose released code runs model programs in-process with ``exec``; jaxor runs them in a sandbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import marshal
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from jaxor.sandbox._types import Limits, SandboxResult, SandboxUnavailable

__all__ = ["SOLVER_TRACKS", "run", "sandbox_available", "solver_track_available"]

#: Solver tracks a program may be run under -> the module it needs.
SOLVER_TRACKS = {"highspy": "highspy", "gurobipy": "gurobipy", "coptpy": "coptpy", "pulp": "pulp",
                 "scipy": "scipy"}

_LAUNCHER = str(Path(__file__).with_name("_launcher.py"))
_INNER_WORKDIR = "/sandbox"
_NEWROOT = "/tmp/.jaxor-sandbox-newroot"
_SLOT_DIR = "/tmp/.jaxor-sandbox-slots"
UID_BASE = int(os.environ.get("JAXOR_SANDBOX_UID_BASE", "615000"))
MAX_SLOTS = 256
_SYSTEM_RO = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/ssl/certs/ca-certificates.crt")

# A solver licence failure is the infrastructure's fault, not the model's.
_LICENCE_RE = re.compile(
    r"(no (gurobi|copt|cplex|mosek|xpress)?\s*licen[cs]e|licen[cs]e (is )?(expired|not found|invalid|error)|"
    r"(gurobi|copt|cplex|mosek|xpress)\w*error[^\n]{0,120}licen[cs]e|"
    r"size-limited licen[cs]e|failed to (obtain|check out|validate)[^\n]{0,40}licen[cs]e|"
    r"licen[cs]e[^\n]{0,60}(expired|not found|invalid|unavailable|cannot be|could not))",
    re.IGNORECASE)
_MEMORY_RE = re.compile(r"(MemoryError|std::bad_alloc|Cannot allocate memory|out of memory)", re.IGNORECASE)

_probe_cache: dict[str, str | None] = {}


def _mode() -> str:
    """``root``: per-slot host uids; ``rootless``: a user namespace mapping the caller to root inside.

    ``JAXOR_SANDBOX_MODE=rootless`` forces the rootless path (for testing it as root)."""
    forced = os.environ.get("JAXOR_SANDBOX_MODE")
    if forced in ("root", "rootless"):
        if forced == "root" and os.geteuid() != 0:
            raise SandboxUnavailable("JAXOR_SANDBOX_MODE=root needs root")
        return forced
    return "root" if os.geteuid() == 0 else "rootless"


def _unshare_cmd(mode: str) -> list[str]:
    exe = shutil.which("unshare")
    if exe is None:
        raise SandboxUnavailable("the `unshare` tool (util-linux) is not installed")
    base = [exe, "--pid", "--net", "--mount", "--ipc", "--uts", "--fork", "--kill-child",
            "--propagation", "private"]
    if mode == "rootless":
        base[1:1] = ["--user", "--map-root-user"]
    return base


def sandbox_available() -> str | None:
    """None when namespaced sandboxes work here, else the reason they do not (cached)."""
    mode = _mode()
    if mode in _probe_cache:
        return _probe_cache[mode]
    reason = None
    if not sys.platform.startswith("linux"):
        reason = f"namespaces need Linux; this is {sys.platform}"
    else:
        try:
            r = run(code="print('ok')", limits=Limits(wall_s=20.0), _probe=True)
            if r.status != "ok" or r.stdout.strip() != "ok":
                reason = f"probe run failed: {r.status}: {r.message or r.stderr[-500:]}"
        except SandboxUnavailable as e:
            reason = str(e)
    _probe_cache[mode] = reason
    return reason


def solver_track_available(track: str) -> bool:
    """Whether the module a solver track needs is importable by the sandbox's Python."""
    if track not in SOLVER_TRACKS:
        raise ValueError(f"solver_track must be one of {sorted(SOLVER_TRACKS)}; got {track!r}")
    return importlib.util.find_spec(SOLVER_TRACKS[track]) is not None


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            roots.add(p)
    # site directories added by .pth files (a venv layered on a shared one), never source checkouts
    roots.update(p for p in sys.path if os.path.basename(p.rstrip("/")) in ("site-packages", "dist-packages"))
    out = sorted({os.path.realpath(r) for r in roots if r and os.path.isdir(r)})
    # keep only top-most roots (nested ones are covered by their parent's bind)
    top = [r for r in out if not any(r != o and r.startswith(o.rstrip("/") + "/") for o in out)]
    return top + [r for r in sorted(roots) if os.path.islink(r)]


@contextlib.contextmanager
def _slot():
    """A worker uid no other sandbox (in any process) is using: flock on one file per uid."""
    os.makedirs(_SLOT_DIR, mode=0o700, exist_ok=True)
    start = os.getpid() % MAX_SLOTS
    for k in range(MAX_SLOTS):
        i = (start + k) % MAX_SLOTS
        f = open(os.path.join(_SLOT_DIR, f"{i}.lock"), "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        try:
            yield UID_BASE + i
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
        return
    raise RuntimeError(f"all {MAX_SLOTS} sandbox slots are busy")


def _unsafe_workdir(wd: Path) -> str | None:
    """Why ``wd`` must not become a sandbox workdir (its tree is chowned), or None."""
    real = os.path.realpath(wd)
    homes = {os.path.realpath(os.path.expanduser("~")), "/root", "/home"}
    protected = set(_python_roots()) | {os.path.realpath(p) for p in _SYSTEM_RO} | {"/etc", "/var", "/tmp"}
    if real == "/" or real in homes or real in protected:
        return f"refusing workdir {wd}: a system, home or temporary root directory"
    for p in protected:
        if p.startswith(real.rstrip("/") + "/"):
            return f"refusing workdir {wd}: it contains {p}"
    return None


def _chown_tree(path: str, uid: int, gid: int) -> None:
    """chown without following symlinks (a program may leave links to host files behind)."""
    os.chown(path, uid, gid, follow_symlinks=False)
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in dirnames + filenames:
            with contextlib.suppress(FileNotFoundError):
                os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def _base_env(track: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": _INNER_WORKDIR, "TMPDIR": "/tmp",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    if track:
        env["JAXOR_SOLVER_TRACK"] = track
    if extra:
        for k, v in extra.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError(f"env must map str to str; got {k!r}: {v!r}")
            env[k] = v
    return env


def _classify(res: SandboxResult, timed_out: bool, overflow: bool, limits: Limits) -> None:
    code = res.returncode
    text = res.stderr[-20000:] + "\n" + res.stdout[-4000:]
    if overflow:
        res.status, res.message = "output_limit", f"printed more than {limits.max_output_bytes} bytes; killed"
    elif timed_out:
        res.status, res.message = "timeout", f"wall clock over {limits.wall_s} s; the process tree was killed"
    elif code == 0:
        res.status = "ok"
    elif code is not None and code < 0 and -code == signal.SIGXCPU or (
            code == -signal.SIGKILL and res.cpu_s is not None and res.cpu_s >= limits.cpu_seconds - 0.05):
        res.status, res.message = "cpu_limit", f"CPU time over {limits.cpu_seconds} s"
    elif _MEMORY_RE.search(text) and (code is not None and code != 0):
        res.status, res.message = "memory_limit", f"address space limit of {limits.memory_bytes} bytes hit"
    elif code is not None and code < 0:
        res.status, res.message = "killed", f"killed by signal {signal.Signals(-code).name}"
    else:
        res.status = "error"
        last = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        res.message = f"exit code {code}" + (f": {last[-1][:300]}" if last else "")
    if res.status in ("error", "killed") and _LICENCE_RE.search(text):
        res.status, res.infra = "infra_error", True
        res.message = "solver licence error: " + _LICENCE_RE.search(text).group(0)


def run(*, code: str | None = None, path: str | os.PathLike | None = None, workdir: str | os.PathLike | None = None,
        stage: str | os.PathLike | None = None, args: Sequence[str] = (), limits: Limits | None = None,
        solver_track: str | None = None, env: Mapping[str, str] | None = None, allow_unsandboxed: bool = False,
        job_id: str | None = None, keep_workdir: bool = True, _probe: bool = False) -> SandboxResult:
    """Run an untrusted Python program in a sandbox and return what happened.

    The program runs as ``python <entry> *args`` with its working directory at ``/sandbox`` (the
    only writable host directory), the Python installation read-only, no network, a fresh pid
    namespace and its own uid; see :mod:`jaxor.sandbox` for the full list of guarantees.

    Args:
        code: program text; written to ``<workdir>/program.py``.
        path: the entry file instead of ``code``: relative to the workdir (staged runs, e.g.
            ``"src/solution.py"``) or an absolute host file that is copied into the workdir.
        workdir: host directory the program may write (created if missing; a fresh temporary one if
            None). Its whole tree is handed to the worker uid for the run and back to the caller
            afterwards, so files the program wrote stay there, owned by the caller. ``/``, home
            directories and any directory holding the Python installation are refused.
        stage: a directory copied into the workdir before the run (an OR-Space workspace).
        args: command-line arguments of the program.
        limits: :class:`Limits` (defaults: 60 s wall, 4 GiB address space, ...).
        solver_track: one of :data:`SOLVER_TRACKS`; exported as ``JAXOR_SOLVER_TRACK``. A track whose
            module is missing gives ``infra_error`` without running.
        env: extra environment variables (the host environment is never passed through).
        allow_unsandboxed: where namespaces are unavailable, run in a plain subprocess with the
            same rlimits and timeout instead of raising (``result.sandboxed`` is then False).
        job_id: carried into the result (pool and journal key).
        keep_workdir: with ``workdir=None``, keep the temporary directory (its path is in
            ``result.workdir``); False removes it after the run.

    Returns:
        :class:`SandboxResult`; bad input gives ``status="invalid_input"``, never an exception.

    Raises:
        SandboxUnavailable: namespaces do not work here and ``allow_unsandboxed`` is False.

    Example:
        >>> from jaxor.sandbox import run, Limits
        >>> r = run(code="print(6 * 7)", limits=Limits(wall_s=10))  # doctest: +SKIP
        >>> r.status, r.stdout  # doctest: +SKIP
        ('ok', '42\\n')
    """
    limits = limits if limits is not None else Limits()
    if not isinstance(limits, Limits):
        raise ValueError(f"limits must be a jaxor.sandbox.Limits; got {type(limits).__name__}")
    base = SandboxResult(status="invalid_input", limits=limits.to_dict(), solver_track=solver_track, job_id=job_id)

    if solver_track is not None:
        if solver_track not in SOLVER_TRACKS:
            base.message = f"solver_track must be one of {sorted(SOLVER_TRACKS)}; got {solver_track!r}"
            return base
        if not solver_track_available(solver_track):
            base.status, base.infra = "infra_error", True
            base.message = f"solver track {solver_track!r} needs module {SOLVER_TRACKS[solver_track]!r}, not installed"
            return base
    if (code is None) == (path is None):
        base.message = "give exactly one of code= or path="
        return base
    if code is not None and (not isinstance(code, str) or not code.strip()):
        base.message = "empty program"
        return base

    if not _probe and not allow_unsandboxed:
        reason = sandbox_available()
        if reason is not None:
            raise SandboxUnavailable(f"cannot sandbox here ({reason}); pass allow_unsandboxed=True to run "
                                     "without namespaces (rlimits and timeout only)")
    sandboxed = not allow_unsandboxed or (sandbox_available() is None)

    own_tmp = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="jaxor-sbx-")) if own_tmp else Path(workdir)
    try:
        return _prepare_and_run(wd, own_tmp, code, path, stage, args, limits, solver_track, env, sandboxed, base)
    finally:
        if own_tmp and not keep_workdir:
            shutil.rmtree(wd, ignore_errors=True)


def _prepare_and_run(wd: Path, own_tmp: bool, code, path, stage, args, limits: Limits, solver_track, env,
                     sandboxed: bool, base: SandboxResult) -> SandboxResult:
    danger = None if own_tmp else _unsafe_workdir(wd)
    if danger:
        base.message = danger
        return base
    try:
        wd.mkdir(parents=True, exist_ok=True)
        if stage is not None:
            if not Path(stage).is_dir():
                base.message = f"stage directory not found: {stage}"
                return base
            shutil.copytree(stage, wd, dirs_exist_ok=True, symlinks=True)
        if code is not None:
            entry = "program.py"
            (wd / entry).write_text(code)
        else:
            p = Path(path)
            if p.is_absolute():
                if not p.is_file():
                    base.message = f"program file not found: {p}"
                    return base
                entry = p.name
                if p.resolve() != (wd / entry).resolve():
                    shutil.copyfile(p, wd / entry)
            else:
                if ".." in p.parts or not (wd / p).is_file():
                    base.message = f"program file not found in the workdir: {p}"
                    return base
                entry = p.as_posix()
            if not (wd / entry).read_text(errors="replace").strip():
                base.message = "empty program"
                return base
    except (OSError, ValueError) as e:
        base.message = f"could not prepare the workdir: {e}"
        return base
    base.workdir = str(wd)
    try:
        envd = _base_env(solver_track, env)
    except ValueError as e:
        base.message = str(e)
        return base
    args = [str(a) for a in args]
    if sandboxed:
        return _run_namespaced(wd, entry, args, envd, limits, base)
    return _run_plain(wd, entry, args, envd, limits, base)


def _collect(proc: subprocess.Popen, extra_fds: Sequence[int], limits: Limits):
    """Read stdout/stderr (and extra fds) until EOF, the deadline or the output cap."""
    sel = selectors.DefaultSelector()
    bufs = {"out": bytearray(), "err": bytearray()}
    extra = {fd: bytearray() for fd in extra_fds}
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    for fd in extra_fds:
        sel.register(fd, selectors.EVENT_READ, fd)
    total = 0
    cap = int(limits.max_output_bytes)
    deadline = time.monotonic() + float(limits.wall_s)
    timed_out = overflow = False
    open_count = 2 + len(extra_fds)
    while open_count:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(left, 0.5)):
            fd = key.fd
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(key.fileobj)
                open_count -= 1
                continue
            if key.data in bufs:
                total += len(chunk)
                buf = bufs[key.data]
                room = cap - (len(bufs["out"]) + len(bufs["err"]))
                if room > 0:
                    buf += chunk[:room]
                if total > cap:
                    overflow = True
            else:
                extra[key.data] += chunk
        if overflow:
            break
    sel.close()
    return bufs, extra, total, timed_out, overflow


def _decode_reports(buf: bytes) -> list[dict]:
    """The launcher's length-prefixed ``marshal`` records (a torn last record is dropped)."""
    out, i = [], 0
    while i + 4 <= len(buf):
        n = int.from_bytes(buf[i:i + 4], "little")
        if i + 4 + n > len(buf):
            break
        try:
            rec = marshal.loads(bytes(buf[i + 4:i + 4 + n]))
        except (EOFError, ValueError, TypeError):
            break
        if isinstance(rec, dict):
            out.append(rec)
        i += 4 + n
    return out


def _host_pid(report: bytes) -> int | None:
    for rec in _decode_reports(report):
        if isinstance(rec.get("host_pid"), int):
            return rec["host_pid"]
    return None


def _stop_tree(proc: subprocess.Popen, init_pid: int | None) -> None:
    """Kill the sandbox's pid-namespace init and wait until the namespace is empty.

    The kernel kills every process of a pid namespace when its init dies, and init's exit completes
    only once they are all gone; ``unshare`` (init's parent) exits right after reaping it. So
    killing init, then waiting for ``unshare``, returns only when nothing of the run is left.
    """
    if proc.poll() is None and init_pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(init_pid, signal.SIGKILL)  # init's parent (unshare) is alive, so the pid is not reused
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    _kill_group(proc)
    proc.wait()


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _run_namespaced(wd: Path, entry: str, args: list[str], envd: dict, limits: Limits,
                    base: SandboxResult) -> SandboxResult:
    mode = _mode()
    cmd = _unshare_cmd(mode) + [sys.executable, "-I", "-S", _LAUNCHER]
    os.makedirs(_NEWROOT, mode=0o755, exist_ok=True)
    t0 = time.monotonic()
    # root: a per-slot host uid; rootless: the caller's own uid (no slot lock needed)
    with _slot() if mode == "root" else contextlib.nullcontext(os.getuid()) as uid:
        gid = uid
        caller_uid, caller_gid = os.getuid(), os.getgid()
        if mode == "root":
            _chown_tree(str(wd), uid, gid)
        else:
            uid, gid = caller_uid, caller_gid
        rfd, wfd = os.pipe()
        cfg = {"mode": mode, "newroot": _NEWROOT, "workdir": str(wd.resolve()), "inner_workdir": _INNER_WORKDIR,
               "ro_paths": _python_roots() + list(_SYSTEM_RO), "etc_files": list(_ETC_FILES),
               "uid": uid, "gid": gid, "report_fd": wfd, "cwd": _INNER_WORKDIR,
               "argv": [sys.executable, entry, *args], "env": envd, "rlimits": limits.rlimits(),
               "tmp_bytes": int(limits.tmp_bytes)}
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    pass_fds=(wfd,), start_new_session=True, close_fds=True)
        except OSError as e:
            os.close(rfd)
            os.close(wfd)
            raise SandboxUnavailable(f"could not start unshare: {e}") from e
        os.close(wfd)
        try:
            proc.stdin.write(marshal.dumps(cfg))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        extra = {}
        try:
            bufs, extra, total, timed_out, overflow = _collect(proc, [rfd], limits)
        finally:
            _stop_tree(proc, _host_pid(extra.get(rfd, b"")))
            os.close(rfd)
            proc.stdout.close()
            proc.stderr.close()
        wall = time.monotonic() - t0
        if mode == "root":
            _chown_tree(str(wd), caller_uid, caller_gid)
    reports = _decode_reports(extra[rfd])
    res = base
    res.sandboxed, res.uid, res.wall_s, res.output_bytes = True, uid, wall, total
    res.stdout = bufs["out"].decode(errors="replace")
    res.stderr = bufs["err"].decode(errors="replace")
    setup_err = next((r["setup_error"] for r in reports if "setup_error" in r), None)
    final = next((r for r in reports if "exit" in r), None)
    ready = next((r for r in reports if r.get("ready") and "t" in r), None)
    if ready is not None:
        res.setup_s = max(0.0, float(ready["t"]) - t0)
    if setup_err is not None and not any(r.get("ready") for r in reports):
        res.status, res.infra, res.message = "infra_error", True, f"sandbox setup failed: {setup_err}"
        return res
    if final is None and not (timed_out or overflow):
        res.status, res.infra = "infra_error", True
        res.message = f"sandbox ended without a report (unshare exit {proc.returncode}): {res.stderr[-300:]}"
        return res
    if final is not None:
        res.returncode, res.cpu_s, res.max_rss_kb = final["exit"], final["cpu_s"], final["max_rss_kb"]
        if res.returncode == 126 and "jaxor.sandbox: could not start the program" in res.stderr:
            res.status, res.infra, res.message = "infra_error", True, res.stderr.strip().splitlines()[-1]
            return res
    _classify(res, timed_out, overflow, limits)
    return res


def _run_plain(wd: Path, entry: str, args: list[str], envd: dict, limits: Limits,
               base: SandboxResult) -> SandboxResult:
    """No namespaces: same rlimits, timeout and output cap; killpg of the session on exit."""
    import resource

    rl = limits.rlimits()
    table = {"AS": resource.RLIMIT_AS, "CPU": resource.RLIMIT_CPU, "NOFILE": resource.RLIMIT_NOFILE,
             "FSIZE": resource.RLIMIT_FSIZE, "CORE": resource.RLIMIT_CORE}

    def pre():
        for k, r in table.items():
            v = rl[k]
            resource.setrlimit(r, (v, v + 1 if k == "CPU" else v))

    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, entry, *args], cwd=str(wd), env={**envd, "HOME": str(wd)},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=pre)
    try:
        bufs, _, total, timed_out, overflow = _collect(proc, [], limits)
    finally:
        if proc.poll() is None:
            _kill_group(proc)
        rc = proc.wait()
        _kill_group(proc)
        proc.stdout.close()
        proc.stderr.close()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = base
    res.sandboxed, res.uid, res.wall_s, res.output_bytes = False, os.getuid(), time.monotonic() - t0, total
    res.stdout, res.stderr = bufs["out"].decode(errors="replace"), bufs["err"].decode(errors="replace")
    res.returncode, res.max_rss_kb = rc, ru.ru_maxrss
    _classify(res, timed_out, overflow, limits)
    return res
