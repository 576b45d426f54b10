"""A small decoder-only language model on the DeltaNet / OSDN token mixers, with save/load and generation.

Zhou et al., arXiv 2605.13473 (2026) (OSDN); Yang et al., arXiv 2406.06484 (2024) (DeltaNet blocks).
Block: ``x + mixer(RMSNorm(x))`` then ``x + SwiGLU(RMSNorm(x))``; tied-free output head.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxor.osdn._modules import BACKENDS, DeltaNetAttention, OSDNAttention, _apply, _linear, _rmsnorm

MIXERS = ("linear", "deltanet", "gated_deltanet", "osdn")


@dataclasses.dataclass(frozen=True)
class LMConfig:
    """Hyper-parameters of :class:`LM` (everything ``save``/``load`` needs to rebuild the skeleton).

    Attributes:
        vocab_size, d_model, num_layers, num_heads: sizes. mlp_ratio: SwiGLU hidden = ``mlp_ratio * d_model``
            (0 drops the MLP). mixer: ``"linear"``, ``"deltanet"``, ``"gated_deltanet"`` or ``"osdn"``.
        backend, chunk_size: token-mixer backend. feedback, use_apf, gated: OSDN options.
    """

    vocab_size: int = 256
    d_model: int = 64
    num_layers: int = 2
    num_heads: int = 1
    mlp_ratio: int = 2
    mixer: str = "osdn"
    backend: str = "chunk"
    chunk_size: int = 64
    feedback: str = "same"
    use_apf: bool = False
    gated: bool = False

    def __post_init__(self):
        if self.mixer not in MIXERS:
            raise ValueError(f"mixer={self.mixer!r} must be one of {MIXERS}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend={self.backend!r} must be one of {BACKENDS}")
        for name in ("vocab_size", "d_model", "num_layers", "num_heads"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}={getattr(self, name)} must be positive")
        if self.d_model % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide d_model={self.d_model}")


def _mixer(cfg: LMConfig, key):
    common = dict(key=key, backend=cfg.backend, chunk_size=cfg.chunk_size)
    if cfg.mixer == "osdn":
        return OSDNAttention(cfg.d_model, cfg.num_heads, feedback=cfg.feedback, use_apf=cfg.use_apf,
                             gated=cfg.gated, **common)
    rule = {"linear": "linear", "deltanet": "delta", "gated_deltanet": "gated"}[cfg.mixer]
    return DeltaNetAttention(cfg.d_model, cfg.num_heads, rule=rule, **common)


class _Block(eqx.Module):
    norm1: jax.Array
    mixer: eqx.Module
    norm2: jax.Array
    up: eqx.nn.Linear | None
    down: eqx.nn.Linear | None

    def __init__(self, cfg: LMConfig, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.norm1, self.norm2 = jnp.ones(cfg.d_model), jnp.ones(cfg.d_model)
        self.mixer = _mixer(cfg, k1)
        hidden = cfg.mlp_ratio * cfg.d_model
        self.up = _linear(k2, cfg.d_model, 2 * hidden) if hidden else None
        self.down = _linear(k3, hidden, cfg.d_model) if hidden else None

    def _mlp(self, x):
        if self.up is None:
            return x
        a, b = jnp.split(_apply(self.up, _rmsnorm(x, self.norm2)), 2, axis=-1)
        return x + _apply(self.down, jax.nn.silu(a) * b)

    def prefill(self, x, cache=None):
        y, cache = self.mixer.prefill(_rmsnorm(x, self.norm1), cache)
        return self._mlp(x + y), cache

    def step(self, x, cache):
        y, cache = self.mixer.step(_rmsnorm(x, self.norm1), cache)
        return self._mlp(x + y), cache


class LM(eqx.Module):
    """Decoder-only LM: embedding, ``num_layers`` mixer+SwiGLU blocks, final RMSNorm, output head.

    ``__call__(tokens [T] int) -> logits [T, vocab]`` is per example (``jax.vmap`` for batches).

    Examples:
        >>> import jax
        >>> lm = LM(LMConfig(vocab_size=16, d_model=16, num_layers=1), key=jax.random.PRNGKey(0))
        >>> lm(jax.numpy.arange(5)).shape
        (5, 16)
    """

    embed: jax.Array
    blocks: tuple
    norm: jax.Array
    head: eqx.nn.Linear
    config: LMConfig = eqx.field(static=True)

    def __init__(self, config: LMConfig, *, key):
        ke, kh, *kb = jax.random.split(key, config.num_layers + 2)
        self.config = config
        self.embed = jax.random.normal(ke, (config.vocab_size, config.d_model)) * 0.02
        self.blocks = tuple(_Block(config, k) for k in kb)
        self.norm = jnp.ones(config.d_model)
        self.head = _linear(kh, config.d_model, config.vocab_size)

    def _check_tokens(self, tokens):
        if getattr(tokens, "ndim", None) != 1:
            raise ValueError(f"tokens must have shape [T] (use jax.vmap for batches); got "
                             f"{getattr(tokens, 'shape', None)}")
        if tokens.shape[0] == 0:
            raise ValueError("tokens has T=0; need at least one token")

    def prefill(self, tokens, caches=None):
        """``tokens [T] -> (logits [T, vocab], caches)``; ``caches`` continue with :meth:`step`."""
        self._check_tokens(tokens)
        x = self.embed[tokens]
        new = []
        for i, blk in enumerate(self.blocks):
            x, c = blk.prefill(x, None if caches is None else caches[i])
            new.append(c)
        return _apply(self.head, _rmsnorm(x, self.norm)), tuple(new)

    def __call__(self, tokens):
        return self.prefill(tokens)[0]

    def step(self, token, caches):
        """One token (scalar int) -> ``(logits [vocab], caches)``."""
        x = self.embed[token]
        new = []
        for blk, c in zip(self.blocks, caches, strict=True):
            x, c = blk.step(x, c)
            new.append(c)
        return _apply(self.head, _rmsnorm(x, self.norm)), tuple(new)

    def recall_residual(self, tokens, n_written: int):
        """Per-layer recall residual ratio after the whole sequence.

        For layer ``l`` with final state ``S_T`` and the key/value vectors ``(k_t, v_t)`` it wrote at
        positions ``t < n_written`` (the associative pairs), the mean of ``||S_T^T k_t - v_t|| / ||v_t||``
        (see :func:`jaxor.osdn.recall_residual_ratio`). Returns ``[num_layers]``.
        """
        from jaxor.osdn._metrics import recall_residual_ratio
        from jaxor.osdn._modules import _features

        self._check_tokens(tokens)
        if not 0 < n_written <= tokens.shape[0]:
            raise ValueError(f"n_written={n_written} must be in [1, T={tokens.shape[0]}]")
        x = self.embed[tokens]
        out = []
        for blk in self.blocks:
            h = _rmsnorm(x, blk.norm1)
            _, k, v, _, _ = _features(blk.mixer, h)
            x, cache = blk.prefill(x)
            out.append(recall_residual_ratio(cache.state.S, k[:, :n_written], v[:, :n_written]))
        return jnp.stack(out)

    def save(self, path) -> None:
        """Write the config (one JSON line) and the leaves (``eqx.tree_serialise_leaves``) to ``path``."""
        with open(path, "wb") as f:
            f.write((json.dumps(dataclasses.asdict(self.config)) + "\n").encode())
            eqx.tree_serialise_leaves(f, self)

    @classmethod
    def load(cls, path) -> LM:
        """Rebuild an :class:`LM` written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"path={str(path)!r} is not a file written by LM.save")
        with open(path, "rb") as f:
            cfg = LMConfig(**json.loads(f.readline().decode()))
            skeleton = cls(cfg, key=jax.random.PRNGKey(0))
            return eqx.tree_deserialise_leaves(f, skeleton)


