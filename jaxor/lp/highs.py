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

__all__ = ["STATUSES", "HighsResult", "solve", "solve_linprog"]

STATUSES = ("optimal", "infeasible", "unbounded", "infeasible_or_unbounded", "time_limit", "iteration_limit",
            "error")


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


def map_model_status(highspy, model_status) -> str:
    """HiGHS model status -> jaxor status string."""
    S = highspy.HighsModelStatus
    table = {
        S.kOptimal: "optimal",
        S.kInfeasible: "infeasible",
        S.kUnbounded: "unbounded",
        S.kUnboundedOrInfeasible: "infeasible_or_unbounded",
        S.kTimeLimit: "time_limit",
        S.kIterationLimit: "iteration_limit",
        S.kModelEmpty: "optimal",  # an empty model is trivially optimal (objective = offset)
    }
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


def solve(c, A=None, lo=None, hi=None, l=None, u=None, *, integrality=None, c0: float = 0.0,
          sense: str = "min", time_limit: float | None = None, options: dict[str, Any] | None = None,
          threads: int = 1) -> HighsResult:
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

    Returns:
        :class:`HighsResult`. Infeasible or unbounded models return a status, never raise.

    Raises:
        ValueError: for malformed input (shapes, NaN, ``lo > hi``, ``l > u``), naming the argument.
    """
    highspy = _highspy()
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
    if sense not in ("min", "max"):
        raise ValueError(f"sense must be 'min' or 'max'; got {sense!r}")

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
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
    is_mip = integrality is not None and np.any(np.asarray(integrality) != 0)
    if is_mip:
        integ = np.asarray(integrality)
        if integ.shape != (n,):
            raise ValueError(f"integrality must have shape ({n},); got {integ.shape}")
        lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                           for v in integ]
    h.passModel(lp)
    h.run()
    return _collect(h, highspy, n, m, is_mip)


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
