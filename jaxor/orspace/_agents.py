"""Agents for the OR-Space harness behind one small protocol (arXiv 2605.28158, §4.1).

An agent gets an :class:`AgentTask` (a staged workspace and where its output must go) and leaves its
program (Build / Revise) or its answer (Explain) there; it returns an :class:`AgentReport` (tokens,
timing, errors). Kinds:

* :class:`CommandAgent`: any executable, run in the staged workspace (sandboxed) with a timeout, told
  the instance through ``{placeholders}`` in its arguments and ``JAXOR_ORSPACE_*`` variables.
* :class:`CallableAgent`: a Python callable ``fn(task) -> str | None``.
* :class:`LLMAgent`: the paper's single-shot protocol over any OpenAI-compatible endpoint: visible
  files concatenated as ``=== path ===`` blocks, one program back, ending with ``FINAL_OBJ_VALUE:``.
* :class:`ToolLLMAgent`: a multi-turn variant with list / read / write / run tools and a turn budget.
* :class:`NullAgent` (writes nothing), :class:`ProgramAgent` (writes given files, e.g. reference
  programs) and :class:`ScaledObjectiveAgent` (wraps another agent's program so that its final
  objective is off by a factor: the "wrong agent" of the must-show checks).

Errors of an agent (an HTTP error, a timeout, a malformed reply) are recorded in the report, never raised.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jaxor.orspace._exec import ExecResult, run_agent_command

__all__ = ["Agent", "AgentReport", "AgentTask", "CallableAgent", "CommandAgent", "LLMAgent", "NullAgent",
           "ProgramAgent", "ScaledObjectiveAgent", "ToolLLMAgent", "build_prompt", "extract_program",
           "visible_files", "wrapper_program"]


@dataclasses.dataclass
class AgentTask:
    """One instance as the agent sees it. Paths are absolute inside the staged workspace ``workdir``."""

    workspace_id: str
    mode: str
    workdir: Path
    program_path: Path
    answer_path: Path
    question: str | None = None
    solver_track: str = "highspy"
    timeout_s: float = 600.0
    run_program: Callable[[], ExecResult] | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass
class AgentReport:
    """What the agent reports besides the files it left."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    inference_time: float = 0.0
    turns: int = 0
    error: str | None = None
    answer: str | None = None
    output_truncated: bool = False


class Agent(abc.ABC):
    """Base class: ``act(task) -> AgentReport``; ``name`` labels the records."""

    name = "agent"

    @abc.abstractmethod
    def act(self, task: AgentTask) -> AgentReport:
        """Attempt ``task`` and report what happened."""


def _write_output(task: AgentTask, text: str) -> None:
    path = task.answer_path if task.mode == "explain" else task.program_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class NullAgent(Agent):
    """Leaves no program and no answer (a floor for every score)."""

    name = "null"

    def act(self, task: AgentTask) -> AgentReport:
        return AgentReport()


class CallableAgent(Agent):
    """A Python callable ``fn(task) -> str | AgentReport | None``; a string is written as the program
    (Build / Revise) or the answer (Explain). Exceptions are recorded, not raised."""

    def __init__(self, fn: Callable[[AgentTask], Any], name: str | None = None):
        if not callable(fn):
            raise ValueError("fn must be callable")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")

    def act(self, task: AgentTask) -> AgentReport:
        t0 = time.perf_counter()
        try:
            out = self.fn(task)
        except Exception as e:  # an agent's failure is a result, not a harness crash
            return AgentReport(error=f"{type(e).__name__}: {e}", inference_time=time.perf_counter() - t0)
        if isinstance(out, AgentReport):
            return out
        if isinstance(out, str):
            _write_output(task, out)
        return AgentReport(inference_time=time.perf_counter() - t0, answer=out if task.mode == "explain" else None)


