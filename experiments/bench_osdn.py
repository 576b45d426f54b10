"""Throughput of OSDN: recurrent scan vs chunkwise (XLA) vs Pallas kernels (arXiv 2605.13473).

Tokens per second, forward and forward+backward, at B = 8, H = 4, d_k = d_v = 64, T in {512, 2048,
8192}. The ratio rows compare the chunkwise path (and Pallas) with the recurrent scan in the same
process; the issue's target is chunk >= 3x recurrent training throughput at T = 2048 on CPU.
On CPU the Pallas kernels run in interpret mode (a correctness path, not a fast one), so they are
timed only at T = 512. ``--gpu`` (only on a machine with an NVIDIA GPU) times the compiled Triton
kernels and reports the fraction of the device's float32 peak; this has not been measured yet
(not measured on GPU). Memory: the recurrent scan's backward keeps one ``[B, H, d, d]`` state per
token, so the T = 8192 training row peaks at about 14.5 GB of host memory (measured RSS).
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp

from jaxor.benchmarking import Ratio, format_table, median_time
from jaxor.osdn import chunk_osdn, recurrent_osdn

B, H, D = 8, 4, 64
# float32 peak (non-tensor-core) FLOP/s by device kind, for the roofline fraction on GPUs
PEAK_FP32 = {"H100": 67e12, "H200": 67e12, "A100": 19.5e12, "L40S": 91.6e12}


def _inputs(T, key=jax.random.PRNGKey(0)):
    ks = jax.random.split(key, 4)
    n = lambda x: x / jnp.linalg.norm(x, axis=-1, keepdims=True)
    q = n(jax.random.normal(ks[0], (B, T, H, D)))
    k = n(jax.random.normal(ks[1], (B, T, H, D)))
    v = jax.random.normal(ks[2], (B, T, H, D))
    beta = jax.nn.sigmoid(jax.random.normal(ks[3], (B, T, H)))
    return q, k, v, beta


def _fns(impl, interpret):
    if impl == "recurrent":
        f = functools.partial(recurrent_osdn, eta=0.5)
    else:
        f = functools.partial(chunk_osdn, eta=0.5, chunk_size=64, kernel="pallas" if impl == "pallas" else "xla",
                              interpret=interpret)
    fwd = jax.jit(lambda q, k, v, b: f(q, k, v, b)[0])
    train = jax.jit(jax.grad(lambda q, k, v, b: jnp.sum(f(q, k, v, b)[0] ** 2), argnums=(0, 1, 2, 3)))
    return fwd, train


def chunk_flops(T, C=64, K=D, V=D):
    """Approximate forward FLOPs of the chunkwise kernels for the whole batch (matmuls only)."""
    n = -(-T // C)
    per_chunk = 2 * C * C * K + C * C * (K + V) + 2 * C * C * K + 2 * C * K * V * 3 + 2 * C * C * V
    return B * H * n * per_chunk


def run(quick: bool = False, gpu: bool = False) -> list[Ratio]:
    Ts = [512] if quick else [512, 2048, 8192]
    interpret = not gpu
    rows = []
    for T in Ts:
        args = _inputs(T)
        tok = B * T
        impls = ["recurrent", "chunk"] + (["pallas"] if (gpu or T == 512) else [])
        times = {}
        for impl in impls:
            fwd, train = _fns(impl, interpret)
            times[impl] = (median_time(functools.partial(fwd, *args)), median_time(functools.partial(train, *args)))
        for j, mode in enumerate(["forward", "forward+backward"]):
            rec = tok / times["recurrent"][j]
            for impl in impls[1:]:
                ours = tok / times[impl][j]
                target = 3.0 if (impl == "chunk" and mode == "forward+backward" and T == 2048) else None
                note = ""
                if impl == "pallas":
                    note = "GPU, compiled Triton" if gpu else "CPU interpret mode (correctness path)"
                    if gpu:
                        peak = next((p for name, p in PEAK_FP32.items() if name in jax.devices()[0].device_kind), None)
                        if peak and j == 0:
                            note += f"; {chunk_flops(T) / times[impl][0] / peak:.1%} of fp32 peak (fwd)"
                label = "chunk (XLA, C=64)" if impl == "chunk" else "Pallas (C=64)"
                rows.append(Ratio("osdn", f"{label} {mode} T={T} B={B} H={H} d={D} float32", ours, rec, "recurrent scan",
                                  "tokens/s", ours / rec, target, note or f"{impl} ({jax.default_backend()})"))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gpu", action="store_true", help="time compiled Triton kernels on an NVIDIA GPU")
    a = parser.parse_args()
    if a.gpu and jax.default_backend() != "gpu":
        raise SystemExit("--gpu needs a GPU backend; none is available here (not measured on GPU)")
    print(format_table(run(quick=a.quick, gpu=a.gpu)))
