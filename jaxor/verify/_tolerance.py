"""Named tolerance policies for "is this objective right?", and reference parsing.

Benchmarks for LLM optimisation modelling disagree on what counts as a match (see the SIRL paper,
Chen et al., arXiv 2505.11792, and the OR-Space benchmark, arXiv 2605.28158); accuracy numbers are
only comparable under the same policy, so jaxor names each one and reports all of them.

=============  ==========================================================================
``sirl``       ``|gt - pred| / (|gt| + 1) < 1e-6`` (SIRL reward and evaluation)
``orspace``    ``|pred - ref| / max(1, |ref|) <= 0.01`` (OR-Space Build/Revise)
``orlm``       round both to integers, then ``|pred - gt| / |gt| <= 0.05`` (``|pred| <= 0.05``
               when ``gt == 0``) (ORLM ``eval/execute.py``)
``optmath``    the same 5% rule after integer rounding (OptMATH's evaluation tool)
``optibench``  ``|pred - gt| < 1e-4`` (the original OptiBench check)
=============  ==========================================================================

Infeasible references ("No Best Solution", anything containing "-9999", "infeasible") match a
prediction that reports no objective (``None``) under every policy, as in SIRL's reward; a number
never matches an infeasible reference, and no objective never matches a number.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

__all__ = ["POLICIES", "Reference", "TolerancePolicy", "get_policy", "parse_number", "parse_reference"]

_INFEASIBLE_RE = re.compile(r"no\s+best\s+solution|infeasible|-9999", re.IGNORECASE)
_NONE_WORDS = {"none", "null", "nan", "-nan", "+nan", "inf", "+inf", "-inf", "infinity", "+infinity",
               "-infinity", "", "n/a", "na"}
_NUM_RE = re.compile(r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_number(value: Any) -> float | None:
    """A finite float from a number or a numeric string, else None.

    Accepts scientific notation (``1e+06``, ``-2.5E-3``), thousands separators (``1,234.5``),
    surrounding text (``3.0 (optimal)``, ``np.float64(3.0)``). Booleans, ``None``, ``nan``,
    ``inf`` and non-numeric text give None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        try:
            return parse_number(value.item())
        except (TypeError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    s = value.strip().strip("`'\"").strip()
    if s.lower() in _NONE_WORDS:
        return None
    try:
        v = float(s)
        return v if math.isfinite(v) else None
    except ValueError:
        pass
    low = s.lower()
    if low.startswith(("none", "nan", "inf", "null")):
        return None
    wrapped = re.fullmatch(r"[A-Za-z_][\w.]*\((.*)\)", s)  # np.float64(3.0), Decimal('2.5')
    if wrapped:
        return parse_number(wrapped.group(1))
    s2 = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)
    m = _NUM_RE.search(s2)
    if m is None:
        return None
    try:
        v = float(m.group(0).replace("_", ""))
    except ValueError:
        return None
    return v if math.isfinite(v) else None


@dataclasses.dataclass(frozen=True)
class Reference:
    """A parsed ground-truth answer.

    Attributes:
        value: the reference objective (None when infeasible or invalid).
        infeasible: the reference says the instance has no solution.
        valid: False when the reference is neither a number nor an infeasibility marker.
        raw: the original value.
    """

    value: float | None
    infeasible: bool
    valid: bool
    raw: Any = None


def parse_reference(raw: Any) -> Reference:
    """Parse a benchmark answer: a number, a numeric string, or an infeasibility marker."""
    if isinstance(raw, Reference):
        return raw
    if isinstance(raw, str) and _INFEASIBLE_RE.search(raw):
        return Reference(None, True, True, raw)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and float(raw) == -9999.0:
        return Reference(None, True, True, raw)
    v = parse_number(raw)
    if v is None:
        return Reference(None, False, False, raw)
    return Reference(v, False, True, raw)


@dataclasses.dataclass(frozen=True)
class TolerancePolicy:
    """One benchmark's rule for matching a predicted objective to a reference.

    Attributes:
        name: short name (``sirl``, ``orspace``, ...).
        kind: ``"sirl"`` (relative with ``|gt| + 1``, strict), ``"max1"`` (relative with
            ``max(1, |ref|)``, inclusive), ``"rounded"`` (integers, relative to ``|gt|``, inclusive)
            or ``"absolute"`` (strict).
        tol: the tolerance.
        description: where it comes from.
    """

    name: str
    kind: str
    tol: float
    description: str = ""

    def __post_init__(self):
        if self.kind not in ("sirl", "max1", "rounded", "absolute"):
            raise ValueError(f"kind must be sirl, max1, rounded or absolute; got {self.kind!r}")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise ValueError(f"tol must be a positive number; got {self.tol!r}")

    def close(self, pred: float, ref: float) -> bool:
        """The numeric rule on two finite numbers."""
        if self.kind == "sirl":
            return abs(ref - pred) / (abs(ref) + 1.0) < self.tol
        if self.kind == "max1":
            return abs(pred - ref) / max(1.0, abs(ref)) <= self.tol
        if self.kind == "rounded":
            p, g = round(pred), round(ref)
            if g == 0:
                return abs(p) <= self.tol
            return abs(p - g) / abs(g) <= self.tol
        return abs(pred - ref) < self.tol

    def matches(self, pred: Any, ref: Any) -> bool:
        """Whether prediction ``pred`` (number, numeric string or None) matches reference ``ref``.

        An invalid reference never matches (see :func:`parse_reference`).
        """
        r = parse_reference(ref)
        p = parse_number(pred)
        if not r.valid:
            return False
        if r.infeasible:
            return p is None
        if p is None:
            return False
        return self.close(p, r.value)

    def with_tol(self, tol: float) -> TolerancePolicy:
        return dataclasses.replace(self, tol=tol, name=f"{self.name}@{tol:g}")


POLICIES: dict[str, TolerancePolicy] = {
    "sirl": TolerancePolicy("sirl", "sirl", 1e-6, "SIRL: |gt-pred|/(|gt|+1) < 1e-6"),
    "orspace": TolerancePolicy("orspace", "max1", 0.01, "OR-Space: |obj-ref|/max(1,|ref|) <= 0.01"),
    "orlm": TolerancePolicy("orlm", "rounded", 0.05, "ORLM: integers, relative error <= 5%"),
    "optmath": TolerancePolicy("optmath", "rounded", 0.05, "OptMATH: integers, relative error <= 5%"),
    "optibench": TolerancePolicy("optibench", "absolute", 1e-4, "OptiBench: |pred-gt| < 1e-4"),
}


def get_policy(policy: str | TolerancePolicy) -> TolerancePolicy:
    """A policy by name (``"orspace"``, or ``"orspace@0.05"`` for another tolerance) or as given."""
    if isinstance(policy, TolerancePolicy):
        return policy
    if not isinstance(policy, str):
        raise ValueError(f"policy must be a name or a TolerancePolicy; got {policy!r}")
    name, _, tol = policy.partition("@")
    if name not in POLICIES:
        raise ValueError(f"unknown tolerance policy {name!r}; known: {sorted(POLICIES)}")
    if tol:
        try:
            return POLICIES[name].with_tol(float(tol))
        except ValueError as e:
            raise ValueError(f"bad tolerance in policy {policy!r}") from e
    return POLICIES[name]
