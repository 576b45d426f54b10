"""The one bridge between jaxor and HiGHS (``highspy``): exact LP and MIP solves on the host.

Every highspy call in jaxor goes through this module (online-LP hindsight values, LP-RL checks,
serving references, verification of model files). Problems use jaxor's row-bounded form

.. math::  \\min_x\\; c^\\top x + c_0 \\quad\\text{s.t.}\\quad lo \\le A x \\le hi,\\; l \\le x \\le u,
           \\; x_j \\in \\mathbb{Z}\\; (j \\in \\text{integrality})

with ``±inf`` for absent bounds. Statuses are strings from :data:`STATUSES`; the objective is
reported only when the status is ``"optimal"`` (never a silent number for an infeasible model).

Dual sign convention (HiGHS's, kept everywhere in jaxor): for a minimisation, ``y_i >= 0`` when row
``i`` is active at its lower bound and ``y_i <= 0`` at its upper bound; reduced costs
``z = c - A^T y``, likewise ``z_j >= 0`` at ``l_j`` and ``<= 0`` at ``u_j``. So
``dv/dlo = max(y, 0)``, ``dv/dhi = min(y, 0)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["STATUSES", "HighsResult", "HighsModel", "solve", "solve_linprog", "solve_model", "read_model",
           "write_model", "features"]

#: Every status :func:`solve` can return. The first seven are the original set; ``"solution_limit"``,
#: ``"interrupted"`` and ``"unknown"`` were added for MIP limits, interrupts and HiGHS's own
#: "unknown" (a solve that stopped without a verdict). Anything else HiGHS reports (load, model,
#: presolve, solve or postsolve errors, memory limit) is ``"error"``.
STATUSES = ("optimal", "infeasible", "unbounded", "infeasible_or_unbounded", "time_limit", "iteration_limit",
            "error", "solution_limit", "interrupted", "unknown")


@dataclasses.dataclass
class HighsResult:
    """Result of an exact solve.

    Attributes:
        status: one of :data:`STATUSES`.
        objective: ``c.x + c0`` when optimal, else None.
        x: primal point ``[n]`` (None when HiGHS has no primal solution).
        y: row duals ``[m]`` (LP only; None otherwise).
        z: reduced costs ``[n]`` (LP only).
        raw_status: HiGHS's own model-status text.
        iterations: simplex/IPM iterations (LP) or 0.
        runtime_s: HiGHS's run time.
        mip_gap: relative MIP gap (MIP only).
    """

    status: str
    objective: float | None
    x: np.ndarray | None
    y: np.ndarray | None
    z: np.ndarray | None
    raw_status: str
    iterations: int = 0
    runtime_s: float = 0.0
    mip_gap: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


def _highspy():
    try:
        import highspy
    except ImportError as e:  # pragma: no cover - highspy is a hard dependency
        raise ImportError("jaxor.lp.highs needs highspy (pip install highspy)") from e
    return highspy


def _new_highs(highspy):
    """A silent HiGHS instance.

    ``highspy.Highs()`` prints a "Running HiGHS ..." banner to stdout while it sets up its Python
    callbacks; jaxor needs none of those, so it builds the C++ core object (``highspy._core._Highs``)
    directly and switches output off before anything runs. Falls back to ``highspy.Highs`` if a future
    highspy moves the core class.
    """
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    h = core() if core is not None else highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def map_model_status(highspy, model_status) -> str:
    """HiGHS model status -> jaxor status string."""
    S = highspy.HighsModelStatus
    table = {
        S.kOptimal: "optimal",
        S.kInfeasible: "infeasible",
        S.kUnbounded: "unbounded",
        S.kUnboundedOrInfeasible: "infeasible_or_unbounded",  # presolve's verdict when it cannot tell
        S.kTimeLimit: "time_limit",
        S.kIterationLimit: "iteration_limit",
        S.kModelEmpty: "optimal",  # an empty model is trivially optimal (objective = offset)
        S.kSolutionLimit: "solution_limit",
        S.kInterrupt: "interrupted",
        S.kUnknown: "unknown",
        # kObjectiveBound / kObjectiveTarget (user stopping rules), kNotset, load/model/presolve/solve/
        # postsolve errors and kMemoryLimit all map to "error".
    }
    if hasattr(S, "kHighsInterrupt"):
        table[S.kHighsInterrupt] = "interrupted"
    return table.get(model_status, "error")


def _check_vec(name: str, v, n: int, default: float) -> np.ndarray:
    if v is None:
        return np.full(n, default, dtype=np.float64)
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},); got {a.shape}")
    if np.any(np.isnan(a)):
        raise ValueError(f"{name} holds NaN")
    return a


def _validate(c, A, lo, hi, l, u):
    """Arrays in float64 (A as CSC) after the boundary checks; ValueError names the bad argument."""
    c = np.asarray(c, dtype=np.float64)
    if c.ndim != 1:
        raise ValueError(f"c must be 1-D; got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("c holds NaN or Inf")
    n = c.shape[0]
    if A is None:
        A = sp.csc_matrix((0, n))
    As = sp.csc_matrix(A, dtype=np.float64)
    if As.shape[1] != n:
        raise ValueError(f"A must have {n} columns to match c; got shape {As.shape}")
    if As.nnz and not np.all(np.isfinite(As.data)):
        raise ValueError("A holds NaN or Inf")
    m = As.shape[0]
    lo = _check_vec("lo", lo, m, -np.inf)
    hi = _check_vec("hi", hi, m, np.inf)
    l = _check_vec("l", l, n, 0.0)
    u = _check_vec("u", u, n, np.inf)
    if np.any(lo > hi):
        raise ValueError(f"lo > hi in rows {np.flatnonzero(lo > hi)[:10].tolist()}")
    if np.any(l > u):
        raise ValueError(f"l > u in columns {np.flatnonzero(l > u)[:10].tolist()}")
    return c, As, lo, hi, l, u


def solve(c, A=None, lo=None, hi=None, l=None, u=None, *, integrality=None, c0: float = 0.0,
          sense: str = "min", time_limit: float | None = None, options: dict[str, Any] | None = None,
          threads: int = 1, resolve_ambiguous: bool = False) -> HighsResult:
    """Solve an LP or MIP exactly with HiGHS.

    Args:
        c: objective ``[n]``.
        A: constraint matrix ``[m, n]``, dense or SciPy sparse (None: no rows).
        lo, hi: row bounds ``[m]`` (default ``-inf`` / ``+inf``; equal entries are equalities).
        l, u: variable bounds ``[n]`` (default ``0`` / ``+inf``).
        integrality: None, or ``[n]`` booleans/ints (nonzero = integer variable).
        c0: objective constant.
        sense: ``"min"`` or ``"max"`` (duals keep HiGHS's convention for that sense).
        time_limit: seconds, or None.
        options: extra HiGHS options (``{"presolve": "off"}``, ...).
        threads: HiGHS threads (1 keeps batched callers from oversubscribing cores).
        resolve_ambiguous: when presolve answers ``"infeasible_or_unbounded"``, solve again with
            presolve off to tell the two apart (the status stays ambiguous if that does not settle it).

    Returns:
        :class:`HighsResult`. Infeasible or unbounded models return a status, never raise.

    Raises:
        ValueError: for malformed input (shapes, NaN, ``lo > hi``, ``l > u``), naming the argument.
    """
    highspy = _highspy()
    c, As, lo, hi, l, u = _validate(c, A, lo, hi, l, u)
    n, m = c.shape[0], As.shape[0]
    if sense not in ("min", "max"):
        raise ValueError(f"sense must be 'min' or 'max'; got {sense!r}")

    if integrality is not None:
        integ = np.asarray(integrality)
        if integ.shape != (n,):
            raise ValueError(f"integrality must have shape ({n},); got {integ.shape}")
    lp = _build_lp(highspy, c, As, lo, hi, l, u, integrality, c0, sense)
    return _run(highspy, lp, n, m, integrality is not None and bool(np.any(np.asarray(integrality) != 0)),
                threads=threads, time_limit=time_limit, options=options, resolve_ambiguous=resolve_ambiguous)


def _build_lp(highspy, c, As, lo, hi, l, u, integrality, c0, sense):
    n = c.shape[0]
    m = As.shape[0]
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = c
    lp.offset_ = float(c0)
    lp.col_lower_ = np.where(np.isinf(l), -inf, l)
    lp.col_upper_ = np.where(np.isinf(u), inf, u)
    lp.row_lower_ = np.where(np.isinf(lo), -inf, lo)
    lp.row_upper_ = np.where(np.isinf(hi), inf, hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = As.indptr.astype(np.int32)
    lp.a_matrix_.index_ = As.indices.astype(np.int32)
    lp.a_matrix_.value_ = As.data
    lp.sense_ = highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
    if integrality is not None and np.any(np.asarray(integrality) != 0):
        lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                           for v in np.asarray(integrality)]
    return lp


def _configure(h, threads, time_limit, options):
    h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)


def _run(highspy, lp, n, m, is_mip, *, threads=1, time_limit=None, options=None, resolve_ambiguous=False):
    h = _new_highs(highspy)
    _configure(h, threads, time_limit, options)
    h.passModel(lp)
    h.run()
    res = _collect(h, highspy, n, m, is_mip)
    if resolve_ambiguous and res.status == "infeasible_or_unbounded":
        h2 = _new_highs(highspy)
        _configure(h2, threads, time_limit, {**(options or {}), "presolve": "off"})
        h2.passModel(lp)
        h2.run()
        res2 = _collect(h2, highspy, n, m, is_mip)
        if res2.status in ("infeasible", "unbounded"):
            res = res2
    return res


def _collect(h, highspy, n: int, m: int, is_mip: bool) -> HighsResult:
    status = map_model_status(highspy, h.getModelStatus())
    raw = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=np.float64) if sol.value_valid and len(sol.col_value) == n else None
    y = z = None
    if not is_mip and sol.dual_valid:
        y = np.asarray(sol.row_dual, dtype=np.float64)
        z = np.asarray(sol.col_dual, dtype=np.float64)
    obj = float(info.objective_function_value) if status == "optimal" else None
    iters = int(max(info.simplex_iteration_count, 0) + max(info.ipm_iteration_count, 0))
    gap = float(info.mip_gap) if is_mip and status == "optimal" else None
    return HighsResult(status, obj, x, y, z, raw, iters, float(h.getRunTime()), gap)


def solve_linprog(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=(0, None), **kw) -> HighsResult:
    """SciPy ``linprog``-style adapter onto :func:`solve` (minimisation).

    ``bounds`` is one ``(low, high)`` pair for every variable or a list of pairs; None means unbounded.
    """
    c = np.asarray(c, dtype=np.float64)
    n = c.shape[0]
    blocks, los, his = [], [], []
    if A_ub is not None:
        A_ub = sp.csr_matrix(A_ub, dtype=np.float64)
        b_ub = np.asarray(b_ub, dtype=np.float64)
        blocks.append(A_ub)
        los.append(np.full(A_ub.shape[0], -np.inf))
        his.append(b_ub)
    if A_eq is not None:
        A_eq = sp.csr_matrix(A_eq, dtype=np.float64)
        b_eq = np.asarray(b_eq, dtype=np.float64)
        blocks.append(A_eq)
        los.append(b_eq)
        his.append(b_eq)
    A = sp.vstack(blocks) if blocks else None
    lo = np.concatenate(los) if los else None
    hi = np.concatenate(his) if his else None
    if isinstance(bounds, tuple) and len(bounds) == 2 and not isinstance(bounds[0], (tuple, list)):
        bounds = [bounds] * n
    if len(bounds) != n:
        raise ValueError(f"bounds must be one (low, high) pair or {n} pairs; got {len(bounds)}")
    l = np.array([-np.inf if b[0] is None else b[0] for b in bounds], dtype=np.float64)
    u = np.array([np.inf if b[1] is None else b[1] for b in bounds], dtype=np.float64)
    return solve(c, A, lo, hi, l, u, **kw)


@dataclasses.dataclass
class HighsModel:
    """An LP/MIP in jaxor's row-bounded form, as read from a file (always stored as a minimisation).

    Attributes:
        c: objective ``[n]`` (negated when the file maximises; ``sense`` records the original).
        A: SciPy CSC matrix ``[m, n]``.
        lo, hi: row bounds ``[m]``; l, u: column bounds ``[n]`` (``±inf`` for none).
        c0: objective offset (negated with ``c`` for a maximisation).
        integrality: ``[n]`` bools (integer columns) or None for an LP.
        sense: ``"min"`` or ``"max"`` as in the file.
        name: the file's stem.
    """

    c: np.ndarray
    A: sp.csc_matrix
    lo: np.ndarray
    hi: np.ndarray
    l: np.ndarray
    u: np.ndarray
    c0: float = 0.0
    integrality: np.ndarray | None = None
    sense: str = "min"
    name: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    def to_lp(self, dtype=None):
        """The LP relaxation as a :class:`jaxor.lp.LP` (dense if small, else sparse)."""
        from jaxor.lp._problem import LP

        A = self.A.toarray() if self.A.shape[0] * self.A.shape[1] <= 250_000 else self.A
        return LP(self.c, A, self.lo, self.hi, self.l, self.u, c0=self.c0, dtype=dtype)

    def objective_from_min(self, v):
        """The file's objective value (undoing the max -> min negation)."""
        return -v if self.sense == "max" else v


def read_model(path) -> HighsModel:
    """Read an MPS (fixed or free) or CPLEX LP file with HiGHS.

    Raises:
        ValueError: if HiGHS cannot read ``path``.
    """
    from pathlib import Path

    highspy = _highspy()
    path = Path(path)
    if not path.exists():
        raise ValueError(f"path does not exist: {path}")
    h = _new_highs(highspy)
    st = h.readModel(str(path))
    if st == highspy.HighsStatus.kError:
        raise ValueError(f"path: HiGHS could not read {path}")
    lp = h.getLp()
    n, m = lp.num_col_, lp.num_row_
    am = lp.a_matrix_
    if am.format_ == highspy.MatrixFormat.kColwise:
        A = sp.csc_matrix((np.asarray(am.value_, float), np.asarray(am.index_), np.asarray(am.start_)), shape=(m, n))
    else:
        A = sp.csr_matrix((np.asarray(am.value_, float), np.asarray(am.index_), np.asarray(am.start_)),
                          shape=(m, n)).tocsc()
    inf = highspy.kHighsInf

    def unbig(v):
        v = np.asarray(v, dtype=np.float64)
        return np.where(v >= inf, np.inf, np.where(v <= -inf, -np.inf, v))

    sense = "max" if lp.sense_ == highspy.ObjSense.kMaximize else "min"
    sgn = -1.0 if sense == "max" else 1.0
    integ = None
    if len(lp.integrality_):
        integ = np.array([t != highspy.HighsVarType.kContinuous for t in lp.integrality_], dtype=bool)
        if not integ.any():
            integ = None
    return HighsModel(sgn * np.asarray(lp.col_cost_, float), A, unbig(lp.row_lower_), unbig(lp.row_upper_),
                      unbig(lp.col_lower_), unbig(lp.col_upper_), sgn * float(lp.offset_), integ, sense, path.stem)


def write_model(path, c, A=None, lo=None, hi=None, l=None, u=None, *, integrality=None, c0: float = 0.0,
                sense: str = "min") -> None:
    """Write a model to ``path`` (format from the suffix: ``.mps`` or ``.lp``), same arguments as :func:`solve`.

    Raises:
        ValueError: for malformed input or an unsupported suffix.
    """
    from pathlib import Path

    highspy = _highspy()
    path = Path(path)
    if path.suffix.lower() not in (".mps", ".lp"):
        raise ValueError(f"path must end in .mps or .lp; got {path.name}")
    c, As, lo, hi, l, u = _validate(c, A, lo, hi, l, u)
    if sense not in ("min", "max"):
        raise ValueError(f"sense must be 'min' or 'max'; got {sense!r}")
    lp = _build_lp(highspy, c, As, lo, hi, l, u, integrality, c0, sense)
    h = _new_highs(highspy)
    h.passModel(lp)
    st = h.writeModel(str(path))
    if st == highspy.HighsStatus.kError:
        raise ValueError(f"path: HiGHS could not write {path}")


def solve_model(model: HighsModel, **kw) -> HighsResult:
    """Solve a :class:`HighsModel` (from :func:`read_model`); the objective is in the file's sense."""
    res = solve(model.c, model.A, model.lo, model.hi, model.l, model.u, integrality=model.integrality,
                c0=model.c0, **kw)
    if model.sense == "max":
        res.objective = None if res.objective is None else -res.objective
    return res


def features(model: HighsModel) -> dict[str, Any]:
    """Structure features: sense, rows, columns, nonzeros, integer and binary columns, objective offset,
    equality rows and free columns."""
    integ = model.integrality if model.integrality is not None else np.zeros(model.shape[1], bool)
    binary = integ & (model.l >= 0) & (model.u <= 1) & (model.l > -1) & (model.u < 2)
    return {
        "sense": model.sense,
        "rows": int(model.shape[0]),
        "columns": int(model.shape[1]),
        "nonzeros": int(model.A.nnz),
        "integer_columns": int(integ.sum()),
        "binary_columns": int(binary.sum()),
        "objective_offset": float(model.objective_from_min(model.c0)),
        "equality_rows": int(np.sum(model.lo == model.hi)),
        "free_columns": int(np.sum(np.isinf(model.l) & np.isinf(model.u))),
    }
