"""Linear programs of MDPs solved exactly with HiGHS (through :mod:`jaxor.lp.highs`).

Jiang, Zong, Ye, arXiv 2505.12037 (LP reformulation of RL); Jiang & Ye, arXiv 2402.16324 (CMDP LP);
de Farias & Van Roy, "The linear programming approach to approximate dynamic programming",
Operations Research 51(6), 2003 (approximate LP).

Primal (values), ``(1 - gamma)``-scaled so both problems share one optimum:

.. math:: \\min_V (1-\\gamma)\\,\\nu^\\top V \\ \\text{s.t.}\\ V(s) \\ge r(s,a) + \\gamma P(s,a)^\\top V.

Dual (occupancy ``q >= 0``):

.. math:: \\max_q \\sum_{s,a} r(s,a) q(s,a) \\ \\text{s.t.}\\ \\sum_a q(s',a) - \\gamma\\sum_{s,a}
          P(s'|s,a) q(s,a) = (1-\\gamma)\\nu(s').

Both optima equal ``(1 - gamma) V*(nu)``; every result here reports ``value`` on the *value* scale
(divided by ``1 - gamma``) so it compares directly with value iteration. These are host-side NumPy
builders (HiGHS is not jittable); the jittable paths live in :mod:`jaxor.rl._exact`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from jaxor.lp import highs
from jaxor.rl._mdp import ConstrainedMDP, FiniteHorizonMDP, TabularMDP

__all__ = ["LPSolution", "solve_data_driven_lp", "dual_lp", "solve_dual_lp_pdhg", "optimal_value_pdhg", "solve_primal_lp", "solve_dual_lp", "solve_cmdp_lp", "solve_finite_horizon_lp",
           "solve_approximate_lp", "solve_feature_lp", "flow_matrix"]


class LPSolution(NamedTuple):
    """An exact LP solve of an MDP.

    Attributes:
        status: HiGHS status string (``"optimal"``, ``"infeasible"``, ...).
        value: optimum on the value scale (``V*(nu)``), None unless optimal.
        V: state values ``[S]`` (primal variables, or duals of the flow rows), or None.
        q: occupancy ``[S, A]`` (dual variables, or primal of the dual LP), or None.
        extra: solver-specific arrays (``w`` of the approximate LP, cost duals, ...).
    """

    status: str
    value: float | None
    V: np.ndarray | None
    q: np.ndarray | None
    extra: dict


def _np(mdp: TabularMDP):
    return (np.asarray(mdp.P, np.float64), np.asarray(mdp.r, np.float64), float(mdp.gamma),
            np.asarray(mdp.nu, np.float64))


def flow_matrix(P, gamma) -> sp.csr_matrix:
    """``M [S, S*A]`` with ``(M q)(s') = sum_a q(s',a) - gamma sum_{s,a} P(s'|s,a) q(s,a)``.

    ``q`` is flattened row-major from ``[S, A]``.
    """
    P = np.asarray(P, np.float64)
    S, A, _ = P.shape
    E = sp.kron(sp.identity(S), np.ones((1, A)))  # [S, S*A]
    return sp.csr_matrix(E - gamma * sp.csr_matrix(P.reshape(S * A, S).T))


def solve_primal_lp(mdp: TabularMDP) -> LPSolution:
    """Primal (value) LP with HiGHS; ``q`` is read from the constraint duals."""
    P, r, g, nu = _np(mdp)
    S, A, _ = P.shape
    M = flow_matrix(P, g)  # rows of the primal are columns of M: V(s) - gamma P(s,a) V
    res = highs.solve((1 - g) * nu, M.T.tocsr(), lo=r.ravel(), hi=None, l=np.full(S, -np.inf), u=None)
    if not res.ok:
        return LPSolution(res.status, None, None, None, {})
    q = np.abs(res.y).reshape(S, A)  # duals of >= rows of a min problem are >= 0
    return LPSolution(res.status, res.objective / (1 - g), res.x, q, {})


def _dual(P, r, g, nu, cost_rows=None, cost_rhs=None):
    S, A, _ = P.shape
    M = flow_matrix(P, g)
    lo = (1 - g) * nu
    hi = lo.copy()
    A_mat = M
    if cost_rows is not None and len(cost_rows):
        A_mat = sp.vstack([M, sp.csr_matrix(cost_rows)]).tocsr()
        lo = np.concatenate([lo, np.full(len(cost_rows), -np.inf)])
        hi = np.concatenate([hi, cost_rhs])
    res = highs.solve(r.ravel(), A_mat, lo=lo, hi=hi, sense="max")
    if not res.ok:
        return LPSolution(res.status, None, None, None, {})
    y = res.y
    return LPSolution(res.status, res.objective / (1 - g), y[:S],
                      np.clip(res.x, 0, None).reshape(S, A), {"cost_duals": y[S:]})


def solve_dual_lp(mdp: TabularMDP) -> LPSolution:
    """Dual (occupancy) LP with HiGHS.

    Returns:
        :class:`LPSolution` with ``q [S, A]`` (sums to 1, satisfies the flow constraints) and
        ``V`` from the flow-row duals (HiGHS sign convention for a maximisation).
    """
    return _dual(*_np(mdp))


def solve_cmdp_lp(cmdp: ConstrainedMDP) -> LPSolution:
    """Constrained occupancy LP: the dual LP plus ``c_k^T q <= (1 - gamma) budgets[k]``.

    Any number of constraints. ``extra["cost_duals"]`` holds the HiGHS duals of the cost rows.
    """
    P, r, g, nu = _np(cmdp.mdp)
    C = np.asarray(cmdp.costs, np.float64).reshape(cmdp.num_constraints, -1)
    return _dual(P, r, g, nu, C, (1 - g) * np.asarray(cmdp.budgets, np.float64))


def solve_finite_horizon_lp(fh: FiniteHorizonMDP) -> LPSolution:
    """Finite-horizon occupancy LP over ``q_h(s, a)``, ``h = 0..H-1``.

    .. math:: \\sum_a q_0(s,a) = \\nu(s),\\qquad \\sum_a q_{h+1}(s',a) = \\sum_{s,a} P_h(s'|s,a) q_h(s,a).

    Returns:
        ``value`` = optimum (no discount), ``q [H, S, A]``.
    """
    P = np.asarray(fh.P, np.float64)
    r = np.asarray(fh.r, np.float64)
    nu = np.asarray(fh.nu, np.float64)
    H, S, A, _ = P.shape
    E = sp.kron(sp.identity(S), np.ones((1, A)))
    blocks = [[None] * H for _ in range(H)]
    for h in range(H):
        blocks[h][h] = E
        if h > 0:
            blocks[h][h - 1] = -sp.csr_matrix(P[h - 1].reshape(S * A, S).T)
    for h in range(H):
        for k in range(H):
            if blocks[h][k] is None:
                blocks[h][k] = sp.csr_matrix((S, S * A))
    A_mat = sp.bmat(blocks).tocsr()
    rhs = np.concatenate([nu, np.zeros(S * (H - 1))])
    res = highs.solve(r.ravel(), A_mat, lo=rhs, hi=rhs, sense="max")
    if not res.ok:
        return LPSolution(res.status, None, None, None, {})
    return LPSolution(res.status, res.objective, None, np.clip(res.x, 0, None).reshape(H, S, A), {})


def solve_approximate_lp(mdp: TabularMDP, Psi, state_relevance=None) -> LPSolution:
    """Approximate LP (de Farias & Van Roy 2003) with ``V = Psi w``.

    .. math:: \\min_w (1-\\gamma)\\, c^\\top \\Psi w\\ \\text{s.t.}\\ (\\Psi w)(s) \\ge r(s,a) +
              \\gamma P(s,a)^\\top \\Psi w\\quad\\forall (s,a).

    Args:
        mdp: the MDP.
        Psi: state features ``[S, d]``. ``Psi = I`` recovers the exact primal LP; a constant column
            keeps the LP feasible.
        state_relevance: ``c [S]`` (default ``nu``).

    Returns:
        :class:`LPSolution`: ``value = c^T Psi w`` (an upper bound on ``c^T V*``), ``V = Psi w``,
        ``q`` the constraint duals (feature-aggregated occupancy), ``extra["w"]``.
    """
    P, r, g, nu = _np(mdp)
    Psi = np.asarray(Psi, np.float64)
    S, A, _ = P.shape
    if Psi.ndim != 2 or Psi.shape[0] != S:
        raise ValueError(f"Psi must have shape [S, d] with S = {S}; got {Psi.shape}")
    c = nu if state_relevance is None else np.asarray(state_relevance, np.float64)
    if c.shape != (S,):
        raise ValueError(f"state_relevance must have shape [S] = {(S,)}; got {c.shape}")
    M = flow_matrix(P, g)
    rows = (M.T @ Psi)  # [S*A, d]: (Psi w)(s) - gamma P(s,a) Psi w
    res = highs.solve((1 - g) * (Psi.T @ c), rows, lo=r.ravel(), l=np.full(Psi.shape[1], -np.inf))
    if not res.ok:
        return LPSolution(res.status, None, None, None, {})
    w = res.x
    return LPSolution(res.status, res.objective / (1 - g), Psi @ w, np.abs(res.y).reshape(S, A), {"w": w})


def solve_feature_lp(Phi, mu, r, gamma, nu, costs=None, budgets=None) -> LPSolution:
    """Occupancy LP of a linear MDP ``P(s'|s,a) = phi(s,a)^T mu(s')`` in feature space.

    Variables ``q [S*A] >= 0`` and the feature moment ``lam = Phi^T q [d]``; the ``S`` flow rows
    involve only ``lam``:

    .. math:: \\sum_a q(s',a) - \\gamma\\, \\mu(s')^\\top \\lambda = (1-\\gamma)\\nu(s'),\\qquad
              \\Phi^\\top q - \\lambda = 0.

    With ``mu`` estimated from data (:func:`jaxor.rl.estimate_linear_mdp`) this is the data-driven
    LP; with one-hot ``Phi`` it is the tabular dual LP.

    Args:
        Phi: ``[S, A, d]`` features. mu: ``[S, d]`` (``mu[s'] = mu(s')``). r: ``[S, A]``.
        gamma: discount. nu: ``[S]``. costs/budgets: optional ``[K, S, A]`` / ``[K]``.

    Returns:
        :class:`LPSolution` (value scale); ``extra["lam"]`` is the feature moment.
    """
    Phi = np.asarray(Phi, np.float64)
    mu = np.asarray(mu, np.float64)
    r = np.asarray(r, np.float64)
    nu = np.asarray(nu, np.float64)
    g = float(gamma)
    if Phi.ndim != 3:
        raise ValueError(f"Phi must have shape [S, A, d]; got {Phi.shape}")
    S, A, d = Phi.shape
    if mu.shape != (S, d):
        raise ValueError(f"mu must have shape [S, d] = {(S, d)}; got {mu.shape}")
    if r.shape != (S, A):
        raise ValueError(f"r must have shape [S, A] = {(S, A)}; got {r.shape}")
    E = sp.kron(sp.identity(S), np.ones((1, A)))
    top = sp.hstack([E, sp.csr_matrix(-g * mu)])
    bot = sp.hstack([sp.csr_matrix(Phi.reshape(S * A, d).T), -sp.identity(d)])
    rows = [top, bot]
    lo = [(1 - g) * nu, np.zeros(d)]
    hi = [(1 - g) * nu, np.zeros(d)]
    if costs is not None:
        C = np.asarray(costs, np.float64).reshape(-1, S * A)
        rows.append(sp.hstack([sp.csr_matrix(C), sp.csr_matrix((C.shape[0], d))]))
        lo.append(np.full(C.shape[0], -np.inf))
        hi.append((1 - g) * np.asarray(budgets, np.float64))
    A_mat = sp.vstack(rows).tocsr()
    obj = np.concatenate([r.ravel(), np.zeros(d)])
    res = highs.solve(obj, A_mat, lo=np.concatenate(lo), hi=np.concatenate(hi),
                      l=np.concatenate([np.zeros(S * A), np.full(d, -np.inf)]), sense="max")
    if not res.ok:
        return LPSolution(res.status, None, None, None, {})
    q = np.clip(res.x[:S * A], 0, None).reshape(S, A)
    return LPSolution(res.status, res.objective / (1 - g), res.y[:S], q, {"lam": res.x[S * A:]})


# --------------------------------------------------------------------------------------------
# the same dual LP for the LP engine's batched PDHG (jittable, vmappable)

def dual_lp(mdp: TabularMDP, costs=None, budgets=None):
    """The (constrained) occupancy LP as a :class:`jaxor.lp.LP` for the batched PDHG solver.

    ``min -r^T q`` s.t. the flow rows ``= (1 - gamma) nu`` and optional cost rows
    ``c_k^T q <= (1 - gamma) budgets[k]``; dense ``A [S + K, S*A]``. Jittable (build it inside
    ``vmap`` for a batch of MDPs of one shape).
    """
    from jaxor.lp import LP

    P, r, g, nu = mdp.P, mdp.r, mdp.gamma, mdp.nu
    S, A, _ = P.shape
    M = jnp.kron(jnp.eye(S, dtype=P.dtype), jnp.ones((1, A), P.dtype)) - g * P.reshape(S * A, S).T
    lo = hi = (1 - g) * nu
    if costs is not None:
        C = jnp.asarray(costs, P.dtype).reshape(-1, S * A)
        M = jnp.concatenate([M, C])
        lo = jnp.concatenate([lo, jnp.full(C.shape[0], -jnp.inf, P.dtype)])
        hi = jnp.concatenate([hi, (1 - g) * jnp.asarray(budgets, P.dtype)])
    return LP(c=-r.reshape(-1), A=M, lo=lo, hi=hi, dtype=P.dtype)


def solve_dual_lp_pdhg(mdp: TabularMDP, options=None, *, costs=None, budgets=None, max_iters=None):
    """Solve the occupancy LP with the LP engine's restarted PDHG (:func:`jaxor.lp.solve`).

    Jittable and vmappable (wrap in ``jax.vmap`` over a batch of MDPs of one shape).

    Args:
        mdp: the MDP. options: :class:`jaxor.lp.PDHG` (default: ``eps_abs = eps_rel = 1e-10``).
        costs, budgets: optional constraint rows ``[K, S, A]`` / ``[K]``.
        max_iters: iteration cap (default ``options.max_iters``).

    Returns:
        ``(value, q [S, A], solution)``: ``value`` on the value scale (``V*(nu)``), ``q`` clipped at 0,
        and the raw :class:`jaxor.lp.Solution` (check ``solution.status``).
    """
    from jaxor.lp import PDHG, solve

    options = PDHG(eps_abs=1e-10, eps_rel=1e-10) if options is None else options
    sol = solve(dual_lp(mdp, costs, budgets), options, max_iters=max_iters)
    S, A = mdp.r.shape
    return -sol.objective / (1 - mdp.gamma), jnp.clip(sol.x, 0, None).reshape(S, A), sol


def optimal_value_pdhg(mdp: TabularMDP, options=None, *, costs=None, budgets=None):
    """``V*(nu)`` (or the constrained optimum) through the LP engine, differentiable in every input.

    ``-jaxor.lp.optimal_value(dual_lp(mdp)) / (1 - gamma)``: the LP engine's envelope-theorem
    derivative gives ``dV/dr = q*/(1-gamma)``, ``dV/dP``, ``dV/dnu``, ``dV/dgamma`` and, for a CMDP,
    ``dV/dbudgets = lambda*`` and ``dV/dcosts``; gradients with respect to features follow by the
    chain rule. Jittable and vmappable; as accurate as the PDHG tolerance in ``options``
    (default ``eps_abs = eps_rel = 1e-10``).
    """
    from jaxor.lp import PDHG
    from jaxor.lp import optimal_value as lp_value

    options = PDHG(eps_abs=1e-10, eps_rel=1e-10) if options is None else options
    return -lp_value(dual_lp(mdp, costs, budgets), options) / (1 - mdp.gamma)


def solve_data_driven_lp(counts, r, gamma, nu, *, Phi=None, costs=None, budgets=None,
                         ridge: float = 1e-8) -> LPSolution:
    """The data-driven occupancy LP from transition counts, solved exactly with HiGHS.

    Tabular (``Phi=None``): the dual LP of the empirical kernel ``n(s,a,s')/n(s,a)``. With features:
    the feature-space LP (:func:`solve_feature_lp`) with the least-squares ``mu_hat`` (not projected:
    the LP sees exactly the linear model fitted to the data; it may then report a non-optimal status,
    which is returned, not raised).

    Args:
        counts: ``[S, A, S]`` transition counts (:func:`jaxor.rl.sample_counts`).
        r: ``[S, A]``. gamma: discount. nu: ``[S]``.
        Phi: optional ``[S, A, d]`` features. costs/budgets: optional ``[K, S, A]`` / ``[K]``.
        ridge: least-squares ridge (relative to the sample count).

    Returns:
        :class:`LPSolution` (value scale).
    """
    from jaxor.rl._data import estimate_linear_mdp, estimate_tabular

    counts = jnp.asarray(counts)
    if counts.ndim != 3 or counts.shape[0] != counts.shape[2]:
        raise ValueError(f"counts must have shape [S, A, S]; got {counts.shape}")
    if Phi is None:
        mdp = TabularMDP(estimate_tabular(counts), r, gamma, nu)
        if costs is None:
            return solve_dual_lp(mdp)
        return solve_cmdp_lp(ConstrainedMDP(mdp, costs, budgets))
    _, mu_hat = estimate_linear_mdp(counts, jnp.asarray(Phi, counts.dtype), ridge, False)
    return solve_feature_lp(Phi, mu_hat, r, gamma, nu, costs, budgets)
