"""The online diagonal preconditioner of OSDN and its carried decoding state.

Zhou, Li, Liu, Lin, Ge, Ye, "OSDN: Improving Delta Rule with Provable Online Preconditioning in
Linear Attention", arXiv 2605.13473 (2026). Only the abstract is public; the update below is the
OSGM-style hypergradient step derived in ``kernels/osdn/README.md`` (section "Preconditioner").

For a token with key ``k``, gate ``beta`` and write key ``d * k`` the post-write residual on that
same token is ``(1 - beta <d, k*k>)`` times the pre-write one (the token-local contraction). The
OSGM feedback ``h(d) = ((1 - beta <d, k*k>)^2 - 1) / (2 ||k||^2)`` is exactly quadratic in ``d``
and online gradient descent on it gives

    d+ = d + eta * beta * (<k, p>/n - beta <d, k*p>) * (k*p) / n,     n = ||k||^2,

with partner key ``p = k`` ("same"-token feedback). Its fixed point is ``beta <d, k*k> = 1``, a full
overwrite that undoes a learned ``beta < 1``. "next"-token feedback takes ``p = k_next``: it is the
expected hypergradient of the *next* token's loss under an isotropic state-error model
(``E[E E^T] = sigma^2 I`` for the state error ``E``), which reduces to the same-token rule when the
next key repeats the current one and leaves ``d`` alone when consecutive keys share no features.
Either way the update stays affine in ``d`` and independent of the state ``S``, so ``d`` is a
cheap scan that runs before the chunkwise kernel.

APF (adaptive preconditioner forgetting) then pulls ``d`` toward 1 with a gate ``lam`` in (0, 1):
``d+ <- lam * d+ + (1 - lam)``; finally ``d+`` is clipped to ``[d_min, d_max]``.

.. warning:: eta, the clip bounds, the APF form and the feedback choice are not fixed by the
   public abstract; jaxor's choices are documented here and exposed as parameters.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class OSDNState(NamedTuple):
    """What decoding carries between tokens (and what a parallel forward returns at the end).

    Attributes:
        S: ``[B, H, K, V]`` the fast-weight state (fla layout, ``o = S^T q``).
        d: ``[B, H, K]`` the preconditioner used at the last token (``d_init`` when fresh).
        k_prev: ``[B, H, K]`` the last key (zeros when fresh).
        beta_prev: ``[B, H]`` the last write strength (zero when fresh, so the first update is a no-op).
        lam_prev: ``[B, H]`` the last APF gate (one when fresh or without APF).
    """

    S: jax.Array
    d: jax.Array
    k_prev: jax.Array
    beta_prev: jax.Array
    lam_prev: jax.Array


def init_state(batch: int, heads: int, key_dim: int, value_dim: int, *, d_init=1.0,
               dtype=jnp.float32) -> OSDNState:
    """A fresh state: ``S = 0``, ``d = d_init`` (scalar, ``[K]`` or ``[H, K]``).

    Examples:
        >>> st = init_state(2, 4, 16, 16)
        >>> st.S.shape, st.d.shape
        ((2, 4, 16, 16), (2, 4, 16))
    """
    for name, n in (("batch", batch), ("heads", heads), ("key_dim", key_dim), ("value_dim", value_dim)):
        if int(n) <= 0:
            raise ValueError(f"{name}={n} must be positive")
    d0 = jnp.broadcast_to(jnp.asarray(d_init, dtype), (heads, key_dim))
    return OSDNState(
        S=jnp.zeros((batch, heads, key_dim, value_dim), dtype),
        d=jnp.broadcast_to(d0, (batch, heads, key_dim)).astype(dtype),
        k_prev=jnp.zeros((batch, heads, key_dim), dtype),
        beta_prev=jnp.zeros((batch, heads), dtype),
        lam_prev=jnp.ones((batch, heads), dtype),
    )


def d_update(d, k_prev, beta_prev, lam_prev, k_next, eta, *, feedback: str, d_min, d_max):
    """One preconditioner step ``d_t -> d_{t+1}``; returns ``(d_next, clipped_mask)``.

    Shapes: ``d, k_prev, k_next: [..., K]``; ``beta_prev, lam_prev, eta: [...]``.
    """
    p = k_prev if feedback == "same" else k_next
    n = jnp.maximum(jnp.sum(k_prev * k_prev, -1), jnp.finfo(d.dtype).tiny)
    a = k_prev * p
    coef = eta * beta_prev * (jnp.sum(a, -1) / n - beta_prev * jnp.sum(d * a, -1)) / n
    d_hat = d + coef[..., None] * a
    d_hat = lam_prev[..., None] * d_hat + (1 - lam_prev[..., None])
    clipped = (d_hat < d_min) | (d_hat > d_max)
    return jnp.clip(d_hat, d_min, d_max), clipped


def precondition(k, beta, *, eta, state: OSDNState, apf_gate=None, feedback="same", d_min, d_max,
                 unroll: int = 1):
    """Run the preconditioner over a sequence (a ``lax.scan`` that carries only ``d [B, H, K]``).

    The update is affine in ``d`` before the clip, ``d_hat = d + alpha_t - <d, a_t> gamma_t`` with
    ``a_t = k_{t-1} * p``, ``alpha_t = eta beta (<k_{t-1}, p>/n^2) a_t`` and ``gamma_t = eta beta^2 a_t / n``;
    every per-token quantity (``a`` and the scalars ``lam eta beta <k, p>/n^2``, ``lam eta beta^2/n``,
    ``lam``) is computed before the scan in one batched pass, so a scan step is one dot product,
    an axpy and a clip.

    Args:
        k: ``[B, T, H, K]`` keys; beta: ``[B, T, H]``; eta: ``[H]``; apf_gate: ``[B, T, H]`` or None.
        state: the carry from earlier tokens (see :class:`OSDNState`).
        unroll: ``lax.scan`` unroll factor (a speed knob only; 1 was fastest on CPU, 4 and 8 slower).

    Returns:
        ``(d_seq [B, T, H, K], (d_last, k_last, beta_last, lam_last), clip_fraction)``.
    """
    lam = jnp.ones_like(beta) if apf_gate is None else apf_gate
    tm = lambda x: jnp.moveaxis(x, 1, 0)                               # time-major
    # the update before token t uses token t-1's key, gate and APF gate (the carried ones for t = 0)
    shift = lambda x, x0: jnp.concatenate([x0[None], tm(x)[:-1]], axis=0)
    kp, bp, lp = shift(k, state.k_prev), shift(beta, state.beta_prev), shift(lam, state.lam_prev)
    p = kp if feedback == "same" else tm(k)
    n = jnp.maximum(jnp.sum(kp * kp, -1), jnp.finfo(k.dtype).tiny)     # [T, B, H]
    eb = lp * eta * bp                                                 # APF gate folded in
    c1 = eb * (jnp.sum(kp * p, -1) / n) / n                             # not / n**2: n may be tiny
    c2 = eb * bp / n

    def step(d, xs):
        kp_t, p_t, c1_t, c2_t, lam_t = xs
        a_t = kp_t * p_t
        coef = c1_t - c2_t * jnp.sum(d * a_t, -1)
        d_hat = lam_t[..., None] * d + coef[..., None] * a_t + (1 - lam_t[..., None])
        clipped = (d_hat < d_min) | (d_hat > d_max)
        d_new = jnp.clip(d_hat, d_min, d_max)
        return d_new, (d_new, jnp.sum(clipped, dtype=jnp.int32))

    xs = (kp, p, c1, c2, lp)
    d_last, (ds, nclip) = jax.lax.scan(step, state.d, xs, unroll=unroll)
    frac = jnp.sum(nclip) / (k.size)
    return jnp.moveaxis(ds, 0, 1), (d_last, k[:, -1], beta[:, -1], lam[:, -1]), frac


def prepare(q, k, v, beta, g, apf_gate, *, eta, d_init, d_min, d_max, feedback, scale, initial_state, dtype):
    """Validate and cast the arguments shared by every OSDN entry point.

    Returns ``(q, k, v, beta, g, apf_gate, state, eta [H], scale)`` in the compute dtype.
    """
    from jaxor.osdn import _checks

    B, T, H, K, V = _checks.check_qkv(q, k, v, beta, g, extra={"apf_gate": apf_gate})
    _checks.check_feedback(feedback)
    _checks.check_clip(d_min, d_max)
    beta = _checks.check_finite(beta, "beta")
    g = _checks.check_finite(g, "g")
    dt = _checks.compute_dtype(q, k, v, beta, dtype=dtype)
    cast = lambda x: None if x is None else jnp.asarray(x, dt)
    if initial_state is None:
        state = init_state(B, H, K, V, d_init=_checks.head_param(d_init, H, K, "d_init", dt), dtype=dt)
    else:
        _checks.check_state(initial_state.S, B, H, K, V)
        state = OSDNState(*(cast(x) for x in initial_state))
    eta = _checks.head_param(eta, H, None, "eta", dt)
    scale = K ** -0.5 if scale is None else scale
    return (*(cast(x) for x in (q, k, v, beta, g, apf_gate)), state, eta, scale)
