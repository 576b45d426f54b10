"""SIRL rewards: format score, stage-1 and stage-2 rewards, and a batched reward for training loops.

Chen, Xia, Shao, Ge, Ye, "Solver-Informed RL: Grounding Large Language Models for Authentic
Optimization Modeling", arXiv 2505.11792 (released code: ``SIRLTrain/reward_func``).

.. math::

    r_1 = \\text{acc} + 0.5\\,\\text{format} + \\text{exec},\\qquad
    r_2 = \\text{acc} + \\text{exec} + \\text{acc}\\cdot\\text{hit\\_rate}

* ``exec`` = 1 when the extracted program ran to a normal exit (jaxor: sandbox status ``ok``).
* ``acc`` = 1 when ``|gt - pred| / (|gt| + 1) < 1e-6`` (any :class:`TolerancePolicy` may be given),
  or when the reference is infeasible, the program ran, and it reported no objective.
* ``format`` = 2 minus penalties on the ``<think>``, ``<model>``, ``<python>`` tags (see
  :func:`format_score`), so it lies in [0, 2].
* ``hit_rate`` = multiset overlap of the solution values (rounded to 3 decimals) with the reference
  solution, divided by the reference length.

.. warning:: Departures from the released code, each deliberate: (1) the released accuracy test
   treats a reference or prediction equal to 0 as missing (Python truthiness), so ``gt = 0`` is never
   accurate there; jaxor applies the formula to 0 too. (2) The objective is read from the last
   ``FINAL_OBJ_VALUE:`` line with full float syntax (the released regex reads ``1e+06`` as 1).
   (3) A printed objective that disagrees with the model file the program wrote gets ``acc = 0``
   (``penalize_hardcoded``). (4) The paper's stage 2 (a bonus for advanced modelling techniques read
   from the LP file) is not public in detail; jaxor implements the released solution-overlap term.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from jaxor.sandbox import Limits
from jaxor.verify._program import ProgramCheck, ProgramSpec, check_programs, job_key
from jaxor.verify._tolerance import TolerancePolicy, get_policy, parse_reference

__all__ = ["RewardBreakdown", "extract_code", "format_score", "reward", "reward_details", "sirl_reward",
           "solution_hit_rate"]

_TAGS = (("<think>", 1 / 8), ("</think>", 1 / 8), ("<model", 1 / 8), ("</model>", 1 / 8),
         ("<python>", 1 / 4), ("</python>", 1 / 4))
_PY_TAG_RE = re.compile(r"<python>(.*?)</python>", re.DOTALL)
_FENCE_RE = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)


def extract_code(completion: str) -> str | None:
    """The program in a completion: the first ``<python>...</python>`` block, else the first
    ```` ```python ```` fence; a fence inside the python tags is unwrapped. None when there is none."""
    if not isinstance(completion, str):
        return None
    m = _PY_TAG_RE.search(completion)
    if m:
        body = m.group(1)
        inner = _FENCE_RE.search(body)
        code = inner.group(1) if inner else body
    else:
        f = _FENCE_RE.search(completion)
        if f is None:
            return None
        code = f.group(1)
    return code if code.strip() else None


def format_score(completion: str) -> float:
    """SIRL's format score in [0, 2] (released-code semantics).

    Start from 2 and subtract:

    * 1/8 for each of ``<think>``, ``</think>``, ``<model`` (prefix, so ``<model ...>`` counts),
      ``</model>`` that does not occur exactly once, and 1/4 for each of ``<python>``,
      ``</python>`` that does not;
    * 1/3 if ``</think>`` comes after the earliest of ``<model``, ``</model>``, ``<python>``;
    * 1/3 (once) if any open tag comes after its close tag;
    * 1/3 if ``<python>`` does not come after all of the think and model tags.

    Positions are first occurrences, and an absent tag has position -1 (as in the released code), so
    a missing tag can also trigger order penalties.

    Example:
        >>> format_score("<think>t</think><model>m</model><python>p</python>")
        2.0
    """
    if not isinstance(completion, str):
        return 0.0
    penalty = 0.0
    pos = []
    for tag, w in _TAGS:
        if completion.count(tag) != 1:
            penalty += w
        pos.append(completion.find(tag))
    t0, t1, m0, m1, p0, p1 = pos
    if t1 > min(m0, m1, p0):
        penalty += 1 / 3
    if t0 > t1 or m0 > m1 or p0 > p1:
        penalty += 1 / 3
    if p0 <= max(t0, t1, m0, m1):
        penalty += 1 / 3
    return 2.0 - penalty


def solution_hit_rate(pred: Sequence[float] | None, ref: Sequence[float] | None, decimals: int = 3) -> float:
    """Multiset overlap of ``round(pred, decimals)`` with ``round(ref, decimals)``, over ``len(ref)``.

    Returns 0 when either is missing or ``ref`` is empty.
    """
    if pred is None or ref is None:
        return 0.0
    try:
        r = [round(float(v), decimals) + 0.0 for v in ref]
        p = [round(float(v), decimals) + 0.0 for v in pred]
    except (TypeError, ValueError):
        return 0.0
    if not r:
        return 0.0
    overlap = sum((Counter(p) & Counter(r)).values())
    return overlap / len(r)


@dataclasses.dataclass
class RewardBreakdown:
    """The terms of one reward (``reward`` is their SIRL combination)."""

    reward: float
    acc: float
    format: float
    exec: float
    hit_rate: float
    objective: float | None
    status: str
    hardcoded: bool | None = None
    message: str = ""


def _objective_of(check: ProgramCheck) -> float | None:
    if check.printed is not None or check.model is None:
        return check.objective
    return check.model.objective  # no marker line: fall back to the written model's optimum


def sirl_reward(completion: str, reference: Any, check: ProgramCheck | None, *, stage: int = 1,
                ref_solution: Sequence[float] | None = None, policy: str | TolerancePolicy = "sirl",
                penalize_hardcoded: bool = True, weights: tuple[float, float, float] = (1.0, 0.5, 1.0)
                ) -> RewardBreakdown:
    """SIRL reward of one completion given its (already run) program check.

    Args:
        completion: the model's full response (for the format score).
        reference: ground truth (number, numeric string, or an infeasibility marker).
        check: :class:`ProgramCheck` of the extracted code (None: no code, so exec = acc = 0).
        stage: 1 (``acc + 0.5 format + exec``) or 2 (``acc + exec + acc * hit_rate``).
        ref_solution: reference variable values for stage 2.
        policy: accuracy rule (default SIRL's 1e-6).
        penalize_hardcoded: acc = 0 when the printed objective disagrees with the written model.
        weights: (acc, format, exec) weights of stage 1.

    Returns:
        :class:`RewardBreakdown`. A non-numeric reference gives acc = 0 and status
        ``invalid_reference`` (never an exception).
    """
    if stage not in (1, 2):
        raise ValueError(f"stage must be 1 or 2; got {stage!r}")
    pol = get_policy(policy)
    fmt = format_score(completion)
    ref = parse_reference(reference)
    if check is None:
        ex, obj, status, hard, msg = 0.0, None, "no_code", None, "no <python> block or python fence"
    else:
        ex = 1.0 if check.executed else 0.0
        obj, status, hard, msg = _objective_of(check), check.status, check.hardcoded, check.message
    if not ref.valid:
        acc, status, msg = 0.0, "invalid_reference", f"reference {reference!r} is not a number or infeasible marker"
    elif ex == 0.0:
        acc = 0.0
    elif ref.infeasible:
        acc = 1.0 if obj is None else 0.0
    else:
        acc = 1.0 if (obj is not None and pol.close(obj, ref.value)) else 0.0
    if penalize_hardcoded and hard:
        acc = 0.0
    hit = 0.0
    if stage == 2 and check is not None:
        hit = solution_hit_rate(check.solution, ref_solution)
    if stage == 1:
        wa, wf, we = weights
        r = wa * acc + wf * fmt + we * ex
    else:
        r = acc + ex + acc * hit
    return RewardBreakdown(float(r), acc, fmt, ex, hit, obj, status, hard, msg)


def reward_details(completions: Sequence[str], references: Sequence[Any], *, stage: int = 1,
                   solutions: Sequence[Sequence[float] | None] | None = None,
                   policy: str | TolerancePolicy = "sirl", limits: Limits | None = None,
                   workers: int | None = None, solver_track: str | None = "highspy",
                   penalize_hardcoded: bool = True, journal: str | os.PathLike | None = None,
                   allow_unsandboxed: bool = False) -> list[RewardBreakdown]:
    """Per-completion :class:`RewardBreakdown` s; programs run in parallel in a sandbox pool.

    A breakdown whose ``status`` is ``infra_error`` (sandbox, solver track or licence failure) says
    nothing about the completion; a training loop should drop that sample rather than learn from it.
    With ``journal``, results are keyed by position and program text, so a rerun of the same batch
    resumes and a different batch never reuses them.
    """
    if len(completions) != len(references):
        raise ValueError(f"completions ({len(completions)}) and references ({len(references)}) differ in length")
    if solutions is not None and len(solutions) != len(completions):
        raise ValueError(f"solutions has {len(solutions)} entries for {len(completions)} completions")
    get_policy(policy)
    limits = limits if limits is not None else Limits(wall_s=5.0)  # SIRL's training executor uses 5 s
    codes = [extract_code(c) for c in completions]
    specs = [ProgramSpec(id=job_key(str(i), code), code=code, solver_track=solver_track)
             for i, code in enumerate(codes) if code is not None]
    checks = check_programs(specs, workers=workers, limits=limits, journal=journal,
                            allow_unsandboxed=allow_unsandboxed) if specs else []
    by_id = {s.id: c for s, c in zip(specs, checks, strict=True)}
    out = []
    for i, comp in enumerate(completions):
        out.append(sirl_reward(comp, references[i], by_id.get(job_key(str(i), codes[i])), stage=stage,
                               ref_solution=None if solutions is None else solutions[i], policy=policy,
                               penalize_hardcoded=penalize_hardcoded))
    return out


def reward(completions: Sequence[str], references: Sequence[Any], **kw) -> np.ndarray:
    """Batched SIRL reward for an RL loop: ``float64[len(completions)]``.

    Keyword arguments as in :func:`reward_details` (``stage``, ``solutions``, ``policy``, ``limits``,
    ``workers``, ...). Never raises for a bad completion or reference; those score what their terms
    give (e.g. no code: ``0.5 * format``).

    Example:
        >>> comp = "<think>t</think><model>m</model><python>print('FINAL_OBJ_VALUE: 3')</python>"
        >>> reward([comp], ["3"])  # doctest: +SKIP
        array([3.])
    """
    return np.asarray([d.reward for d in reward_details(completions, references, **kw)], dtype=np.float64)

