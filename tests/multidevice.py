"""A long-lived Python subprocess with ``--xla_force_host_platform_device_count=N``.

JAX fixes its device count at start-up, so sharding checks need another process; one process is
shared by the whole session so JAX's import and start-up are paid once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
_MARK = "@@JAXOR_RESULT@@ "

_WORKER = r'''
import importlib.util, json, sys, traceback
MARK = "@@JAXOR_RESULT@@ "
mods = {}
for line in sys.stdin:
    req = json.loads(line)
    try:
        path, fn = req["target"].rsplit(":", 1)
        if path not in mods:
            spec = importlib.util.spec_from_file_location("md_" + str(len(mods)), req["tests_dir"] + "/" + path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            mods[path] = mod
        out = {"ok": True, "result": getattr(mods[path], fn)(*req["args"])}
    except BaseException:
        out = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.write(MARK + json.dumps(out) + "\n")
    sys.stdout.flush()
'''


class MultiDeviceSession:
    def __init__(self, n_devices: int = 8):
        env = dict(os.environ)
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={n_devices}").strip()
        env["JAX_PLATFORMS"] = "cpu"
        env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.n_devices = n_devices
        self._proc = subprocess.Popen([sys.executable, "-u", "-c", _WORKER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=env)

    def call(self, target: str, *args):
        """Run ``"relative/file.py:function"`` (relative to tests/) with JSON ``args``; return its result."""
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps({"target": target, "args": list(args), "tests_dir": str(TESTS_DIR)}) + "\n")
        self._proc.stdin.flush()
        for line in self._proc.stdout:
            if line.startswith(_MARK):
                out = json.loads(line[len(_MARK):])
                if not out["ok"]:
                    raise AssertionError(f"{target} failed in the {self.n_devices}-device process:\n{out['error']}")
                return out["result"]
            sys.stdout.write(line)
        raise RuntimeError(f"the multi-device worker exited (code {self._proc.poll()})")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
