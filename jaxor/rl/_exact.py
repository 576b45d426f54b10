"""Exact planning on known tabular MDPs: policy evaluation, value and policy iteration, occupancy
measures, finite-horizon backward induction, a jittable constrained-MDP solver, and the optimal
value with envelope-theorem gradients.

References: Puterman, *Markov Decision Processes* (1994), ch. 6 (policy iteration, the LP); Altman,
*Constrained Markov Decision Processes* (1999), ch. 3 (one constraint: the optimum mixes two
deterministic policies); Jiang, Zong, Ye, arXiv 2505.12037 (LP view used throughout jaxor.rl).

Everything here is a pure function of arrays: it jits, vmaps over seeds/instances and (where
stated) differentiates. Policies are stochastic matrices ``pi[s, a]``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxor import _linalg
from jaxor.rl._mdp import ConstrainedMDP, FiniteHorizonMDP, TabularMDP

__all__ = [
    "policy_evaluation", "q_values", "value_iteration", "policy_iteration", "occupancy_measure",
    "policy_from_occupancy", "flow_residual", "greedy_policy", "backward_induction",
    "finite_horizon_evaluation", "CMDPSolution", "solve_cmdp", "optimal_value", "cmdp_evaluate",
]


# --------------------------------------------------------------------------------------------
# array-level kernels (shared by the public functions and the samplers in jaxor.rl)

@jax.jit
def _p_pi(P, pi):
    return jnp.einsum("sa,sat->st", pi, P)


@jax.jit
def _evaluate(P, reward, gamma, pi):
    """V^pi = (I - gamma P_pi)^{-1} r_pi, ``[S]``."""
    S = P.shape[0]
    A_mat = jnp.eye(S, dtype=P.dtype) - gamma * _p_pi(P, pi)
    return _linalg.solve(A_mat, jnp.sum(pi * reward, axis=1))


@jax.jit
def _state_occupancy(P, gamma, nu, pi):
    """d^pi = (1 - gamma) nu^T (I - gamma P_pi)^{-1}, ``[S]`` (sums to 1)."""
    S = P.shape[0]
    A_mat = jnp.eye(S, dtype=P.dtype) - gamma * _p_pi(P, pi)
    return (1.0 - gamma) * _linalg.solve(A_mat.T, nu)


@jax.jit
def _q(P, reward, gamma, V):
    return reward + gamma * jnp.einsum("sat,t->sa", P, V)


def _greedy(Q, pi_old=None, eps=0.0):
    """One-hot greedy policy; keeps the old action unless another is better by more than ``eps``."""
    A = Q.shape[1]
    best = jnp.argmax(Q, axis=1)
    if pi_old is not None:
        old = jnp.argmax(pi_old, axis=1)
        q_old = jnp.take_along_axis(Q, old[:, None], axis=1)[:, 0]
        best = jnp.where(q_old >= Q.max(axis=1) - eps, old, best)
    return jax.nn.one_hot(best, A, dtype=Q.dtype)


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _policy_iteration(P, reward, gamma, pi0=None, max_iter=100, eps=None):
    S, A, _ = P.shape
    if eps is None:
        eps = 64 * jnp.finfo(P.dtype).eps * (1.0 + jnp.max(jnp.abs(reward))) / (1.0 - gamma)
    pi = jax.nn.one_hot(jnp.zeros(S, jnp.int32), A, dtype=P.dtype) if pi0 is None else _greedy(pi0)

    def cond(c):
        _, _, changed, it = c
        return changed & (it < max_iter)

    def body(c):
        pi, _, _, it = c
        V = _evaluate(P, reward, gamma, pi)
        new = _greedy(_q(P, reward, gamma, V), pi, eps)
        return new, V, jnp.any(new != pi), it + 1

    V0 = jnp.zeros(S, P.dtype)
    pi, V, _, it = jax.lax.while_loop(cond, body, (pi, V0, jnp.array(True), jnp.array(0)))
    return _evaluate(P, reward, gamma, pi), pi, it


# --------------------------------------------------------------------------------------------
# public API

def policy_evaluation(mdp: TabularMDP, pi, reward=None) -> jax.Array:
    """Exact value of a policy: ``V^pi = (I - gamma P_pi)^{-1} r_pi``.

    Args:
        mdp: the MDP.
        pi: policy ``[S, A]`` (rows are distributions over actions).
        reward: optional ``[S, A]`` to evaluate instead of ``mdp.r`` (e.g. a cost).

    Returns:
        ``[S]`` values. ``nu @ V`` is the value from the initial distribution.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxor.rl import TabularMDP, policy_evaluation
        >>> m = TabularMDP(jnp.ones((1, 1, 1)), jnp.ones((1, 1)), 0.5, jnp.ones(1))
        >>> float(policy_evaluation(m, jnp.ones((1, 1)))[0])
        2.0
    """
    pi = jnp.asarray(pi, dtype=mdp.P.dtype)
    if pi.shape != mdp.r.shape:
        raise ValueError(f"pi must have shape [S, A] = {mdp.r.shape}; got {pi.shape}")
    reward = mdp.r if reward is None else jnp.asarray(reward, dtype=mdp.P.dtype)
    if reward.shape != mdp.r.shape:
        raise ValueError(f"reward must have shape [S, A] = {mdp.r.shape}; got {reward.shape}")
    return _evaluate(mdp.P, reward, mdp.gamma, pi)


def q_values(mdp: TabularMDP, V, reward=None) -> jax.Array:
    """``Q(s, a) = r(s, a) + gamma sum_s' P(s'|s,a) V(s')``, ``[S, A]``."""
    reward = mdp.r if reward is None else reward
    return _q(mdp.P, reward, mdp.gamma, V)


def greedy_policy(Q) -> jax.Array:
    """One-hot greedy policy ``[S, A]`` of ``Q`` (ties to the lowest action index)."""
    return _greedy(jnp.asarray(Q))


class _VIState(NamedTuple):
    V: jax.Array
    delta: jax.Array
    it: jax.Array


def value_iteration(mdp: TabularMDP, *, tol: float = 1e-12, max_iter: int = 100_000):
    """Value iteration ``V <- max_a [r + gamma P V]`` until ``||V_{t+1} - V_t||_inf <= tol``.

    The returned ``V`` is within ``gamma tol / (1 - gamma)`` of ``V*`` (sup norm).

    Args:
        mdp: the MDP.
        tol: stopping threshold on the sup-norm change.
        max_iter: iteration cap.

    Returns:
        ``(V [S], pi [S, A] greedy one-hot, iterations)``.
    """
    return _value_iteration(mdp.P, mdp.r, mdp.gamma, tol, max_iter)


@functools.partial(jax.jit, static_argnames=("tol", "max_iter"))
def _value_iteration(P, r, g, tol, max_iter):
    def cond(c: _VIState):
        return (c.delta > tol) & (c.it < max_iter)

    def body(c: _VIState):
        V = _q(P, r, g, c.V).max(axis=1)
        return _VIState(V, jnp.max(jnp.abs(V - c.V)), c.it + 1)

    init = _VIState(jnp.zeros(P.shape[0], P.dtype), jnp.array(jnp.inf, P.dtype), jnp.array(0))
    out = jax.lax.while_loop(cond, body, init)
    return out.V, _greedy(_q(P, r, g, out.V)), out.it


def policy_iteration(mdp: TabularMDP, *, reward=None, pi0=None, max_iter: int = 100):
    """Howard's policy iteration with exact evaluation (terminates at an exact optimum).

    Args:
        mdp: the MDP.
        reward: optional ``[S, A]`` reward replacing ``mdp.r``.
        pi0: optional warm start ``[S, A]`` (its greedy actions start the iteration).
        max_iter: iteration cap (PI converges in at most a few tens of steps on small MDPs).

    Returns:
        ``(V* [S], pi* [S, A] one-hot, iterations)``.
    """
    reward = mdp.r if reward is None else jnp.asarray(reward, dtype=mdp.P.dtype)
    return _policy_iteration(mdp.P, reward, mdp.gamma, pi0, max_iter)


def occupancy_measure(mdp: TabularMDP, pi) -> jax.Array:
    """Normalised discounted occupancy ``q(s, a) = (1 - gamma) sum_t gamma^t Pr(s_t = s, a_t = a)``.

    ``q`` satisfies the dual-LP flow constraints (:func:`flow_residual` is 0) and sums to 1;
    ``sum(r * q) = (1 - gamma) nu @ V^pi``.

    Returns:
        ``[S, A]``.
    """
    pi = jnp.asarray(pi, dtype=mdp.P.dtype)
    return _occupancy(mdp.P, mdp.gamma, mdp.nu, pi)


@jax.jit
def _occupancy(P, gamma, nu, pi):
    return _state_occupancy(P, gamma, nu, pi)[:, None] * pi


@jax.jit
def policy_from_occupancy(q, *, floor: float = 0.0) -> jax.Array:
    """Policy ``pi(a|s) = q(s, a) / sum_a' q(s, a')``; uniform where a state has no mass.

    Args:
        q: occupancy ``[S, A]`` (negative round-off is clipped to 0).
        floor: states whose mass is ``<= floor`` get the uniform policy (any choice is optimal
            there for the LP: unreached states do not affect ``V(nu)``).

    Returns:
        ``[S, A]`` policy.
    """
    q = jnp.clip(jnp.asarray(q), 0.0, None)
    mass = q.sum(axis=1, keepdims=True)
    A = q.shape[1]
    return jnp.where(mass > floor, q / jnp.where(mass > floor, mass, 1.0), 1.0 / A)


@jax.jit
def flow_residual(mdp: TabularMDP, q) -> jax.Array:
    """``sum_a q(s', a) - gamma sum_{s,a} P(s'|s,a) q(s,a) - (1 - gamma) nu(s')``, ``[S]``."""
    q = jnp.asarray(q, dtype=mdp.P.dtype)
    return q.sum(axis=1) - mdp.gamma * jnp.einsum("sa,sat->t", q, mdp.P) - (1.0 - mdp.gamma) * mdp.nu


@jax.jit
def backward_induction(fh: FiniteHorizonMDP):
    """Optimal finite-horizon values by backward induction.

    Returns:
        ``(V [H + 1, S], pi [H, S, A] one-hot)``; ``V[H] = 0`` and ``nu @ V[0]`` is the optimum.
    """
    H, S, A, _ = fh.P.shape

    def step(V_next, hPr):
        P, r = hPr
        Q = r + jnp.einsum("sat,t->sa", P, V_next)
        return Q.max(axis=1), (Q.max(axis=1), _greedy(Q))

    _, (Vs, pis) = jax.lax.scan(step, jnp.zeros(S, fh.P.dtype), (fh.P, fh.r), reverse=True)
    return jnp.concatenate([Vs, jnp.zeros((1, S), fh.P.dtype)]), pis


def finite_horizon_evaluation(fh: FiniteHorizonMDP, pi) -> jax.Array:
    """Values ``[H + 1, S]`` of a non-stationary policy ``pi [H, S, A]``."""
    pi = jnp.asarray(pi, dtype=fh.P.dtype)
    if pi.shape != fh.r.shape:
        raise ValueError(f"pi must have shape [H, S, A] = {fh.r.shape}; got {pi.shape}")
    return _fh_eval(fh, pi)


@jax.jit
def _fh_eval(fh, pi):
    def step(V_next, hPrpi):
        P, r, p = hPrpi
        V = jnp.sum(p * (r + jnp.einsum("sat,t->sa", P, V_next)), axis=1)
        return V, V

    _, Vs = jax.lax.scan(step, jnp.zeros(fh.P.shape[1], fh.P.dtype), (fh.P, fh.r, pi), reverse=True)
    return jnp.concatenate([Vs, jnp.zeros((1, fh.P.shape[1]), fh.P.dtype)])


# --------------------------------------------------------------------------------------------
# constrained MDPs with one constraint: Lagrangian bisection + policy iteration (jittable)

class CMDPSolution(NamedTuple):
    """Solution of a one-constraint CMDP.

    Attributes:
        q: optimal occupancy ``[S, A]`` (sums to 1).
        pi: stationary policy from ``q`` ``[S, A]`` (randomised in at most the states where the two
            bracketing deterministic policies differ).
        value: ``V_r(nu)`` of the optimum (value scale, not ``(1 - gamma)``-scaled).
        cost: ``V_c(nu)`` of the optimum.
        lam: optimal Lagrange multiplier (value scale).
        feasible: False when even the cost-minimising policy exceeds the budget (then ``q`` is that
            policy's occupancy).
    """

    q: jax.Array
    pi: jax.Array
    value: jax.Array
    cost: jax.Array
    lam: jax.Array
    feasible: jax.Array


@functools.partial(jax.jit, static_argnames=("bisect_iters", "grow_iters"))
def _cmdp_arrays(P, r, c, gamma, nu, budget, pi0=None, bisect_iters=80, grow_iters=80):
    """Lagrangian solution of max V_r s.t. V_c <= budget (see :func:`solve_cmdp`)."""
    def solve_at(lam, warm):
        V, pi, _ = _policy_iteration(P, r - lam * c, gamma, warm)
        return pi, nu @ _evaluate(P, c, gamma, pi)

    pi0_, c0 = solve_at(jnp.zeros((), P.dtype), pi0)
    scale = (jnp.max(jnp.abs(r)) + 1e-12) / (jnp.max(jnp.abs(c)) + 1e-12)

    # grow lam_hi until the Lagrangian policy meets the budget
    def gcond(s):
        lam, pi, cost, it = s
        return (cost > budget) & (it < grow_iters)

    def gbody(s):
        lam, pi, _, it = s
        lam = lam * 2.0
        pi, cost = solve_at(lam, pi)
        return lam, pi, cost, it + 1

    lam_hi, pi_hi, c_hi, _ = jax.lax.while_loop(gcond, gbody, (scale, pi0_, c0, jnp.array(0)))
    lam_hi = jnp.where(c0 <= budget, 0.0, lam_hi)
    pi_hi = jnp.where(c0 <= budget, pi0_, pi_hi)
    c_hi = jnp.where(c0 <= budget, c0, c_hi)
    feasible = c_hi <= budget + 1e3 * jnp.finfo(P.dtype).eps * (1 + jnp.abs(budget))

    # bisection on lam in [0, lam_hi]: keep C(lo) > budget >= C(hi)
    def bbody(_, s):
        lo, hi, pi_lo, pi_h, clo, ch = s
        mid = 0.5 * (lo + hi)
        pi_m, cm = solve_at(mid, pi_h)
        above = cm > budget
        return (jnp.where(above, mid, lo), jnp.where(above, hi, mid),
                jnp.where(above, pi_m, pi_lo), jnp.where(above, pi_h, pi_m),
                jnp.where(above, cm, clo), jnp.where(above, ch, cm))

    lo, hi, pi_lo, pi_hi, c_lo, c_hi = jax.lax.fori_loop(
        0, bisect_iters, bbody, (jnp.zeros((), P.dtype), lam_hi, pi0_, pi_hi, c0, c_hi))
    unconstrained = c0 <= budget
    d_lo = _state_occupancy(P, gamma, nu, pi_lo)[:, None] * pi_lo
    d_hi = _state_occupancy(P, gamma, nu, pi_hi)[:, None] * pi_hi
    denom = c_lo - c_hi
    theta = jnp.where(unconstrained | ~feasible | (denom <= 0), 0.0,
                      jnp.clip((budget - c_hi) / jnp.where(denom > 0, denom, 1.0), 0.0, 1.0))
    q = theta * d_lo + (1.0 - theta) * d_hi
    pi = policy_from_occupancy(q)
    value = jnp.sum(q * r) / (1.0 - gamma)
    cost = jnp.sum(q * c) / (1.0 - gamma)
    lam = jnp.where(unconstrained, 0.0, 0.5 * (lo + hi))
    return CMDPSolution(q, pi, value, cost, lam, feasible)


def solve_cmdp(cmdp: ConstrainedMDP, *, pi0=None, bisect_iters: int = 80) -> CMDPSolution:
    """Exact optimum of a one-constraint CMDP, jittable and vmappable (no LP solver needed).

    .. math:: \\max_\\pi V_r^\\pi(\\nu)\\ \\text{s.t.}\\ V_c^\\pi(\\nu) \\le b
              \\;=\\; \\min_{\\lambda\\ge0} \\max_\\pi V_{r-\\lambda c}^\\pi(\\nu) + \\lambda b.

    Bisection on ``lambda`` with exact policy iteration for each inner MDP; at the breakpoint the
    two bracketing deterministic policies are mixed *in occupancy space* so that the cost equals
    ``b`` exactly (Altman 1999, Thm 3.8: an optimal solution mixing two deterministic policies).
    Agrees with the occupancy LP solved by HiGHS (tested to 1e-8 in float64).

    Args:
        cmdp: a :class:`ConstrainedMDP` with exactly one constraint.
        pi0: optional warm start for the first policy iteration ``[S, A]``.
        bisect_iters: bisection steps on ``lambda`` (80 resolves a float64 breakpoint).

    Returns:
        :class:`CMDPSolution`.

    Raises:
        ValueError: if ``cmdp`` has more than one constraint (use :func:`jaxor.rl.solve_cmdp_lp`).
    """
    if cmdp.num_constraints != 1:
        raise ValueError(f"solve_cmdp handles one constraint; cmdp has {cmdp.num_constraints} "
                         "(use jaxor.rl.solve_cmdp_lp)")
    m = cmdp.mdp
    return _cmdp_arrays(m.P, m.r, cmdp.costs[0], m.gamma, m.nu, cmdp.budgets[0], pi0, bisect_iters)


@jax.jit
def cmdp_evaluate(cmdp: ConstrainedMDP, pi):
    """``(V_r^pi(nu), V_c^pi(nu) [K])`` of a policy ``pi [S, A]`` on the constrained MDP."""
    m = cmdp.mdp
    d = _state_occupancy(m.P, m.gamma, m.nu, jnp.asarray(pi, m.P.dtype))[:, None] * pi
    return jnp.sum(d * m.r) / (1 - m.gamma), jnp.einsum("sa,ksa->k", d, cmdp.costs) / (1 - m.gamma)


# --------------------------------------------------------------------------------------------
# optimal value with envelope-theorem gradients

def optimal_value(mdp: TabularMDP) -> jax.Array:
    """``V*(nu)``, differentiable in ``r``, ``P``, ``nu`` and ``gamma`` by the envelope theorem.

    Forward: exact policy iteration. Backward (Danskin / LP sensitivity): with ``w = nu^T (I -
    gamma P_{pi*})^{-1}`` spread over actions (the unnormalised optimal occupancy, ``q*/(1-gamma)``),

    .. math:: \\partial V^*/\\partial r = w,\\quad \\partial V^*/\\partial P(s'|s,a) = \\gamma\\, w(s,a)
              V^*(s'),\\quad \\partial V^*/\\partial \\nu = V^*,\\quad \\partial V^*/\\partial\\gamma =
              \\textstyle\\sum w(s,a) (P V^*)(s,a).

    These are the LP's primal/dual sensitivities; they are the gradient wherever the optimal policy
    is unique (otherwise one element of the superdifferential). Gradients with respect to features
    follow by the chain rule (``r = Phi theta``, ``P = Phi mu^T``).

    Returns:
        scalar ``V*(nu)``.
    """
    return _opt_value_g(mdp.r, mdp.P, mdp.nu, mdp.gamma)


@jax.custom_vjp
def _opt_value_g(r, P, nu, gamma):
    V, _, _ = _policy_iteration(P, r, gamma)
    return nu @ V


def _fwd(r, P, nu, gamma):
    V, pi, _ = _policy_iteration(P, r, gamma)
    S = P.shape[0]
    occ = _linalg.solve((jnp.eye(S, dtype=P.dtype) - gamma * _p_pi(P, pi)).T, nu)
    return nu @ V, (V, pi, occ, P, gamma)


def _bwd(res, g):
    V, pi, occ, P, gamma = res
    w = occ[:, None] * pi
    dr = g * w
    dP = g * gamma * w[:, :, None] * V[None, None, :]
    dnu = g * V
    dgamma = g * jnp.sum(w * jnp.einsum("sat,t->sa", P, V))
    return dr, dP, dnu, dgamma


_opt_value_g.defvjp(_fwd, _bwd)
