"""The data-parallel decode model shared by the JAX rollout and the plain-Python oracle.

Paper: Chen, Bu, Song, Lu, Ye, Zhou, "A Universal Load Balancing Principle and Its Application to Large
Language Model Serving" (arXiv 2601.17855). Follow-up: Bu et al., arXiv 2605.06113.

Semantics (one *step* = one barrier-synchronised decode iteration of all workers):

* ``G`` workers, each with ``B`` request slots and a KV capacity of ``C`` tokens. A request, once routed
  to a worker, stays there until it completes (its KV cache cannot migrate).
* Requests wait in one central FCFS queue. At step ``k`` the router takes the queue head while it has
  arrived (``arrival <= k``) and some worker can take it, and assigns it to one worker; at most
  ``max_assign`` routing decisions are made per step (a static bound; the rest wait one step). A worker
  can take request ``i`` when it has a free slot and its reserved KV plus ``s_i + o_i`` stays within
  ``C``. The reservation uses the final footprint ``s_i + o_i`` so no worker ever overflows.
  The head of the queue blocks the rest (FCFS), as in engines that serve in arrival order.
* A request admitted at step ``p`` holds ``s_i + (k - p)`` KV tokens during step ``k`` (it is prefilled
  and emits its first token in step ``p``) and completes at the end of step ``p + o_i - 1``.
* Worker ``g``'s busy time in step ``k`` is ``c0 + c1 * prefill_g + c2 * L_g + c3 * n_g`` (if it holds
  a request, else 0), with ``L_g`` the KV tokens it attends and ``prefill_g`` the prompt tokens admitted
  to it in that step. The step lasts ``max_g busy_g`` (at least ``c0``): the barrier. Idle of worker
  ``g`` is the step time minus its busy time.

Routing policies (ids in :data:`POLICY_IDS`; ties go to the lowest worker index):

* ``rr`` round-robin over the workers that can take the request;
* ``jsq`` join the shortest queue by request count;
* ``least-kv`` least current KV load ``L_g``;
* ``pod`` power of ``d`` choices: ``d`` workers drawn by an integer hash of ``(seed, request, j)``
  (identical in JAX and in the oracle), the least-loaded one that can take the request; if none of them
  can, ``least-kv`` over all;
* ``bf-io`` (Balance Future with Integer Optimization, greedy form): each request in queue order goes to
  the worker that minimises the predicted cumulative imbalance over the next ``H`` steps,
  ``sum_{h<H} (max_g Lhat_g(k+h) - mean_g Lhat_g(k+h))``, with ``Lhat`` the predicted loads of the active
  requests plus the new one: a request with KV ``w`` and predicted remaining output ``r`` contributes
  ``w + h`` while ``h < r``, else 0. Adding a request adds the same total to every choice, so the mean
  term is constant and the greedy rule minimises ``sum_h max_g Lhat_g``; ties go to the smaller own
  predicted load, then the lower index. The exact joint assignment of a step's batch, as a small integer
  program, is :func:`jaxor.serving.dp.bfio_exact_assignment` (HiGHS, for validation).

.. warning:: Reconstructed choices (the paper's body was not available): the imbalance is max minus
   mean (``imbalance="max-mean"``, exposed in metrics together with max/mean); the prediction is the
   trace's point prediction ``pred`` (exact when the trace is clairvoyant; use
   :func:`jaxor.serving.with_intervals` for noisy ones); greedy sequential assignment in queue order
   stands in for the integer program inside ``jit``; ``H``, ``max_assign``, ``d`` and the time model
   are parameters.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxor.serving._timemodel import TimeModel

__all__ = ["POLICY_IDS", "DPConfig", "dp_time_model", "load_only_time_model", "pod_candidate",
           "ENERGY_BUSY_W", "ENERGY_IDLE_W"]

POLICY_IDS = {"rr": 0, "jsq": 1, "least-kv": 2, "pod": 3, "bf-io": 4}

# Energy proxy: an accelerator draws about its rated power while computing and a fraction of it while
# waiting at the barrier. Illustrative defaults (H100-class board: 700 W busy, 150 W idle).
ENERGY_BUSY_W = 700.0
ENERGY_IDLE_W = 150.0

_HASH_A = np.uint32(2654435761)
_HASH_B = np.uint32(40503)
_HASH_C = np.uint32(97)


class DPConfig(NamedTuple):
    """One lane's routing configuration (all scalars; traced in the rollout).

    Attributes:
        policy: id from :data:`POLICY_IDS`.
        workers: ``G`` (<= the rollout's static ``max_workers``).
        slots: ``B`` per worker (<= static ``max_slots``).
        kv_capacity: ``C`` tokens per worker.
        horizon: BF-IO lookahead ``H`` (<= static ``max_horizon``).
        d: candidates for power-of-d.
        seed: integer seed of the power-of-d hash.
    """

    policy: int
    workers: int
    slots: int
    kv_capacity: int
    horizon: int
    d: int
    seed: int


def dp_time_model() -> TimeModel:
    """Default per-worker decode-step cost in seconds (see the module docstring's formula).

    ``c0 = 5 ms`` (reading the weights once per step, the same on every worker), ``c1 = 2 us`` per prefill
    token, ``c2 = 0.25 us`` per KV token attended (a 7B model's 0.5 MB of KV per token at ~2 TB/s), ``c3 = 0``.
    Orders of magnitude for a 7B model on one H100-class device, not a fit.
    """
    return TimeModel(0.005, 2.0e-6, 2.5e-7, 0.0)


def load_only_time_model() -> TimeModel:
    """Busy time equal to the KV load (``c2 = 1``, others 0): idle is then exactly the load imbalance,
    the quantity the paper's theory bounds."""
    return TimeModel(0.0, 0.0, 1.0, 0.0)


def pod_candidate(seed, request, j, workers):
    """The ``j``-th power-of-d candidate of ``request``: an integer hash, identical in NumPy and JAX.

    Works on Python ints / NumPy uint32 and on ``jnp.uint32`` arrays alike (wrapping 32-bit arithmetic).
    """
    import numpy as _np

    xp = _np if isinstance(request, (int, _np.integer)) else __import__("jax.numpy", fromlist=["uint32"])
    u = xp.uint32
    with _np.errstate(over="ignore"):
        h = u(request) * u(_HASH_A) + u(seed) * u(_HASH_C) + (u(j) + u(1)) * u(_HASH_B)
        h = h ^ (h >> u(15))
        h = h * u(_HASH_A)
        h = h ^ (h >> u(13))
    return (h % u(workers)).astype(xp.int32)
