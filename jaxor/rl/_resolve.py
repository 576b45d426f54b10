"""Adaptive re-solving of the data-driven occupancy LP on a geometric schedule, the one-shot plug-in
LP and LSVI baselines, and exact evaluation of their outputs — one jitted call per seed batch.

Jiang, Zong, Ye, "Adaptive Resolving Methods for Reinforcement Learning with Function
Approximations", arXiv 2505.12037; Jiang & Ye, constrained MDPs, arXiv 2402.16324. The papers'
algorithm boxes were not available to us (see ``shared/notes/olp.md`` section 3); what follows is
jaxor's reconstruction of the online-LP "remaining budget" idea, with every open choice a parameter.

**The algorithm** (one growing sample stream per seed, checkpoints ``N_0 < N_1 < ... < N_{K-1}``):

at stage ``k`` the kernel is re-estimated from all ``N_k`` samples (``P_hat_k``; tabular counts or
the least-squares linear MDP), and the data-driven LP is re-solved with its right-hand side adapted to
what the earlier stage solutions already consumed. The output after stage ``k`` is the mixture of the
stage policies with weights ``w_j`` (``w_j = N_j - N_{j-1}``: each stage "serves" the samples that
arrived during it, as in online LP). Flow rows are satisfied by every stage solution (each is an
occupancy of ``P_hat_k``), so only the resource rows carry a remaining budget:

.. math:: b_k = \\frac{W_k\\, b - \\sum_{j<k} w_j\\, \\hat C_k(\\pi_j)}{w_k},\\qquad W_k = \\sum_{j\\le k} w_j,

so that the mixture meets the budget exactly under the current estimate. The LP at each stage is
solved exactly by :func:`jaxor.rl.solve_cmdp` (Lagrangian bisection + policy iteration; jittable,
agrees with HiGHS to 1e-8), warm-started from the previous stage's policy.

Open choices (parameters of :class:`ResolveOptions`):

* ``weights``: ``"samples"`` (default, online-LP accounting) or ``"last"`` (output only the last
  stage; the rule then reduces to the plug-in, warm-started).
* ``past_costs``: ``"current"`` (default: earlier stage policies are re-costed under the newest, most
  accurate estimate) or ``"frozen"`` (their cost as estimated when they were chosen, the literal
  online-LP remaining budget).
* ``output``: ``"mixture"`` (default: pick stage ``j`` with probability ``w_j / W_k`` at time 0 and
  follow ``pi_j``; value and cost are exactly the weighted sums) or ``"stationary"`` (the stationary
  policy of the mixed occupancy under ``P_hat_k``).
* ``warm_start``: start each stage's policy iteration from the previous stage's policy.
* Unconstrained MDPs have no resource rows: re-solving then re-solves the pooled data-driven LP
  each stage (warm-started) and outputs the last stage's policy.

.. warning:: For a constrained instance whose optimum randomises, the mixing weight is a smooth
   function of ``P``; no estimator from ``N`` samples pins it down better than ``O(1/sqrt N)``, so the
   per-seed ``(gap)^+ + (violation)^+`` of any such output is ``Omega(1/sqrt N)`` in expectation.
   ``experiments/lprl_gap.py`` measures both methods and reports what it finds.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import batch
from jaxor.rl._data import estimate_linear_mdp, estimate_tabular, lsvi, sample_count_stream
from jaxor.rl._exact import (
    _cmdp_arrays,
    _evaluate,
    _policy_iteration,
    _state_occupancy,
    policy_from_occupancy,
)
from jaxor.rl._mdp import TabularMDP

__all__ = ["ResolveOptions", "ResolveTrace", "geometric_schedule", "mixture_weights", "adaptive_resolve",
           "plug_in", "evaluate_outputs", "compare_methods", "compare_methods_seeds"]


class ResolveOptions(NamedTuple):
    """Static choices of :func:`adaptive_resolve` (see the module docstring for their meaning)."""

    weights: str = "samples"
    past_costs: str = "current"
    output: str = "mixture"
    warm_start: bool = True
    bisect_iters: int = 60
    ridge: float = 1e-8
    project: bool = True

    def check(self) -> None:
        if self.weights not in ("samples", "last"):
            raise ValueError(f"weights must be 'samples' or 'last'; got {self.weights!r}")
        if self.past_costs not in ("current", "frozen"):
            raise ValueError(f"past_costs must be 'current' or 'frozen'; got {self.past_costs!r}")
        if self.output not in ("mixture", "stationary"):
            raise ValueError(f"output must be 'mixture' or 'stationary'; got {self.output!r}")
        if self.bisect_iters < 1:
            raise ValueError(f"bisect_iters must be >= 1; got {self.bisect_iters}")


class ResolveTrace(NamedTuple):
    """Per-stage record of a re-solving run (``K`` stages).

    Attributes:
        stage_pi: ``[K, S, A]`` stage policies.
        out_pi: ``[K, S, A]`` stationary outputs (mixed occupancy under ``P_hat_k``).
        weights: ``[K, K]`` output mixture weights (row ``k`` sums to 1 over ``j <= k``).
        budgets: ``[K]`` adapted budgets ``b_k`` (0 for unconstrained runs).
        lam: ``[K]`` stage Lagrange multipliers (0 for unconstrained runs).
    """

    stage_pi: jax.Array
    out_pi: jax.Array
    weights: jax.Array
    budgets: jax.Array
    lam: jax.Array


def geometric_schedule(n_min: int, n_max: int, factor: int = 2) -> tuple[int, ...]:
    """``(n_min, factor n_min, factor^2 n_min, ...)`` up to ``n_max`` inclusive."""
    if n_min < 1 or n_max < n_min or factor < 2:
        raise ValueError(f"need 1 <= n_min <= n_max and factor >= 2; got {n_min}, {n_max}, {factor}")
    out = [int(n_min)]
    while out[-1] * factor <= n_max:
        out.append(out[-1] * factor)
    return tuple(out)


def mixture_weights(schedule, weights: str = "samples") -> np.ndarray:
    """``[K, K]`` lower-triangular output weights: row ``k`` is ``w_j / W_k`` for ``j <= k``."""
    sched = np.asarray(schedule, np.float64)
    K = len(sched)
    if weights == "last":
        return np.eye(K)
    w = np.diff(np.concatenate([[0.0], sched]))
    Wm = np.tril(np.tile(w, (K, 1)))
    return Wm / Wm.sum(axis=1, keepdims=True)


def _estimator(Phi, ridge, project):
    if Phi is None:
        return estimate_tabular
    return lambda counts: estimate_linear_mdp(counts, Phi, ridge, project)[0]


def _check_problem(counts_stream, r, schedule, costs, budget):
    if counts_stream.ndim != 4 or counts_stream.shape[0] != len(schedule):
        raise ValueError(f"counts_stream must have shape [K, S, A, S] with K = len(schedule) = {len(schedule)}; "
                         f"got {counts_stream.shape}")
    if counts_stream.shape[1:3] != r.shape:
        raise ValueError(f"counts_stream's [S, A] = {counts_stream.shape[1:3]} does not match r {r.shape}")
    if (costs is None) != (budget is None):
        raise ValueError("give both costs and budget (a constrained problem) or neither")
    if costs is not None and costs.shape != r.shape:
        raise ValueError(f"costs must have shape [S, A] = {r.shape}; got {costs.shape}")


def adaptive_resolve(counts_stream, r, gamma, nu, schedule, *, costs=None, budget=None, Phi=None,
                     options: ResolveOptions = ResolveOptions()) -> ResolveTrace:
    """Adaptive re-solving on one growing stream (module docstring gives the rule).

    Args:
        counts_stream: ``[K, S, A, S]`` cumulative counts at the checkpoints
            (:func:`jaxor.rl.sample_count_stream`).
        r: ``[S, A]`` rewards (known). gamma: discount. nu: ``[S]``.
        schedule: the ``K`` static checkpoints ``N_k``.
        costs: ``[S, A]`` cost of the one resource constraint, or None (unconstrained).
        budget: scalar budget on the discounted cost (value scale), or None.
        Phi: ``[S, A, d]`` features for the least-squares linear-MDP estimate, or None (tabular).
        options: :class:`ResolveOptions`.

    Returns:
        :class:`ResolveTrace`.
    """
    options.check()
    _check_problem(counts_stream, r, schedule, costs, budget)
    K = len(schedule)
    S, A = r.shape
    dt = r.dtype
    est = _estimator(Phi, options.ridge, options.project)
    Wm = jnp.asarray(mixture_weights(schedule, options.weights), dt)
    w = np.diff(np.concatenate([[0.0], np.asarray(schedule, np.float64)]))
    if options.weights == "last":
        w = np.ones(K)
        cum = np.ones(K)
        past_mask_scale = 0.0
    else:
        cum = np.cumsum(w)
        past_mask_scale = 1.0
    w_arr, cum_arr = jnp.asarray(w, dt), jnp.asarray(cum, dt)

    def stage(carry, xs):
        pis, frozen, warm = carry
        k, counts = xs
        P = est(counts)
        warm_pi = warm if options.warm_start else None
        if costs is None:
            _, pi_k, _ = _policy_iteration(P, r, gamma, warm_pi)
            b_k = lam = cost_k = jnp.zeros((), dt)
        else:
            c_now = jax.vmap(lambda p: nu @ _evaluate(P, costs, gamma, p))(pis)
            past_c = c_now if options.past_costs == "current" else frozen
            past = past_mask_scale * jnp.sum(jnp.where(jnp.arange(K) < k, w_arr * past_c, 0.0))
            b_k = (cum_arr[k] * budget - past) / w_arr[k]
            sol = _cmdp_arrays(P, r, costs, gamma, nu, b_k, warm_pi, options.bisect_iters)
            pi_k, lam, cost_k = sol.pi, sol.lam, sol.cost
        pis = pis.at[k].set(pi_k)
        frozen = frozen.at[k].set(cost_k)
        occ = jax.vmap(lambda p: _state_occupancy(P, gamma, nu, p)[:, None] * p)(pis)
        row = Wm[k] if costs is not None else jax.nn.one_hot(k, K, dtype=dt)
        out_pi = policy_from_occupancy(jnp.einsum("j,jsa->sa", row, occ))
        return (pis, frozen, pi_k), (pi_k, out_pi, b_k, lam)

    init = (jnp.zeros((K, S, A), dt), jnp.zeros(K, dt), jnp.full((S, A), 1.0 / A, dt))
    _, (stage_pi, out_pi, budgets, lams) = jax.lax.scan(stage, init, (jnp.arange(K), counts_stream))
    weights = Wm if costs is not None else jnp.eye(K, dtype=dt)
    return ResolveTrace(stage_pi, out_pi, weights, budgets, lams)


def plug_in(counts_stream, r, gamma, nu, *, costs=None, budget=None, Phi=None, ridge: float = 1e-8,
            project: bool = True, bisect_iters: int = 60) -> jax.Array:
    """The one-shot plug-in: at each checkpoint, solve the data-driven LP on all ``N_k`` samples once
    (no adaptation, no warm start). Returns the policies ``[K, S, A]``."""
    est = _estimator(Phi, ridge, project)

    def one(counts):
        P = est(counts)
        if costs is None:
            return _policy_iteration(P, r, gamma)[1]
        return _cmdp_arrays(P, r, costs, gamma, nu, budget, None, bisect_iters).pi

    return jax.lax.map(one, counts_stream)


def _values(mdp: TabularMDP, pis, reward):
    return jax.vmap(lambda p: mdp.nu @ _evaluate(mdp.P, reward, mdp.gamma, p))(pis)


def evaluate_outputs(mdp: TabularMDP, trace: ResolveTrace, *, costs=None, output: str = "mixture"):
    """Exact value (and cost) on the TRUE MDP of the outputs of a re-solving run.

    Returns:
        ``(values [K], cost_values [K] or None)`` on the value scale.
    """
    if output not in ("mixture", "stationary"):
        raise ValueError(f"output must be 'mixture' or 'stationary'; got {output!r}")
    pis = trace.stage_pi if output == "mixture" else trace.out_pi
    Wm = trace.weights if output == "mixture" else jnp.eye(pis.shape[0], dtype=pis.dtype)
    v = Wm @ _values(mdp, pis, mdp.r)
    c = None if costs is None else Wm @ _values(mdp, pis, costs)
    return v, c


def compare_methods(key, mdp: TabularMDP, schedule, *, costs=None, budget=None, Phi=None,
                    options: ResolveOptions = ResolveOptions(), allocation: str = "round_robin",
                    lsvi_iters: int = 0):
    """One seed: draw a growing stream, run re-solving, the plug-in and (optionally) LSVI, and score
    every output exactly on the true MDP.

    Args:
        key: PRNG key of the seed's sample stream.
        mdp: the true MDP (rewards known to the learner; ``P`` only through samples).
        schedule: static checkpoints.
        costs, budget: one resource constraint (or None).
        Phi: features for the linear-MDP estimator and LSVI (None: tabular / one-hot).
        options: :class:`ResolveOptions`.
        allocation: generative-model allocation (:func:`jaxor.rl.sample_transitions`).
        lsvi_iters: >0 adds the LSVI / fitted-Q baseline (unconstrained only) with that many sweeps.

    Returns:
        dict of ``[K]`` arrays: ``value_<m>``, ``gap_<m>`` (``V* - V``) and, when constrained,
        ``cost_<m>``, ``violation_<m>`` (``max(C - b, 0)``) for ``m`` in ``resolve``, ``plugin``
        (and ``lsvi``); plus ``budget_k`` (adapted budgets).
    """
    counts = sample_count_stream(key, mdp.P, schedule, allocation)
    trace = adaptive_resolve(counts, mdp.r, mdp.gamma, mdp.nu, schedule, costs=costs, budget=budget, Phi=Phi,
                             options=options)
    plug = plug_in(counts, mdp.r, mdp.gamma, mdp.nu, costs=costs, budget=budget, Phi=Phi, ridge=options.ridge,
                   project=options.project, bisect_iters=options.bisect_iters)
    if costs is None:
        v_star = mdp.nu @ _policy_iteration(mdp.P, mdp.r, mdp.gamma)[0]
    else:
        v_star = _cmdp_arrays(mdp.P, mdp.r, costs, mdp.gamma, mdp.nu, budget, None, 80).value
    out = {}
    v, c = evaluate_outputs(mdp, trace, costs=costs, output=options.output)
    results = {"resolve": (v, c), "plugin": (_values(mdp, plug, mdp.r),
                                             None if costs is None else _values(mdp, plug, costs))}
    if lsvi_iters > 0 and costs is None:
        F = jnp.eye(mdp.r.size, dtype=mdp.r.dtype).reshape(mdp.r.shape + (-1,)) if Phi is None else Phi
        pis = jax.lax.map(lambda cn: lsvi(cn, F, mdp.r, mdp.gamma, iters=lsvi_iters, ridge=options.ridge)[1],
                          counts)
        results["lsvi"] = (_values(mdp, pis, mdp.r), None)
    for name, (v, c) in results.items():
        out[f"value_{name}"] = v
        out[f"gap_{name}"] = v_star - v
        if c is not None:
            out[f"cost_{name}"] = c
            out[f"violation_{name}"] = jnp.maximum(c - budget, 0.0)
    out["budget_k"] = trace.budgets
    out["v_star"] = jnp.broadcast_to(v_star, (len(schedule),))
    return out


def compare_methods_seeds(keys, mdp: TabularMDP, schedule, *, costs=None, budget=None, Phi=None,
                          options: ResolveOptions = ResolveOptions(), allocation: str = "round_robin",
                          lsvi_iters: int = 0):
    """:func:`compare_methods` for a batch of seeds ``keys [B, 2]`` as ONE vmapped, jitted call,
    sharded over local devices with :func:`jaxor.batch.sharded`.

    The environment (and costs, budget, features) is broadcast along the seed axis so that the
    jitted function depends only on the static configuration: a second call with new keys or a new
    environment of the same shapes does not recompile.

    Returns:
        dict of ``[B, K]`` arrays (see :func:`compare_methods`).
    """
    keys = jnp.asarray(keys)
    if keys.ndim != 2:
        raise ValueError(f"keys must be a batch of raw PRNG keys, shape [B, 2]; got {keys.shape}")
    options.check()
    if (costs is None) != (budget is None):
        raise ValueError("give both costs and budget (a constrained problem) or neither")
    B = keys.shape[0]
    extra = {}
    if costs is not None:
        extra["costs"] = jnp.asarray(costs, mdp.r.dtype)
        extra["budget"] = jnp.asarray(budget, mdp.r.dtype)
    if Phi is not None:
        extra["Phi"] = jnp.asarray(Phi, mdp.r.dtype)
    tree = (mdp, extra)
    tiled = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (B,) + jnp.shape(x)), tree)
    fn = _seeds_fn(tuple(int(n) for n in schedule), options, allocation, int(lsvi_iters))
    return fn(keys, tiled)


@functools.lru_cache(maxsize=32)
def _seeds_fn(schedule, options, allocation, lsvi_iters):
    def one(key, tree):
        mdp, extra = tree
        return compare_methods(key, mdp, schedule, options=options, allocation=allocation, lsvi_iters=lsvi_iters,
                               **extra)

    return batch.sharded(jax.vmap(one))
