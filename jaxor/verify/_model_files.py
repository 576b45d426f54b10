"""Load an LP or MPS model (file or text) with HiGHS, solve it, and report status and structure.

SIRL (Chen et al., arXiv 2505.11792) grounds rewards in "the instance-level mathematical model
represented by the associated LP file"; this module is that check on HiGHS.

.. note:: To move into :mod:`jaxor.lp.highs` once the LP engine lands (model-file reading and writing
   belong there). Until then highspy is reached only through ``jaxor.lp.highs._highspy()``; no module
   outside ``jaxor/lp`` imports highspy.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from jaxor.lp.highs import _highspy, map_model_status

__all__ = ["MODEL_STATUSES", "ModelCheck", "ModelFeatures", "check_model_file", "check_model_text",
           "sanitize_lp_names"]

#: ``status`` values of a :class:`ModelCheck`.
MODEL_STATUSES = ("optimal", "infeasible", "unbounded", "infeasible_or_unbounded", "time_limit",
                  "iteration_limit", "error")
_SUFFIX = {"lp": ".lp", "mps": ".mps"}
# name[...] where the bracket directly follows a name character (a quadratic block "[ x^2 ]" never does)
_BRACKET_RE = re.compile(r"(?<=[A-Za-z0-9_.)])\[([^\[\]\s]*)\]")


@dataclasses.dataclass(frozen=True)
class ModelFeatures:
    """Structure of a loaded model (the SIRL instance-enhanced self-consistency features).

    Binaries are integer columns with bounds [0, 1] (HiGHS has no binary type).
    """

    sense: str
    n_vars: int
    n_cons: int
    nnz: int
    n_int: int
    n_bin: int
    n_cont: int
    n_semi: int
    offset: float
    quadratic: bool

    @property
    def is_mip(self) -> bool:
        return self.n_int + self.n_semi > 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ModelCheck:
    """Result of loading and solving one model.

    Attributes:
        status: one of :data:`MODEL_STATUSES` (``error`` when the model did not load or HiGHS failed).
        parse_status: ``ok``, ``warning`` (loaded; HiGHS warned), ``error`` (did not parse),
            ``missing`` (no such file / empty text) or ``too_large``.
        objective: objective value including its constant, only when ``status == "optimal"``.
        features: :class:`ModelFeatures` when the model loaded.
        x: optimal column values (when optimal), ``names`` their column names.
        sanitized: True when bracketed names were rewritten before a successful load.
        message: why it is not optimal / what HiGHS said (parse errors carry HiGHS's diagnostic).
        raw_status: HiGHS's own model-status text.
        runtime_s: wall seconds for load plus solve.
        path: the file checked (None for text).
    """

    status: str
    parse_status: str
    objective: float | None = None
    features: ModelFeatures | None = None
    x: list[float] | None = None
    names: list[str] | None = None
    sanitized: bool = False
    message: str = ""
    raw_status: str = ""
    runtime_s: float = 0.0
    path: str | None = None

    @property
    def loaded(self) -> bool:
        return self.parse_status in ("ok", "warning")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return d


def sanitize_lp_names(text: str) -> tuple[str, int]:
    """Rewrite Gurobi-style bracketed names ``x[1,2]`` to ``x(1,2)`` (valid CPLEX-LP characters).

    HiGHS (since 2023, following the CPLEX rules) rejects ``[``/``]`` in LP names; parentheses and
    commas are allowed, so the rewrite is one-to-one. Quadratic blocks (``[ x^2 ] / 2``) are left
    alone because their bracket does not directly follow a name. Returns ``(text, n_rewrites)``.
    """
    total = 0
    while True:
        text, n = _BRACKET_RE.subn(r"(\1)", text)
        total += n
        if n == 0:
            return text, total


def _guess_format(text: str) -> str:
    for line in text.splitlines()[:50]:
        head = line.strip().split()[:1]
        if head and head[0].upper() in ("NAME", "ROWS", "COLUMNS", "RHS", "OBJSENSE"):
            return "mps"
    return "lp"


def _features(h, highspy) -> ModelFeatures:
    lp = h.getLp()
    n, m = int(h.getNumCol()), int(h.getNumRow())
    integ = list(lp.integrality_) if len(lp.integrality_) else []
    lower, upper = list(lp.col_lower_), list(lp.col_upper_)
    V = highspy.HighsVarType
    n_int = n_bin = n_semi = 0
    for j, t in enumerate(integ):
        if t == V.kInteger:
            n_int += 1
            if lower[j] == 0.0 and upper[j] == 1.0:
                n_bin += 1
        elif t in (V.kSemiContinuous, V.kSemiInteger):
            n_semi += 1
    sense = "max" if lp.sense_ == highspy.ObjSense.kMaximize else "min"
    quad = int(h.getHessianNumNz()) > 0 if hasattr(h, "getHessianNumNz") else False
    return ModelFeatures(sense=sense, n_vars=n, n_cons=m, nnz=int(h.getNumNz()), n_int=n_int, n_bin=n_bin,
                         n_cont=n - n_int - n_semi, n_semi=n_semi, offset=float(lp.offset_), quadratic=quad)


def _log_errors(log_path: str) -> str:
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return ""
    keep = [ln.rstrip() for ln in text.splitlines() if ln.strip() and not ln.startswith("Running HiGHS")
            and "Copyright" not in ln and "THIRD_PARTY" not in ln]
    errs = [i for i, ln in enumerate(keep) if "ERROR" in ln or "WARNING" in ln]
    if not errs:
        return ""
    first = errs[0]
    return "\n".join(keep[first:first + 8])[:1500]


def _load_and_solve(path: str, time_limit: float | None, threads: int, resolve_ambiguous: bool,
                    options: dict[str, Any] | None):
    """Returns (parse_status, ModelCheck-without-path). One fresh Highs per call."""
    highspy = _highspy()
    with tempfile.TemporaryDirectory(prefix="jaxor-highs-log-") as d:
        log = os.path.join(d, "highs.log")
        h = highspy.Highs()
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", log)
        h.setOptionValue("threads", int(threads))
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        for k, v in (options or {}).items():
            h.setOptionValue(k, v)
        st = h.readModel(path)
        if st == highspy.HighsStatus.kError:
            h.setOptionValue("log_file", "")
            return ModelCheck(status="error", parse_status="error",
                              message="HiGHS could not parse the model: " + (_log_errors(log) or "parser error"))
        parse = "warning" if st == highspy.HighsStatus.kWarning else "ok"
        feats = _features(h, highspy)
        run_st = h.run()
        ms = h.getModelStatus()
        status = map_model_status(highspy, ms)
        raw = h.modelStatusToString(ms)
        msg = ""
        if run_st == highspy.HighsStatus.kError or status == "error":
            status = "error"
            msg = "HiGHS could not solve the model: " + (_log_errors(log) or raw)
        elif status == "infeasible_or_unbounded" and resolve_ambiguous:
            status, msg = _resolve_ambiguous(h, highspy, feats)
        elif status != "optimal":
            msg = f"model status: {raw}"
        if parse == "warning":
            warn = _log_errors(log)
            msg = "HiGHS warned while loading: " + (warn or "(no detail)") + ("; " + msg if msg else "")
        obj = x = names = None
        if status == "optimal":
            obj = float(h.getInfo().objective_function_value)
            if obj == 0.0:
                obj = 0.0  # no "-0.0"
            sol = h.getSolution()
            x = [float(v) for v in sol.col_value]
            lp = h.getLp()
            names = list(lp.col_names_) if len(lp.col_names_) == feats.n_vars else None
        h.setOptionValue("log_file", "")
        return ModelCheck(status=status, parse_status=parse, objective=obj, features=feats, x=x, names=names,
                          message=msg, raw_status=raw)


def _resolve_ambiguous(h, highspy, feats: ModelFeatures) -> tuple[str, str]:
    """Tell infeasible from unbounded: solve the feasibility problem (zero objective).

    Feasible + status "infeasible or unbounded" means unbounded (for a MIP with rational data: a
    feasible MIP whose relaxation is unbounded is unbounded, Meyer 1974).
    """
    n = feats.n_vars
    h.changeColsCost(n, list(range(n)), [0.0] * n)
    h.run()
    ms = h.getModelStatus()
    if ms == highspy.HighsModelStatus.kOptimal:
        return "unbounded", "resolved 'infeasible or unbounded': feasible, so unbounded"
    if ms == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", "resolved 'infeasible or unbounded': infeasible"
    return "infeasible_or_unbounded", f"could not resolve: {h.modelStatusToString(ms)}"


def check_model_file(path: str | os.PathLike, *, time_limit: float | None = 60.0, sanitize: bool = True,
                     resolve_ambiguous: bool = False, threads: int = 1, max_bytes: int = 256 << 20,
                     options: dict[str, Any] | None = None, root: str | os.PathLike | None = None,
                     isolate: bool = False, isolate_timeout: float | None = None) -> ModelCheck:
    """Load an ``.lp`` or ``.mps`` file with HiGHS, solve it and report.

    Args:
        path: the model file; HiGHS picks the parser from the suffix (``.lp``, ``.mps``).
        time_limit: HiGHS ``time_limit`` in seconds for the solve (status ``time_limit`` when hit).
            Parsing is bounded by ``max_bytes`` instead.
        sanitize: when an LP file fails to parse and holds bracketed names, retry with
            :func:`sanitize_lp_names` (the result says ``sanitized=True``); otherwise the message says
            bracketed names are the likely cause.
        resolve_ambiguous: turn HiGHS's ``infeasible_or_unbounded`` into ``infeasible`` or
            ``unbounded`` by a feasibility solve. Off by default: the verdict HiGHS gave is reported.
        threads: HiGHS threads (1 keeps pools from oversubscribing cores).
        max_bytes: larger files are refused with ``parse_status="too_large"``.
        options: extra HiGHS options.
        root: if given, the file must be a regular file inside this directory (no symlinks); used for
            files written by untrusted programs.
        isolate: load and solve in a separate worker process (reused across calls) with a wall-clock
            limit on the whole check, so a hang or crash in HiGHS cannot harm the caller; a check
            that overruns is killed and reported as ``status="time_limit"`` with a message.
        isolate_timeout: that limit in seconds (default: ``time_limit`` + 30 s for loading and a
            worker's start-up).

    Returns:
        :class:`ModelCheck`; a missing, unreadable or malformed file gives a status, never raises.

    Example:
        >>> r = check_model_text("max\\n obj: x + 2 y\\nst\\n c: x + y <= 3\\nend\\n")
        >>> r.status, r.objective, r.features.sense
        ('optimal', 6.0, 'max')
    """
    t0 = time.perf_counter()
    p = Path(path)
    res: ModelCheck | None = None
    try:
        st = os.lstat(p)
        if root is not None:
            rroot = os.path.realpath(root)
            if stat.S_ISLNK(st.st_mode) or not os.path.realpath(p).startswith(rroot.rstrip("/") + "/"):
                res = ModelCheck(status="error", parse_status="error",
                                 message=f"refused: {p} is a link or lies outside {root}")
        if res is None and not stat.S_ISREG(st.st_mode):
            res = ModelCheck(status="error", parse_status="error", message=f"not a regular file: {p}")
        elif res is None and st.st_size > max_bytes:
            res = ModelCheck(status="error", parse_status="too_large",
                             message=f"{p} has {st.st_size} bytes, over max_bytes={max_bytes}")
        elif res is None and st.st_size == 0:
            res = ModelCheck(status="error", parse_status="missing", message=f"empty file: {p}")
    except OSError as e:
        res = ModelCheck(status="error", parse_status="missing", message=f"cannot read {p}: {e.strerror}")
    if res is None:
        suffix = p.suffix.lower()
        if suffix not in (".lp", ".mps"):
            res = ModelCheck(status="error", parse_status="error",
                             message=f"unknown model format {suffix!r}; expected .lp or .mps")
    if res is None and isolate:
        res = _check_in_worker(p, time_limit, sanitize, resolve_ambiguous, threads, max_bytes, options,
                               isolate_timeout)
        res.path, res.runtime_s = str(p), time.perf_counter() - t0
        return res
    if res is None:
        res = _load_and_solve(str(p), time_limit, threads, resolve_ambiguous, options)
        if res.parse_status == "error" and p.suffix.lower() == ".lp":
            try:
                text = p.read_text(errors="replace")
            except OSError:
                text = ""
            fixed, n = sanitize_lp_names(text)
            if n and sanitize:
                with tempfile.TemporaryDirectory(prefix="jaxor-lp-") as d:
                    q = os.path.join(d, "model.lp")
                    Path(q).write_text(fixed)
                    again = _load_and_solve(q, time_limit, threads, resolve_ambiguous, options)
                if again.loaded:
                    again.sanitized = True
                    note = f"renamed {n} bracketed name(s) x[i] -> x(i) (HiGHS rejects brackets in LP names)"
                    again.message = note + ("; " + again.message if again.message else "")
                    res = again
            elif n:
                res.message += ("\nhint: the file has bracketed names such as x[0], which HiGHS rejects in LP "
                                "files; write MPS or pass sanitize=True")
    res.path = str(p)
    res.runtime_s = time.perf_counter() - t0
    return res


def _check_in_worker(p: Path, time_limit, sanitize, resolve_ambiguous, threads, max_bytes, options,
                     timeout) -> ModelCheck:
    from jaxor.verify._isolated import check_isolated

    kw = {"time_limit": time_limit, "sanitize": sanitize, "resolve_ambiguous": resolve_ambiguous,
          "threads": threads, "max_bytes": max_bytes, "options": options}
    limit = float(timeout) if timeout is not None else (float(time_limit) if time_limit is not None else 60.0) + 30.0
    d, why = check_isolated(str(p), kw, limit)
    if d is None:
        if why == "timeout":
            return ModelCheck(status="time_limit", parse_status="error",
                              message=f"loading and solving took over {limit:g} s; the checker was killed")
        return ModelCheck(status="error", parse_status="error", message="the model checker process crashed")
    if d.get("features") is not None:
        d["features"] = ModelFeatures(**d["features"])
    return ModelCheck(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(ModelCheck)}})


def check_model_text(text: str, fmt: str | None = None, **kw) -> ModelCheck:
    """:func:`check_model_file` on model text; ``fmt`` is ``"lp"`` or ``"mps"`` (guessed if None)."""
    if not isinstance(text, str) or not text.strip():
        return ModelCheck(status="error", parse_status="missing", message="empty model text")
    fmt = _guess_format(text) if fmt is None else fmt
    if fmt not in _SUFFIX:
        raise ValueError(f"fmt must be 'lp', 'mps' or None; got {fmt!r}")
    kw.pop("root", None)
    with tempfile.TemporaryDirectory(prefix="jaxor-model-") as d:
        p = os.path.join(d, "model" + _SUFFIX[fmt])
        Path(p).write_text(text)
        res = check_model_file(p, **kw)
    res.path = None
    return res
