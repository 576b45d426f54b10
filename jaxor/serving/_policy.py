"""Admission policies for the KV-cache scheduling model, as data plus pure functions.

Every policy here is one point in a small design space, so that policies stack and ``vmap`` like any
other array input:

* **estimate** -- the output length the policy plans with: the true ``o`` (clairvoyant), the upper
  bound ``u``, the lower bound ``l`` or the point prediction ``pred``. While a request runs, its working
  estimate is raised to at least ``generated + 1`` (it has not finished, so that is a valid lower bound);
  this refinement only changes anything when the estimate was too small (A_min, MC-SF with bad
  predictions).
* **key** -- the admission order among waiting requests: arrival (FCFS), the current estimate
  (shortest first), or an external priority ``prio`` (LP-based scheduler, local search). Ties go to
  the earlier request.
* **chooser** -- how many requests to admit from the priority-ordered candidates: the longest
  memory-feasible prefix (MC-SF, FCFS, A_max, A_min), or the feasible prefix minimising the F-metric
  ``F(X) = sum_{i in X} o_i / |X|^2`` (Sorted-F, arXiv 2508.06133).
* **eviction** -- on an actual memory overflow (only possible when an estimate was too small), running
  requests are evicted in order of their current estimate until memory fits; evicted requests restart
  from zero and keep their refined estimate (A_min, arXiv 2508.14544).

The memory check is the MC-SF check of arXiv 2502.07115: the batch (running plus the prefix) must fit at
every future round under the planned lengths. The planned profile is piecewise linear and increasing
between completions, so it is enough to check the round before each planned completion.

.. warning:: Details not pinned down by the papers' available text, reconstructed here and exposed:
   (1) admission is head-of-line on the priority order (the longest feasible *prefix*; a request that
   does not fit blocks those behind it); (2) Sorted-F is run online: at each decision epoch the admitted
   batch is the feasible prefix (in shortest-estimate order) with the smallest F, ties to the larger
   batch (``f_tie_larger``); (3) A_min evicts the *smallest* current estimate first (least work lost),
   ties to the later request (``evict_largest`` flips it).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

__all__ = ["Policy", "fcfs", "mc_sf", "sorted_f", "a_max", "a_min", "hindsight_sf", "priority_order",
           "policy", "POLICY_NAMES", "stack_policies", "initial_estimate", "priority_key", "choose_prefix",
           "EST_TRUE", "EST_UPPER", "EST_LOWER", "EST_PRED", "KEY_ARRIVAL", "KEY_ESTIMATE", "KEY_PRIO",
           "CHOOSE_MAX", "CHOOSE_MIN_F"]

EST_TRUE, EST_UPPER, EST_LOWER, EST_PRED = 0, 1, 2, 3
KEY_ARRIVAL, KEY_ESTIMATE, KEY_PRIO = 0, 1, 2
CHOOSE_MAX, CHOOSE_MIN_F = 0, 1


class Policy(NamedTuple):
    """An admission policy (int32 scalars, or ``[P]`` arrays when stacked with :func:`stack_policies`).

    Attributes:
        estimate: planned length source, one of ``EST_TRUE, EST_UPPER, EST_LOWER, EST_PRED``.
        key: admission order, one of ``KEY_ARRIVAL, KEY_ESTIMATE, KEY_PRIO``.
        chooser: ``CHOOSE_MAX`` (longest feasible prefix) or ``CHOOSE_MIN_F`` (Sorted-F).
        evict_largest: 1 to evict the largest current estimate first on overflow, 0 the smallest.
        f_tie_larger: Sorted-F tie rule: 1 prefers the larger batch among equal F, 0 the smaller.
    """

    estimate: np.ndarray
    key: np.ndarray
    chooser: np.ndarray
    evict_largest: np.ndarray
    f_tie_larger: np.ndarray


def _p(estimate, key, chooser=CHOOSE_MAX, evict_largest=0, f_tie_larger=1) -> Policy:
    return Policy(*[np.int32(v) for v in (estimate, key, chooser, evict_largest, f_tie_larger)])


def fcfs() -> Policy:
    """First come, first served, with the clairvoyant future-memory check (never overflows)."""
    return _p(EST_TRUE, KEY_ARRIVAL)


def mc_sf() -> Policy:
    """Memory-Constrained Shortest-First (arXiv 2502.07115), planning with the point prediction ``pred``.

    With exact predictions (the default of every loader) it equals :func:`hindsight_sf`; with an
    under-prediction it can overflow and then evicts like A_min.
    """
    return _p(EST_PRED, KEY_ESTIMATE)


def sorted_f(*, tie: str = "larger") -> Policy:
    """Sorted-F (arXiv 2508.06133): admit the feasible shortest-first prefix minimising ``sum o / |X|^2``.

    Args:
        tie: ``"larger"`` (default) or ``"smaller"`` batch among equal F values.
    """
    if tie not in ("larger", "smaller"):
        raise ValueError(f"tie must be 'larger' or 'smaller'; got {tie!r}")
    return _p(EST_PRED, KEY_ESTIMATE, CHOOSE_MIN_F, 0, int(tie == "larger"))


def a_max() -> Policy:
    """A_max (arXiv 2508.14544): plan with the upper bound ``u``, shortest ``u`` first; never overflows."""
    return _p(EST_UPPER, KEY_ESTIMATE)


def a_min(*, evict: str = "smallest") -> Policy:
    """A_min (arXiv 2508.14544): plan with the lower bound ``l``, refine while running, evict on overflow.

    Args:
        evict: ``"smallest"`` (default: the smallest current estimate goes first, least work lost) or
            ``"largest"``.
    """
    if evict not in ("smallest", "largest"):
        raise ValueError(f"evict must be 'smallest' or 'largest'; got {evict!r}")
    return _p(EST_LOWER, KEY_ESTIMATE, CHOOSE_MAX, int(evict == "largest"))


def hindsight_sf() -> Policy:
    """Hindsight shortest-first (H-SF of arXiv 2508.14544): true lengths, shortest first."""
    return _p(EST_TRUE, KEY_ESTIMATE)


def priority_order() -> Policy:
    """Admit in the order of the trace's ``prio`` field (LP-based scheduler, local search), true lengths."""
    return _p(EST_TRUE, KEY_PRIO)


