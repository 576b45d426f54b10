"""Model checks in a separate, reusable worker process: a wall-clock limit on load + solve, and a
crash or hang in HiGHS (e.g. on a hostile model file written by a generated program) cannot take
the verifier down.

Workers are started on first use (``python -c`` with a bootstrap that imports only
``jaxor.verify._model_files``, not jax), serve one request at a time over a pipe, and are killed
and replaced when a request times out or the process dies.

Context: SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver programs by running them.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["check_isolated", "shutdown_workers"]

_PKG_DIR = str(Path(__file__).resolve().parent.parent)  # the jaxor package directory

# Runs in the worker: a stub ``jaxor`` package so that jaxor/__init__ (which imports jax) is skipped.
_BOOT = r"""
import marshal, os, sys, types
pkg = types.ModuleType("jaxor")
pkg.__path__ = [sys.argv[1]]
sys.modules["jaxor"] = pkg
proto = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)  # HiGHS prints to fd 1; keep the protocol pipe clean
from jaxor.verify._model_files import check_model_file
inp = sys.stdin.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    req = marshal.loads(inp.read(int.from_bytes(head, "little")))
    try:
        out = check_model_file(req["path"], **req["kw"]).to_dict()
    except Exception as e:
        out = {"status": "error", "parse_status": "error", "message": f"model check failed: {e!r}"}
    data = marshal.dumps(out)
    proto.write(len(data).to_bytes(4, "little") + data)
    proto.flush()
"""


class _Worker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, _PKG_DIR], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)

    def request(self, path: str, kw: dict[str, Any], timeout: float) -> tuple[dict[str, Any] | None, str]:
        """``(answer, "")``, or ``(None, "timeout" | "crashed")`` (the worker is then killed)."""
        data = marshal.dumps({"path": path, "kw": kw})
        try:
            self.proc.stdin.write(len(data).to_bytes(4, "little") + data)
            self.proc.stdin.flush()
        except OSError:
            self.kill()
            return None, "crashed"
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        deadline = time.monotonic() + timeout
        need = None
        while need is None or len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return None, "timeout"
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self.kill()
                return None, "crashed"
            buf += chunk
            if need is None and len(buf) >= 4:
                need = 4 + int.from_bytes(buf[:4], "little")
        return marshal.loads(bytes(buf[4:need])), ""


_lock = threading.Lock()
_idle: list[_Worker] = []
_all: list[_Worker] = []


def _acquire() -> _Worker:
    with _lock:
        while _idle:
            w = _idle.pop()
            if w.alive():
                return w
        w = _Worker()
        _all.append(w)
        return w


def _release(w: _Worker) -> None:
    with _lock:
        if w.alive():
            _idle.append(w)
        elif w in _all:
            _all.remove(w)


@atexit.register
def shutdown_workers() -> None:
    """Stop every model-check worker of this process."""
    with _lock:
        for w in _all:
            w.kill()
        _all.clear()
        _idle.clear()


def check_isolated(path: str, kw: dict[str, Any], timeout: float) -> tuple[dict[str, Any] | None, str]:
    """Run ``check_model_file(path, **kw)`` in a worker: ``(ModelCheck.to_dict(), "")`` or
    ``(None, "timeout" | "crashed")``."""
    w = _acquire()
    try:
        return w.request(path, kw, timeout)
    finally:
        _release(w)
