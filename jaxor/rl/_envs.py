"""Benchmark environments, each a pure function of a PRNG key (vmap over keys for seeds).

Random Garnet MDPs (Archibald, McKinnon & Thomas 1995; Bhatnagar et al. 2009), RiverSwim
(Strehl & Littman 2008), a slippery gridworld, random low-rank linear MDPs ``P = Phi mu^T``
(Jin, Yang, Wang, Jordan 2020), and constrained versions whose budget makes the optimal occupancy
randomised — the test beds suggested for Jiang, Zong, Ye, arXiv 2505.12037 (jaxor notes, section 3).

Sizes are static Python ints; everything else is traced, so e.g.
``jax.vmap(lambda k: garnet(k, 10, 2))(jax.random.split(key, 100))`` builds 100 instances in one call.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxor.rl._exact import _evaluate, _policy_iteration
from jaxor.rl._mdp import ConstrainedMDP, TabularMDP

__all__ = ["garnet", "riverswim", "gridworld", "low_rank_mdp", "LowRankMDP", "constrained", "default_dtype"]


def default_dtype():
    """float64 when ``jax_enable_x64`` is on, else float32."""
    return jnp.zeros(()).dtype if not jax.config.jax_enable_x64 else jnp.float64


def _check_sizes(**kw):
    for name, v in kw.items():
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int; got {v!r}")


def garnet(key, num_states: int, num_actions: int, branching: int | None = None, gamma: float = 0.9,
           dtype=None) -> TabularMDP:
    """Random Garnet MDP: each ``(s, a)`` reaches ``branching`` random states with Dirichlet(1) weights.

    Args:
        key: PRNG key.
        num_states, num_actions: ``S``, ``A`` (static).
        branching: successors per pair (default ``min(S, 3)``).
        gamma: discount.
        dtype: float dtype (default :func:`default_dtype`).

    Returns:
        :class:`TabularMDP` with rewards ``U[0, 1]`` and uniform ``nu``.
    """
    _check_sizes(num_states=num_states, num_actions=num_actions)
    b = min(num_states, 3) if branching is None else branching
    if not isinstance(b, int) or not 1 <= b <= num_states:
        raise ValueError(f"branching must be an int in [1, {num_states}]; got {branching!r}")
    return _garnet(key, num_states, num_actions, b, gamma, jnp.dtype(dtype or default_dtype()))


@functools.partial(jax.jit, static_argnames=("S", "A", "b", "dtype"))
def _garnet(key, S, A, b, gamma, dtype):
    k1, k2, k3 = jax.random.split(key, 3)
    succ = jax.lax.top_k(jax.random.uniform(k1, (S * A, S)), b)[1]  # b distinct successors per pair
    e = -jnp.log(jax.random.uniform(k2, (S * A, b), dtype, minval=1e-12, maxval=1.0))
    w = e / e.sum(axis=1, keepdims=True)  # normalised exponentials = Dirichlet(1, ..., 1)
    P = jnp.zeros((S * A, S), dtype).at[jnp.arange(S * A)[:, None], succ].add(w).reshape(S, A, S)
    r = jax.random.uniform(k3, (S, A), dtype)
    return TabularMDP(P, r, jnp.asarray(gamma, dtype), jnp.full(S, 1.0 / S, dtype))


def riverswim(num_states: int = 6, gamma: float = 0.9, dtype=None) -> TabularMDP:
    """RiverSwim (Strehl & Littman 2008): action 0 swims left (deterministic), action 1 swims right
    against the current (right w.p. 0.35, stay 0.6, left 0.05; at the ends 0.6/0.4 and 0.35/0.65).

    Rewards ``0.005`` for going left in state 0 and ``1`` for going right in the last state (the
    original 5/10000 scaled to ``[0, 1]``); the swimmer starts in state 0.
    """
    _check_sizes(num_states=num_states)
    if num_states < 3:
        raise ValueError(f"num_states must be >= 3 for RiverSwim; got {num_states}")
    return _riverswim(num_states, gamma, jnp.dtype(dtype or default_dtype()))


@functools.partial(jax.jit, static_argnames=("S", "dtype"))
def _riverswim(S, gamma, dtype):
    P = jnp.zeros((S, 2, S), dtype)
    idx = jnp.arange(S)
    P = P.at[idx, 0, jnp.maximum(idx - 1, 0)].set(1.0)
    mid = idx[1:-1]
    P = P.at[mid, 1, mid + 1].add(0.35).at[mid, 1, mid].add(0.6).at[mid, 1, mid - 1].add(0.05)
    P = P.at[0, 1, 1].set(0.35).at[0, 1, 0].set(0.65)
    P = P.at[S - 1, 1, S - 1].set(0.6).at[S - 1, 1, S - 2].set(0.4)
    r = jnp.zeros((S, 2), dtype).at[0, 0].set(0.005).at[S - 1, 1].set(1.0)
    nu = jnp.zeros(S, dtype).at[0].set(1.0)
    return TabularMDP(P, r, jnp.asarray(gamma, dtype), nu)


def gridworld(size: int = 4, slip: float = 0.1, gamma: float = 0.9, dtype=None) -> TabularMDP:
    """A ``size x size`` slippery gridworld: 4 moves (up, down, left, right); with prob. ``slip`` a
    uniformly random move happens instead; walls keep the agent in place. The bottom-right goal is
    absorbing and pays 1 per step; the agent starts top-left. ``S = size**2``, ``A = 4``."""
    _check_sizes(size=size)
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must lie in [0, 1]; got {slip}")
    return _gridworld(size, slip, gamma, jnp.dtype(dtype or default_dtype()))


@functools.partial(jax.jit, static_argnames=("size", "dtype"))
def _gridworld(size, slip, gamma, dtype):
    S = size * size
    moves = jnp.array([[-1, 0], [1, 0], [0, -1], [0, 1]])
    rc = jnp.stack(jnp.divmod(jnp.arange(S), size), axis=1)  # [S, 2]
    nxt = jnp.clip(rc[:, None, :] + moves[None], 0, size - 1)  # [S, 4, 2]
    dest = nxt[..., 0] * size + nxt[..., 1]  # [S, 4]
    move = jax.nn.one_hot(dest, S, dtype=dtype)  # [S, 4(move), S]
    P = (1 - slip) * move + slip * move.mean(axis=1, keepdims=True)
    goal = S - 1
    P = P.at[goal].set(jax.nn.one_hot(jnp.full(4, goal), S, dtype=dtype))
    r = jnp.zeros((S, 4), dtype).at[goal].set(1.0)
    nu = jnp.zeros(S, dtype).at[0].set(1.0)
    return TabularMDP(P, r, jnp.asarray(gamma, dtype), nu)


class LowRankMDP(NamedTuple):
    """A linear MDP: ``P(s'|s,a) = Phi(s,a)^T mu(s')`` and ``r = Phi theta``.

    Attributes: mdp (:class:`TabularMDP`), Phi ``[S, A, d]`` (rows on the simplex), mu ``[S, d]``
    (each column a distribution over next states), theta ``[d]``.
    """

    mdp: TabularMDP
    Phi: jax.Array
    mu: jax.Array
    theta: jax.Array


def low_rank_mdp(key, num_states: int, num_actions: int, rank: int, gamma: float = 0.9,
                 temperature: float = 0.5, dtype=None) -> LowRankMDP:
    """Random rank-``d`` linear MDP: ``Phi(s,a) = softmax(z / temperature)`` over ``d`` latent
    factors, each factor's next-state law ``mu[:, j] = softmax(z' / temperature)`` over states
    (``z, z'`` standard normal), rewards ``r = Phi theta`` with ``theta ~ U[0, 1]^d``.

    Small ``temperature`` makes features close to one-hot in the factors (sharper dynamics).
    """
    _check_sizes(num_states=num_states, num_actions=num_actions, rank=rank)
    if temperature <= 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    return _low_rank(key, num_states, num_actions, rank, gamma, temperature,
                     jnp.dtype(dtype or default_dtype()))


@functools.partial(jax.jit, static_argnames=("S", "A", "d", "dtype"))
def _low_rank(key, S, A, d, gamma, temperature, dtype):
    k1, k2, k3 = jax.random.split(key, 3)
    Phi = jax.nn.softmax(jax.random.normal(k1, (S, A, d), dtype) / temperature, axis=-1)
    mu = jax.nn.softmax(jax.random.normal(k2, (d, S), dtype) / temperature, axis=-1).T  # [S, d]
    theta = jax.random.uniform(k3, (d,), dtype)
    P = jnp.einsum("sad,td->sat", Phi, mu)
    P = P / P.sum(axis=2, keepdims=True)  # exact normalisation against round-off
    mdp = TabularMDP(P, Phi @ theta, jnp.asarray(gamma, dtype), jnp.full(S, 1.0 / S, dtype))
    return LowRankMDP(mdp, Phi, mu, theta)


def constrained(key, mdp: TabularMDP, budget_fraction: float = 0.5, correlation: float = 0.5) -> ConstrainedMDP:
    """A one-constraint CMDP on ``mdp`` whose budget binds.

    Costs ``c = correlation * r + (1 - correlation) * U[0, 1]`` (correlated with rewards so that the
    reward-optimal policy is expensive). With ``C_min`` the least achievable cost and ``C_r`` the cost
    of the reward-optimal policy, the budget is ``C_min + budget_fraction (C_r - C_min)``: strictly
    between them the constraint is active and the optimum is (generically) randomised in one state.
    """
    if not 0.0 < budget_fraction < 1.0:
        raise ValueError(f"budget_fraction must lie in (0, 1); got {budget_fraction}")
    if not 0.0 <= correlation <= 1.0:
        raise ValueError(f"correlation must lie in [0, 1]; got {correlation}")
    return _constrained(key, mdp, budget_fraction, correlation)


@jax.jit
def _constrained(key, mdp, budget_fraction, correlation):
    P, r, g, nu = mdp.P, mdp.r, mdp.gamma, mdp.nu
    c = correlation * r + (1 - correlation) * jax.random.uniform(key, r.shape, r.dtype)
    _, pi_r, _ = _policy_iteration(P, r, g)
    _, pi_c, _ = _policy_iteration(P, -c, g)
    c_r = nu @ _evaluate(P, c, g, pi_r)
    c_min = nu @ _evaluate(P, c, g, pi_c)
    budget = c_min + budget_fraction * (c_r - c_min)
    return ConstrainedMDP(mdp, c[None], budget[None])
