"""Benchmark: jitted, vmapped online-LP rollouts against NumPy and against HiGHS-per-step re-solving.

1. First-order (Li-Sun-Ye) rollouts, 1000 replications x n = 1e4 x m = 10 on the acceptance family,
   one jitted ``jaxor.olp.batch_rollout`` call (orders drawn inside the scan, 100 periods per
   vectorised draw; JAX's threefry, XLA's RngBitGenerator, and the opt-in Philox-4x32-10 simulation
   generator) against NumPy looping over t, vectorised over replications, with the orders
   pregenerated in chunks of 100 periods by ``default_rng`` (PCG64), the generation timed inside.
2. Re-solving at every step (Li-Ye action-history-dependent, Xu et al. single-sample): the scan with
   the warm-started exact dual simplex against a Python loop that calls HiGHS once per step
   (``jaxor.olp.naive.resolve_rollout``), at a smaller size.
"""

from __future__ import annotations

import jax
import numpy as np

import jaxor
from jaxor import benchmarking, olp
from jaxor.olp import naive


def _numpy_first_order(reps: int, n: int, m: int, d: float, seed: int, chunk: int = 100) -> np.ndarray:
    rng = np.random.default_rng(seed)
    eta = 1.0 / np.sqrt(n)
    b = np.full((reps, m), n * d, dtype=np.float32)
    p = np.zeros((reps, m), dtype=np.float32)
    reward = np.zeros(reps, dtype=np.float32)
    dd = np.float32(d)
    for t0 in range(0, n, chunk):
        k = min(chunk, n - t0)
        A = rng.random((k, reps, m), dtype=np.float32) * 2.0
        R = rng.random((k, reps), dtype=np.float32)
        for i in range(k):
            a, r = A[i], R[i]
            x = (r > np.einsum("rm,rm->r", a, p)) & np.all(a <= b, axis=1)
            ax = a * x[:, None]
            b -= ax
            reward += r * x
            p = np.maximum(p + eta * (ax - dd), 0.0)
    return reward


def run(quick: bool = False) -> list[benchmarking.Ratio]:
    reps, n, m = (100, 1000, 10) if quick else (1000, 10_000, 10)
    gen = olp.Acceptance(m=m)
    policy = olp.FirstOrder()
    t_np = benchmarking.median_time(lambda: _numpy_first_order(reps, n, m, 0.25, 0))
    steps = reps * n
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
            "olp", f"first-order {reps} reps x n={n} x m={m} (float32, {label}, chunk={olp.DEFAULT_CHUNK})",
            t_ours, t_np, "NumPy loop over t", "s", t_np / t_ours, target=5.0,
            note=f"per step: jaxor {1e6 * t_ours / n:.1f} us ({1e6 * t_ours / steps:.4f} us per rep-step), "
                 f"NumPy {1e6 * t_np / n:.1f} us ({1e6 * t_np / steps:.4f} us per rep-step)"))

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
