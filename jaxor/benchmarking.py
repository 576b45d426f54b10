"""Benchmark helpers: timing by median of repeats, ratios against a peer measured in the same run.

A benchmark script ``experiments/bench_<name>.py`` defines ``run(quick: bool = False) -> list[Ratio]``
and ends with ``if __name__ == "__main__": benchmarking.main(run)``. ``jaxor bench`` imports every
such script, runs it and prints one table. A ratio is always "how many times better jaxor is than
the peer" (throughput ours / peer, or time peer / ours), so above 1 means jaxor wins.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax

__all__ = ["Ratio", "median_time", "format_table", "main"]


@dataclasses.dataclass
class Ratio:
    """One row of the ratio table.

    ``ours`` and ``peer`` are the measured values in ``unit``; ``ratio`` is jaxor's advantage (>1 wins);
    ``target`` is the issue's minimum ratio (None where only reported).
    """

    benchmark: str
    case: str
    ours: float
    peer: float
    peer_name: str
    unit: str
    ratio: float
    target: float | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.target is None else bool(self.ratio >= self.target)


def median_time(fn: Callable[[], Any], *, repeats: int = 3, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs, after ``warmup`` runs (compile).

    Outputs are passed through ``jax.block_until_ready`` so asynchronous dispatch is not mistaken
    for speed.
    """
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def format_table(rows: Sequence[Ratio]) -> str:
    """A markdown table of ratios."""
    head = "| benchmark | case | jaxor | peer | unit | ratio | target | met |\n|---|---|---|---|---|---|---|---|\n"
    lines = []
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        tgt = "" if r.target is None else f">= {r.target:g}x"
        lines.append(f"| {r.benchmark} | {r.case} | {r.ours:.4g} | {r.peer:.4g} ({r.peer_name}) | {r.unit} "
                     f"| {r.ratio:.2f}x | {tgt} | {met} |")
    return head + "\n".join(lines)


def main(run: Callable[..., list[Ratio]], argv: Sequence[str] | None = None) -> None:
    """Entry point for ``python -m jaxor.experiments.bench_<name> [--quick]``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    args, _ = parser.parse_known_args(argv)
    print(format_table(run(quick=args.quick)))