def generate(model: LM, prompt, max_new_tokens: int, *, key, temperature: float = 1.0):
    """Sample ``max_new_tokens`` continuing ``prompt [P]`` with the single-step decoding API.

    The prompt runs through the parallel forward (``prefill``); new tokens go one by one through
    ``step`` inside ``lax.scan``. ``temperature=0`` is greedy. Returns ``[P + max_new_tokens]`` ints.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> lm = LM(LMConfig(vocab_size=16, d_model=16, num_layers=1), key=jax.random.PRNGKey(0))
        >>> generate(lm, jnp.array([1, 2, 3]), 4, key=jax.random.PRNGKey(1)).shape
        (7,)
    """
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens={max_new_tokens} must be >= 0")
    if temperature < 0:
        raise ValueError(f"temperature={temperature} must be >= 0")
    prompt = jnp.asarray(prompt)
    logits, caches = model.prefill(prompt)

    def pick(lg, k):
        if temperature == 0:
            return jnp.argmax(lg).astype(prompt.dtype)
        return jax.random.categorical(k, lg / temperature).astype(prompt.dtype)

    def body(carry, k):
        lg, c = carry
        tok = pick(lg, k)
        lg, c = model.step(tok, c)
        return (lg, c), tok

    _, toks = jax.lax.scan(body, (logits[-1], caches), jax.random.split(key, max_new_tokens))
    return jnp.concatenate([prompt, toks])
