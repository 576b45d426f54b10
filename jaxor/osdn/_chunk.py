"""Chunkwise-parallel DeltaNet / gated DeltaNet / OSDN in pure JAX (the XLA path).

References:
    Yang et al., arXiv 2406.06484 (2024), section 3 (WY representation / UT transform).
    Yang, Kautz, Hatamizadeh, arXiv 2412.06464 (2024), section 3.3 (gated chunkwise form).
    Zhou et al., arXiv 2605.13473 (2026): write-side key scaling keeps the chunkwise pipeline.

Per chunk of length ``C`` with rows ``K, Kw = d*K, V, Q`` (Q already scaled), gates ``beta`` and the
in-chunk cumulative log decay ``gam = cumsum(g)``, ``Gam_ij = exp(gam_i - gam_j)`` and incoming state S:

    A  = tril(diag(beta) (K Kw^T * Gam), -1)
    [W | U] = (I + A)^{-1} diag(beta) [K * exp(gam) | V]        (unit_tril_inverse, batched over chunks)
    U' = U - W S
    O  = (Q * exp(gam)) S + ((Q Kw^T) * Gam * M) U'              (M: lower triangle incl. diagonal)
    S <- exp(gam_C) S + (Kw * exp(gam_C - gam))^T U'

Everything but the state hand-off (``U'`` and the ``S`` update, a ``lax.scan`` over chunks) is
batched over the chunks of a segment of 8 chunks; segments run in an outer ``lax.scan`` (see
:func:`chunk_core`). The derivation is in ``kernels/osdn/README.md``. With ``d = 1`` and ``g = 0``
this is DeltaNet's form.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxor.osdn import _checks
from jaxor.osdn._precond import OSDNState, precondition, prepare


def _to_chunks(x, C):
    """``[B, T, H, ...] -> [B, H, NC, C, ...]`` with zero padding of the time axis."""
    T = x.shape[1]
    pad = (-T) % C
    x = jnp.pad(x, [(0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 2))
    x = x.reshape(x.shape[0], -1, C, *x.shape[2:])
    return jnp.moveaxis(x, 3, 1)


def _from_chunks(x, T):
    x = jnp.moveaxis(x, 1, 3)
    return x.reshape(x.shape[0], -1, *x.shape[3:])[:, :T]


def forward_substitution(A, R):
    """Solve ``(I + A) X = R`` for strictly lower-triangular ``A [..., C, C]`` and ``R [..., C, D]``.

    Row by row (``X_i = R_i - sum_{j<i} A_ij X_j``) with a ``fori_loop``; every chunk of the batch is
    solved at once. Plain jnp ops only (no LAPACK call). This is the reference that
    :func:`unit_tril_inverse` is tested against; its autodiff backward stores ``X`` per row and is
    slow, so the chunkwise path does not use it.
    """
    C = A.shape[-1]
    rows = jnp.arange(C)

    def body(i, X):
        upd = jnp.einsum("...j,...jd->...d", A[..., i, :], X)
        return jnp.where((rows == i)[:, None], X - upd[..., None, :], X)

    return jax.lax.fori_loop(1, C, body, R)


def _tril_inverse_blocks(A):
    """``(I + A)^{-1}`` by recursive doubling over diagonal blocks (``C`` a power of two).

    Level ``b`` (``b = 1, 2, 4, ..., C/2``) turns the inverses of the diagonal ``b x b`` blocks into
    those of the ``2b x 2b`` blocks with the exact block formula

        [[L11, 0], [L21, L22]]^{-1} = [[X11, 0], [-X22 L21 X11, X22]],   X11 = L11^{-1}, X22 = L22^{-1},

    batched over every block of every chunk. Algebraically this is forward substitution (no
    cancellation-prone series such as ``(I - A)(I + A^2)...``); it costs about ``2/3 C^3`` flops.
    """
    C = A.shape[-1]
    lead = A.shape[:-2]
    X = jnp.ones(lead + (C, 1, 1), A.dtype)          # the C diagonal 1 x 1 blocks of a unit triangle
    b = 1
    while b < C:
        nb = C // (2 * b)
        blocks = jnp.diagonal(A.reshape(lead + (nb, 2 * b, nb, 2 * b)), axis1=-4, axis2=-2)
        L21 = jnp.moveaxis(blocks, -1, -3)[..., b:, :b]                 # [..., nb, b, b]
        X11, X22 = X[..., 0::2, :, :], X[..., 1::2, :, :]
        X21 = -(X22 @ (L21 @ X11))
        X = jnp.concatenate([jnp.concatenate([X11, jnp.zeros_like(X11)], -1),
                             jnp.concatenate([X21, X22], -1)], -2)
        b *= 2
    return X[..., 0, :, :]


@jax.custom_vjp
def unit_tril_inverse(A):
    """``(I + A)^{-1}`` for strictly lower-triangular ``A [..., C, C]`` (only that part of ``A`` is read).

    Forward: recursive doubling over diagonal blocks (:func:`_tril_inverse_blocks`; ``C`` is padded
    to a power of two with an identity block). Backward: ``dA = -tril(X^T G X^T, -1)`` for
    ``X = (I + A)^{-1}`` and cotangent ``G``, two matmuls per chunk.

    Examples:
        >>> import jax.numpy as jnp
        >>> A = jnp.array([[0.0, 0.0], [2.0, 0.0]])
        >>> unit_tril_inverse(A)
        Array([[ 1.,  0.],
               [-2.,  1.]], dtype=float32)
    """
    C = A.shape[-1]
    P = 1 << (C - 1).bit_length()
    if P != C:
        A = jnp.pad(A, [(0, 0)] * (A.ndim - 2) + [(0, P - C), (0, P - C)])
    return _tril_inverse_blocks(A)[..., :C, :C]


def _unit_tril_inverse_fwd(A):
    X = unit_tril_inverse(A)
    return X, X


def _unit_tril_inverse_bwd(X, G):
    Xt = jnp.swapaxes(X, -1, -2)
    C = X.shape[-1]
    strict = jnp.arange(C)[:, None] > jnp.arange(C)[None, :]
    return (jnp.where(strict, -(Xt @ G @ Xt), 0.0),)


unit_tril_inverse.defvjp(_unit_tril_inverse_fwd, _unit_tril_inverse_bwd)


def _chunks_block(Q, Kc, KW, Vc, bc, gc, S0):
    """The chunkwise form on chunked arrays ``[B, H, n, C, D]`` (``bc, gc: [B, H, n, C]``, ``gc`` may be None).

    Everything except the state hand-off is batched over the ``n`` chunks. Returns ``(O, S_out)``.
    """
    C = Q.shape[-2]
    idx = jnp.arange(C)
    strict, incl = idx[:, None] > idx[None, :], idx[:, None] >= idx[None, :]
    A = bc[..., :, None] * jnp.einsum("...ik,...jk->...ij", Kc, KW)
    P = jnp.einsum("...ik,...jk->...ij", Q, KW)
    if gc is None:
        A, P = jnp.where(strict, A, 0.0), jnp.where(incl, P, 0.0)
        Ke, Qe, KWr, eC = Kc, Q, KW, None
    else:
        gam = jnp.cumsum(gc, axis=-1)
        diff = gam[..., :, None] - gam[..., None, :]
        Gam = jnp.where(incl, jnp.exp(jnp.where(incl, diff, 0.0)), 0.0)  # [.., C, C]
        e = jnp.exp(gam)
        A, P = jnp.where(strict, A * Gam, 0.0), P * Gam                 # P masked by Gam (incl. diag)
        Ke, Qe, eC = Kc * e[..., None], Q * e[..., None], e[..., -1]
        KWr = KW * jnp.exp(gam[..., -1:] - gam)[..., None]
    Tb = unit_tril_inverse(A) * bc[..., None, :]                          # (I + A)^{-1} diag(beta)
    W, U = Tb @ Ke, Tb @ Vc                                               # batched over all chunks

    def step(S, xs):
        W_c, U_c, KWr_c, eC_c = xs
        Up = U_c - W_c @ S
        S_dec = S if eC_c is None else eC_c[..., None, None] * S
        return S_dec + jnp.swapaxes(KWr_c, -1, -2) @ Up, (S, Up)

    mv = lambda x: jnp.moveaxis(x, 2, 0)
    S_T, (S_in, Up) = jax.lax.scan(step, S0, (mv(W), mv(U), mv(KWr), None if eC is None else mv(eC)))
    S_in, Up = jnp.moveaxis(S_in, 0, 2), jnp.moveaxis(Up, 0, 2)         # [B, H, n, K, V], [B, H, n, C, V]
    return Qe @ S_in + P @ Up, S_T


def chunk_core(q, k, kw, v, beta, g, S0, *, chunk_size: int, segment_chunks: int = 8):
    """The chunkwise form on prepared inputs (``q`` scaled, all in one float dtype).

    Shapes: ``q, k, kw: [B, T, H, K]``, ``v: [B, T, H, V]``, ``beta: [B, T, H]``, ``g: [B, T, H]`` or
    None (no decay: the ``exp`` factors are skipped), ``S0: [B, H, K, V]``.
    Long sequences run as a ``lax.scan`` over segments of ``segment_chunks`` chunks (batched work
    inside a segment): this bounds the working set, which on CPU keeps the cost linear in ``T``
    (all chunks at once: forward 6.7x slower at T = 8192 than at 2048; segments of 8 chunks of 64
    were also faster at T = 2048 than 16 or all 32). Padding chunks have ``beta = 0``, which
    leaves the state unchanged.
    Returns ``(o [B, T, H, V], S_T [B, H, K, V])``.
    """
    T = q.shape[1]
    C = chunk_size
    xs = [_to_chunks(x, C) for x in (q, k, kw, v, beta)] + [None if g is None else _to_chunks(g, C)]
    B, H, NC = xs[0].shape[:3]
    if NC <= segment_chunks:
        O, S_T = _chunks_block(*xs, S0)
    else:
        ns = -(-NC // segment_chunks)
        pad = ns * segment_chunks - NC

        def split(x):       # [B, H, NC, ...] -> [ns, B, H, segment_chunks, ...]
            x = jnp.pad(x, [(0, 0), (0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 3))
            return jnp.moveaxis(x.reshape(B, H, ns, segment_chunks, *x.shape[3:]), 2, 0)

        def body(S, seg):
            O, S = _chunks_block(*seg, S)
            return S, O

        S_T, O = jax.lax.scan(body, S0, [None if x is None else split(x) for x in xs])
        O = jnp.moveaxis(O, 0, 2).reshape(B, H, ns * segment_chunks, C, -1)[:, :, :NC]
    return _from_chunks(O, T), S_T


def _check_chunk_size(chunk_size):
    if not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"chunk_size={chunk_size!r} must be a positive int (16, 32 or 64 are usual)")


def _delta(kernel, q, k, kw, v, beta, g, S0, chunk_size, interpret):
    if kernel == "xla":
        return chunk_core(q, k, kw, v, beta, g, S0, chunk_size=chunk_size)
    if kernel == "pallas":
        from jaxor.kernels.osdn import chunk_delta_rule_pallas

        return chunk_delta_rule_pallas(q, k, v, beta, g=g, k_write=kw, initial_state=S0, scale=1.0,
                                       chunk_size=chunk_size, interpret=interpret)
    raise ValueError(f"kernel={kernel!r} must be 'xla' or 'pallas'")


def chunk_delta_rule(q, k, v, beta, *, g=None, d=None, scale=None, initial_state=None, chunk_size: int = 64,
                     dtype=None, kernel: str = "xla", interpret: bool | None = None):
    """(Gated) DeltaNet with an optional per-token write-key scaling ``d``, chunk by chunk.

    Same math and signature as :func:`jaxor.osdn.recurrent_delta_rule` (which it matches to float
    rounding); ``T`` need not be a multiple of ``chunk_size``.

    Args:
        q, k: ``[B, T, H, K]``; v: ``[B, T, H, V]``; beta, g: ``[B, T, H]``; d: ``[B, T, H, K]`` or None.
        scale: query scale, default ``K ** -0.5``. initial_state: ``[B, H, K, V]`` or None.
        chunk_size: chunk length ``C`` (16, 32 or 64 usual; the Pallas kernel needs a power of two >= 16).
        dtype: compute dtype. kernel: ``"xla"`` (pure JAX) or ``"pallas"`` (``jaxor.kernels.osdn``).
        interpret: Pallas interpret mode (default: on unless running on a GPU).

    Returns:
        ``(o [B, T, H, V], S_T [B, H, K, V])``.

    Examples:
        >>> import jax.numpy as jnp
        >>> q = k = jnp.ones((1, 5, 1, 4)) / 2.0; v = jnp.ones((1, 5, 1, 2)); b = jnp.full((1, 5, 1), 0.5)
        >>> o, S = chunk_delta_rule(q, k, v, b, chunk_size=2)
        >>> o.shape
        (1, 5, 1, 2)
    """
    _check_chunk_size(chunk_size)
    q, k, v, beta, g, d, S0, scale = _checks.prepare_delta(q, k, v, beta, g, d, initial_state, scale, dtype)
    return _delta(kernel, q * scale, k, k if d is None else d * k, v, beta, g, S0, chunk_size, interpret)


def chunk_osdn(q, k, v, beta, *, g=None, eta=1.0, d_init=1.0, d_min=0.1, d_max=1.5, apf_gate=None,
               feedback="same", scale=None, initial_state: OSDNState | None = None, chunk_size: int = 64,
               dtype=None, kernel: str = "xla", interpret: bool | None = None):
    """OSDN chunk by chunk: the preconditioner scan (plain JAX) feeds ``kw = d*k`` to the chunkwise kernel.

    Same arguments and returns as :func:`jaxor.osdn.recurrent_osdn`, plus ``chunk_size``,
    ``kernel`` (``"xla"`` or ``"pallas"``) and ``interpret`` (see :func:`chunk_delta_rule`).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> kk = jax.random.normal(jax.random.PRNGKey(0), (1, 40, 2, 8))
        >>> kk = kk / jnp.linalg.norm(kk, axis=-1, keepdims=True)
        >>> o, st, frac = chunk_osdn(kk, kk, kk, jnp.full((1, 40, 2), 0.5), eta=0.5, chunk_size=16)
        >>> o.shape
        (1, 40, 2, 8)
    """
    _check_chunk_size(chunk_size)
    q, k, v, beta, g, lam, state, eta, scale = prepare(
        q, k, v, beta, g, apf_gate, eta=eta, d_init=d_init, d_min=d_min, d_max=d_max, feedback=feedback,
        scale=scale, initial_state=initial_state, dtype=dtype)
    d_seq, (d, kp, bp, lp), frac = precondition(k, beta, eta=eta, state=state, apf_gate=lam,
                                                feedback=feedback, d_min=d_min, d_max=d_max)
    o, S = _delta(kernel, q * scale, k, d_seq * k, v, beta, g, state.S, chunk_size, interpret)
    return o, OSDNState(S, d, kp, bp, lp), frac
