"""Python-loop references that read like the papers (tests import this module directly).

DeltaNet (arXiv 2406.06484), gated DeltaNet (arXiv 2412.06464) and OSDN (arXiv 2605.13473), one
token and one (batch, head) at a time with NumPy, in float64. Slow by design; no tiling, no scan.
"""

from __future__ import annotations

import numpy as np


def naive_osdn(q, k, v, beta, g=None, *, eta=0.0, d_init=1.0, d_min=0.1, d_max=1.5, apf_gate=None,
               feedback="same", scale=None, d=None):
    """``q, k: [B, T, H, K]``, ``v: [B, T, H, V]``, gates ``[B, T, H]``; ``eta`` scalar.

    With ``d`` (``[B, T, H, K]``) given, the preconditioner is fixed per token (no online update).
    Returns ``(o [B, T, H, V], S_T [B, H, K, V], d_T [B, H, K])`` as float64 NumPy arrays.
    """
    q, k, v, beta = (np.asarray(x, np.float64) for x in (q, k, v, beta))
    B, T, H, K = q.shape
    V = v.shape[-1]
    scale = K ** -0.5 if scale is None else scale
    o = np.zeros((B, T, H, V))
    S_out = np.zeros((B, H, K, V))
    d_out = np.zeros((B, H, K))
    for b in range(B):
        for h in range(H):
            S = np.zeros((K, V))
            dv = np.broadcast_to(np.asarray(d_init, np.float64), (H, K))[h].copy()
            for t in range(T):
                if d is not None:
                    dv = np.asarray(d[b, t, h], np.float64)
                elif t > 0:
                    kp, bp = k[b, t - 1, h], beta[b, t - 1, h]
                    p = kp if feedback == "same" else k[b, t, h]
                    n = kp @ kp
                    dv = dv + eta * bp * ((kp @ p) / n - bp * (dv @ (kp * p))) * (kp * p) / n
                    lam = 1.0 if apf_gate is None else float(apf_gate[b, t - 1, h])
                    dv = np.clip(lam * dv + (1 - lam), d_min, d_max)
                alpha = 1.0 if g is None else np.exp(float(g[b, t, h]))
                kt, kw, bt = k[b, t, h], dv * k[b, t, h], beta[b, t, h]
                S = (np.eye(K) - bt * np.outer(kw, kt)) @ (alpha * S) + bt * np.outer(kw, v[b, t, h])
                o[b, t, h] = S.T @ (scale * q[b, t, h])
            S_out[b, h], d_out[b, h] = S, dv
    return o, S_out, d_out
