"""Request traces for the single-worker KV-cache scheduling model: loaders, validation, generators.

The model is the one of Jaillet, Jiang, Mellou, Molinaro, Podimata, Zhou, "Online Scheduling for LLM
Inference with KV Cache Constraints" (arXiv 2502.07115), as used by Wang, Ye, Zhou (arXiv 2508.06133)
and Chen, Ye, Zhou (arXiv 2508.14544). Request ``i`` arrives at round ``arrival[i]``, has a prompt of
``prompt[i]`` tokens and generates ``output[i]`` tokens. A prediction is the interval
``[lower[i], upper[i]]`` around the true output length (quality ``alpha = lower / upper``), a point
prediction ``pred[i]`` and an optional external priority ``prio[i]`` (lower runs first; used by the
LP-based scheduler and the local-search improver).

A :class:`Trace` holds int32 arrays of shape ``[N]`` (one trace) or ``[B, N]`` (a batch, see
:func:`stack`). Requests are sorted by arrival; their position is their identity (FCFS order).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["Trace", "from_arrays", "validate", "never_fit", "load_azure", "load_vidur", "synthetic",
           "with_intervals", "random_window", "stack", "DEFAULT_ROUND_S"]

# Nominal wall-clock length of one decode round used to turn trace timestamps (seconds) into rounds:
# about one decode iteration of a 7B-13B model on an A100 at moderate batch (an assumption, exposed as
# ``round_s`` everywhere it is used).
DEFAULT_ROUND_S = 0.02
_MAX_LEN = 1 << 22  # lengths above this would overflow the int32 memory arithmetic of the rollout


class Trace(NamedTuple):
    """A request trace (int32 arrays ``[N]``, or ``[B, N]`` when stacked).

    Attributes:
        arrival: arrival round, non-decreasing.
        prompt: prompt (prefill) tokens ``s_i >= 0``.
        output: true output (decode) tokens ``o_i >= 1``.
        lower: predicted lower bound ``l_i`` with ``1 <= l_i <= o_i``.
        upper: predicted upper bound ``u_i >= o_i``.
        pred: point prediction (MC-SF and Sorted-F plan with it; equals ``output`` when clairvoyant).
        prio: external priority, lower first (ties by arrival order); zeros when unused.
    """

    arrival: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    pred: np.ndarray
    prio: np.ndarray

    @property
    def n(self) -> int:
        """Number of requests (last axis)."""
        return int(np.shape(self.arrival)[-1])


def _as_int_field(name: str, x, n: int | None = None) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries (one per request); got {a.shape[0]}")
    if a.dtype.kind == "f":
        if np.any(np.isnan(a)):
            raise ValueError(f"{name} holds NaN at requests {np.flatnonzero(np.isnan(a))[:10].tolist()}")
        if np.any(np.isinf(a)):
            raise ValueError(f"{name} holds Inf at requests {np.flatnonzero(np.isinf(a))[:10].tolist()}")
        if np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold whole numbers (tokens or rounds)")
    elif a.dtype.kind not in "iub":
        raise ValueError(f"{name} must be numeric; got dtype {a.dtype}")
    if a.size and (a.max() > _MAX_LEN or a.min() < -_MAX_LEN):
        raise ValueError(f"{name} has values beyond +-{_MAX_LEN}")
    return a.astype(np.int32)


def from_arrays(arrival, prompt, output, lower=None, upper=None, pred=None, prio=None) -> Trace:
    """Build and validate a trace from plain arrays (any integer-valued numeric dtype).

    Args:
        arrival: ``[N]`` arrival rounds (non-decreasing).
        prompt: ``[N]`` prompt tokens.
        output: ``[N]`` output tokens (>= 1).
        lower, upper: ``[N]`` prediction interval; default ``output`` (exact prediction).
        pred: ``[N]`` point prediction; default ``output``.
        prio: ``[N]`` external priority; default zeros.

    Returns:
        A validated :class:`Trace`.

    Raises:
        ValueError: naming the field for NaN, negative lengths, unsorted arrivals, bad intervals.

    Examples:
        >>> from jaxor.serving import from_arrays
        >>> tr = from_arrays([0, 0, 2], [3, 1, 4], [2, 5, 1])
        >>> tr.n
        3
    """
    output = _as_int_field("output", output)
    n = output.shape[0]
    arrival = _as_int_field("arrival", arrival, n)
    prompt = _as_int_field("prompt", prompt, n)
    lower = output.copy() if lower is None else _as_int_field("lower", lower, n)
    upper = output.copy() if upper is None else _as_int_field("upper", upper, n)
    pred = output.copy() if pred is None else _as_int_field("pred", pred, n)
    prio = np.zeros(n, np.int32) if prio is None else _as_int_field("prio", prio, n)
    tr = Trace(arrival, prompt, output, lower, upper, pred, prio)
    validate(tr)
    return tr


def validate(trace: Trace, memory: int | None = None) -> None:
    """Check a single trace; with ``memory``, also that every prompt fits in the KV cache.

    A request whose prompt fits but whose full footprint ``prompt + output - 1`` exceeds ``memory`` is
    *not* an error: the rollout reports it as rejected (see :func:`never_fit`).

    Raises:
        ValueError: naming the offending field and the first offending requests.
    """
    for name in Trace._fields:
        a = np.asarray(getattr(trace, name))
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D for a single trace; got shape {a.shape}")
        if a.dtype.kind == "f" and np.any(np.isnan(a)):
            raise ValueError(f"{name} holds NaN")
    n = trace.n
    if n == 0:
        raise ValueError("arrival is empty: a trace needs at least one request")

    def bad(name, mask, what):
        if np.any(mask):
            raise ValueError(f"{name} {what} at requests {np.flatnonzero(mask)[:10].tolist()}")

    bad("arrival", trace.arrival < 0, "is negative")
    bad("arrival", np.diff(trace.arrival) < 0, "is not sorted (non-decreasing)")
    bad("prompt", trace.prompt < 0, "is negative")
    bad("output", trace.output < 1, "is below 1 (every request generates at least one token)")
    bad("lower", trace.lower < 1, "is below 1")
    bad("lower", trace.lower > trace.output, "exceeds the true output length")
    bad("upper", trace.upper < trace.output, "is below the true output length")
    bad("pred", trace.pred < 1, "is below 1")
    if memory is not None:
        if not np.isfinite(memory) or memory < 1 or int(memory) != memory:
            raise ValueError(f"memory must be a positive whole number of tokens; got {memory}")
        bad("prompt", trace.prompt > memory, f"is larger than memory={memory} (the prompt alone can never fit)")


def never_fit(trace: Trace, memory: int) -> np.ndarray:
    """Indices of requests whose footprint ``prompt + output - 1`` exceeds ``memory``.

    Such a request can never run to completion in any schedule; rollouts mark it rejected.
    """
    return np.flatnonzero(np.asarray(trace.prompt) + np.asarray(trace.output) - 1 > memory)


def _azure_path(name: str | Path) -> Path:
    aliases = {"azure-conv": "serving/AzureLLMInferenceTrace_conv.csv", "conv": "serving/AzureLLMInferenceTrace_conv.csv",
               "azure-code": "serving/AzureLLMInferenceTrace_code.csv", "code": "serving/AzureLLMInferenceTrace_code.csv"}
    if isinstance(name, str) and name in aliases:
        from jaxor.data import locate

        return locate(aliases[name])
    p = Path(name)
    if not p.exists():
        raise ValueError(f"trace={name!r} is neither a file nor one of {sorted(aliases)}")
    return p


def load_azure(name: str | Path = "azure-conv", *, round_s: float = DEFAULT_ROUND_S) -> Trace:
    """Load an Azure LLM inference trace (2023; columns ``TIMESTAMP,ContextTokens,GeneratedTokens``).

    Timestamps become seconds after the first request, then rounds ``floor(seconds / round_s)``.

    Args:
        name: ``"azure-conv"`` / ``"azure-code"`` (shipped, found with ``jaxor.data.locate``) or a path.
        round_s: nominal seconds per decode round (default :data:`DEFAULT_ROUND_S`).

    Returns:
        A clairvoyant :class:`Trace` (``lower = upper = pred = output``); add predictions with
        :func:`with_intervals`.
    """
    if not round_s > 0:
        raise ValueError(f"round_s must be positive; got {round_s}")
    path = _azure_path(name)
    stamps, ctx, gen = [], [], []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        want = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]
        if header[:3] != want:
            raise ValueError(f"{path}: header must start with {want}; got {header}")
        for row in reader:
            if not row:
                continue
            stamps.append(row[0].strip())
            ctx.append(float(row[1]))
            gen.append(float(row[2]))
    t = np.array(stamps, dtype="datetime64[ns]")
    sec = (t - t[0]).astype(np.float64) / 1e9
    order = np.argsort(sec, kind="stable")
    arrival = np.floor(sec[order] / round_s)
    return from_arrays(arrival, np.asarray(ctx)[order], np.asarray(gen)[order])


def load_vidur(path: str | Path, *, round_s: float = DEFAULT_ROUND_S) -> Trace:
    """Load a Vidur processed trace (``num_prefill_tokens,num_decode_tokens[,arrived_at,...]``).

    Files with ``arrived_at`` (seconds) get arrival rounds ``floor(arrived_at / round_s)``; files
    without it (the arXiv-summarisation length file) are a backlog: every request arrives at round 0.
    """
    p = Path(path)
    with open(p, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        cols = reader.fieldnames or []
    for c in ("num_prefill_tokens", "num_decode_tokens"):
        if c not in cols:
            raise ValueError(f"{p}: missing column {c!r}; found {cols}")
    s = np.array([float(r["num_prefill_tokens"]) for r in rows])
    o = np.array([float(r["num_decode_tokens"]) for r in rows])
    if "arrived_at" in cols:
        a = np.floor(np.array([float(r["arrived_at"]) for r in rows]) / round_s)
        order = np.argsort(a, kind="stable")
        a, s, o = a[order], s[order], o[order]
    else:
        a = np.zeros_like(s)
    return from_arrays(a, s, o)


def _rng(seed) -> np.random.Generator:
    """A NumPy generator from an int seed or a JAX PRNG key (explicit keys, as jaxor wants)."""
    if isinstance(seed, (int, np.integer)):
        return np.random.default_rng(int(seed))
    import jax

    data = np.asarray(jax.random.key_data(seed) if jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key)
                      else seed)
    return np.random.default_rng(data.astype(np.uint64).ravel().tolist())


def synthetic(seed, n: int, *, prompt=(16, 128), output=(1, 64), rate: float | None = None,
              memory: int | None = None) -> Trace:
    """A synthetic trace: uniform integer lengths, Poisson arrivals (or a backlog at round 0).

    Args:
        seed: int or JAX PRNG key.
        n: number of requests.
        prompt: inclusive range ``(lo, hi)`` of prompt tokens.
        output: inclusive range ``(lo, hi)`` of output tokens.
        rate: mean arrivals per round (Poisson process); None puts every request at round 0 (the
            backlogged setting of arXiv 2508.06133 and 2508.14544).
        memory: if given, prompts are clipped so that every request fits alone (``s + o - 1 <= memory``).

    Returns:
        A clairvoyant :class:`Trace`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if not (0 <= prompt[0] <= prompt[1]):
        raise ValueError(f"prompt range must satisfy 0 <= lo <= hi; got {prompt}")
    if not (1 <= output[0] <= output[1]):
        raise ValueError(f"output range must satisfy 1 <= lo <= hi; got {output}")
    rng = _rng(seed)
    s = rng.integers(prompt[0], prompt[1] + 1, n)
    o = rng.integers(output[0], output[1] + 1, n)
    if memory is not None:
        s = np.minimum(s, np.maximum(memory - o + 1, 0))
    if rate is None:
        a = np.zeros(n)
    else:
        if not rate > 0:
            raise ValueError(f"rate must be positive; got {rate}")
        a = np.floor(np.cumsum(rng.exponential(1.0 / rate, n)))
    return from_arrays(a, s, o)


