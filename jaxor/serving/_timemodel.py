"""Round-duration model: unit rounds (the theory) or a linear batch-cost model.

.. math::  d(\\tau) = c_0 + c_1\\,\\text{prefill}(\\tau) + c_2\\,\\text{KV}(\\tau) + c_3\\,B(\\tau)

where ``prefill`` is the number of prompt tokens admitted at round ``tau`` (prefilled in that round),
``KV`` the KV-cache tokens attended (the running requests' ``s_i + generated``) and ``B`` the batch
size. Idle rounds (no running request) last ``c0``. The unit model (``c0 = 1``, others 0) reproduces
the round-based theory of arXiv 2502.07115 / 2508.06133 / 2508.14544.

.. warning:: The papers' real-data time model was not available to us. The linear model is the
   functional form used by simulators such as Splitwise-sim; :func:`linear` 's default coefficients are
   illustrative orders of magnitude for a 7B model on one A100 (about 20 ms per decode round at a
   moderate batch), not a fit. Durations are reported, they do not feed back into scheduling: the
   schedule is decided in rounds (arrivals are quantised with ``round_s`` by the loaders).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TimeModel", "unit", "linear"]


class TimeModel(NamedTuple):
    """Coefficients of the round-duration model (float scalars, seconds or abstract units)."""

    c0: float
    c1: float
    c2: float
    c3: float


def unit() -> TimeModel:
    """Every round lasts one time unit (the papers' theory)."""
    return TimeModel(1.0, 0.0, 0.0, 0.0)


def linear(c0: float = 0.012, c1: float = 1.0e-4, c2: float = 2.0e-7, c3: float = 1.0e-4) -> TimeModel:
    """The linear model in seconds: fixed cost, per prefill token, per KV token attended, per request.

    Defaults: 12 ms per round, 0.1 ms per prefill token, 0.2 us per KV token, 0.1 ms per sequence.
    """
    tm = TimeModel(float(c0), float(c1), float(c2), float(c3))
    for k, v in tm._asdict().items():
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{k} must be finite and >= 0; got {v}")
    if tm.c0 <= 0:
        raise ValueError(f"c0 must be > 0 (an idle round must take time); got {tm.c0}")
    return tm
