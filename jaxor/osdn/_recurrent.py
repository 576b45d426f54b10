"""Recurrent (``lax.scan``) references for DeltaNet, gated DeltaNet and OSDN, float64-capable.

References:
    Yang, Wang, Zhang, Shen, Kim, "Parallelizing Linear Transformers with the Delta Rule over
    Sequence Length", arXiv 2406.06484 (2024), eq. (1)-(2) (fla layout ``S in R^{K x V}``).
    Yang, Kautz, Hatamizadeh, "Gated Delta Networks", arXiv 2412.06464 (2024), eq. (10).
    Zhou et al., "OSDN: Improving Delta Rule with Provable Online Preconditioning in Linear
    Attention", arXiv 2605.13473 (2026), abstract; see :mod:`jaxor.osdn._precond` for the choices.

One token of the recurrence (``alpha = exp(g)``, ``kw = d * k`` the write-side key):

    S_t = (I - beta_t kw_t k_t^T) (alpha_t S_{t-1}) + beta_t kw_t v_t^T,     o_t = S_t^T (scale q_t).

The preconditioner update is written out inline here (not shared with the chunkwise path) so the
two implementations check each other.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxor.osdn import _checks
from jaxor.osdn._precond import OSDNState, init_state, prepare


def _scan(q, k, v, beta, g, lam, d_fixed, state: OSDNState, eta, *, online: bool, feedback: str,
          d_min, d_max, scale):
    """The literal recurrence over time. All arrays already in the compute dtype."""
    lam = jnp.ones_like(beta) if lam is None else lam
    g = jnp.zeros_like(beta) if g is None else g

    def step(carry, xs):
        S, d, kp, bp, lp, nclip = carry
        qt, kt, vt, bt, gt, lt, dt_fixed = xs
        if online:
            partner = kp if feedback == "same" else kt
            nrm = jnp.maximum((kp * kp).sum(-1), jnp.finfo(S.dtype).tiny)[..., None]
            # hypergradient of the quadratic feedback h(d) (section "Preconditioner" of the README)
            grad = -bp[..., None] * ((kp * partner).sum(-1)[..., None] / nrm
                                     - bp[..., None] * (d * kp * partner).sum(-1)[..., None]) * kp * partner / nrm
            d = d - eta[..., None] * grad
            d = lp[..., None] * d + (1.0 - lp[..., None])  # APF: pull toward the identity
            nclip = nclip + jnp.sum((d < d_min) | (d > d_max), dtype=jnp.int32)
            d = jnp.clip(d, d_min, d_max)
        else:
            d = dt_fixed
        kw = d * kt
        S = jnp.exp(gt)[..., None, None] * S
        resid = jnp.einsum("bhkv,bhk->bhv", S, kt) - vt      # prediction error against the decayed state
        S = S - bt[..., None, None] * jnp.einsum("bhk,bhv->bhkv", kw, resid)
        o = jnp.einsum("bhkv,bhk->bhv", S, qt * scale)
        return (S, d, kt, bt, lt, nclip), o

    ones = jnp.ones_like(k) if d_fixed is None else d_fixed
    xs = tuple(jnp.moveaxis(x, 1, 0) for x in (q, k, v, beta, g, lam, ones))
    carry0 = (state.S, state.d, state.k_prev, state.beta_prev, state.lam_prev, jnp.zeros((), jnp.int32))
    (S, d, kp, bp, lp, nclip), o = jax.lax.scan(step, carry0, xs)
    return jnp.moveaxis(o, 0, 1), OSDNState(S, d, kp, bp, lp), nclip / k.size


def recurrent_delta_rule(q, k, v, beta, *, g=None, d=None, scale=None, initial_state=None, dtype=None):
    """(Gated) DeltaNet, optionally with a given per-token write-key scaling ``d``, token by token.

    Math: ``S_t = (I - beta_t (d_t*k_t) k_t^T)(exp(g_t) S_{t-1}) + beta_t (d_t*k_t) v_t^T``,
    ``o_t = S_t^T (scale q_t)``.

    Args:
        q, k: ``[B, T, H, K]`` queries and keys (L2-normalise them first for the usual DeltaNet).
        v: ``[B, T, H, V]`` values.
        beta: ``[B, T, H]`` write strengths, usually in (0, 1) (or (0, 2) with negative eigenvalues).
        g: ``[B, T, H]`` log decay ``g <= 0`` (gated DeltaNet) or None.
        d: ``[B, T, H, K]`` write-key scaling, or None for ``d = 1``.
        scale: query scale, default ``K ** -0.5``.
        initial_state: ``[B, H, K, V]`` or None (zeros).
        dtype: compute dtype (e.g. ``jnp.float64`` under ``jaxor.float64()``), default the inputs' (>= float32).

    Returns:
        ``(o [B, T, H, V], S_T [B, H, K, V])`` in the compute dtype.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> q = k = jnp.ones((1, 3, 1, 4)) / 2.0; v = jnp.ones((1, 3, 1, 2)); b = jnp.full((1, 3, 1), 0.5)
        >>> o, S = recurrent_delta_rule(q, k, v, b)
        >>> o.shape, S.shape
        ((1, 3, 1, 2), (1, 1, 4, 2))
    """
    q, k, v, beta, g, d, S0, scale = _checks.prepare_delta(q, k, v, beta, g, d, initial_state, scale, dtype)
    B, T, H, K = q.shape
    state = init_state(B, H, K, v.shape[-1], dtype=q.dtype)._replace(S=S0)
    o, st, _ = _scan(q, k, v, beta, g, None, d, state, jnp.zeros((H,), q.dtype), online=False, feedback="same",
                     d_min=0.0, d_max=1.0, scale=scale)
    return o, st.S


def recurrent_osdn(q, k, v, beta, *, g=None, eta=1.0, d_init=1.0, d_min=0.1, d_max=1.5, apf_gate=None,
                   feedback="same", scale=None, initial_state: OSDNState | None = None, dtype=None):
    """OSDN (Online Scaled DeltaNet) token by token, with the preconditioner update inline.

    Per token ``t`` (``alpha = exp(g)``; the first token of a fresh state uses ``d_0 = d_init``):

        d_t = clip(lam_{t-1} [d_{t-1} + eta beta_{t-1} (<k_{t-1}, p>/n - beta_{t-1} <d_{t-1}, k_{t-1}*p>)
                   (k_{t-1}*p)/n] + (1 - lam_{t-1}), d_min, d_max)
        S_t = (I - beta_t (d_t*k_t) k_t^T)(alpha_t S_{t-1}) + beta_t (d_t*k_t) v_t^T,   o_t = S_t^T (scale q_t)

    with ``n = ||k_{t-1}||^2`` and ``p = k_{t-1}`` (``feedback="same"``) or ``p = k_t`` (``"next"``).

    Args:
        q, k: ``[B, T, H, K]``; v: ``[B, T, H, V]``; beta, g, apf_gate: ``[B, T, H]`` (g, apf_gate optional).
        eta: hypergradient step, scalar or ``[H]`` (0 gives DeltaNet with a fixed ``d_init``).
        d_init: scalar, ``[K]`` or ``[H, K]``: the preconditioner of a fresh state.
        d_min, d_max: clip bounds. The non-trivial transition eigenvalue ``1 - beta <d, k*k>`` lies in
            ``[-1, 1]`` when ``0 <= d <= 2/beta_max`` and ``||k|| = 1``; the default ``d_max = 1.5``
            keeps a margin for ``beta <= 1`` (use ``d_max <= 1`` when ``beta`` may reach 2).
        apf_gate: APF gate ``lam`` in (0, 1), or None (no forgetting).
        feedback: ``"same"`` or ``"next"`` (see :mod:`jaxor.osdn._precond`).
        scale: query scale, default ``K ** -0.5``.
        initial_state: an :class:`OSDNState` (e.g. from a previous segment) or None.
        dtype: compute dtype, default the inputs' (>= float32).

    Returns:
        ``(o [B, T, H, V], final OSDNState, clip_fraction)``; ``clip_fraction`` is the share of
        preconditioner entries (over ``B, T, H, K``) that the clip changed.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> kk = jax.random.normal(jax.random.PRNGKey(0), (1, 5, 2, 8))
        >>> kk = kk / jnp.linalg.norm(kk, axis=-1, keepdims=True)
        >>> o, st, frac = recurrent_osdn(kk, kk, kk, jnp.full((1, 5, 2), 0.5), eta=0.5)
        >>> o.shape, st.d.shape
        ((1, 5, 2, 8), (1, 2, 8))
    """
    q, k, v, beta, g, lam, state, eta, scale = prepare(
        q, k, v, beta, g, apf_gate, eta=eta, d_init=d_init, d_min=d_min, d_max=d_max, feedback=feedback,
        scale=scale, initial_state=initial_state, dtype=dtype)
    return _scan(q, k, v, beta, g, lam, None, state, eta, online=True, feedback=feedback, d_min=d_min,
                 d_max=d_max, scale=scale)
