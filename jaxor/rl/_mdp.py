"""MDP containers with validation: discounted tabular, finite-horizon, and constrained MDPs.

Notation follows Jiang, Zong, Ye, "Adaptive Resolving Methods for Reinforcement Learning with
Function Approximations" (arXiv 2505.12037) and Jiang & Ye, constrained MDPs (arXiv 2402.16324):
states ``s in [S]``, actions ``a in [A]``, transition kernel ``P[s, a, s'] = P(s' | s, a)``, reward
``r[s, a]``, discount ``gamma in [0, 1)``, initial distribution ``nu[s]``.

Containers are equinox Modules (pytrees: they jit, vmap and carry gradients). Values are checked in
``__check_init__`` whenever the leaves are concrete arrays; under ``jit``/``vmap`` (tracers) only the
shapes are checked, so batched environment generators can build them freely.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["TabularMDP", "FiniteHorizonMDP", "ConstrainedMDP"]


def _concrete(*xs) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


def _tol(x) -> float:
    return 1e-9 if np.dtype(x.dtype).itemsize == 8 else 1e-5


def _check_distribution(name: str, p, axis: int = -1) -> None:
    """Nonnegative entries that sum to 1 along ``axis`` (concrete arrays only)."""
    if not _concrete(p):
        return
    a = np.asarray(p)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds NaN or Inf")
    tol = _tol(a) * max(1, a.shape[axis])
    if np.any(a < -tol):
        raise ValueError(f"{name} has negative probabilities (min {a.min():.3g})")
    dev = np.abs(a.sum(axis=axis) - 1.0)
    if np.any(dev > tol):
        raise ValueError(f"{name} must sum to 1 along its last axis; worst deviation {dev.max():.3g}")


def _check_finite(name: str, x) -> None:
    if _concrete(x) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name} holds NaN or Inf")


def _check_gamma(gamma) -> None:
    if jnp.ndim(gamma) != 0:
        raise ValueError(f"gamma must be a scalar; got shape {jnp.shape(gamma)}")
    if _concrete(gamma):
        g = float(gamma)
        if not 0.0 <= g < 1.0:
            raise ValueError(f"gamma must lie in [0, 1); got {g}")


class TabularMDP(eqx.Module):
    """A discounted tabular MDP ``(P, r, gamma, nu)``.

    .. math:: V^\\pi(\\nu) = \\mathbb{E}\\Big[\\sum_{t\\ge0} \\gamma^t r(s_t, a_t)\\Big],\\quad s_0\\sim\\nu,\\;
              s_{t+1} \\sim P(\\cdot\\mid s_t, a_t).

    Args:
        P: transition kernel ``[S, A, S]``; ``P[s, a]`` is a distribution over next states.
        r: rewards ``[S, A]``.
        gamma: discount, scalar in ``[0, 1)``.
        nu: initial distribution ``[S]``.

    Raises:
        ValueError: mismatched shapes, probabilities that are negative or do not sum to 1,
            ``gamma`` outside ``[0, 1)``, non-finite entries (value checks run on concrete arrays).

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxor.rl import TabularMDP
        >>> m = TabularMDP(P=jnp.ones((2, 1, 2)) / 2, r=jnp.ones((2, 1)), gamma=0.5, nu=jnp.array([1.0, 0.0]))
        >>> m.num_states, m.num_actions
        (2, 1)
    """

    P: jax.Array
    r: jax.Array
    gamma: jax.Array
    nu: jax.Array

    def __init__(self, P, r, gamma, nu):
        self.P = jnp.asarray(P)
        self.r = jnp.asarray(r, dtype=self.P.dtype)
        self.gamma = jnp.asarray(gamma, dtype=self.P.dtype)
        self.nu = jnp.asarray(nu, dtype=self.P.dtype)

    def __check_init__(self):
        if self.P.ndim != 3 or self.P.shape[0] != self.P.shape[2]:
            raise ValueError(f"P must have shape [S, A, S]; got {self.P.shape}")
        S, A, _ = self.P.shape
        if self.r.shape != (S, A):
            raise ValueError(f"r must have shape [S, A] = {(S, A)} to match P; got {self.r.shape}")
        if self.nu.shape != (S,):
            raise ValueError(f"nu must have shape [S] = {(S,)} to match P; got {self.nu.shape}")
        _check_gamma(self.gamma)
        _check_distribution("P", self.P)
        _check_distribution("nu", self.nu)
        _check_finite("r", self.r)

    @property
    def num_states(self) -> int:
        return self.P.shape[0]

    @property
    def num_actions(self) -> int:
        return self.P.shape[1]


class ConstrainedMDP(eqx.Module):
    """A constrained MDP: maximise ``V_r^pi(nu)`` subject to ``V_{c_k}^pi(nu) <= budgets[k]``.

    Costs are discounted like rewards (same scale as values): the occupancy-LP row is
    ``c_k^T q <= (1 - gamma) budgets[k]`` with ``sum(q) = 1``.

    Args:
        mdp: the underlying :class:`TabularMDP`.
        costs: ``[K, S, A]`` cost functions.
        budgets: ``[K]`` budgets on the discounted cumulative costs.

    Raises:
        ValueError: shapes that do not match ``mdp`` or non-finite entries.
    """

    mdp: TabularMDP
    costs: jax.Array
    budgets: jax.Array

    def __init__(self, mdp: TabularMDP, costs, budgets):
        if not isinstance(mdp, TabularMDP):
            raise ValueError(f"mdp must be a TabularMDP; got {type(mdp).__name__}")
        self.mdp = mdp
        self.costs = jnp.asarray(costs, dtype=mdp.P.dtype)
        self.budgets = jnp.asarray(budgets, dtype=mdp.P.dtype)

    def __check_init__(self):
        S, A = self.mdp.num_states, self.mdp.num_actions
        if self.costs.ndim != 3 or self.costs.shape[1:] != (S, A):
            raise ValueError(f"costs must have shape [K, S, A] with (S, A) = {(S, A)}; got {self.costs.shape}")
        if self.budgets.shape != (self.costs.shape[0],):
            raise ValueError(f"budgets must have shape [K] = {(self.costs.shape[0],)}; got {self.budgets.shape}")
        _check_finite("costs", self.costs)
        _check_finite("budgets", self.budgets)

    @property
    def num_constraints(self) -> int:
        return self.costs.shape[0]


class FiniteHorizonMDP(eqx.Module):
    """A finite-horizon MDP with stage-dependent kernels ``P[h, s, a, s']`` and rewards ``r[h, s, a]``.

    ``V_1^pi(nu) = E[sum_{h=0}^{H-1} r_h(s_h, a_h)]``, no discount.

    Args:
        P: ``[H, S, A, S]`` (a stationary ``[S, A, S]`` kernel is broadcast to all ``H`` stages).
        r: ``[H, S, A]`` (or ``[S, A]``, broadcast).
        nu: ``[S]`` initial distribution.
        horizon: ``H``; needed only when both ``P`` and ``r`` are stationary.

    Raises:
        ValueError: mismatched shapes, invalid probabilities, non-finite rewards.
    """

    P: jax.Array
    r: jax.Array
    nu: jax.Array

    def __init__(self, P, r, nu, horizon: int | None = None):
        P = jnp.asarray(P)
        r = jnp.asarray(r, dtype=P.dtype)
        H = horizon
        if H is None:
            H = P.shape[0] if P.ndim == 4 else (r.shape[0] if r.ndim == 3 else None)
        if H is None or H < 1:
            raise ValueError(f"horizon must be a positive int when P and r are stationary; got {horizon}")
        if P.ndim == 3:
            P = jnp.broadcast_to(P, (H,) + P.shape)
        if r.ndim == 2:
            r = jnp.broadcast_to(r, (H,) + r.shape)
        self.P, self.r, self.nu = P, r, jnp.asarray(nu, dtype=P.dtype)

    def __check_init__(self):
        if self.P.ndim != 4 or self.P.shape[1] != self.P.shape[3]:
            raise ValueError(f"P must have shape [H, S, A, S]; got {self.P.shape}")
        H, S, A, _ = self.P.shape
        if self.r.shape != (H, S, A):
            raise ValueError(f"r must have shape [H, S, A] = {(H, S, A)}; got {self.r.shape}")
        if self.nu.shape != (S,):
            raise ValueError(f"nu must have shape [S] = {(S,)}; got {self.nu.shape}")
        _check_distribution("P", self.P)
        _check_distribution("nu", self.nu)
        _check_finite("r", self.r)

    @property
    def horizon(self) -> int:
        return self.P.shape[0]
