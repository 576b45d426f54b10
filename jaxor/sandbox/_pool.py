"""A pool of sandboxes with a resumable JSONL journal.

Each worker thread launches one sandboxed process at a time (the threads only wait on pipes), so
``workers`` programs run in parallel; each run gets its own worker uid slot. With a journal, every
finished result is appended (one JSON object per line, flushed and fsynced) and a rerun with the same
journal skips the ids already there, so an interrupted batch resumes where it stopped.

Context: SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver programs by running them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jaxor.sandbox._run import run, sandbox_available
from jaxor.sandbox._types import Limits, SandboxResult, SandboxUnavailable

__all__ = ["Job", "Pool", "read_journal"]


@dataclasses.dataclass(frozen=True)
class Job:
    """One program of a batch (the keyword arguments of :func:`jaxor.sandbox.run`).

    ``id`` must be unique in the batch; it keys the journal.
    """

    id: str
    code: str | None = None
    path: str | None = None
    workdir: str | None = None
    stage: str | None = None
    args: tuple[str, ...] = ()
    limits: Limits | None = None
    solver_track: str | None = None
    env: Mapping[str, str] | None = None
    keep_workdir: bool = True


def read_journal(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``{id: record}`` from a journal; a torn last line (a killed writer) is ignored."""
    out: dict[str, dict[str, Any]] = {}
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and "id" in rec:
            out[str(rec["id"])] = rec
    return out


class Pool:
    """Runs many sandboxed programs in parallel.

    Args:
        workers: parallel sandboxes (default: the CPUs this process may use).
        limits: default :class:`Limits` for jobs that do not set their own.
        allow_unsandboxed: as in :func:`jaxor.sandbox.run`.

    Raises:
        SandboxUnavailable: at construction, when namespaces do not work and ``allow_unsandboxed``
            is False (so a batch fails fast instead of once per job).

    Example:
        >>> pool = Pool(workers=2)  # doctest: +SKIP
        >>> rs = pool.run([Job("a", code="print(1)"), Job("b", code="print(2)")],
        ...               journal="batch.jsonl")  # doctest: +SKIP
        >>> [r.status for r in rs]  # doctest: +SKIP
        ['ok', 'ok']
    """

    def __init__(self, workers: int | None = None, *, limits: Limits | None = None,
                 allow_unsandboxed: bool = False):
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int; got {workers!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise ValueError(f"limits must be a jaxor.sandbox.Limits; got {type(limits).__name__}")
        self.workers = workers
        self.limits = limits or Limits()
        self.allow_unsandboxed = allow_unsandboxed
        if not allow_unsandboxed:
            reason = sandbox_available()
            if reason is not None:
                raise SandboxUnavailable(f"cannot sandbox here ({reason}); pass allow_unsandboxed=True")

    def run_one(self, job: Job) -> SandboxResult:
        """Run one job; never raises (an unexpected failure becomes ``infra_error``)."""
        try:
            return run(code=job.code, path=job.path, workdir=job.workdir, stage=job.stage, args=job.args,
                       limits=job.limits or self.limits, solver_track=job.solver_track, env=job.env,
                       allow_unsandboxed=self.allow_unsandboxed, job_id=job.id, keep_workdir=job.keep_workdir)
        except ValueError as e:  # bad job (e.g. limits of the wrong type): a status, not a crash
            return SandboxResult(status="invalid_input", message=str(e), job_id=job.id)
        except Exception as e:  # noqa: BLE001 - a batch never dies on one job
            return SandboxResult(status="infra_error", infra=True, message=f"{type(e).__name__}: {e}",
                                 job_id=job.id, limits=self.limits.to_dict())

    def run(self, jobs: Sequence[Job], *, journal: str | os.PathLike | None = None,
            progress: Any = None) -> list[SandboxResult]:
        """Run ``jobs`` in parallel; results in job order. See :meth:`map` for ``journal``."""
        return self.map(self.run_one, jobs, ids=[j.id for j in jobs], journal=journal,
                        encode=SandboxResult.to_dict, decode=SandboxResult.from_dict, progress=progress)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *, ids: Sequence[str] | None = None,
            journal: str | os.PathLike | None = None, encode: Callable[[Any], dict] | None = None,
            decode: Callable[[dict], Any] | None = None, progress: Any = None) -> list[Any]:
        """``[fn(item) for item in items]`` on ``workers`` threads, journaled and resumable.

        Args:
            fn: called once per item; must not raise for bad items (return a status instead).
            items: the inputs.
            ids: unique string per item (required with a journal).
            journal: JSONL path; results already there (by id) are decoded and not recomputed, new
                ones are appended as ``{"id": ..., **encode(result)}``.
            encode, decode: result <-> JSON object (needed with a journal).
            progress: optional object with ``update(n)`` (e.g. :class:`jaxor.progress.Progress`).
        """
        items = list(items)
        if ids is not None:
            ids = [str(i) for i in ids]
            if len(ids) != len(items):
                raise ValueError(f"ids has {len(ids)} entries for {len(items)} items")
            if len(set(ids)) != len(ids):
                raise ValueError("ids must be unique")
        if journal is not None and (ids is None or encode is None or decode is None):
            raise ValueError("a journal needs ids, encode and decode")
        results: list[Any] = [None] * len(items)
        todo = list(range(len(items)))
        lock = threading.Lock()
        jf = None
        if journal is not None:
            done = read_journal(journal)
            todo = []
            for i, key in enumerate(ids):
                if key in done:
                    rec = dict(done[key])
                    rec.pop("id", None)
                    results[i] = decode(rec)
                else:
                    todo.append(i)
            Path(journal).parent.mkdir(parents=True, exist_ok=True)
            jf = open(journal, "a")
        if progress is not None and len(items) - len(todo):
            progress.update(len(items) - len(todo))

        def work(i: int) -> None:
            r = fn(items[i])
            results[i] = r
            with lock:
                if jf is not None:
                    jf.write(json.dumps({"id": ids[i], **encode(r)}) + "\n")
                    jf.flush()
                    os.fsync(jf.fileno())
                if progress is not None:
                    progress.update(1)

        try:
            if self.workers == 1 or len(todo) <= 1:
                for i in todo:
                    work(i)
            else:
                with ThreadPoolExecutor(max_workers=self.workers) as ex:
                    list(ex.map(work, todo))
        finally:
            if jf is not None:
                jf.close()
        return results
