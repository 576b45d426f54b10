"""Batched solves where finished LPs stop paying for the slowest one: host-side compaction.

Design (the choice the LP-engine issue asks to document). Under ``jax.vmap`` a ``lax.while_loop`` runs
until *every* lane is done; finished lanes are frozen by a select but still pay for every batched
matrix product, so a batch costs ``B x max_i(iterations_i)``. :func:`solve` inside ``vmap`` keeps that
behaviour (it is pure and composes with any JAX program). :func:`solve_batch` is the throughput path:

1. one jitted, vmapped call scales and initialises every LP and runs ``rounds`` evaluation rounds
   (``rounds * eval_every`` PDHG iterations) with per-problem masks;
2. the host reads the status vector (``B`` int32s) and gathers the still-running problems, with their
   full solver state (iterate, averages, restart point, step size, primal weight), into the smallest
   power-of-two *bucket* that holds them (padding with copies of a running problem);
3. it continues on that bucket, scatters the results back, and repeats until none is running.

The cost becomes about ``sum_i(iterations_i)`` plus one host round trip per ``rounds`` block, and
compilation happens once per bucket size (``log2 B`` shapes at most, cached by ``jit``). The
alternatives considered: per-problem masks alone (no saving: lanes still execute), and a static
chunked ``lax.map`` over sub-batches (saves only the within-chunk spread and keeps everything in one
program; kept possible by calling :func:`solve` under ``vmap`` on chunks). Compaction needs a host
round trip, so it is not usable inside ``jit``; ``solve_batch`` raises if given tracers.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxor.lp._pdhg import PDHG, _advance, _finish, _start, check_args, rescale
from jaxor.lp._problem import LP
from jaxor.lp._solution import RUNNING, Solution

__all__ = ["solve_batch"]


@functools.partial(jax.jit, static_argnames=("opts",))
def _start_batch(lps, opts, warm):
    return jax.vmap(lambda lp, warm: _start(lp, opts, warm)[1])(lps, warm)


# The scaled problem is recomputed in every call rather than carried: a few passes over A, and XLA
# then picks the scaled matrix's memory layout for the products (a jit argument's layout is fixed,
# which measured about 4x slower per iteration on CPU).
@functools.partial(jax.jit, static_argnames=("opts", "rounds"))
def _advance_batch(lps, opts, mi, st, rounds, first):
    def one(lp, mi, st):
        return _advance(lp, rescale(lp, opts), opts, mi, st, rounds, first)

    return jax.vmap(one)(lps, mi, st)


@functools.partial(jax.jit, static_argnames=("opts",))
def _finish_batch(lps, opts, st):
    return jax.vmap(lambda lp, st: _finish(lp, rescale(lp, opts), opts, st))(lps, st)


@jax.jit
def _gather(tree, idx):
    return jax.tree.map(lambda v: v[idx], tree)


@jax.jit
def _scatter(tree, part, idx):
    return jax.tree.map(lambda v, p: v.at[idx].set(p), tree, part)


def _bucket(k: int, batch: int, min_bucket: int) -> int:
    b = max(min_bucket, 1 << max(k - 1, 0).bit_length())
    return min(b, batch)


def solve_batch(lps: LP, options: PDHG | None = None, *, max_iters=None, warm_start=None, rounds: int = 2,
                min_bucket: int = 8) -> Solution:
    """Solve a batch of LPs of one shape (leading axis) with host-side compaction of finished ones.

    Same results as ``jax.vmap(solve)`` (the same iterates, problem by problem), usually faster
    when iteration counts differ across the batch; see the module docstring for the design.

    Args:
        lps: a batched :class:`jaxor.lp.LP` (e.g. from :func:`jaxor.lp.stack`, or an LP built under
            ``vmap``), batch ``B`` on axis 0.
        options: :class:`jaxor.lp.PDHG`.
        max_iters: int or ``[B]`` ints.
        warm_start: a batched :class:`jaxor.lp.WarmStart` (``sol.warm_start`` of an earlier batch).
        rounds: evaluation rounds (of ``options.eval_every`` iterations) between compactions.
        min_bucket: smallest batch a compacted call uses.

    Returns:
        batched :class:`jaxor.lp.Solution`.

    Raises:
        ValueError: for a non-LP, an unbatched LP, non-positive ``rounds`` or traced input.
    """
    if not isinstance(lps, LP):
        raise ValueError(f"lps must be a batched jaxor.lp.LP; got {type(lps).__name__}")
    opts, _ = check_args(lps, options, max_iters)
    if lps.c.ndim != 2:
        raise ValueError(f"lps must carry a leading batch axis (c of shape [B, n]); got c.shape={lps.c.shape}")
    if any(isinstance(v, jax.core.Tracer) for v in jax.tree.leaves(lps)):
        raise ValueError("lps: solve_batch compacts on the host and cannot run under jit/vmap; "
                         "use jax.vmap(jaxor.lp.solve) there")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1; got {rounds}")
    B = lps.c.shape[0]
    mi = jnp.broadcast_to(jnp.asarray(opts.max_iters if max_iters is None else max_iters, jnp.int32), (B,))
    st = _start_batch(lps, opts, warm_start)
    st = _advance_batch(lps, opts, mi, st, rounds, jnp.asarray(True))
    while True:
        running = np.flatnonzero(np.asarray(st.status) == RUNNING)
        if running.size == 0:
            break
        size = _bucket(running.size, B, min_bucket)
        idx = np.concatenate([running, np.full(size - running.size, running[0])]).astype(np.int32)
        sub = _gather((lps, mi, st), jnp.asarray(idx))
        new = _advance_batch(sub[0], opts, sub[1], sub[2], rounds, jnp.asarray(False))
        k = running.size
        st = _scatter(st, jax.tree.map(lambda v, k=k: v[:k], new), jnp.asarray(idx[:k]))
    return _finish_batch(lps, opts, st)
