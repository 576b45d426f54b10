"""Instance-enhanced self-consistency (IESC): a vote over candidate answers weighted by model structure.

SIRL-inspired (Chen et al., arXiv 2505.11792, Sec. on test-time scaling): each candidate answer
(an objective value, or "no objective" for an infeasible verdict) comes with the structure features
of the model its program wrote (sense, integer and binary counts, size). Plain self-consistency is a
majority vote over the values; IESC weights each vote by how well its model agrees with the
consensus structure, so a value reached by an odd model (wrong sense, integers dropped) counts less.

.. warning:: The exact IESC weighting is not given in the public material; jaxor uses

   .. math::  w_i = \\alpha + \\sum_f \\beta_f\\, \\mathbb{1}[f(i) \\text{ agrees with the consensus of } f]
              \\big/ \\textstyle\\sum_f \\beta_f

   (sums over the features both candidate ``i`` and the consensus have),

   where the consensus of a feature is its most common value among candidates with features
   (sizes agree within a relative ``size_tol``), candidates without a model get weight ``alpha``,
   and answers are grouped by a tolerance policy. ``alpha`` and ``feature_weights`` are parameters.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from jaxor.verify._model_files import ModelFeatures
from jaxor.verify._tolerance import TolerancePolicy, get_policy, parse_number

__all__ = ["Candidate", "VoteResult", "iesc_vote", "majority_vote"]

DEFAULT_FEATURE_WEIGHTS = {"sense": 1.0, "n_int": 1.0, "n_bin": 1.0, "n_vars": 0.5, "n_cons": 0.5}
_SIZE_FEATURES = ("n_vars", "n_cons", "nnz")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One sampled answer: its objective (None = "no objective"/infeasible) and its model's features."""

    objective: float | None
    features: ModelFeatures | Mapping[str, Any] | None = None
    valid: bool = True  # False: the program failed; the candidate does not vote

    @classmethod
    def from_check(cls, check: Any) -> Candidate:
        """From a :class:`jaxor.verify.ProgramCheck`: its objective (None when a hard-coded print
        was caught), its written model's features, and ``valid`` iff the program ran."""
        obj = None if check.hardcoded else check.objective
        return cls(obj, check.features, valid=bool(check.executed))


@dataclasses.dataclass
class VoteResult:
    """Outcome of a vote.

    Attributes:
        answer: the winning objective (None when the winner is "no objective" or nobody voted).
        has_answer: False when no candidate voted.
        scores: ``[(representative objective, total weight, count)]``, best first.
        weights: the weight of each candidate (0 for invalid ones).
        consensus: the consensus value of each feature (IESC only).
    """

    answer: float | None
    has_answer: bool
    scores: list[tuple[float | None, float, int]]
    weights: list[float]
    consensus: dict[str, Any] = dataclasses.field(default_factory=dict)


def _feat(f: ModelFeatures | Mapping[str, Any] | None, name: str):
    if f is None:
        return None
    if isinstance(f, Mapping):
        return f.get(name)
    return getattr(f, name, None)


def _group(cands: Sequence[Candidate], weights: Sequence[float], policy: TolerancePolicy):
    """Greedy clustering in input order: a value joins the first group whose representative matches."""
    groups: list[list[Any]] = []  # [rep, weight, count, first_index]
    for i, (c, w) in enumerate(zip(cands, weights, strict=True)):
        if not c.valid or w <= 0:
            continue
        v = parse_number(c.objective)
        for g in groups:
            if (g[0] is None and v is None) or (g[0] is not None and v is not None and policy.close(v, g[0])):
                g[1] += w
                g[2] += 1
                break
        else:
            groups.append([v, float(w), 1, i])
    groups.sort(key=lambda g: (-g[1], -g[2], g[3]))
    return groups


def _result(groups, weights, consensus=None) -> VoteResult:
    if not groups:
        return VoteResult(None, False, [], list(weights), consensus or {})
    return VoteResult(groups[0][0], True, [(g[0], g[1], g[2]) for g in groups], list(weights), consensus or {})


def majority_vote(candidates: Sequence[Candidate | float | None], *, policy: str | TolerancePolicy = "sirl"
                  ) -> VoteResult:
    """Plain self-consistency: the most frequent answer (ties: the one seen first).

    Plain numbers (or None) are accepted as candidates. Values within ``policy`` of a group's first
    value join that group.
    """
    cands = [c if isinstance(c, Candidate) else Candidate(c) for c in candidates]
    w = [1.0 if c.valid else 0.0 for c in cands]
    return _result(_group(cands, w, get_policy(policy)), w)


def iesc_vote(candidates: Sequence[Candidate], *, policy: str | TolerancePolicy = "sirl", alpha: float = 1.0,
              feature_weights: Mapping[str, float] | None = None, size_tol: float = 0.1) -> VoteResult:
    """Instance-enhanced self-consistency vote (see the module docstring for the weights).

    Args:
        candidates: :class:`Candidate` s with model features (a dict or :class:`ModelFeatures`).
        policy: groups answers that match under this tolerance policy.
        alpha: base weight of every valid vote (also the weight of a candidate without features).
        feature_weights: ``{feature: beta}``; default sense, n_int, n_bin (1 each), n_vars, n_cons (0.5).
        size_tol: relative tolerance for size features (``n_vars``, ``n_cons``, ``nnz``).

    Returns:
        :class:`VoteResult` with the weights and the consensus features.

    Example:
        >>> f = dict(sense="max", n_int=2, n_bin=0, n_vars=2, n_cons=3)
        >>> g = dict(sense="min", n_int=0, n_bin=0, n_vars=2, n_cons=3)
        >>> iesc_vote([Candidate(10.0, f), Candidate(10.0, f), Candidate(7.0, g), Candidate(7.0, g),
        ...            Candidate(10.0, f)]).answer
        10.0
    """
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0; got {alpha}")
    fw = dict(DEFAULT_FEATURE_WEIGHTS if feature_weights is None else feature_weights)
    if any(v < 0 for v in fw.values()):
        raise ValueError("feature_weights must be non-negative")
    total_beta = sum(fw.values())
    with_f = [c for c in candidates if c.valid and c.features is not None]
    consensus: dict[str, Any] = {}
    for name in fw:
        vals = [_feat(c.features, name) for c in with_f]
        vals = [v for v in vals if v is not None]
        if vals:
            consensus[name] = Counter(vals).most_common(1)[0][0]
    weights = []
    for c in candidates:
        if not c.valid:
            weights.append(0.0)
            continue
        if c.features is None or total_beta == 0:
            weights.append(float(alpha))
            continue
        agree = compared = 0.0
        for name, beta in fw.items():
            v, cv = _feat(c.features, name), consensus.get(name)
            if v is None or cv is None:
                continue
            compared += beta
            if name in _SIZE_FEATURES:
                ok = abs(float(v) - float(cv)) <= size_tol * max(abs(float(v)), abs(float(cv)), 1.0)
            else:
                ok = v == cv
            agree += beta * ok
        weights.append(float(alpha) + (agree / compared if compared > 0 else 0.0))
    return _result(_group(candidates, weights, get_policy(policy)), weights, consensus)
