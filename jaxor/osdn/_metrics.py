"""Diagnostics for associative recall with delta-rule memories (Zhou et al., arXiv 2605.13473).

The paper reports a "recall residual ratio" without a public definition; jaxor uses the mechanistic
reading ``||S_T^T k_i - v_i|| / ||v_i||`` averaged over the written pairs ``(k_i, v_i)``, which also
measures the token-local contraction directly.
"""

from __future__ import annotations

import jax.numpy as jnp


def recall_residual_ratio(S, keys, values, mask=None, eps: float = 1e-12):
    """Mean of ``||S^T k_i - v_i|| / ||v_i||`` over written pairs.

    Args:
        S: ``[B, H, K, V]`` final state. keys: ``[B, N, H, K]``; values: ``[B, N, H, V]`` the written pairs
            (the same transformed keys/values the layer wrote).
        mask: ``[B, N]`` booleans selecting pairs to average (default all).

    Returns:
        A scalar: the average ratio (0 means perfect recall of every written pair).

    Examples:
        >>> import jax.numpy as jnp
        >>> k = jnp.eye(2)[None, :, None]; v = jnp.ones((1, 2, 1, 3))
        >>> S = jnp.einsum("bnhk,bnhv->bhkv", k, v)
        >>> float(recall_residual_ratio(S, k, v))
        0.0
    """
    if S.ndim != 4 or keys.ndim != 4 or values.ndim != 4:
        raise ValueError(f"S, keys, values must have rank 4; got {S.shape}, {keys.shape}, {values.shape}")
    pred = jnp.einsum("bhkv,bnhk->bnhv", S, keys)
    r = jnp.linalg.norm(pred - values, axis=-1) / (jnp.linalg.norm(values, axis=-1) + eps)   # [B, N, H]
    w = jnp.ones(r.shape[:2], r.dtype) if mask is None else mask.astype(r.dtype)
    return jnp.sum(r * w[..., None]) / (jnp.sum(w) * r.shape[-1])
