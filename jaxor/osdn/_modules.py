"""Equinox token mixers in the flash-linear-attention style: DeltaNet (plain, gated, linear) and OSDN.

References:
    Yang et al., arXiv 2406.06484 (2024), section 4 (the DeltaNet layer: short convolutions, L2-normalised
    q/k, sigmoid beta, output norm). Yang, Kautz, Hatamizadeh, arXiv 2412.06464 (2024) (the gate
    ``g = -exp(A_log) softplus(a(x) + dt_bias)``). Zhou et al., arXiv 2605.13473 (2026) (OSDN).

Layer (per example; use ``jax.vmap`` for batches): ``q, k, v = SiLU(conv(W_q x)), ...``; ``q, k``
L2-normalised per head; ``beta = sigmoid(W_b x)`` (times 2 with ``allow_neg_eigval``); the token mixer
(backend ``"recurrent"``, ``"chunk"`` or ``"pallas"``); per-head RMSNorm; output projection.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxor.osdn._chunk import chunk_delta_rule, chunk_osdn
from jaxor.osdn._decode import osdn_step
from jaxor.osdn._precond import OSDNState, init_state
from jaxor.osdn._recurrent import recurrent_delta_rule, recurrent_osdn

BACKENDS = ("recurrent", "chunk", "pallas")
RULES = ("delta", "gated", "linear")


def _linear(key, d_in, d_out, bias=False):
    return eqx.nn.Linear(d_in, d_out, use_bias=bias, key=key)


def _apply(lin: eqx.nn.Linear, x):
    y = x @ lin.weight.T
    return y if lin.bias is None else y + lin.bias


def _l2(x, eps=1e-6):
    return x * jax.lax.rsqrt(jnp.sum(x * x, -1, keepdims=True) + eps)


def _rmsnorm(x, w, eps=1e-6):
    return x * jax.lax.rsqrt(jnp.mean(x * x, -1, keepdims=True) + eps) * w


class ShortConv(eqx.Module):
    """Causal depthwise convolution followed by SiLU. ``weight: [D, width]``; input ``[T, D]``."""

    weight: jax.Array

    def __init__(self, dim: int, width: int, *, key):
        self.weight = jax.random.uniform(key, (dim, width), minval=-1.0, maxval=1.0) / math.sqrt(width)

    def __call__(self, x, cache=None):
        """``x: [T, D]``, ``cache: [width-1, D]`` of earlier inputs (zeros when None). Returns ``(y, new_cache)``."""
        w = self.weight.shape[1]
        past = jnp.zeros((w - 1, x.shape[1]), x.dtype) if cache is None else cache.astype(x.dtype)
        xp = jnp.concatenate([past, x], axis=0)
        T = x.shape[0]
        y = sum(xp[j:j + T] * self.weight[:, j] for j in range(w))
        return jax.nn.silu(y), xp[xp.shape[0] - (w - 1):]


class _Cache(eqx.Module):
    conv: tuple          # three [width-1, H*D] arrays (q, k, v)
    state: OSDNState     # batch 1


def _check_dims(d_model, num_heads, head_dim, backend, chunk_size):
    if d_model <= 0 or num_heads <= 0:
        raise ValueError(f"d_model={d_model} and num_heads={num_heads} must be positive")
    if head_dim is None and d_model % num_heads:
        raise ValueError(f"num_heads={num_heads} must divide d_model={d_model} (or pass head_dim)")
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} must be one of {BACKENDS}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size={chunk_size} must be positive")


def _features(m, x, conv_cache=None):
    """Projections, short convolutions, L2 norms and beta. ``x: [T, D]`` -> ``[1, T, H, Dh]`` arrays."""
    T = x.shape[0]
    H, Dh = m.num_heads, m.head_dim
    caches = (None, None, None) if conv_cache is None else conv_cache
    outs = []
    for lin, conv, c in zip((m.q_proj, m.k_proj, m.v_proj), (m.q_conv, m.k_conv, m.v_conv), caches, strict=True):
        y, nc = conv(_apply(lin, x), c)
        outs.append((y.reshape(1, T, H, Dh), nc))
    (q, cq), (k, ck), (v, cv) = outs
    beta = jax.nn.sigmoid(_apply(m.b_proj, x))[None] * (2.0 if m.allow_neg_eigval else 1.0)
    return _l2(q), _l2(k), v, beta, (cq, ck, cv)


def _finish(m, o):
    """``o: [1, T, H, Dh]`` -> per-head RMSNorm -> output projection ``[T, D]``."""
    o = _rmsnorm(o[0], m.o_norm)
    return _apply(m.o_proj, o.reshape(o.shape[0], -1))


def _init_common(m, d_model, num_heads, head_dim, conv_size, keys):
    H = num_heads
    Dh = d_model // num_heads if head_dim is None else head_dim
    m.num_heads, m.head_dim = H, Dh
    m.q_proj, m.k_proj, m.v_proj = (_linear(kk, d_model, H * Dh) for kk in keys[:3])
    m.q_conv, m.k_conv, m.v_conv = (ShortConv(H * Dh, conv_size, key=kk) for kk in keys[3:6])
    m.b_proj = _linear(keys[6], d_model, H, bias=True)
    m.o_norm = jnp.ones((Dh,))
    m.o_proj = _linear(keys[7], H * Dh, d_model)


def _gate(m, x):
    if m.a_proj is None:
        return None
    a = _apply(m.a_proj, x) + m.dt_bias
    return (-jnp.exp(m.A_log) * jax.nn.softplus(a))[None]


def _gate_params(key, d_model, H):
    k1, k2, k3 = jax.random.split(key, 3)
    dt = jnp.exp(jax.random.uniform(k2, (H,), minval=math.log(1e-3), maxval=math.log(0.1)))
    return (_linear(k1, d_model, H), jnp.log(jax.random.uniform(k3, (H,), minval=1.0, maxval=16.0)),
            dt + jnp.log(-jnp.expm1(-dt)))  # inverse softplus


def _linear_attention(q, k, v, S0, scale):
    """Causal linear attention ``o_t = sum_{j<=t} (scale q_t . k_j) v_j + S0^T q_t``; arrays ``[1, T, H, D]``."""
    T = q.shape[1]
    s = jnp.einsum("bthk,bshk->bhts", q * scale, k) * jnp.tril(jnp.ones((T, T), q.dtype))
    o = jnp.einsum("bhts,bshv->bthv", s, v) + jnp.einsum("bthk,bhkv->bthv", q * scale, S0)
    return o, S0 + jnp.einsum("bthk,bthv->bhkv", k, v)


class _AbstractMixer(eqx.Module):
    """Fields and plumbing shared by the token mixers (projections, convolutions, gate, output)."""

    q_proj: eqx.nn.Linear
    k_proj: eqx.nn.Linear
    v_proj: eqx.nn.Linear
    q_conv: ShortConv
    k_conv: ShortConv
    v_conv: ShortConv
    b_proj: eqx.nn.Linear
    o_norm: jax.Array
    o_proj: eqx.nn.Linear
    a_proj: eqx.nn.Linear | None
    A_log: jax.Array | None
    dt_bias: jax.Array | None
    num_heads: eqx.AbstractVar[int]
    head_dim: eqx.AbstractVar[int]
    backend: eqx.AbstractVar[str]
    chunk_size: eqx.AbstractVar[int]
    allow_neg_eigval: eqx.AbstractVar[bool]

    def __call__(self, x):
        """``x: [T, D] -> [T, D]``."""
        return self.prefill(x)[0]

    def _conv_cache(self, dtype):
        w = self.q_conv.weight.shape[1]
        return tuple(jnp.zeros((w - 1, self.num_heads * self.head_dim), dtype) for _ in range(3))

    @abc.abstractmethod
    def prefill(self, x, cache=None):
        """Run a block of tokens ``x: [T, D]``; returns ``(y [T, D], cache)`` to continue decoding."""

    @abc.abstractmethod
    def step(self, x, cache):
        """One token ``x: [D]``; returns ``(y [D], cache)``."""


class DeltaNetAttention(_AbstractMixer):
    """DeltaNet token mixer (``rule="delta"``), gated DeltaNet (``"gated"``) or plain linear attention (``"linear"``).

    Args:
        d_model: model width ``D``. num_heads: ``H`` (must divide ``D`` unless ``head_dim`` is given).
        head_dim: per-head ``d_k = d_v`` (default ``D // H``). conv_size: short-convolution width (4).
        rule: ``"delta"``, ``"gated"`` or ``"linear"``. backend: ``"recurrent"``, ``"chunk"`` or ``"pallas"``.
        chunk_size: chunk length for ``"chunk"``/``"pallas"``. allow_neg_eigval: ``beta`` in (0, 2).
        key: PRNG key (keyword-only).

    ``__call__(x [T, D]) -> [T, D]`` is per example; use ``jax.vmap`` for batches.

    Examples:
        >>> import jax
        >>> m = DeltaNetAttention(32, 2, key=jax.random.PRNGKey(0))
        >>> m(jax.numpy.ones((10, 32))).shape
        (10, 32)
    """

    num_heads: int = eqx.field(static=True)
    head_dim: int = eqx.field(static=True)
    backend: str = eqx.field(static=True)
    chunk_size: int = eqx.field(static=True)
    allow_neg_eigval: bool = eqx.field(static=True)
    rule: str = eqx.field(static=True)

    def __init__(self, d_model: int, num_heads: int, *, key, head_dim: int | None = None, conv_size: int = 4,
                 rule: str = "delta", backend: str = "chunk", chunk_size: int = 64, allow_neg_eigval: bool = False):
        _check_dims(d_model, num_heads, head_dim, backend, chunk_size)
        if rule not in RULES:
            raise ValueError(f"rule={rule!r} must be one of {RULES}")
        keys = jax.random.split(key, 9)
        _init_common(self, d_model, num_heads, head_dim, conv_size, keys)
        self.rule, self.backend, self.chunk_size = rule, backend, chunk_size
        self.allow_neg_eigval = allow_neg_eigval
        if rule == "gated":
            self.a_proj, self.A_log, self.dt_bias = _gate_params(keys[8], d_model, num_heads)
        else:
            self.a_proj = self.A_log = self.dt_bias = None

    def _mix(self, q, k, v, beta, g, S0):
        scale = self.head_dim ** -0.5
        if self.rule == "linear":
            return _linear_attention(q, k, v, S0, scale)
        if self.backend == "recurrent":
            return recurrent_delta_rule(q, k, v, beta, g=g, initial_state=S0, scale=scale)
        return chunk_delta_rule(q, k, v, beta, g=g, initial_state=S0, scale=scale, chunk_size=self.chunk_size,
                                kernel="pallas" if self.backend == "pallas" else "xla")

    def init_cache(self, dtype=jnp.float32) -> _Cache:
        """A fresh decoding cache (batch 1)."""
        return _Cache(self._conv_cache(dtype), init_state(1, self.num_heads, self.head_dim, self.head_dim,
                                                          dtype=dtype))

    def prefill(self, x, cache: _Cache | None = None):
        """Run a block of tokens ``x: [T, D]``; returns ``(y [T, D], cache)`` to continue decoding."""
        q, k, v, beta, cc = _features(self, x, None if cache is None else cache.conv)
        st = cache.state if cache is not None else self.init_cache(q.dtype).state
        o, S = self._mix(q, k, v, beta, _gate(self, x), st.S)
        return _finish(self, o), _Cache(cc, st._replace(S=S.astype(st.S.dtype)))

    def step(self, x, cache: _Cache):
        """One token ``x: [D]``; returns ``(y [D], cache)``."""
        q, k, v, beta, cc = _features(self, x[None], cache.conv)
        st = cache.state
        if self.rule == "linear":
            S = st.S + jnp.einsum("bk,bv->bkv", k[0, 0], v[0, 0])[None]
            o = jnp.einsum("bhkv,bhk->bhv", S, q[:, 0] * self.head_dim ** -0.5)
            st = st._replace(S=S)
        else:
            g = _gate(self, x[None])
            o, st = osdn_step(st, q[:, 0], k[:, 0], v[:, 0], beta[:, 0], g=None if g is None else g[:, 0],
                              eta=0.0)
        return _finish(self, o[:, None])[0], _Cache(cc, st)


class OSDNAttention(_AbstractMixer):
    """OSDN token mixer: DeltaNet with an online diagonal preconditioner on the write-side key.

    Learned preconditioner parameters: ``eta = eta_max * sigmoid(eta_logit)`` per head (so the
    hypergradient step stays in ``(0, eta_max)``; ``eta_max = 1`` keeps ``eta beta^2 <= 1``),
    ``d_init [H, K]`` (initialised to 1: DeltaNet at the first token), and with ``use_apf`` the APF
    gate ``lam = sigmoid(W_lam x + b_lam)`` (bias initialised to 3, ``lam ~ 0.95``).

    Args:
        d_model, num_heads, head_dim, conv_size, backend, chunk_size, allow_neg_eigval, key: as
            :class:`DeltaNetAttention`.
        gated: multiply the transition by ``exp(g)`` (gated-DeltaNet gate).
        feedback: ``"same"`` or ``"next"`` (see :mod:`jaxor.osdn._precond`).
        use_apf: adaptive preconditioner forgetting on/off (the ablation switch).
        d_min, d_max: clip bounds; default ``d_max = 1.5 / beta_max`` (``beta_max`` 1, or 2 with
            ``allow_neg_eigval``, which gives 0.75 <= 1). eta_init: initial ``eta``.

    Examples:
        >>> import jax
        >>> m = OSDNAttention(32, 2, key=jax.random.PRNGKey(0), feedback="next", use_apf=True)
        >>> m(jax.numpy.ones((10, 32))).shape
        (10, 32)
    """

    eta_logit: jax.Array
    d_init: jax.Array
    apf_proj: eqx.nn.Linear | None
    num_heads: int = eqx.field(static=True)
    head_dim: int = eqx.field(static=True)
    backend: str = eqx.field(static=True)
    chunk_size: int = eqx.field(static=True)
    allow_neg_eigval: bool = eqx.field(static=True)
    feedback: str = eqx.field(static=True)
    d_min: float = eqx.field(static=True)
    d_max: float = eqx.field(static=True)
    eta_max: float = eqx.field(static=True)

    def __init__(self, d_model: int, num_heads: int, *, key, head_dim: int | None = None, conv_size: int = 4,
                 backend: str = "chunk", chunk_size: int = 64, allow_neg_eigval: bool = False,
                 gated: bool = False, feedback: str = "same", use_apf: bool = False, d_min: float = 0.1,
                 d_max: float | None = None, eta_init: float = 0.5, eta_max: float = 1.0):
        _check_dims(d_model, num_heads, head_dim, backend, chunk_size)
        if feedback not in ("same", "next"):
            raise ValueError(f"feedback={feedback!r} must be 'same' or 'next'")
        if not 0.0 < eta_init < eta_max:
            raise ValueError(f"need 0 < eta_init < eta_max; got eta_init={eta_init}, eta_max={eta_max}")
        d_max = 1.5 / (2.0 if allow_neg_eigval else 1.0) if d_max is None else d_max
        if not 0.0 <= d_min < d_max:
            raise ValueError(f"need 0 <= d_min < d_max; got d_min={d_min}, d_max={d_max}")
        keys = jax.random.split(key, 10)
        _init_common(self, d_model, num_heads, head_dim, conv_size, keys)
        self.backend, self.chunk_size, self.allow_neg_eigval = backend, chunk_size, allow_neg_eigval
        self.feedback, self.d_min, self.d_max, self.eta_max = feedback, float(d_min), float(d_max), float(eta_max)
        if gated:
            self.a_proj, self.A_log, self.dt_bias = _gate_params(keys[8], d_model, num_heads)
        else:
            self.a_proj = self.A_log = self.dt_bias = None
        p = eta_init / eta_max
        self.eta_logit = jnp.full((num_heads,), math.log(p / (1 - p)), dtype=jnp.float32)
        self.d_init = jnp.clip(jnp.ones((num_heads, self.head_dim)), d_min, d_max)
        if use_apf:
            lin = _linear(keys[9], d_model, num_heads, bias=True)
            self.apf_proj = eqx.tree_at(lambda m: m.bias, lin, jnp.full((num_heads,), 3.0, dtype=jnp.float32))
        else:
            self.apf_proj = None

    def _hyper(self):
        return dict(eta=self.eta_max * jax.nn.sigmoid(self.eta_logit), d_min=self.d_min, d_max=self.d_max,
                    feedback=self.feedback, scale=self.head_dim ** -0.5)

    def _apf(self, x):
        return None if self.apf_proj is None else jax.nn.sigmoid(_apply(self.apf_proj, x))[None]

    def init_cache(self, dtype=jnp.float32) -> _Cache:
        """A fresh decoding cache (batch 1) whose preconditioner starts at ``d_init``."""
        return _Cache(self._conv_cache(dtype), init_state(1, self.num_heads, self.head_dim, self.head_dim,
                                                          d_init=self.d_init, dtype=dtype))

    def prefill(self, x, cache: _Cache | None = None):
        """Run a block of tokens ``x: [T, D]``; returns ``(y [T, D], cache)``."""
        q, k, v, beta, cc = _features(self, x, None if cache is None else cache.conv)
        st = cache.state if cache is not None else self.init_cache(q.dtype).state
        kw = dict(g=_gate(self, x), apf_gate=self._apf(x), initial_state=st, **self._hyper())
        if self.backend == "recurrent":
            o, st, _ = recurrent_osdn(q, k, v, beta, **kw)
        else:
            o, st, _ = chunk_osdn(q, k, v, beta, chunk_size=self.chunk_size,
                                  kernel="pallas" if self.backend == "pallas" else "xla", **kw)
        return _finish(self, o), _Cache(cc, st)

    def step(self, x, cache: _Cache):
        """One token ``x: [D]``; returns ``(y [D], cache)``."""
        q, k, v, beta, cc = _features(self, x[None], cache.conv)
        g, lam = _gate(self, x[None]), self._apf(x[None])
        o, st = osdn_step(cache.state, q[:, 0], k[:, 0], v[:, 0], beta[:, 0], g=None if g is None else g[:, 0],
                          apf_gate=None if lam is None else lam[:, 0], **self._hyper())
        return _finish(self, o[:, None])[0], _Cache(cc, st)
