"""Benchmark: jitted, vmapped online-LP rollouts against NumPy and against HiGHS-per-step re-solving.

1. End to end: first-order (Li-Sun-Ye) rollouts, 1000 replications x n = 1e4 x m = 10 on the
   acceptance family, one jitted ``jaxor.olp.batch_rollout`` call (orders drawn inside the scan,
   100 periods per vectorised draw; JAX's threefry, XLA's RngBitGenerator, and the opt-in
   Philox-4x32-10 simulation generator) against NumPy looping over t, vectorised over replications,
   with the orders pregenerated in chunks of 100 periods by ``default_rng`` (PCG64) into reused
   buffers, the generation timed inside. The NumPy peer is timed in two layouts: replications first
   (``a_t [R, m]``, the natural transcription) and replications last (``a_t [m, R]``, several times
   faster in NumPy because every reduction runs over the short axis ``m`` with ``R`` contiguous);
   the ratio is taken against the faster one.
2. Policy loop only: the same pregenerated orders ``r [n, R]``, ``a [n, m, R]`` handed to
   ``jaxor.olp.batch_replay(..., time_major=True)`` (one jitted call) and to the NumPy loop; the
   rewards of both are compared.
3. Re-solving at every step (Li-Ye action-history-dependent, Xu et al. single-sample): the scan with
   the warm-started exact dual simplex against a Python loop that calls HiGHS once per step
   (``jaxor.olp.naive.resolve_rollout``), at a smaller size.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxor
from jaxor import benchmarking, olp
from jaxor.olp import naive


def _numpy_loop(R, A, b, p, reward, eta, d, batch_last):
    """First-order steps over pregenerated orders ``R [k, R]`` and ``A [k, R, m]`` (``[k, m, R]`` when
    ``batch_last``); updates ``b``, ``p``, ``reward`` in place."""
    axis = 0 if batch_last else 1
    for i in range(R.shape[0]):
        a, r = A[i], R[i]
        dot = np.einsum("mr,mr->r", a, p) if batch_last else np.einsum("rm,rm->r", a, p)
        x = (r > dot) & np.all(a <= b, axis=axis)
        ax = a * (x if batch_last else x[:, None])
        b -= ax
        reward += r * x
        p += eta * (ax - d)
        np.maximum(p, 0.0, out=p)


def _numpy_first_order(reps: int, n: int, m: int, d: float, seed: int, batch_last: bool,
                       chunk: int = 100) -> np.ndarray:
    """End to end: PCG64 draws in chunks of ``chunk`` periods (into reused buffers), then the loop."""
    rng = np.random.default_rng(seed)
    eta, dd = np.float32(1.0 / np.sqrt(n)), np.float32(d)
    shape = (m, reps) if batch_last else (reps, m)
    b = np.full(shape, n * d, dtype=np.float32)
    p = np.zeros(shape, dtype=np.float32)
    reward = np.zeros(reps, dtype=np.float32)
    A = np.empty((chunk, *shape), dtype=np.float32)
    R = np.empty((chunk, reps), dtype=np.float32)
    for t0 in range(0, n, chunk):
        k = min(chunk, n - t0)
        rng.random(out=A, dtype=np.float32)
        A *= 2.0
        rng.random(out=R, dtype=np.float32)
        _numpy_loop(R[:k], A[:k], b, p, reward, eta, dd, batch_last)
    return reward


def _numpy_replay(R, A, d):
    """The policy loop alone on given ``R [n, R]``, ``A [n, m, R]``."""
    n, m, reps = A.shape
    b = np.full((m, reps), n * d, dtype=np.float32)
    p = np.zeros((m, reps), dtype=np.float32)
    reward = np.zeros(reps, dtype=np.float32)
    _numpy_loop(R, A, b, p, reward, np.float32(1.0 / np.sqrt(n)), np.float32(d), True)
    return reward


def _replay_row(policy, reps: int, n: int, m: int) -> benchmarking.Ratio:
    """Policy loop only: identical inputs on both sides, drawn once by NumPy in the layout both read fastest."""
    rng = np.random.default_rng(1)
    A = rng.random((n, m, reps), dtype=np.float32)
    A *= 2.0
    R = rng.random((n, reps), dtype=np.float32)
    Rj, Aj, bj = jnp.asarray(R), jnp.asarray(A), jnp.full((m,), n * 0.25, jnp.float32)
    t_rep = benchmarking.median_time(lambda: olp.batch_replay(policy, Rj, Aj, bj, time_major=True).reward)
    t_nrep = benchmarking.median_time(lambda: _numpy_replay(R, A, 0.25))
    ours, theirs = np.asarray(olp.batch_replay(policy, Rj, Aj, bj, time_major=True).reward), _numpy_replay(R, A, 0.25)
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1.0)
    return benchmarking.Ratio(
        "olp", f"first-order policy loop only, same pregenerated orders, {reps} reps x n={n} x m={m} "
               "(float32, batch_replay time_major)",
        t_rep, t_nrep, "NumPy loop over t, replications last", "s", t_nrep / t_rep, target=5.0,
        note=f"per step: jaxor {1e6 * t_rep / n:.1f} us, NumPy {1e6 * t_nrep / n:.1f} us; rewards agree to "
             f"max relative difference {rel.max():.1e} ({int((rel > 1e-4).sum())} of {reps} replications differ by "
             "> 1e-4: float32 sums in another order flip a near-tie decision)")


def run(quick: bool = False) -> list[benchmarking.Ratio]:
    reps, n, m = (100, 1000, 10) if quick else (1000, 10_000, 10)
    gen = olp.Acceptance(m=m)
    policy = olp.FirstOrder()
    t_first = benchmarking.median_time(lambda: _numpy_first_order(reps, n, m, 0.25, 0, False))
    t_last = benchmarking.median_time(lambda: _numpy_first_order(reps, n, m, 0.25, 0, True))
    t_np = min(t_first, t_last)
    steps = reps * n
    np_note = (f"NumPy {1e6 * t_np / n:.1f} us per step (replications last {1e6 * t_last / n:.1f} us, "
               f"replications first {1e6 * t_first / n:.1f} us, PCG64 chunk draws included)")
    rows = []
    # The generator is the caller's choice: JAX's PRNG with threefry2x32 keys (the default) or XLA's
    # RngBitGenerator (unsafe_rbg keys), and the opt-in Philox-4x32-10 simulation generator
    # (rng="philox"); orders drawn olp.DEFAULT_CHUNK periods per vectorised call.
    for impl, rng in (("threefry2x32", "threefry"), ("threefry2x32", "philox"), ("unsafe_rbg", "threefry")):
        keys = jax.random.split(jax.random.key(0, impl=impl), reps)
        t_ours = benchmarking.median_time(
            lambda keys=keys, rng=rng: olp.batch_rollout(policy, gen, keys, n, rng=rng).reward)
        label = "Philox-4x32-10 (rng='philox')" if rng == "philox" else f"{impl} keys"
        rows.append(benchmarking.Ratio(
            "olp", f"first-order end to end, {reps} reps x n={n} x m={m} (float32, {label}, chunk={olp.DEFAULT_CHUNK})",
            t_ours, t_np, "NumPy loop over t, faster layout", "s", t_np / t_ours, target=5.0,
            note=f"per step: jaxor {1e6 * t_ours / n:.1f} us ({1e6 * t_ours / steps:.4f} us per rep-step); {np_note}"))

    rows.append(_replay_row(policy, reps, n, m))  # ~0.45 GB of orders, freed on return

    n_rs, m_rs, reps_rs = (200, 4, 2) if quick else (1000, 4, 4)
    with jaxor.float64():
        gen_rs = olp.Acceptance(m=m_rs)
        keys_rs = jax.random.split(jax.random.PRNGKey(1), reps_rs)
        data = []
        for k in keys_rs:
            ko, kp = olp.split_key(k)
            data.append((*(np.asarray(v) for v in gen_rs.draw(ko, n_rs)),
                         tuple(np.asarray(v) for v in gen_rs.draw(kp, n_rs))))
        b = np.asarray(gen_rs.budget(n_rs))
        for name, pol, kind in (("Li-Ye every step (5)", olp.LiYe(), "li_ye"),
                                ("single-sample every step (8)", olp.SingleSample(), "single_sample")):
            t_j = benchmarking.median_time(lambda pol=pol: olp.batch_rollout(pol, gen_rs, keys_rs, n_rs).reward)
            t_h = benchmarking.median_time(
                lambda kind=kind: [naive.resolve_rollout(r, a, b, kind=kind, samples=s) for r, a, s in data],
                warmup=0)
            rows.append(benchmarking.Ratio(
                "olp", f"{name}: {reps_rs} reps x n={n_rs} x m={m_rs} (float64)", t_j, t_h, "HiGHS per step (Python)",
                "s", t_h / t_j, note=f"{1e6 * t_j / (reps_rs * n_rs):.0f} us vs {1e6 * t_h / (reps_rs * n_rs):.0f} us "
                                     "per re-solve"))
    return rows


def _print_notes(rows):  # the table has no notes column; print them below it
    for r in rows:
        print(f"- {r.case}: {r.note}")


if __name__ == "__main__":
    benchmarking.main(lambda quick=False: (lambda rows: (_print_notes(rows), rows)[1])(run(quick)))
