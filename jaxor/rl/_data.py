"""Features, a generative model, estimators and least-squares value iteration.

Jiang, Zong, Ye, arXiv 2505.12037: the data-driven LP is built from ``N`` transitions drawn from a
generative model. Features follow the linear-MDP model ``P(s'|s,a) = phi(s,a)^T mu(s')`` (Jin, Yang,
Wang, Jordan, "Provably efficient RL with linear function approximation", COLT 2020); one-hot
features are the tabular case. LSVI / fitted Q iteration: Munos & Szepesvari, JMLR 9, 2008.

With known rewards, every estimator here depends on the data only through the transition counts
``n[s, a, s']`` (sufficient statistics), so the samplers can return counts directly: drawing the
counts of a growing stream stage by stage (:func:`sample_count_stream`) has exactly the law of
counting a stream of individual samples (:func:`sample_transitions`), at a cost independent of ``N``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import _linalg
from jaxor.rl._envs import default_dtype

__all__ = ["one_hot_features", "random_features", "Transitions", "sample_transitions", "transition_counts",
           "sample_counts", "sample_count_stream", "estimate_tabular", "estimate_linear_mdp",
           "project_simplex", "lsvi", "ALLOCATIONS"]

ALLOCATIONS = ("round_robin", "uniform")


def one_hot_features(num_states: int, num_actions: int, dtype=None) -> jax.Array:
    """Tabular features ``phi(s, a) = e_{(s, a)}``, ``[S, A, S*A]``."""
    dtype = dtype or default_dtype()
    return jnp.eye(num_states * num_actions, dtype=dtype).reshape(num_states, num_actions, -1)


def random_features(key, num_states: int, num_actions: int, dim: int, dtype=None) -> jax.Array:
    """Random features ``[S, A, d]``: a constant column plus ``d - 1`` Gaussian columns ``/ sqrt(d)``.

    The constant column keeps the value LP feasible and lets least squares fit the mean.
    """
    if dim < 1:
        raise ValueError(f"dim must be >= 1; got {dim}")
    dtype = dtype or default_dtype()
    g = jax.random.normal(key, (num_states, num_actions, dim - 1), dtype) / np.sqrt(dim)
    return jnp.concatenate([jnp.ones((num_states, num_actions, 1), dtype), g], axis=2)


class Transitions(NamedTuple):
    """``N`` transitions from the generative model: int32 arrays ``s, a, s_next`` of shape ``[N]``."""

    s: jax.Array
    a: jax.Array
    s_next: jax.Array


def _check_alloc(allocation: str) -> None:
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}; got {allocation!r}")


def _round_robin_pairs(num_pairs: int, sched) -> np.ndarray:
    """Samples per pair added at each checkpoint when sample ``i`` queries pair ``i mod SA``, ``[K, SA]``."""
    idx = np.arange(num_pairs)
    upto = np.stack([n // num_pairs + (idx < n % num_pairs) for n in [0, *sched]])
    return np.diff(upto, axis=0)


def sample_transitions(key, P, n: int, allocation: str = "round_robin") -> Transitions:
    """Draw ``n`` transitions ``(s, a, s')`` from the generative model of kernel ``P [S, A, S]``.

    Args:
        key: PRNG key.
        P: ``[S, A, S]`` kernel.
        n: number of samples (static).
        allocation: ``"round_robin"`` (sample ``i`` queries pair ``i mod S*A``, row-major) or
            ``"uniform"`` (pairs drawn uniformly at random).

    Returns:
        :class:`Transitions`.
    """
    _check_alloc(allocation)
    S, A, _ = P.shape
    k1, k2 = jax.random.split(key)
    if allocation == "round_robin":
        pair = jnp.arange(n) % (S * A)
    else:
        pair = jax.random.randint(k1, (n,), 0, S * A)
    s, a = jnp.divmod(pair, A)
    s_next = jax.random.categorical(k2, jnp.log(P[s, a]), axis=-1)
    return Transitions(s.astype(jnp.int32), a.astype(jnp.int32), s_next.astype(jnp.int32))


@functools.partial(jax.jit, static_argnames=("num_states", "num_actions", "dtype"))
def transition_counts(data: Transitions, num_states: int, num_actions: int, dtype=None) -> jax.Array:
    """Counts ``n[s, a, s']`` of a batch of transitions, ``[S, A, S]``."""
    dtype = dtype or default_dtype()
    flat = (data.s * num_actions + data.a) * num_states + data.s_next
    return jnp.zeros(num_states * num_actions * num_states, dtype).at[flat].add(1.0).reshape(
        num_states, num_actions, num_states)


def sample_counts(key, P, n: int, allocation: str = "round_robin") -> jax.Array:
    """Counts ``[S, A, S]`` of ``n`` generative-model samples (same law as counting
    :func:`sample_transitions`)."""
    return sample_count_stream(key, P, (n,), allocation)[0]


def sample_count_stream(key, P, schedule, allocation: str = "round_robin") -> jax.Array:
    """Cumulative counts of ONE growing sample stream at the checkpoints ``schedule``.

    Args:
        key: PRNG key of the stream.
        P: ``[S, A, S]`` kernel.
        schedule: increasing static ints ``N_0 < N_1 < ... < N_{K-1}``.
        allocation: see :func:`sample_transitions`.

    Returns:
        ``[K, S, A, S]``: ``out[k]`` counts the first ``N_k`` samples of the stream (nested data).
    """
    _check_alloc(allocation)
    sched = tuple(int(x) for x in schedule)
    if not sched or sched[0] < 1 or any(b <= a for a, b in zip(sched, sched[1:], strict=False)):
        raise ValueError(f"schedule must be increasing positive ints; got {schedule}")
    return _count_stream(key, jnp.asarray(P), sched, allocation)


@functools.partial(jax.jit, static_argnames=("sched", "allocation"))
def _count_stream(key, P, sched, allocation):
    S, A, _ = P.shape
    inc_n = np.diff(np.asarray([0, *sched]))
    rr = _round_robin_pairs(S * A, sched).astype(np.float64)

    def stage(total, xs):
        k, n_inc, rr_k = xs
        k1, k2 = jax.random.split(k)
        if allocation == "round_robin":
            npair = rr_k.astype(P.dtype)
        else:
            npair = jax.random.multinomial(k1, n_inc, jnp.full(S * A, 1.0 / (S * A), P.dtype)).astype(P.dtype)
        total = total + jax.random.multinomial(k2, npair.reshape(S, A), P).astype(P.dtype)
        return total, total

    xs = (jax.random.split(key, len(sched)), jnp.asarray(inc_n, P.dtype), jnp.asarray(rr, P.dtype))
    _, out = jax.lax.scan(stage, jnp.zeros((S, A, S), P.dtype), xs)
    return out


@jax.jit
def project_simplex(v) -> jax.Array:
    """Euclidean projection of each row (last axis) of ``v`` onto the probability simplex."""
    v = jnp.asarray(v)
    n = v.shape[-1]
    u = -jnp.sort(-v, axis=-1)
    css = jnp.cumsum(u, axis=-1) - 1.0
    j = jnp.arange(1, n + 1, dtype=v.dtype)
    cond = u - css / j > 0
    rho = jnp.sum(cond, axis=-1, keepdims=True)
    theta = jnp.take_along_axis(css, rho - 1, axis=-1) / rho.astype(v.dtype)
    return jnp.maximum(v - theta, 0.0)


@jax.jit
def estimate_tabular(counts) -> jax.Array:
    """Empirical kernel ``P_hat = n(s,a,s') / n(s,a)``; uniform for pairs never sampled. ``[S, A, S]``."""
    n = counts.sum(axis=2, keepdims=True)
    S = counts.shape[2]
    return jnp.where(n > 0, counts / jnp.where(n > 0, n, 1.0), 1.0 / S)


@functools.partial(jax.jit, static_argnames=("project",))
def estimate_linear_mdp(counts, Phi, ridge: float = 1e-8, project: bool = True):
    """Least-squares estimate of a linear MDP ``P(s'|s,a) = phi(s,a)^T mu(s')`` from counts.

    .. math:: \\hat\\mu^\\top = \\Big(\\sum_i \\phi_i\\phi_i^\\top + \\rho I\\Big)^{-1} \\sum_i \\phi_i
              e_{s'_i}^\\top,\\qquad \\hat P(s,a) = \\Pi_\\Delta\\big(\\phi(s,a)^\\top\\hat\\mu\\big).

    Args:
        counts: ``[S, A, S]`` transition counts.
        Phi: ``[S, A, d]`` features.
        ridge: ``rho``, scaled by the sample count (so the estimate is scale-free).
        project: project each row onto the simplex (jaxor's choice: the data-driven LP then is an
            MDP LP with a valid kernel; the paper's exact handling is not known to us).
            With one-hot ``Phi`` the estimate equals :func:`estimate_tabular` on sampled pairs.

    Returns:
        ``(P_hat [S, A, S], mu_hat [S, d])``.
    """
    S, A, d = Phi.shape
    if counts.shape != (S, A, S):
        raise ValueError(f"counts must have shape [S, A, S] = {(S, A, S)}; got {counts.shape}")
    n_sa = counts.sum(axis=2)
    N = jnp.maximum(n_sa.sum(), 1.0)
    G = jnp.einsum("sa,sad,sae->de", n_sa, Phi, Phi) + ridge * N * jnp.eye(d, dtype=Phi.dtype)
    B = jnp.einsum("sad,sat->dt", Phi, counts)  # [d, S]
    mu_hat = _linalg.solve(G, B).T  # [S, d]
    P_hat = jnp.einsum("sad,td->sat", Phi, mu_hat)
    if project:
        P_hat = project_simplex(P_hat)
    return P_hat, mu_hat


@functools.partial(jax.jit, static_argnames=("iters",))
def lsvi(counts, Phi, r, gamma, *, iters: int = 300, ridge: float = 1e-8):
    """Least-squares value iteration / fitted Q iteration with linear ``Q = Phi theta``.

    Each iteration regresses the targets ``r(s_i, a_i) + gamma max_a' phi(s'_i, a')^T theta_t`` on
    ``phi(s_i, a_i)`` over all samples (ridge ``rho N``); the sums depend only on the counts.

    Returns:
        ``(theta [d], pi [S, A] greedy one-hot, Q [S, A])``.
    """
    S, A, d = Phi.shape
    n_sa = counts.sum(axis=2)
    N = jnp.maximum(n_sa.sum(), 1.0)
    G = jnp.einsum("sa,sad,sae->de", n_sa, Phi, Phi) + ridge * N * jnp.eye(d, dtype=Phi.dtype)
    Gi_Phi = _linalg.solve(G, Phi.reshape(S * A, d).T)  # [d, S*A]
    w_r = n_sa * r

    def body(_, theta):
        V = (Phi @ theta).max(axis=1)  # [S]
        target_sum = w_r + gamma * counts @ V  # [S, A]: sum over samples at (s,a) of the targets
        return Gi_Phi @ target_sum.reshape(-1)

    theta = jax.lax.fori_loop(0, iters, body, jnp.zeros(d, Phi.dtype))
    Q = Phi @ theta
    return theta, jax.nn.one_hot(jnp.argmax(Q, axis=1), A, dtype=Phi.dtype), Q
