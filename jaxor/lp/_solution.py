"""Solver output: :class:`Solution`, :class:`WarmStart` and the status codes."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

__all__ = ["Solution", "WarmStart", "STATUS_NAMES", "OPTIMAL", "PRIMAL_INFEASIBLE", "DUAL_INFEASIBLE",
           "ITERATION_LIMIT", "NUMERICAL_ERROR", "status_name"]

OPTIMAL = 0
PRIMAL_INFEASIBLE = 1
DUAL_INFEASIBLE = 2
ITERATION_LIMIT = 3
NUMERICAL_ERROR = 4
RUNNING = -1  # internal only

STATUS_NAMES = ("optimal", "primal_infeasible", "dual_infeasible", "iteration_limit", "numerical_error")

#: HiGHS status (``jaxor.lp.highs.STATUSES``) each PDHG status corresponds to.
HIGHS_EQUIVALENT = {"optimal": "optimal", "primal_infeasible": "infeasible", "dual_infeasible": "unbounded",
                    "iteration_limit": "iteration_limit", "numerical_error": "error"}


def status_name(code) -> str | np.ndarray:
    """Name(s) of status code(s): a string for a scalar, an array of strings for a batch."""
    a = np.asarray(code)
    names = np.asarray(STATUS_NAMES + ("running",))
    out = names[np.where((a >= 0) & (a < len(STATUS_NAMES)), a, len(STATUS_NAMES))]
    return str(out) if out.ndim == 0 else out


class WarmStart(eqx.Module):
    """What a solve hands the next one: the point and the step-size state (PDLP's ``(x, y, eta, omega)``).

    Attributes:
        x: primal point ``[n]`` (original, unscaled space).
        y: row duals ``[m]``.
        step_size: the step size ``eta`` of the scaled problem (0 means "choose afresh").
        primal_weight: ``omega`` of the scaled problem (0 means "choose afresh").
    """

    x: jax.Array
    y: jax.Array
    step_size: jax.Array
    primal_weight: jax.Array


class Solution(eqx.Module):
    """Result of :func:`jaxor.lp.solve` (all fields gain a leading batch axis under ``vmap``).

    Attributes:
        status: int32 code; ``STATUS_NAMES[status]`` is one of optimal, primal_infeasible,
            dual_infeasible, iteration_limit, numerical_error.
        x: primal point ``[n]``. For dual_infeasible, the certifying ray; for primal_infeasible, the last iterate.
        y: row duals ``[m]`` (HiGHS sign: ``>= 0`` at a lower row bound, ``<= 0`` at an upper one).
            For primal_infeasible, the certifying dual ray.
        z: reduced costs ``c - A^T y`` ``[n]`` (HiGHS's column duals).
        objective: ``c.x + c0``; NaN when the status is primal_ or dual_infeasible.
        dual_objective: the dual bound at ``y`` (NaN when infeasible).
        iterations: PDHG iterations taken (int32).
        primal_residual, dual_residual: absolute residual norms (the solver's ``norm``).
        gap: ``|objective - dual_objective|``.
        warm_start: :class:`WarmStart` to pass to the next solve.
    """

    status: jax.Array
    x: jax.Array
    y: jax.Array
    z: jax.Array
    objective: jax.Array
    dual_objective: jax.Array
    iterations: jax.Array
    primal_residual: jax.Array
    dual_residual: jax.Array
    gap: jax.Array
    warm_start: WarmStart

    @property
    def status_name(self):
        """Status as text (an array of texts for a batched Solution)."""
        return status_name(self.status)

    @property
    def ok(self):
        return np.asarray(self.status) == OPTIMAL
