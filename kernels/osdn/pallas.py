"""Pallas chunkwise kernels for DeltaNet, gated DeltaNet and OSDN (write-side key scaling).

References:
    Yang et al., "Parallelizing Linear Transformers with the Delta Rule over Sequence Length",
    arXiv 2406.06484 (2024), section 3 (WY representation, UT transform).
    Yang, Kautz, Hatamizadeh, "Gated Delta Networks", arXiv 2412.06464 (2024), section 3.3.
    Zhou et al., "OSDN: Improving Delta Rule with Provable Online Preconditioning in Linear
    Attention", arXiv 2605.13473 (2026): the write key ``kw = d * k`` (the preconditioner scan runs
    in plain JAX before these kernels).

Decomposition (derivation and backward formulas in ``README.md`` next to this file):

1. ``_prep_fwd_kernel`` (grid ``B*H x NC``, parallel): per chunk ``A``, then ``[W | U]`` by masked
   forward substitution of ``(I + A) X = diag(beta) [K e^gam | V]``.
2. inter-chunk state pass: ``U' = U - W S``, ``S <- e^{gam_C} S + (Kw e^{gam_C - gam})^T U'``, a
   ``lax.scan`` of two small matmuls per chunk (the only sequential part).
3. ``_out_fwd_kernel`` (parallel): ``O = (Q e^gam) S + ((Q Kw^T) * Gam * M) U'``.

The backward mirrors it: ``_out_bwd_kernel``, a reverse ``lax.scan`` for ``dS`` and ``dU'``, and
``_prep_bwd_kernel`` (masked backward substitution for ``(I + A)^{-T}``). Inputs may be float32 or
bfloat16 (accumulation in float32; float64 works in interpret mode). On GPUs the Triton backend
needs every block dimension a power of two >= 16: the chunk is one of 16, 32, 64 and head
dimensions are zero-padded to a power of two (exact: padded features are zero).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

__all__ = ["BlockSizes", "chunk_delta_rule_pallas", "delta_rule_reference"]


@dataclasses.dataclass(frozen=True, slots=True)
class BlockSizes:
    """Tile configuration.

    Attributes:
        chunk: chunk length ``C`` (a power of two, 16 <= C <= 128); one grid cell holds ``C`` tokens.
        num_warps: Triton warps per program (GPU only).
        num_stages: Triton pipeline stages (GPU only).
    """

    chunk: int = 64
    num_warps: int = 4
    num_stages: int = 1

    @classmethod
    def get_default(cls) -> BlockSizes:
        return cls()


def delta_rule_reference(q, k, v, beta, g=None, k_write=None, initial_state=None, scale=None):
    """Token-by-token reference of the write-key delta rule (``lax.scan``), in the inputs' dtype.

    ``S_t = (I - beta_t kw_t k_t^T)(exp(g_t) S_{t-1}) + beta_t kw_t v_t^T``, ``o_t = S_t^T (scale q_t)``.
    Shapes: ``q, k, k_write: [B, T, H, K]``, ``v: [B, T, H, V]``, ``beta, g: [B, T, H]``,
    ``initial_state: [B, H, K, V]``. Returns ``(o [B, T, H, V], S_T [B, H, K, V])``.
    """
    B, T, H, K = q.shape
    scale = K ** -0.5 if scale is None else scale
    kw = k if k_write is None else k_write
    g = jnp.zeros_like(beta) if g is None else g
    S0 = jnp.zeros((B, H, K, v.shape[-1]), q.dtype) if initial_state is None else initial_state

    def step(S, xs):
        qt, kt, kwt, vt, bt, gt = xs
        S = jnp.exp(gt)[..., None, None] * S
        new_v = bt[..., None] * (vt - jnp.einsum("bhkv,bhk->bhv", S, kt))
        S = S + jnp.einsum("bhk,bhv->bhkv", kwt, new_v)
        return S, jnp.einsum("bhkv,bhk->bhv", S, qt * scale)

    xs = tuple(jnp.moveaxis(x, 1, 0) for x in (q, k, kw, v, beta, g))
    S, o = jax.lax.scan(step, S0, xs)
    return jnp.moveaxis(o, 0, 1), S


# ----------------------------------------------------------------------------------------------
# in-kernel helpers (masks instead of dynamic register indexing, as Triton requires)


def _masks(C):
    rows = jax.lax.broadcasted_iota(jnp.int32, (C, C), 0)
    cols = jax.lax.broadcasted_iota(jnp.int32, (C, C), 1)
    return rows, cols


def _decay(gam, C):
    """``Gam_ij = exp(gam_i - gam_j)`` for ``i >= j`` else 0. ``gam: [C]`` -> ``[C, C]``."""
    rows, cols = _masks(C)
    incl = rows >= cols
    diff = gam[:, None] - gam[None, :]
    return jnp.where(incl, jnp.exp(jnp.where(incl, diff, 0.0)), 0.0)


def _dot(a, b):
    return jnp.dot(a, b, preferred_element_type=a.dtype)


def _forward_subst(A, X, C):
    """Solve ``(I + A) Y = X`` for strictly lower ``A [C, C]``, row by row with masks."""
    rows, _ = _masks(C)
    ridx = jax.lax.broadcasted_iota(jnp.int32, (C, 1), 0)

    def body(i, Y):
        a_col = jnp.sum(jnp.where(rows == i, A, 0.0), axis=0)[:, None]    # A[i, :] as a column
        upd = jnp.sum(a_col * Y, axis=0, keepdims=True)                   # [1, D]
        return jnp.where(ridx == i, Y - upd, Y)

    return jax.lax.fori_loop(1, C, body, X)


def _backward_subst(A, X, C):
    """Solve ``(I + A)^T Y = X`` for strictly lower ``A [C, C]``, last row first."""
    _, cols = _masks(C)
    ridx = jax.lax.broadcasted_iota(jnp.int32, (C, 1), 0)

    def body(n, Y):
        i = C - 2 - n
        a_col = jnp.sum(jnp.where(cols == i, A, 0.0), axis=1)[:, None]    # A[:, i]
        upd = jnp.sum(a_col * Y, axis=0, keepdims=True)
        return jnp.where(ridx == i, Y - upd, Y)

    return jax.lax.fori_loop(0, C - 1, body, X)


def _chunk_A(k, kw, beta, gam, C):
    rows, cols = _masks(C)
    G = _dot(k, kw.T)                                                     # [C, C]
    Gam = _decay(gam, C)
    A = jnp.where(rows > cols, beta[:, None] * G * Gam, 0.0)
    return G, Gam, A


# ----------------------------------------------------------------------------------------------
# kernels


def _prep_fwd_kernel(k_ref, kw_ref, v_ref, beta_ref, gam_ref, w_ref, u_ref, *, C, acc):
    k, kw, v = (r[...].astype(acc) for r in (k_ref, kw_ref, v_ref))      # [C, K], [C, K], [C, V]
    beta, gam = beta_ref[...].astype(acc), gam_ref[...].astype(acc)        # [C]
    _, _, A = _chunk_A(k, kw, beta, gam, C)
    e = jnp.exp(gam)
    w_ref[...] = _forward_subst(A, (beta * e)[:, None] * k, C).astype(w_ref.dtype)
    u_ref[...] = _forward_subst(A, beta[:, None] * v, C).astype(u_ref.dtype)


def _out_fwd_kernel(q_ref, kw_ref, gam_ref, s_ref, up_ref, o_ref, *, C, acc):
    q, kw = q_ref[...].astype(acc), kw_ref[...].astype(acc)
    gam, S, Up = gam_ref[...].astype(acc), s_ref[...], up_ref[...]        # [C], [K, V], [C, V]
    P = _dot(q, kw.T) * _decay(gam, C)                                    # [C, C]
    o = _dot(q * jnp.exp(gam)[:, None], S) + _dot(P, Up)
    o_ref[...] = o.astype(o_ref.dtype)


def _out_bwd_kernel(q_ref, kw_ref, gam_ref, s_ref, up_ref, do_ref,
                    dq_ref, dkw_ref, dup_ref, ds_ref, dgam_ref, *, C, acc):
    q, kw = q_ref[...].astype(acc), kw_ref[...].astype(acc)
    gam, S, Up, dO = gam_ref[...].astype(acc), s_ref[...], up_ref[...], do_ref[...].astype(acc)
    e = jnp.exp(gam)
    Gam = _decay(gam, C)
    Hq = _dot(q, kw.T)                                                    # Q Kw^T   [C, C]
    dOS = _dot(dO, S.T)                                                   # [C, K]
    dP = _dot(dO, Up.T)                                                   # [C, C]
    dH = dP * Gam
    dq_ref[...] = (e[:, None] * dOS + _dot(dH, kw)).astype(dq_ref.dtype)
    dkw_ref[...] = _dot(dH.T, q).astype(dkw_ref.dtype)
    dup_ref[...] = _dot((Hq * Gam).T, dO).astype(dup_ref.dtype)
    ds_ref[...] = _dot((q * e[:, None]).T, dO).astype(ds_ref.dtype)
    Z = dH * Hq
    dgam_ref[...] = (e * jnp.sum(q * dOS, axis=1) + jnp.sum(Z, axis=1) - jnp.sum(Z, axis=0)).astype(dgam_ref.dtype)


def _prep_bwd_kernel(k_ref, kw_ref, v_ref, beta_ref, gam_ref, w_ref, up_ref, s_ref, dsn_ref, dup_ref,
                     dk_ref, dkw_ref, dv_ref, dbeta_ref, dgam_ref, *, C, acc):
    k, kw, v = (r[...].astype(acc) for r in (k_ref, kw_ref, v_ref))
    beta, gam = beta_ref[...].astype(acc), gam_ref[...].astype(acc)
    W, Up, S, dSn, dUp = w_ref[...], up_ref[...], s_ref[...], dsn_ref[...], dup_ref[...]
    rows, cols = _masks(C)
    G, Gam, A = _chunk_A(k, kw, beta, gam, C)
    e = jnp.exp(gam)
    U = Up + _dot(W, S)
    # X = (I + A)^{-1} R  =>  dR = (I + A)^{-T} dX,  dA = -dR X^T (strictly lower part)
    YW = _backward_subst(A, -_dot(dUp, S.T), C)                           # dW = -dU' S^T
    YU = _backward_subst(A, dUp, C)                                       # dU = dU'
    dA = jnp.where(rows > cols, -(_dot(YW, W.T) + _dot(YU, U.T)), 0.0)
    be = beta * e
    dk = be[:, None] * YW
    dbeta = jnp.sum(YW * k, axis=1) * e + jnp.sum(YU * v, axis=1)
    dgam = be * jnp.sum(YW * k, axis=1)
    dv = beta[:, None] * YU
    Yd = dA * Gam
    dbeta = dbeta + jnp.sum(Yd * G, axis=1)
    dG = beta[:, None] * Yd
    dk = dk + _dot(dG, kw)
    dkw = _dot(dG.T, k)
    Z = dG * G
    dgam = dgam + jnp.sum(Z, axis=1) - jnp.sum(Z, axis=0)
    # state hand-off S_next = e^{gam_C} S + (Kw r)^T U',  r = e^{gam_C - gam}
    idx = jax.lax.broadcasted_iota(jnp.int32, (C,), 0)
    gamC = jnp.sum(jnp.where(idx == C - 1, gam, 0.0))
    r = jnp.exp(gamC - gam)
    M2 = _dot(Up, dSn.T)                                                  # [C, K]
    dkw = dkw + r[:, None] * M2
    zr = r * jnp.sum(kw * M2, axis=1)
    extra = jnp.sum(zr) + jnp.exp(gamC) * jnp.sum(S * dSn)
    dgam = dgam - zr + jnp.where(idx == C - 1, extra, 0.0)
    dk_ref[...] = dk.astype(dk_ref.dtype)
    dkw_ref[...] = dkw.astype(dkw_ref.dtype)
    dv_ref[...] = dv.astype(dv_ref.dtype)
    dbeta_ref[...] = dbeta.astype(dbeta_ref.dtype)
    dgam_ref[...] = dgam.astype(dgam_ref.dtype)


# ----------------------------------------------------------------------------------------------
# launch helpers


def _spec(kind, C, D=None, E=None):
    if kind == "seq":          # [BH, Tp, D] -> block [C, D]
        return pl.BlockSpec((None, C, D), lambda b, c: (b, c, 0))
    if kind == "vec":          # [BH, Tp] -> block [C]
        return pl.BlockSpec((None, C), lambda b, c: (b, c))
    if kind == "state":        # [BH, NC, D, E] -> block [D, E]
        return pl.BlockSpec((None, None, D, E), lambda b, c: (b, c, 0, 0))
    raise AssertionError(kind)


def _call(kernel, name, ins, outs, grid, bs: BlockSizes, interpret, acc):
    in_specs = [s for s, _ in ins]
    out_specs = [s for s, _ in outs]
    out_shape = [shape for _, shape in outs]
    params = {}
    if not interpret:
        from jax.experimental.pallas import triton as plgpu

        params["compiler_params"] = plgpu.CompilerParams(num_warps=bs.num_warps, num_stages=bs.num_stages)
    return pl.pallas_call(functools.partial(kernel, C=bs.chunk, acc=acc), grid=grid, in_specs=in_specs,
                          out_specs=out_specs, out_shape=out_shape, interpret=interpret, name=name,
                          **params)


def _handoff(kw, gam, NC, C, acc):
    """Per chunk ``Kw * e^{gam_C - gam}`` ``[BH, NC, C, K]`` and ``e^{gam_C}`` ``[BH, NC]`` (state hand-off)."""
    BH = kw.shape[0]
    gc = gam.reshape(BH, NC, C).astype(acc)
    return kw.reshape(BH, NC, C, -1).astype(acc) * jnp.exp(gc[..., -1:] - gc)[..., None], jnp.exp(gc[..., -1])


def _fwd_impl(q, k, kw, v, beta, gam, S0, bs: BlockSizes, interpret: bool):
    """Arrays in kernel layout: ``q, k, kw: [BH, Tp, K]``, ``v: [BH, Tp, V]``, ``beta, gam: [BH, Tp]``."""
    BH, Tp, K = q.shape
    V = v.shape[-1]
    C = bs.chunk
    NC = Tp // C
    acc = jnp.promote_types(q.dtype, jnp.float32)
    f = lambda *s: jax.ShapeDtypeStruct(s, acc)
    W, U = _call(_prep_fwd_kernel, "osdn_prep_fwd",
                 [(_spec("seq", C, K), None), (_spec("seq", C, K), None), (_spec("seq", C, V), None),
                  (_spec("vec", C), None), (_spec("vec", C), None)],
                 [(_spec("seq", C, K), f(BH, Tp, K)), (_spec("seq", C, V), f(BH, Tp, V))],
                 (BH, NC), bs, interpret, acc)(k, kw, v, beta, gam)
    Wc, Uc = W.reshape(BH, NC, C, K), U.reshape(BH, NC, C, V)
    KWr, eC = _handoff(kw, gam, NC, C, acc)

    def step(S, xs):
        W_c, U_c, KWr_c, eC_c = xs
        Up = U_c - W_c @ S
        return eC_c[:, None, None] * S + jnp.swapaxes(KWr_c, -1, -2) @ Up, (S, Up)

    mv = lambda x: jnp.moveaxis(x, 1, 0)
    S_T, (S_in, Up) = jax.lax.scan(step, S0.astype(acc), (mv(Wc), mv(Uc), mv(KWr), mv(eC)))
    S_in = jnp.moveaxis(S_in, 0, 1)                                       # [BH, NC, K, V]
    Up = jnp.moveaxis(Up, 0, 1).reshape(BH, Tp, V)
    O = _call(_out_fwd_kernel, "osdn_out_fwd",
              [(_spec("seq", C, K), None), (_spec("seq", C, K), None), (_spec("vec", C), None),
               (_spec("state", C, K, V), None), (_spec("seq", C, V), None)],
              [(_spec("seq", C, V), jax.ShapeDtypeStruct((BH, Tp, V), q.dtype))],
              (BH, NC), bs, interpret, acc)(q, kw, gam, S_in, Up)[0]
    return O, S_T, (W, Up, S_in)


def _bwd_impl(q, k, kw, v, beta, gam, S0, res, dO, dST, bs: BlockSizes, interpret: bool):
    W, Up, S_in = res
    BH, Tp, K = q.shape
    V = v.shape[-1]
    C = bs.chunk
    NC = Tp // C
    acc = jnp.promote_types(q.dtype, jnp.float32)
    f = lambda *s: jax.ShapeDtypeStruct(s, acc)
    dq, dkw_o, dup_loc, ds_loc, dgam_o = _call(
        _out_bwd_kernel, "osdn_out_bwd",
        [(_spec("seq", C, K), None), (_spec("seq", C, K), None), (_spec("vec", C), None),
         (_spec("state", C, K, V), None), (_spec("seq", C, V), None), (_spec("seq", C, V), None)],
        [(_spec("seq", C, K), f(BH, Tp, K)), (_spec("seq", C, K), f(BH, Tp, K)),
         (_spec("seq", C, V), f(BH, Tp, V)), (_spec("state", C, K, V), f(BH, NC, K, V)),
         (_spec("vec", C), f(BH, Tp))],
        (BH, NC), bs, interpret, acc)(q, kw, gam, S_in, Up, dO)
    KWr, eC = _handoff(kw, gam, NC, C, acc)
    Wc = W.reshape(BH, NC, C, K)

    def step(dS, xs):                       # dS: gradient w.r.t. the state leaving this chunk
        W_c, KWr_c, eC_c, dup_c, dsl_c = xs
        dUp = dup_c + KWr_c @ dS
        dS_in = eC_c[:, None, None] * dS + dsl_c - jnp.swapaxes(W_c, -1, -2) @ dUp
        return dS_in, (dS, dUp)

    mv = lambda x: jnp.moveaxis(x, 1, 0)
    dS0, (dS_next, dUp) = jax.lax.scan(
        step, dST.astype(acc), (mv(Wc), mv(KWr), mv(eC), mv(dup_loc.reshape(BH, NC, C, V)), mv(ds_loc)),
        reverse=True)
    dS_next = jnp.moveaxis(dS_next, 0, 1)
    dUp = jnp.moveaxis(dUp, 0, 1).reshape(BH, Tp, V)
    dk, dkw_p, dv, dbeta, dgam_p = _call(
        _prep_bwd_kernel, "osdn_prep_bwd",
        [(_spec("seq", C, K), None), (_spec("seq", C, K), None), (_spec("seq", C, V), None),
         (_spec("vec", C), None), (_spec("vec", C), None), (_spec("seq", C, K), None),
         (_spec("seq", C, V), None), (_spec("state", C, K, V), None), (_spec("state", C, K, V), None),
         (_spec("seq", C, V), None)],
        [(_spec("seq", C, K), f(BH, Tp, K)), (_spec("seq", C, K), f(BH, Tp, K)),
         (_spec("seq", C, V), f(BH, Tp, V)), (_spec("vec", C), f(BH, Tp)), (_spec("vec", C), f(BH, Tp))],
        (BH, NC), bs, interpret, acc)(k, kw, v, beta, gam, W, Up, S_in, dS_next, dUp)
    dgam = dgam_o + dgam_p
    return dq, dk, dkw_o + dkw_p, dv, dbeta, dgam, dS0


# ----------------------------------------------------------------------------------------------
# custom_vjp core in kernel layout; gam = in-chunk cumsum of g is formed inside so dg is exact


def _gam(g, C):
    BH, Tp = g.shape
    return jnp.cumsum(g.reshape(BH, Tp // C, C), axis=-1).reshape(BH, Tp)


def _dg(dgam, C):
    BH, Tp = dgam.shape
    x = dgam.reshape(BH, Tp // C, C)
    return jnp.flip(jnp.cumsum(jnp.flip(x, -1), -1), -1).reshape(BH, Tp)


@functools.partial(jax.custom_vjp, nondiff_argnums=(7, 8, 9))
def _core(q, k, kw, v, beta, g, S0, bs, interpret, backward_impl):
    O, S_T, _ = _fwd_impl(q, k, kw, v, beta, _gam(g, bs.chunk), S0, bs, interpret)
    return O, S_T


def _core_fwd(q, k, kw, v, beta, g, S0, bs, interpret, backward_impl):
    gam = _gam(g, bs.chunk)
    O, S_T, res = _fwd_impl(q, k, kw, v, beta, gam, S0, bs, interpret)
    return (O, S_T), (q, k, kw, v, beta, g, S0, res)


def _layout_reference(q, k, kw, v, beta, g, S0):
    """The reference in kernel layout (``[BH, T, D]``), used for ``backward_impl="reference"``."""
    to = lambda x: x[:, :, None]
    o, S = delta_rule_reference(to(q), to(k), to(v), beta[..., None], g[..., None], to(kw), S0[:, None], 1.0)
    return o[:, :, 0], S[:, 0]


def _core_bwd(bs, interpret, backward_impl, saved, cts):
    q, k, kw, v, beta, g, S0, res = saved
    dO, dST = cts
    if backward_impl == "reference":
        _, vjp = jax.vjp(_layout_reference, q, k, kw, v, beta, g, S0)
        return vjp((dO, dST))
    dq, dk, dkw, dv, dbeta, dgam, dS0 = _bwd_impl(q, k, kw, v, beta, _gam(g, bs.chunk), S0, res, dO, dST,
                                                  bs, interpret)
    cast = lambda x, like: x.astype(like.dtype)
    return (cast(dq, q), cast(dk, k), cast(dkw, kw), cast(dv, v), cast(dbeta, beta),
            cast(_dg(dgam, bs.chunk), g), cast(dS0, S0))


_core.defvjp(_core_fwd, _core_bwd)


def _pow2(n, lo=16):
    return max(lo, 1 << (int(n) - 1).bit_length())


@functools.partial(jax.jit, static_argnames=("scale", "block_sizes", "interpret", "backward_impl"))
def _run(q, k, v, beta, g, k_write, initial_state, *, scale, block_sizes, interpret, backward_impl):
    B, T, H, K = q.shape
    V = v.shape[-1]
    C = block_sizes.chunk
    Tp = -(-T // C) * C
    Kp, Vp = (K, V) if interpret else (_pow2(K), _pow2(V))
    acc = jnp.promote_types(q.dtype, jnp.float32)

    def lay(x, D):            # [B, T, H, D] -> [B*H, Tp, Dp], zero padded
        x = jnp.moveaxis(x, 2, 1).reshape(B * H, T, x.shape[-1])
        return jnp.pad(x, ((0, 0), (0, Tp - T), (0, D - x.shape[-1])))

    vec = lambda x: jnp.pad(jnp.moveaxis(x, 2, 1).reshape(B * H, T), ((0, 0), (0, Tp - T)))
    S0 = jnp.pad(initial_state.astype(acc).reshape(B * H, K, V), ((0, 0), (0, Kp - K), (0, Vp - V)))
    O, S_T = _core(lay(q * scale, Kp), lay(k, Kp), lay(k_write, Kp), lay(v, Vp), vec(beta), vec(g).astype(acc),
                   S0, block_sizes, interpret, backward_impl)
    O = jnp.moveaxis(O[:, :T, :V].reshape(B, H, T, V), 1, 2)
    return O, S_T[:, :K, :V].reshape(B, H, K, V)


def chunk_delta_rule_pallas(q, k, v, beta, *, g=None, k_write=None, initial_state=None, scale=None,
                            chunk_size: int | None = None, block_sizes: BlockSizes | None = None,
                            interpret: bool | None = None, backward_impl: str = "pallas"):
    """Chunkwise (gated) delta rule with a write-side key, as Pallas kernels with a Pallas backward.

    Math (per token; the kernels evaluate it chunk by chunk):
    ``S_t = (I - beta_t kw_t k_t^T)(exp(g_t) S_{t-1}) + beta_t kw_t v_t^T``, ``o_t = S_t^T (scale q_t)``.
    DeltaNet: ``kw = k, g = 0``; gated DeltaNet: ``g <= 0``; OSDN: ``kw = d * k``.

    Args:
        q, k: ``[B, T, H, K]``; v: ``[B, T, H, V]``; beta: ``[B, T, H]``; g: ``[B, T, H]`` or None;
            k_write: ``[B, T, H, K]`` or None (= ``k``). float32 or bfloat16 (float64 in interpret mode).
        initial_state: ``[B, H, K, V]`` or None (zeros).
        scale: query scale, default ``K ** -0.5``.
        chunk_size: shortcut for ``BlockSizes(chunk=chunk_size)``; block_sizes: full tile config.
        interpret: run the kernels as plain JAX (default: True unless the default backend is a GPU).
        backward_impl: ``"pallas"`` (the backward kernels) or ``"reference"`` (``jax.vjp`` of
            :func:`delta_rule_reference`, a slow but certainly correct gradient).

    Returns:
        ``(o [B, T, H, V]`` in ``q``'s dtype, ``S_T [B, H, K, V]`` in float32 (float64 for float64 inputs)).

    Examples:
        >>> import jax.numpy as jnp
        >>> q = k = jnp.ones((1, 20, 1, 16)) / 4.0; v = jnp.ones((1, 20, 1, 16)); b = jnp.full((1, 20, 1), 0.5)
        >>> o, S = chunk_delta_rule_pallas(q, k, v, b, chunk_size=16, interpret=True)
        >>> o.shape, S.shape
        ((1, 20, 1, 16), (1, 1, 16, 16))
    """
    for name, x in (("q", q), ("k", k), ("v", v)):
        if getattr(x, "ndim", None) != 4:
            raise ValueError(f"{name} must have shape [B, T, H, D]; got {getattr(x, 'shape', None)}")
    B, T, H, K = q.shape
    if T == 0:
        raise ValueError(f"{T=}: sequences must be non-empty")
    if k.shape != q.shape or (k_write is not None and k_write.shape != q.shape):
        raise ValueError(f"k and k_write must have q's shape {q.shape}; got {k.shape}, "
                         f"{None if k_write is None else k_write.shape}")
    if v.shape[:3] != (B, T, H):
        raise ValueError(f"{v.shape=} must start with {(B, T, H)}")
    for name, x in (("beta", beta), ("g", g)):
        if x is not None and x.shape != (B, T, H):
            raise ValueError(f"{name} must have shape {(B, T, H)}; got {x.shape}")
    if block_sizes is None:
        block_sizes = BlockSizes(chunk=chunk_size) if chunk_size is not None else BlockSizes.get_default()
    elif chunk_size is not None and chunk_size != block_sizes.chunk:
        raise ValueError(f"{chunk_size=} disagrees with {block_sizes.chunk=}")
    C = block_sizes.chunk
    if C < 16 or C > 128 or C & (C - 1):
        raise ValueError(f"chunk={C} must be a power of two in [16, 128] (Triton dot dimensions)")
    if backward_impl not in ("pallas", "reference"):
        raise ValueError(f"{backward_impl=} must be 'pallas' or 'reference'")
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    V = v.shape[-1]
    acc = jnp.promote_types(q.dtype, jnp.float32)
    S0 = jnp.zeros((B, H, K, V), acc) if initial_state is None else initial_state
    if S0.shape != (B, H, K, V):
        raise ValueError(f"initial_state must have shape {(B, H, K, V)}; got {S0.shape}")
    g = jnp.zeros((B, T, H), acc) if g is None else g
    k_write = k if k_write is None else k_write
    return _run(q, k, v, beta, g, k_write, S0, scale=float(K ** -0.5 if scale is None else scale),
                block_sizes=block_sizes, interpret=bool(interpret), backward_impl=backward_impl)