def with_intervals(trace: Trace, seed, alpha: float, *, memory: int | None = None) -> Trace:
    """Attach interval predictions of quality ``alpha = lower / upper`` around the true lengths.

    For each request draw ``z ~ U(0, 1)`` and set ``upper = ceil(o / alpha**z)`` and
    ``lower = max(1, floor(o * alpha**(1 - z)))``, so ``lower <= o <= upper`` and
    ``lower / upper ~= alpha`` (up to rounding); the true length sits at a random place inside.
    ``pred`` becomes the geometric midpoint ``round(sqrt(lower * upper))``.

    Args:
        trace: a single trace.
        seed: int or JAX PRNG key.
        alpha: prediction quality in ``(0, 1]``; 1 is exact.
        memory: if given, clip ``upper`` to ``memory - prompt + 1`` (no longer request can fit, so the
            clipped bound is still valid for every request that fits).
    """
    if not (0 < alpha <= 1):
        raise ValueError(f"alpha must be in (0, 1]; got {alpha}")
    rng = _rng(seed)
    o = np.asarray(trace.output, np.float64)
    z = rng.uniform(0.0, 1.0, o.shape)
    upper = np.ceil(o / alpha ** z - 1e-9)
    lower = np.maximum(1.0, np.floor(o * alpha ** (1.0 - z) + 1e-9))
    if memory is not None:
        upper = np.minimum(upper, memory - np.asarray(trace.prompt, np.float64) + 1)
    upper = np.maximum(upper, o)
    lower = np.minimum(lower, o)
    pred = np.clip(np.round(np.sqrt(lower * upper)), 1, None)
    return from_arrays(trace.arrival, trace.prompt, trace.output, lower, upper, pred, trace.prio)


def random_window(trace: Trace, seed, n: int) -> Trace:
    """A random contiguous window of ``n`` requests, arrivals shifted to start at round 0 (seeded)."""
    if not (1 <= n <= trace.n):
        raise ValueError(f"n must be in [1, {trace.n}]; got {n}")
    start = int(_rng(seed).integers(0, trace.n - n + 1))
    sl = slice(start, start + n)
    f = {k: np.asarray(v)[sl] for k, v in trace._asdict().items()}
    f["arrival"] = f["arrival"] - f["arrival"][0]
    return Trace(**f)


def stack(traces) -> Trace:
    """Stack single traces of equal length into a batch ``[B, N]``."""
    traces = list(traces)
    if not traces:
        raise ValueError("traces is empty")
    ns = {t.n for t in traces}
    if len(ns) != 1:
        raise ValueError(f"traces must have equal lengths to stack; got lengths {sorted(ns)}")
    return Trace(*[np.stack([np.asarray(getattr(t, f)) for t in traces]) for f in Trace._fields])
