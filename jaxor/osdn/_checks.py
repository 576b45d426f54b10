"""Boundary checks shared by every OSDN entry point: shapes, ranks, options and finite gates.

Anything knowable at trace time raises ``ValueError`` naming the argument. NaN checks on concrete
arrays raise ``ValueError`` too; under ``jit`` they go through ``eqx.error_if``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

FEEDBACKS = ("same", "next")


def check_finite(x, name: str):
    """Raise if ``x`` holds NaN; under tracing return ``eqx.error_if(x, ...)`` (keep the result)."""
    if x is None:
        return None
    if isinstance(x, jax.core.Tracer):
        return eqx.error_if(x, jnp.any(jnp.isnan(x)), f"{name} contains NaN")
    if np.any(np.isnan(np.asarray(x))):
        raise ValueError(f"{name} contains NaN; gates and step sizes must be finite")
    return x


def check_qkv(q, k, v, beta, g=None, *, extra: dict | None = None) -> tuple[int, int, int, int, int]:
    """Validate the fla layout ``q, k: [B, T, H, K]``, ``v: [B, T, H, V]``, ``beta, g: [B, T, H]``.

    Returns ``(B, T, H, K, V)``.
    """
    for name, x in (("q", q), ("k", k), ("v", v)):
        if getattr(x, "ndim", None) != 4:
            raise ValueError(f"{name} must have rank 4 with shape [B, T, H, D]; got shape "
                             f"{getattr(x, 'shape', type(x).__name__)}")
    B, T, H, K = q.shape
    if T == 0:
        raise ValueError(f"q has T=0 tokens (shape {q.shape}); sequences must be non-empty")
    if k.shape != q.shape:
        raise ValueError(f"k.shape={k.shape} must equal q.shape={q.shape}")
    if v.shape[:3] != (B, T, H):
        raise ValueError(f"v.shape={v.shape} must start with [B, T, H]={(B, T, H)}")
    V = v.shape[3]
    gates = {"beta": beta, "g": g, **(extra or {})}
    for name, x in gates.items():
        if x is None:
            continue
        if getattr(x, "shape", None) != (B, T, H):
            raise ValueError(f"{name} must have shape [B, T, H]={(B, T, H)}; got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
    return B, T, H, K, V


def check_state(S, B, H, K, V, name="initial_state"):
    if S is not None and tuple(S.shape) != (B, H, K, V):
        raise ValueError(f"{name} must have shape [B, H, K, V]={(B, H, K, V)}; got {tuple(S.shape)}")


def check_feedback(feedback: str) -> None:
    if feedback not in FEEDBACKS:
        raise ValueError(f"feedback={feedback!r} must be one of {FEEDBACKS}")


def check_clip(d_min: float, d_max: float) -> None:
    if not (0.0 <= float(d_min) < float(d_max)):
        raise ValueError(f"need 0 <= d_min < d_max; got d_min={d_min}, d_max={d_max}")


def compute_dtype(*xs, dtype=None):
    """The dtype the references compute in: ``dtype`` if given, else the inputs' type, at least float32."""
    import jaxor

    if dtype is not None:
        jaxor.require_x64(dtype, "dtype")
        return jnp.dtype(dtype)
    dt = jnp.result_type(*[x for x in xs if x is not None])
    return jnp.promote_types(dt, jnp.float32)


def head_param(x, H: int, K: int | None, name: str, dtype):
    """Broadcast a scalar / ``[H]`` (or ``[K]`` / ``[H, K]`` when ``K`` is given) parameter to ``[H]`` or ``[H, K]``."""
    x = jnp.asarray(x, dtype)
    target = (H,) if K is None else (H, K)
    allowed = [(), (H,)] if K is None else [(), (K,), (H, K)]
    if x.shape not in allowed:
        raise ValueError(f"{name} must have shape in {allowed}; got {x.shape}")
    return jnp.broadcast_to(x, target)


def prepare_delta(q, k, v, beta, g, d, initial_state, scale, dtype):
    """Validate and cast the arguments of the fixed-``d`` delta rules.

    Returns ``(q, k, v, beta, g, d, S0, scale)`` in the compute dtype (``g``, ``d`` may be None; ``S0``
    zeros when not given).
    """
    B, T, H, K, V = check_qkv(q, k, v, beta, g)
    if d is not None and d.shape != k.shape:
        raise ValueError(f"d.shape={d.shape} must equal k.shape={k.shape}")
    check_state(initial_state, B, H, K, V)
    beta = check_finite(beta, "beta")
    g = check_finite(g, "g")
    dt = compute_dtype(q, k, v, beta, dtype=dtype)
    cast = lambda x: None if x is None else jnp.asarray(x, dt)
    S0 = jnp.zeros((B, H, K, V), dt) if initial_state is None else cast(initial_state)
    return (*(cast(x) for x in (q, k, v, beta, g, d)), S0, K ** -0.5 if scale is None else scale)