class ProgramAgent(Agent):
    """Writes prepared files for each instance: ``files[workspace_id]`` is the program text, or a
    mapping ``{relative path: text}`` (paths relative to the program's folder; the key
    ``"<program>"`` is the program itself), or for Explain the answer text."""

    def __init__(self, files: Mapping[str, str | Mapping[str, str]], name: str = "reference"):
        self.files = files
        self.name = name

    def act(self, task: AgentTask) -> AgentReport:
        item = self.files.get(task.workspace_id)
        if item is None:
            return AgentReport(error="no prepared program for this instance")
        if isinstance(item, str):
            _write_output(task, item)
            return AgentReport(answer=item if task.mode == "explain" else None)
        for rel, text in item.items():
            path = task.program_path if rel == "<program>" else task.program_path.parent / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return AgentReport()


def wrapper_program(inner: str, *, factor: float = 1.0, pattern: str = "FINAL_OBJ_VALUE") -> str:
    """Source of a program that runs ``inner`` (a file beside it) and prints its objective times ``factor``
    as ``FINAL_OBJ_VALUE``; ``pattern`` names the inner program's objective line (e.g. ``OBJECTIVE_VALUE``)."""
    return f'''import contextlib
import io
import os
import re
import runpy
import sys

_buf = io.StringIO()
with contextlib.redirect_stdout(_buf):
    runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), {inner!r}), run_name="__main__")
_out = _buf.getvalue()
_vals = re.findall(r"(?<![A-Z_]){pattern}:\\s*(\\S+)", _out)
sys.stdout.write(re.sub(r"(?m)^.*FINAL_OBJ_VALUE:.*\\n?", "", _out))
print(f"FINAL_OBJ_VALUE: {{float(_vals[-1]) * {float(factor)!r} if _vals else None}}")
'''


class ScaledObjectiveAgent(Agent):
    """Runs ``base`` and then wraps its program so the printed objective is ``factor`` times the true one
    (``factor=1.05``: an objective 5% off, which OR-Space's 1% rule must reject)."""

    def __init__(self, base: Agent, factor: float = 1.05, name: str | None = None):
        self.base, self.factor = base, float(factor)
        self.name = name or f"{base.name}x{factor:g}"

    def act(self, task: AgentTask) -> AgentReport:
        rep = self.base.act(task)
        if task.mode == "explain":
            return rep
        prog = task.program_path
        if not prog.exists():
            from jaxor.orspace._runner import find_program

            found = find_program(task)
            if found is None:
                return rep
            prog = found
        inner = prog.with_name("_inner_solution.py")
        prog.rename(inner)
        prog.write_text(wrapper_program(inner.name, factor=self.factor), encoding="utf-8")
        return rep


class CommandAgent(Agent):
    """Any executable, run in the staged workspace with a timeout.

    The agent is the user's own tool (it may need the network to reach its model), so it runs as a
    plain subprocess in its own process group; the program it leaves is untrusted and runs only in
    :mod:`jaxor.sandbox`. ``argv[0] == "python"`` means this interpreter.

    Args:
        argv: the command; each item may use ``{workspace_id}``, ``{mode}``, ``{workdir}``,
            ``{program_path}``, ``{answer_path}``, ``{solver_track}`` placeholders. The same values are in
            the environment as ``JAXOR_ORSPACE_WORKSPACE_ID``, ``..._MODE``, ``..._WORKDIR``,
            ``..._PROGRAM_PATH``, ``..._ANSWER_PATH``, ``..._SOLVER_TRACK``, ``..._QUESTION``.
        timeout_s: wall-clock limit for the agent itself (None: the task's).
        env: extra environment variables (e.g. an API key the agent needs).
    """

    def __init__(self, argv: list[str], *, timeout_s: float | None = None, env: Mapping[str, str] | None = None,
                 name: str | None = None):
        if not argv:
            raise ValueError("argv must name an executable")
        self.argv, self.timeout_s, self.env = list(argv), timeout_s, dict(env or {})
        self.name = name or Path(argv[0]).name

    def act(self, task: AgentTask) -> AgentReport:
        values = {"workspace_id": task.workspace_id, "mode": task.mode, "workdir": str(task.workdir),
                  "program_path": str(task.program_path), "answer_path": str(task.answer_path),
                  "solver_track": task.solver_track}
        argv = [sys.executable if a == "python" and i == 0 else a.format(**values) for i, a in enumerate(self.argv)]
        env = {f"JAXOR_ORSPACE_{k.upper()}": v for k, v in values.items()}
        env["JAXOR_ORSPACE_QUESTION"] = task.question or ""
        env.update(self.env)
        res = run_agent_command(argv, task.workdir, timeout_s=self.timeout_s or task.timeout_s, env=env)
        err = None
        if res.infra_error:
            err = f"infrastructure: {res.infra_error}"
        elif res.timed_out:
            err = "agent timed out"
        elif res.returncode != 0:
            err = f"agent exited with status {res.returncode}: {res.stderr[-500:]}"
        answer = task.answer_path.read_text(encoding="utf-8") if (
            task.mode == "explain" and task.answer_path.exists()) else None
        return AgentReport(inference_time=res.wall_s, error=err, answer=answer)


