"""Single-token decoding for DeltaNet / gated DeltaNet / OSDN, carrying an :class:`OSDNState`.

Zhou et al., arXiv 2605.13473 (2026). One call consumes one token per sequence and returns the
same output the parallel forward (``recurrent_osdn`` / ``chunk_osdn``) gives at that position; the
final state of a parallel forward continues decoding directly. DeltaNet is ``eta=0`` with a state
whose ``d`` is 1.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxor.osdn import _checks
from jaxor.osdn._precond import OSDNState, d_update


def osdn_step(state: OSDNState, q, k, v, beta, *, g=None, apf_gate=None, eta=1.0, d_min=0.1, d_max=1.5,
              feedback="same", scale=None):
    """One decoding step.

    Math: ``d = update(state.d, state.k_prev, state.beta_prev, state.lam_prev, k)`` (see
    :mod:`jaxor.osdn._precond`), then ``S = (I - beta (d*k) k^T)(exp(g) S) + beta (d*k) v^T`` and
    ``o = S^T (scale q)``.

    Args:
        state: the carry (``init_state(...)`` or the final state of a parallel forward).
        q, k: ``[B, H, K]``; v: ``[B, H, V]``; beta, g, apf_gate: ``[B, H]`` (g, apf_gate optional).
        eta: scalar or ``[H]``; d_min, d_max, feedback, scale: as in :func:`jaxor.osdn.recurrent_osdn`.

    Returns:
        ``(o [B, H, V], new OSDNState)``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxor.osdn import init_state
        >>> st = init_state(1, 2, 4, 3)
        >>> o, st = osdn_step(st, jnp.ones((1, 2, 4)) / 2, jnp.ones((1, 2, 4)) / 2, jnp.ones((1, 2, 3)),
        ...                   jnp.full((1, 2), 0.5))
        >>> o.shape
        (1, 2, 3)
    """
    if getattr(q, "ndim", None) != 3 or getattr(k, "shape", None) != q.shape:
        raise ValueError(f"q and k must have the same shape [B, H, K]; got {getattr(q, 'shape', None)}, "
                         f"{getattr(k, 'shape', None)}")
    B, H, K = q.shape
    if getattr(v, "ndim", None) != 3 or v.shape[:2] != (B, H):
        raise ValueError(f"v must have shape [B, H, V] with [B, H]={(B, H)}; got {getattr(v, 'shape', None)}")
    V = v.shape[-1]
    _checks.check_state(state.S, B, H, K, V, name="state.S")
    for name, x in (("beta", beta), ("g", g), ("apf_gate", apf_gate)):
        if x is not None and x.shape != (B, H):
            raise ValueError(f"{name} must have shape [B, H]={(B, H)}; got {x.shape}")
    _checks.check_feedback(feedback)
    _checks.check_clip(d_min, d_max)
    beta = _checks.check_finite(beta, "beta")
    dt = state.S.dtype
    eta = _checks.head_param(eta, H, None, "eta", dt)
    scale = K ** -0.5 if scale is None else scale
    lam = jnp.ones_like(beta) if apf_gate is None else apf_gate
    d, _ = d_update(state.d, state.k_prev, state.beta_prev, state.lam_prev, k, eta, feedback=feedback,
                    d_min=d_min, d_max=d_max)
    S = state.S if g is None else jnp.exp(g)[..., None, None] * state.S
    new_v = beta[..., None] * (v - jnp.einsum("bhkv,bhk->bhv", S, k))
    S = S + jnp.einsum("bhk,bhv->bhkv", d * k, new_v)
    o = jnp.einsum("bhkv,bhk->bhv", S, q * scale)
    return o, OSDNState(S, d, k.astype(dt), beta.astype(dt), lam.astype(dt))
