"""Experiment registry: ``@register(name, quick_budget_s=...)`` on ``run(config, out_dir, progress)``.

An experiment reproduces a paper's headline result. It returns a :class:`Result` holding metrics,
the figure files it wrote and a list of :class:`Claim` rows ``{claim, target, measured, met}`` —
the paper's statement, the number we must reach, what we measured and whether it was met. A claim
that is not met is reported, never hidden; only a crash makes ``jaxor reproduce`` exit non-zero.

Experiments live in ``experiments/`` (installed as ``jaxor.experiments``); :func:`discover` imports
every module there whose name does not start with ``bench_`` or ``_``. The library never imports
experiments; only the CLI does.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Claim", "Result", "RunConfig", "Experiment", "register", "registered", "discover"]


@dataclasses.dataclass
class Claim:
    """One checked statement: ``met`` is computed from ``measured`` against ``target`` by the experiment."""

    claim: str
    target: str
    measured: Any
    met: bool

    def to_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "target": self.target, "measured": _jsonable(self.measured),
                "met": bool(self.met)}


@dataclasses.dataclass
class Result:
    """What an experiment returns. ``figures`` are paths relative to ``out_dir``."""

    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    claims: list[Claim] = dataclasses.field(default_factory=list)
    figures: list[str] = dataclasses.field(default_factory=list)
    tables: dict[str, str] = dataclasses.field(default_factory=dict)  # title -> markdown table
    notes: str = ""


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Settings every experiment receives. ``quick`` selects the small CI-sized run."""

    quick: bool = False
    seed: int = 0
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str
    run: Callable[..., Result]
    quick_budget_s: float
    description: str
    module: str


_REGISTRY: dict[str, Experiment] = {}


def register(name: str, *, quick_budget_s: float, description: str | None = None):
    """Decorator registering ``run(config: RunConfig, out_dir: Path, progress: Progress) -> Result``.

    Args:
        name: unique experiment name (used on the command line and for ``docs/results/<name>.md``).
        quick_budget_s: wall-clock seconds ``--quick`` may take on 2 CPU cores.
        description: one line; defaults to the first line of the function's docstring.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"name={name!r} must be a non-empty identifier (letters, digits, '_' or '-')")
    if quick_budget_s <= 0:
        raise ValueError(f"quick_budget_s must be positive; got {quick_budget_s}")

    def deco(fn: Callable[..., Result]) -> Callable[..., Result]:
        if name in _REGISTRY and _REGISTRY[name].module != fn.__module__:
            raise ValueError(f"experiment {name!r} is already registered by {_REGISTRY[name].module}")
        doc = description or (fn.__doc__ or name).strip().splitlines()[0]
        _REGISTRY[name] = Experiment(name, fn, float(quick_budget_s), doc, fn.__module__)
        return fn

    return deco


def registered() -> dict[str, Experiment]:
    """The experiments registered so far (call :func:`discover` first to import them all)."""
    return dict(sorted(_REGISTRY.items()))


def _experiment_modules(prefix_filter: Callable[[str], bool]) -> list[str]:
    try:
        pkg = importlib.import_module("jaxor.experiments")
    except ModuleNotFoundError:
        return []
    return sorted(f"jaxor.experiments.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)
                  if prefix_filter(m.name))


def discover() -> dict[str, Experiment]:
    """Import every experiment module in ``jaxor.experiments`` and return the registry."""
    for mod in _experiment_modules(lambda n: not n.startswith(("bench_", "_"))):
        importlib.import_module(mod)
    return registered()


def benchmark_modules() -> list[str]:
    """Names of the benchmark scripts ``jaxor.experiments.bench_*``."""
    return _experiment_modules(lambda n: n.startswith("bench_"))


def _jsonable(v: Any) -> Any:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    if np is not None:
        if isinstance(v, np.generic):
            return v.item()
        if hasattr(v, "__array__") and not isinstance(v, (str, bytes)):
            return np.asarray(v).tolist()
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return str(v)
    return v


jsonable = _jsonable
