"""Sandboxed execution of untrusted Python programs (LLM-written optimisation models).

SIRL (Chen et al., "Solver-Informed RL: Grounding Large Language Models for Authentic Optimization
Modeling", arXiv 2505.11792) rewards programs by running them; its released code does so in-process
with ``exec``. ``jaxor.sandbox`` runs each program in its own Linux namespaces instead:

* new pid, mount, network, IPC and UTS namespaces (``unshare``), plus a user namespace for the
  program itself; as root every worker slot runs the program as its own host uid (``615000 + slot``)
  so ``RLIMIT_NPROC`` bites even when the caller is root;
* a new root: the Python installation and system libraries read-only, the program's working
  directory read-write at ``/sandbox``, private size-limited ``/tmp``; nothing else of the host
  (home directories, evaluator files, other worktrees) exists inside;
* no network (only a down loopback in a fresh network namespace);
* rlimits on CPU, address space (4 GiB default), processes, open files and file size, a wall-clock
  timeout and an output cap; on timeout the whole tree dies, since killing the pid namespace's init
  kills every process in it, including grandchildren that escaped into their own session.

Where namespaces cannot be created, :func:`run` raises :class:`SandboxUnavailable` unless the caller
passes ``allow_unsandboxed=True``. :class:`Pool` runs many programs in parallel and can journal
results so that an interrupted batch resumes.

As a normal user (rootless) the sandbox runs inside a user namespace that maps the caller to root
with every capability dropped; all workers then share the caller's uid, so ``RLIMIT_NPROC`` counts
them together. Limits are per process (address space) or per uid (processes); there is no cgroup, so
total memory is bounded by ``memory_bytes * max_processes``.

Example:
    >>> from jaxor.sandbox import Job, Limits, Pool
    >>> pool = Pool(workers=2, limits=Limits(wall_s=30))  # doctest: +SKIP
    >>> res = pool.run([Job("w1", path="src/solve.py", stage="workspace_1", workdir="/tmp/run/w1",
    ...                     solver_track="highspy")], journal="/tmp/run/journal.jsonl")  # doctest: +SKIP
    >>> res[0].status, res[0].stdout  # doctest: +SKIP
"""

from jaxor.sandbox._pool import Job as Job
from jaxor.sandbox._pool import Pool as Pool
from jaxor.sandbox._pool import read_journal as read_journal
from jaxor.sandbox._run import SOLVER_TRACKS as SOLVER_TRACKS
from jaxor.sandbox._run import run as run
from jaxor.sandbox._run import sandbox_available as sandbox_available
from jaxor.sandbox._run import solver_track_available as solver_track_available
from jaxor.sandbox._types import STATUSES as STATUSES
from jaxor.sandbox._types import Limits as Limits
from jaxor.sandbox._types import SandboxResult as SandboxResult
from jaxor.sandbox._types import SandboxUnavailable as SandboxUnavailable

__all__ = ["SOLVER_TRACKS", "STATUSES", "Job", "Limits", "Pool", "SandboxResult", "SandboxUnavailable",
           "read_journal", "run", "sandbox_available", "solver_track_available"]