# ----------------------------------------------------------------------------------------------
# LLM agents
# ----------------------------------------------------------------------------------------------
_TEXT_SUFFIXES = {".md", ".csv", ".py", ".json", ".tex", ".log", ".txt", ".lp", ".mps", ".yaml", ".yml"}


def visible_files(workdir: Path, max_chars: int = 60_000) -> list[tuple[str, str]]:
    """``(relative path, text)`` of every text file in the staged workspace (its visible files)."""
    out = []
    for p in sorted(workdir.rglob("*")):
        if p.is_file() and p.suffix.lower() in _TEXT_SUFFIXES and p.name != ".gitkeep":
            text = p.read_text(encoding="utf-8", errors="replace")
            if len(text) > max_chars:
                text = text[:max_chars] + "\n... [truncated]"
            out.append((p.relative_to(workdir).as_posix(), text))
    return out


_INSTRUCTIONS = {
    "build": (
        "You are an operations-research engineer. Using the workspace files above, write ONE complete Python "
        "program that formulates and solves the optimization problem with the {track} solver API. The program is "
        "saved as `{program}` (relative to the workspace root) and run from there; read data with "
        "os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', <file>). Print exactly one line at the "
        "end: `FINAL_OBJ_VALUE: <number>`. Reply with the program in a single ```python code block."),
    "revise": (
        "You are an operations-research engineer. The `original/` folder holds the current model and data; "
        "`revised/` holds the revised business requirement and data. Write ONE complete Python program that solves "
        "the REVISED problem with the {track} solver API. It is saved as `{program}` and run from `revised/`; read "
        "data with os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', <file>). Print exactly one "
        "line at the end: `FINAL_OBJ_VALUE: <number>`. Reply with the program in a single ```python code block."),
    "explain": (
        "You are an operations-research analyst. Answer the question below using only the workspace files above. "
        "Cite exact code symbols, CSV column and parameter names, and numeric values.\n\nQUESTION:\n{question}"),
}


def build_prompt(task: AgentTask, max_chars: int = 60_000) -> str:
    """The single-shot prompt: visible files as ``=== path ===`` blocks, then the mode's instructions."""
    blocks = [f"=== {rel} ===\n{text}" for rel, text in visible_files(task.workdir, max_chars)]
    program = task.program_path.relative_to(task.workdir).as_posix()
    instr = _INSTRUCTIONS[task.mode].format(track=task.solver_track, program=program, question=task.question or "")
    return "\n\n".join(blocks) + "\n\n" + instr


_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


