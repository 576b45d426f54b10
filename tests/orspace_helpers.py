"""Test helpers for tests/orspace: reference programs for the OR-Space sample (read from the user's
copy of the release at test time, never stored in jaxor) and a canned OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jaxor.orspace as ors

# A minimal stand-in for the pandas calls in sample instance 5's model (pandas is not a jaxor
# dependency); written into the staged src/ folder as pandas.py, so the released model runs unchanged.
MINI_PANDAS = '''import csv


def _num(s):
    s = s.strip()
    if s == "":
        return None
    try:
        return float(s)
    except ValueError:
        return s


class _ILoc:
    def __init__(self, vals):
        self.vals = vals

    def __getitem__(self, i):
        return self.vals[i]


class Series:
    def __init__(self, vals, index):
        self.vals, self.index = list(vals), list(index)

    def fillna(self, v):
        return Series([v if x is None else x for x in self.vals], self.index)

    def tolist(self):
        return list(self.vals)

    def to_dict(self):
        return dict(zip(self.index, self.vals))

    def __eq__(self, o):
        return Series([x == o for x in self.vals], self.index)

    @property
    def iloc(self):
        return _ILoc(self.vals)


class DataFrame:
    def __init__(self, cols, index):
        self.cols, self.index = cols, list(index)

    @property
    def empty(self):
        return not self.index

    def __getitem__(self, k):
        if isinstance(k, Series):
            keep = [i for i, m in enumerate(k.vals) if m]
            return DataFrame({c: [v[i] for i in keep] for c, v in self.cols.items()}, [self.index[i] for i in keep])
        return Series(self.cols[k], self.index)

    def __setitem__(self, k, s):
        self.cols[k] = list(s.vals)

    def set_index(self, k):
        return DataFrame({c: v for c, v in self.cols.items() if c != k}, self.cols[k])


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    cols = {h: [_num(r[j]) if j < len(r) else None for r in rows[1:]] for j, h in enumerate(head)}
    for h in head:
        if any(isinstance(x, str) for x in cols[h]):
            cols[h] = [r[head.index(h)] for r in rows[1:]]
    return DataFrame(cols, range(len(rows) - 1))
'''

RECORDER_STUB = "def install_gurobi_objective_recorder(*args, **kwargs):\n    return None\n"


def sample_reference_files(ds: ors.Dataset) -> dict[str, dict[str, str]]:
    """Reference programs for the sample's Build / Revise instances.

    The release ships no Build / Revise reference program; each Explain workspace holds the original
    and revised optimisation models of the same topology, which reproduce the Build and Revise
    reference objectives. The reference agent places that model (unchanged) in ``src/`` with its
    ``utils`` module, jaxor's highspy-backed PuLP-subset module as ``gurobi_pulp_compat`` and a
    wrapper that turns its ``OBJECTIVE_VALUE`` line into ``FINAL_OBJ_VALUE``.
    """
    out: dict[str, dict[str, str]] = {}
    for inst in ds.filter(mode="explain"):
        for mode, side in (("build", "original"), ("revise", "revised")):
            wid = ors.workspace_id(inst.number, mode)
            if wid not in ds:
                continue
            src = inst.path / side / "src"
            out[wid] = {
                "src/_agent_solution.py": ors.wrapper_program("_reference_model.py", pattern="OBJECTIVE_VALUE"),
                "src/_reference_model.py": (src / "optimization_model.py").read_text(),
                "src/utils.py": (src / "utility_code.py").read_text(),
                "src/gurobi_pulp_compat.py": ors.pulp_compat_source(),
                "src/gurobi_execution_record.py": RECORDER_STUB,
                "src/pandas.py": MINI_PANDAS,
            }
    return out


class CannedServer:
    """An OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1 that answers from a script.

    ``replies`` is a list consumed in order; each item is a dict ``{"content": ..., "tool_calls": [...],
    "finish_reason": ...}``, or ``{"status": 500}`` for an HTTP error, or ``{"sleep": s}`` to stall, or
    ``{"raw": "not json"}`` for a malformed body. Every request body is kept in ``requests``.
    """

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append(body)
                item = server.replies.pop(0) if server.replies else {"content": "out of script"}
                if "sleep" in item:
                    import time

                    time.sleep(item["sleep"])
                    item = {"content": "late"}
                if "status" in item:
                    self.send_response(item["status"])
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "canned failure"}}')
                    return
                if "raw" in item:
                    payload = item["raw"].encode()
                else:
                    msg = {"role": "assistant", "content": item.get("content")}
                    if item.get("tool_calls"):
                        msg["tool_calls"] = [{"id": f"call_{k}", "type": "function",
                                              "function": {"name": n, "arguments": a}}
                                             for k, (n, a) in enumerate(item["tool_calls"])]
                    payload = json.dumps({
                        "id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                        "choices": [{"index": 0, "message": msg,
                                     "finish_reason": item.get("finish_reason",
                                                               "tool_calls" if item.get("tool_calls") else "stop")}],
                        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
