"""Build / Revise objective scoring as released with OR-Space (arXiv 2605.28158, §4.2).

A Build or Revise run passes iff

* the program exits normally (return code 0, no timeout),
* its **last** ``FINAL_OBJ_VALUE: <number>`` line parses to a finite float (``None``, ``nan``, ``inf``
  count as no objective),
* every solver status it prints (``Status: Optimal``, ``OBJECTIVE_STATUS: ...``, ``Model status ...``)
  is optimal, and
* :math:`|obj - ref| / \\max(1, |ref|) \\le tol` with the reference row's tolerance (0.01 in the release).

The tolerance rule is :mod:`jaxor.verify`'s ``"orspace"`` policy (any ``jaxor.verify.TolerancePolicy``
may be passed instead); a reference row's own tolerance replaces the policy's.
"""

from __future__ import annotations

import dataclasses
import re

from jaxor.verify import TolerancePolicy, get_policy
from jaxor.verify import parse_final_objective as _verify_parse

__all__ = ["OUTCOMES", "ScoreResult", "classify_run", "default_policy", "parse_final_objective", "parse_statuses",
           "score_prediction"]

#: Outcome classes of a record. Build / Revise: the first six; ``integrity_violation`` marks detected
#: tampering or a hard-coded objective. Explain answers are ``scored`` (or ``no_objective`` when absent).
OUTCOMES = ("pass", "wrong_value", "runtime_error", "no_objective", "timeout", "infrastructure_error",
            "integrity_violation", "scored")

# "Status: Optimal", "OBJECTIVE_STATUS: Optimal", "Model status : Optimal", "status = OPTIMAL"
_STATUS_RE = re.compile(r"(?im)^[ \t]*(?:[A-Za-z_]+[ _])?status[ \t]*[:=][ \t]*([A-Za-z][A-Za-z _.-]*?)[ \t]*$")
_OPTIMAL = {"optimal", "koptimal", "grb.optimal", "lpstatusoptimal", "optimal solution found", "solved optimally"}


def default_policy() -> TolerancePolicy:
    """The OR-Space policy of :mod:`jaxor.verify` (``|pred - ref| / max(1, |ref|) <= 0.01``)."""
    return get_policy("orspace")


def _passes(policy: TolerancePolicy, pred: float, ref: float, tol: float | None) -> bool:
    """``policy`` with the reference row's tolerance ``tol`` (when given) applied to ``pred``."""
    if tol is not None and float(tol) != policy.tol:
        policy = policy.with_tol(float(tol))
    return policy.matches(pred, ref)


def parse_final_objective(stdout: str) -> float | None:
    """The value of the last ``FINAL_OBJ_VALUE:`` line; None where absent, unparsable or not finite
    (:func:`jaxor.verify.parse_final_objective`).

    Example:
        >>> parse_final_objective("FINAL_OBJ_VALUE: 3\\nFINAL_OBJ_VALUE: 1.5e+06\\n")
        1500000.0
        >>> parse_final_objective("FINAL_OBJ_VALUE: None") is None
        True
    """
    return _verify_parse(stdout or "")[1]


def parse_statuses(stdout: str) -> list[str]:
    """Solver statuses the program printed (``Status: Optimal`` style lines), in order."""
    return [m.strip() for m in _STATUS_RE.findall(stdout or "")]


def _is_optimal(status: str) -> bool:
    s = status.strip().lower()
    return s in _OPTIMAL or s.endswith(".optimal") or s == "1 (optimal)"


@dataclasses.dataclass
class ScoreResult:
    """Outcome of one Build / Revise run. ``status`` is the prediction file's status field."""

    outcome: str
    status: str
    objective: float | None
    passed: bool
    detail: str = ""


def classify_run(returncode: int | None, stdout: str, *, timed_out: bool = False, infra_error: str | None = None,
                 ref: float | None = None, tol: float | None = None,
                 policy: TolerancePolicy | None = None) -> ScoreResult:
    """Score one executed program against a reference objective (None: no reference; never passes).

    Returns a :class:`ScoreResult` with one of the first six :data:`OUTCOMES` (the harness sets
    ``integrity_violation`` after its manifest and hard-coding checks).
    """
    policy = policy or default_policy()
    if infra_error:
        return ScoreResult("infrastructure_error", "InfrastructureError", None, False, infra_error)
    if timed_out:
        return ScoreResult("timeout", "Timeout", parse_final_objective(stdout), False, "wall-clock limit reached")
    obj = parse_final_objective(stdout)
    if returncode != 0:
        return ScoreResult("runtime_error", "RuntimeError", obj, False, f"exit status {returncode}")
    bad = [s for s in parse_statuses(stdout) if not _is_optimal(s)]
    if bad:
        return ScoreResult("no_objective", bad[-1], None, False, f"non-optimal solver status {bad[-1]!r}")
    if obj is None:
        return ScoreResult("no_objective", "NoObjective", None, False, "no finite FINAL_OBJ_VALUE line")
    if ref is None:
        # a participant-only copy (no evaluation/): the prediction is kept for external scoring
        return ScoreResult("infrastructure_error", "Optimal", obj, False, "no reference objective to score against")
    ok = _passes(policy, obj, ref, tol)
    return ScoreResult("pass" if ok else "wrong_value", "Optimal", obj, ok,
                       f"objective {obj:.10g} vs reference {ref:.10g}")


def score_prediction(pred: dict, ref: float, tol: float | None = None,
                     policy: TolerancePolicy | None = None) -> bool:
    """The release's rule on one prediction row ``{"workspace_id", "status", "objective"}``:
    status ``optimal`` (any case) and the objective within tolerance. Booleans and non-numbers fail."""
    policy = policy or default_policy()
    status = pred.get("status")
    obj = pred.get("objective")
    if not isinstance(status, str) or status.lower() != "optimal":
        return False
    if isinstance(obj, bool) or not isinstance(obj, (int, float)):
        return False
    return _passes(policy, float(obj), ref, tol)