def extract_program(text: str | None) -> str | None:
    """The last ```python block of a reply (else the last fenced block; else the whole reply if it
    prints ``FINAL_OBJ_VALUE``); None when the reply holds no program."""
    if not text:
        return None
    blocks = _FENCE_RE.findall(text)
    py = [b for lang, b in blocks if lang.lower() in ("python", "py", "python3")]
    if py:
        return py[-1]
    if blocks:
        return blocks[-1][1]
    if "FINAL_OBJ_VALUE" in text and ("import " in text or "print(" in text):
        return text
    return None


class _LLMBase(Agent):
    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 temperature: float = 0.0, max_tokens: int = 8192, request_timeout_s: float = 300.0,
                 max_retries: int = 0, client: Any = None, name: str | None = None):
        if not model:
            raise ValueError("model must be a non-empty model name")
        self.model, self.base_url, self.api_key_env = model, base_url, api_key_env
        self.temperature, self.max_tokens = temperature, max_tokens
        self.request_timeout_s, self.max_retries = request_timeout_s, max_retries
        self._client = client
        self.name = name or model

    @property
    def client(self):
        if self._client is None:
            import openai

            key = os.environ.get(self.api_key_env) or "EMPTY"
            self._client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=self.request_timeout_s,
                                         max_retries=self.max_retries)
        return self._client

    def _create(self, messages, rep: AgentReport, **kw):
        t0 = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(model=self.model, messages=messages,
                                                       temperature=self.temperature, max_tokens=self.max_tokens, **kw)
        finally:
            rep.inference_time += time.perf_counter() - t0
        usage = getattr(resp, "usage", None)
        if usage is not None:
            rep.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            rep.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        if not getattr(resp, "choices", None):
            raise ValueError("malformed reply: no choices")
        choice = resp.choices[0]
        rep.finish_reason = getattr(choice, "finish_reason", None)
        rep.output_truncated = rep.finish_reason == "length"
        rep.turns += 1
        return choice.message


class LLMAgent(_LLMBase):
    """OR-Space's single-shot protocol over an OpenAI-compatible endpoint.

    Args:
        model: the model name sent to the endpoint.
        base_url: the endpoint (``http://host:port/v1``); None: the ``openai`` default.
        api_key_env: the environment variable that holds the key (never passed on the command line).
        temperature, max_tokens: decoding settings.
        request_timeout_s: per-request timeout; ``max_retries``: the client's retries (0 by default).
        client: an ``openai.OpenAI``-like client (for tests); built lazily otherwise.
    """

    def act(self, task: AgentTask) -> AgentReport:
        rep = AgentReport()
        messages = [{"role": "user", "content": build_prompt(task)}]
        try:
            msg = self._create(messages, rep)
        except Exception as e:  # HTTP errors, timeouts, malformed replies are results
            rep.error = f"{type(e).__name__}: {e}"
            return rep
        content = getattr(msg, "content", None) or ""
        if task.mode == "explain":
            if not content.strip():
                rep.error = "malformed reply: empty answer"
                return rep
            _write_output(task, content)
            rep.answer = content
            return rep
        program = extract_program(content)
        if program is None:
            rep.error = "malformed reply: no program found"
            return rep
        _write_output(task, program)
        return rep