POLICY_NAMES = {"fcfs": fcfs, "sf": mc_sf, "mc-sf": mc_sf, "sorted-f": sorted_f, "a-max": a_max,
                "a-min": a_min, "h-sf": hindsight_sf, "hindsight": hindsight_sf, "prio": priority_order}


def policy(name: str) -> Policy:
    """A policy by its CLI name: ``fcfs, sf (= mc-sf), sorted-f, a-max, a-min, h-sf, prio``."""
    key = name.strip().lower().replace("_", "-")
    if key not in POLICY_NAMES:
        raise ValueError(f"policy={name!r} is unknown; choose from {sorted(POLICY_NAMES)}")
    return POLICY_NAMES[key]()


def stack_policies(policies) -> Policy:
    """Stack policies into ``[P]`` arrays."""
    policies = list(policies)
    if not policies:
        raise ValueError("policies is empty")
    return Policy(*[np.stack([np.asarray(getattr(p, f)) for p in policies]) for f in Policy._fields])


def initial_estimate(pol: Policy, output, upper, lower, pred):
    """The planned length of each request before it runs: ``[N]`` int32 (pure; works under jit/vmap)."""
    return jnp.select([pol.estimate == EST_TRUE, pol.estimate == EST_UPPER, pol.estimate == EST_LOWER],
                      [output, upper, lower], pred).astype(jnp.int32)


def priority_key(pol: Policy, req, est, prio):
    """Admission key of waiting requests (lower first; ties by ``req``, the arrival position)."""
    return jnp.select([pol.key == KEY_ARRIVAL, pol.key == KEY_ESTIMATE], [req, est], prio).astype(jnp.int32)


def choose_prefix(pol: Policy, feasible, cand_est):
    """How many of the ordered candidates to admit.

    Args:
        pol: the policy.
        feasible: ``[C]`` bool, ``feasible[m-1]`` says the prefix of length ``m`` fits (monotone).
        cand_est: ``[C]`` planned lengths of the ordered candidates.

    Returns:
        int32 ``m`` in ``[0, C]``: the longest feasible prefix, or (Sorted-F) the feasible prefix with the
        smallest ``F_m = (sum_{k<=m} est_k) / m**2`` computed in float32.
    """
    lead = jnp.cumprod(feasible.astype(jnp.int32))
    m_max = jnp.sum(lead)
    c = feasible.shape[0]
    m = jnp.arange(1, c + 1, dtype=jnp.float32)
    f = jnp.cumsum(cand_est.astype(jnp.float32)) / (m * m)
    f = jnp.where(lead > 0, f, jnp.inf)
    # argmin returns the first minimum; reversing picks the last (largest m) among ties.
    first = jnp.argmin(f)
    last = c - 1 - jnp.argmin(f[::-1])
    m_f = jnp.where(pol.f_tie_larger > 0, last, first).astype(jnp.int32) + 1
    m_f = jnp.where(m_max > 0, m_f, 0)
    return jnp.where(pol.chooser == CHOOSE_MIN_F, m_f, m_max).astype(jnp.int32)
