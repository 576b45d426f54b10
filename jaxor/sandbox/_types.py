"""Limits and result records of :mod:`jaxor.sandbox`.

Context: SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver programs by running them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["STATUSES", "Limits", "SandboxResult", "SandboxUnavailable"]

#: Every status a :class:`SandboxResult` can carry.
#:
#: ``ok`` exit code 0; ``error`` non-zero exit; ``timeout`` wall clock exceeded; ``cpu_limit`` CPU
#: seconds exceeded (SIGXCPU); ``memory_limit`` address-space limit hit (MemoryError, bad_alloc or
#: a kill while allocating); ``output_limit`` stdout+stderr exceeded ``max_output_bytes``;
#: ``killed`` ended by a signal for another reason; ``infra_error`` the sandbox, the chosen solver
#: track or a solver licence failed (not the program's fault); ``invalid_input`` nothing to run
#: (missing file, empty program, bad arguments in a batch).
STATUSES = ("ok", "error", "timeout", "cpu_limit", "memory_limit", "output_limit", "killed",
            "infra_error", "invalid_input")

GiB = 1 << 30
MiB = 1 << 20


class SandboxUnavailable(RuntimeError):
    """Linux namespaces cannot be created here; pass ``allow_unsandboxed=True`` to run anyway."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run (all reported back in :attr:`SandboxResult.limits`).

    Attributes:
        wall_s: wall-clock seconds before the whole process tree is killed.
        cpu_s: CPU seconds of the program process (``RLIMIT_CPU``; SIGXCPU then SIGKILL one second
            later). Default: twice ``wall_s`` (rounded up), so a solver using two threads is stopped
            by the wall clock, not by this limit.
        memory_bytes: address space per process (``RLIMIT_AS``), default 4 GiB.
        max_processes: processes and threads of the worker uid (``RLIMIT_NPROC``).
        max_open_files: ``RLIMIT_NOFILE``.
        max_output_bytes: stdout plus stderr; the run is killed when it prints more.
        max_file_bytes: largest file the program may write (``RLIMIT_FSIZE``).
        tmp_bytes: size of the private ``/tmp`` and ``/dev/shm`` tmpfs (memory, gone after the run).
    """

    wall_s: float = 60.0
    cpu_s: float | None = None
    memory_bytes: int = 4 * GiB
    max_processes: int = 64
    max_open_files: int = 256
    max_output_bytes: int = 8 * MiB
    max_file_bytes: int = 256 * MiB
    tmp_bytes: int = 64 * MiB

    def __post_init__(self):
        for name in ("wall_s", "memory_bytes", "max_processes", "max_open_files", "max_output_bytes",
                     "max_file_bytes", "tmp_bytes"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"Limits.{name} must be a positive number; got {v!r}")
        if self.cpu_s is not None and not self.cpu_s > 0:
            raise ValueError(f"Limits.cpu_s must be positive or None; got {self.cpu_s!r}")

    @property
    def cpu_seconds(self) -> int:
        import math

        return int(math.ceil(self.cpu_s if self.cpu_s is not None else 2 * self.wall_s))

    def rlimits(self) -> dict[str, int]:
        """The rlimits handed to the launcher (names as in ``resource.RLIMIT_<NAME>``)."""
        return {"AS": int(self.memory_bytes), "CPU": self.cpu_seconds, "NPROC": int(self.max_processes),
                "NOFILE": int(self.max_open_files), "FSIZE": int(self.max_file_bytes), "CORE": 0}

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["cpu_s"] = self.cpu_seconds
        return d


@dataclasses.dataclass
class SandboxResult:
    """What one sandboxed run did.

    Attributes:
        status: one of :data:`STATUSES`.
        returncode: exit code (negative: killed by that signal); None when it never ran.
        stdout, stderr: captured text (UTF-8, undecodable bytes replaced), at most
            ``limits.max_output_bytes`` together.
        output_bytes: bytes the program printed (may exceed what was kept when ``output_limit``).
        wall_s: wall-clock seconds from launch to the end of the tree (includes sandbox setup).
        setup_s: seconds from launch until the sandbox was built and the program about to start
            (the namespace, mount and launcher overhead; None when unsandboxed).
        cpu_s: CPU seconds of the program and the children it waited for (None if unknown).
        max_rss_kb: peak resident set of the program (None if unknown).
        limits: the :meth:`Limits.to_dict` in force.
        sandboxed: True when namespaces were used; False only under ``allow_unsandboxed=True``.
        uid: host uid the program ran as.
        workdir: host path of the program's working directory.
        infra: True when the failure is the infrastructure's (sandbox, solver track, licence).
        message: a human-readable reason for every status but ``ok``.
        solver_track: the solver track asked for, if any.
        job_id: the batch id (pool runs) or None.
    """

    status: str
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    output_bytes: int = 0
    wall_s: float = 0.0
    setup_s: float | None = None
    cpu_s: float | None = None
    max_rss_kb: int | None = None
    limits: dict[str, Any] = dataclasses.field(default_factory=dict)
    sandboxed: bool = True
    uid: int | None = None
    workdir: str | None = None
    infra: bool = False
    message: str = ""
    solver_track: str | None = None
    job_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SandboxResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