_TOOLS = [
    {"type": "function", "function": {
        "name": "list_files", "description": "List files under a folder of the workspace.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}},
    {"type": "function", "function": {
        "name": "read_file", "description": "Read a text file of the workspace.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}},
    {"type": "function", "function": {
        "name": "write_file", "description": "Write a text file in the workspace (e.g. your program or answer).",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                       "required": ["path", "content"]}}},
    {"type": "function", "function": {
        "name": "run_program", "description": "Run your program as the harness will and see its output.",
        "parameters": {"type": "object", "properties": {}}}},
]


class ToolLLMAgent(_LLMBase):
    """Multi-turn, tool-using variant: the model lists / reads / writes workspace files and runs its
    program (in the sandbox) until it answers without a tool call or ``max_turns`` replies are used.

    Args: as :class:`LLMAgent`, plus ``max_turns`` (the turn budget, >= 1) and ``output_chars`` (how
    much of a tool result is shown back).
    """

    def __init__(self, model: str, *, max_turns: int = 12, output_chars: int = 4000, **kw):
        super().__init__(model, **kw)
        if max_turns < 1:
            raise ValueError(f"max_turns={max_turns} must be >= 1")
        self.max_turns, self.output_chars = max_turns, output_chars

    def _resolve(self, task: AgentTask, rel: str | None) -> Path:
        root = task.workdir.resolve()
        p = (root / (rel or ".")).resolve()
        if p != root and root not in p.parents:
            raise ValueError(f"path {rel!r} is outside the workspace")
        return p

    def _tool(self, task: AgentTask, name: str, args: dict) -> str:
        if name == "list_files":
            d = self._resolve(task, args.get("path"))
            return "\n".join(p.relative_to(task.workdir.resolve()).as_posix()
                             for p in sorted(d.rglob("*")) if p.is_file()) or "(empty)"
        if name == "read_file":
            return self._resolve(task, args["path"]).read_text(encoding="utf-8", errors="replace")[:60_000]
        if name == "write_file":
            p = self._resolve(task, args["path"])
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(str(args["content"]), encoding="utf-8")
            return f"wrote {p.relative_to(task.workdir.resolve()).as_posix()} ({len(str(args['content']))} chars)"
        if name == "run_program":
            if task.run_program is None:
                return "error: running programs is not available for this task"
            r = task.run_program()
            return (f"exit status: {r.returncode}; timed out: {r.timed_out}\n--- stdout ---\n"
                    f"{r.stdout[-self.output_chars:]}\n--- stderr ---\n{r.stderr[-self.output_chars:]}")
        return f"error: unknown tool {name!r}"

    def act(self, task: AgentTask) -> AgentReport:
        rep = AgentReport()
        program = task.program_path.relative_to(task.workdir).as_posix()
        answer = task.answer_path.relative_to(task.workdir).as_posix()
        instr = _INSTRUCTIONS[task.mode].format(track=task.solver_track, program=program, question=task.question or "")
        files = "\n".join(rel for rel, _ in visible_files(task.workdir))
        goal = (f"Write your program to `{program}` with write_file and check it with run_program."
                if task.mode != "explain" else f"Write your final answer to `{answer}` or reply with it.")
        messages: list[dict] = [
            {"role": "system", "content": "You work inside an OR-Space workspace through tools."},
            {"role": "user", "content": f"Workspace files:\n{files}\n\n{instr}\n\n{goal}"}]
        final = None
        try:
            for _ in range(self.max_turns):
                msg = self._create(messages, rep, tools=_TOOLS)
                calls = getattr(msg, "tool_calls", None) or []
                entry: dict[str, Any] = {"role": "assistant", "content": getattr(msg, "content", None) or ""}
                if calls:
                    entry["tool_calls"] = [{"id": c.id, "type": "function", "function": {
                        "name": c.function.name, "arguments": c.function.arguments}} for c in calls]
                messages.append(entry)
                if not calls:
                    final = entry["content"]
                    break
                for c in calls:
                    try:
                        args = json.loads(c.function.arguments or "{}")
                        if not isinstance(args, dict):
                            raise ValueError("arguments must be a JSON object")
                        result = self._tool(task, c.function.name, args)
                    except Exception as e:  # a bad tool call is shown to the model, not raised
                        result = f"error: {type(e).__name__}: {e}"
                    messages.append({"role": "tool", "tool_call_id": c.id, "content": result})
            else:
                rep.error = f"turn budget of {self.max_turns} used up"
        except Exception as e:
            rep.error = f"{type(e).__name__}: {e}"
        if task.mode == "explain":
            if not task.answer_path.exists() and final and final.strip():
                _write_output(task, final)
            if task.answer_path.exists():
                rep.answer = task.answer_path.read_text(encoding="utf-8")
        elif not task.program_path.exists() and final:
            code = extract_program(final)
            if code is not None:
                _write_output(task, code)
        return rep
