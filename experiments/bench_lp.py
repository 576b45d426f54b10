"""Batched LP throughput: jaxor's restarted PDHG vs MPAX r2HPDHG (vmapped) vs a HiGHS loop.

Problems: random packing LPs ``max c.x s.t. A x <= b, 0 <= x <= 1`` with ``A`` 20 x 200, entries
``U(0, 1)``, ``c ~ U(0, 1)``, ``b = (row sums of A) * U(0.1, 0.3)``; every LP in a batch has its own
``A``, ``b`` and ``c``. float32, ``eps_abs = eps_rel = 1e-4`` with the l_inf termination norm for
both first-order solvers (MPAX's default norm, so both stop on the same test). LPs/s is the batch
size over the median of 3 timed calls after a compiling warm-up. Objectives are checked against
HiGHS (relative error reported in the notes). Warm start: after a 1e-3 relative perturbation of ``c``
and ``b``, mean (and batch-maximum) iterations warm vs cold, for jaxor and for MPAX.
"""

from __future__ import annotations

import functools

import numpy as np

from jaxor import benchmarking
from jaxor.benchmarking import Ratio

M, N, EPS = 20, 200, 1e-4


def packing_batch(batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    A = rng.uniform(0.0, 1.0, size=(batch, M, N)).astype(np.float32)
    c = rng.uniform(0.0, 1.0, size=(batch, N)).astype(np.float32)
    b = (A.sum(axis=2) * rng.uniform(0.1, 0.3, size=(batch, M))).astype(np.float32)
    return A, c, b


def _jaxor_fns():
    import jax

    from jaxor.lp import LP, PDHG, solve, solve_batch

    opts = PDHG(eps_abs=EPS, eps_rel=EPS, norm="linf")

    def build(A, c, b):
        return LP(-c, A, None, b, 0.0, 1.0)

    cold = jax.jit(jax.vmap(lambda A, c, b: solve(build(A, c, b), opts)))
    warm = jax.jit(jax.vmap(lambda A, c, b, w: solve(build(A, c, b), opts, warm_start=w)))
    build_b = jax.jit(jax.vmap(build))

    def compact(A, c, b):
        return solve_batch(build_b(A, c, b), opts)

    return cold, warm, compact


def _mpax_fns():
    import jax
    import jax.numpy as jnp
    import mpax

    def make(warm_start):
        solver = mpax.r2HPDHG(eps_abs=EPS, eps_rel=EPS, verbose=False, warm_start=warm_start)

        def one(A, c, b, x0=None, y0=None):
            lp = mpax.create_lp(-c, jnp.zeros((0, N), A.dtype), jnp.zeros((0,), A.dtype), -A, -b,
                                jnp.zeros(N, A.dtype), jnp.ones(N, A.dtype), use_sparse_matrix=False)
            return solver.optimize(lp, initial_primal_solution=x0, initial_dual_solution=y0)

        return one

    cold = jax.jit(jax.vmap(make(False)))
    warm = jax.jit(jax.vmap(make(True)))
    return cold, warm


def _highs_loop(A, c, b):
    from jaxor.lp import highs

    return np.array([highs.solve(-c[i], A[i], None, b[i], 0.0, 1.0).objective for i in range(A.shape[0])])


def _rel(obj, ref):
    return float(np.max(np.abs(np.asarray(obj, np.float64) - ref) / np.maximum(1.0, np.abs(ref))))


def run(quick: bool = False) -> list[Ratio]:
    import jax.numpy as jnp

    batches = (1, 16, 64) if quick else (1, 16, 64, 256, 1024)
    ours, ours_warm, ours_compact = _jaxor_fns()
    theirs, theirs_warm = _mpax_fns()
    rows: list[Ratio] = []
    for B in batches:
        A, c, b = packing_batch(B, seed=B)
        Aj, cj, bj = jnp.asarray(A), jnp.asarray(c), jnp.asarray(b)
        t_ours = benchmarking.median_time(functools.partial(ours, Aj, cj, bj))
        t_comp = benchmarking.median_time(functools.partial(ours_compact, Aj, cj, bj))
        t_mpax = benchmarking.median_time(functools.partial(theirs, Aj, cj, bj))
        t_highs = benchmarking.median_time(functools.partial(_highs_loop, A, c, b))
        ref = _highs_loop(A, c, b)
        so, sc, sm = ours(Aj, cj, bj), ours_compact(Aj, cj, bj), theirs(Aj, cj, bj)
        note = (f"max rel obj err vs HiGHS: jaxor {_rel(so.objective, ref):.1e}, compacted "
                f"{_rel(sc.objective, ref):.1e}, MPAX {_rel(sm.primal_objective, ref):.1e}; iterations mean/max "
                f"jaxor {np.mean(so.iterations):.0f}/{np.max(so.iterations)}, "
                f"MPAX {np.mean(sm.iteration_count):.0f}/{np.max(sm.iteration_count)}")
        lps = {"vmap": B / t_ours, "compact": B / t_comp, "mpax": B / t_mpax, "highs": B / t_highs}
        rows.append(Ratio("lp", f"batch {B}: jaxor vmap vs MPAX", lps["vmap"], lps["mpax"], "MPAX r2HPDHG", "LPs/s",
                          lps["vmap"] / lps["mpax"], 1.2 if B == 256 else None, note))
        rows.append(Ratio("lp", f"batch {B}: jaxor solve_batch vs MPAX", lps["compact"], lps["mpax"],
                          "MPAX r2HPDHG", "LPs/s", lps["compact"] / lps["mpax"], None,
                          "host-side compaction of finished LPs"))
        best = max(lps["vmap"], lps["compact"])
        rows.append(Ratio("lp", f"batch {B}: jaxor (best) vs HiGHS loop", best, lps["highs"], "HiGHS loop", "LPs/s",
                          best / lps["highs"], None))

    # Warm start after a 1e-3 relative perturbation of c and b.
    B = 64 if quick else 256
    A, c, b = packing_batch(B, seed=7)
    rng = np.random.default_rng(8)
    c2 = (c * (1 + 1e-3 * rng.normal(size=c.shape))).astype(np.float32)
    b2 = (b * (1 + 1e-3 * rng.normal(size=b.shape))).astype(np.float32)
    Aj = jnp.asarray(A)
    base = ours(Aj, jnp.asarray(c), jnp.asarray(b))
    cold = ours(Aj, jnp.asarray(c2), jnp.asarray(b2))
    warm = ours_warm(Aj, jnp.asarray(c2), jnp.asarray(b2), base.warm_start)
    ci, wi = np.asarray(cold.iterations, float), np.asarray(warm.iterations, float)
    mb = theirs(Aj, jnp.asarray(c), jnp.asarray(b))
    mc = theirs(Aj, jnp.asarray(c2), jnp.asarray(b2))
    mw = theirs_warm(Aj, jnp.asarray(c2), jnp.asarray(b2), mb.primal_solution, mb.dual_solution)
    mci, mwi = np.asarray(mc.iteration_count, float), np.asarray(mw.iteration_count, float)
    rows.append(Ratio("lp", f"warm start, batch {B}: cold/warm mean iterations (jaxor)", ci.mean() / wi.mean(),
                      mci.mean() / max(mwi.mean(), 1.0), "MPAX cold/warm", "x fewer", ci.mean() / wi.mean(), 2.0,
                      f"jaxor mean {ci.mean():.0f} -> {wi.mean():.0f}, batch max {ci.max():.0f} -> {wi.max():.0f}; "
                      f"MPAX mean {mci.mean():.0f} -> {mwi.mean():.0f}, max {mci.max():.0f} -> {mwi.max():.0f}; "
                      f"warm objective max rel diff to cold {_rel(warm.objective, np.asarray(cold.objective)):.1e}"))
    return rows


if __name__ == "__main__":
    benchmarking.main(run)
