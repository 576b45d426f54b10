"""Exact BF-IO (HiGHS integer program) against brute force, and greedy BF-IO against exact."""

import itertools

import numpy as np
import pytest

import jaxor.serving as sv
from jaxor.serving import dp
from jaxor.serving.dp._exact import assignment_objective, bfio_exact_assignment


@pytest.mark.parametrize("seed", range(6))
def test_exact_assignment_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    G, H, J = int(rng.integers(2, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    base = rng.integers(0, 60, (G, H))
    adds = rng.integers(0, 40, (J, H))
    free = rng.integers(1, 3, G)
    foot = rng.integers(5, 30, J)
    room = rng.integers(20, 80, G)
    best = None
    for a in itertools.product(range(G), repeat=J):
        a = np.array(a)
        if np.any(np.bincount(a, minlength=G) > free) or np.any(np.bincount(a, weights=foot, minlength=G) > room):
            continue
        v = assignment_objective(base, adds, a)
        best = v if best is None else min(best, v)
    assign, obj, status = bfio_exact_assignment(base, adds, free, room, foot)
    if best is None:
        assert status == "infeasible" and assign is None
    else:
        assert status == "optimal"
        assert assignment_objective(base, adds, assign) == best
        assert obj == pytest.approx(best)


def test_greedy_is_optimal_on_single_request_steps_and_close_otherwise():
    tr = sv.synthetic(5, 80, prompt=(10, 200), output=(5, 60), rate=1.2)
    cmp = dp.compare_bfio(tr, workers=3, slots=4, horizon=6, max_states=80)
    assert cmp["states"] >= 15
    assert 0.0 <= cmp["gap_mean"] <= cmp["gap_max"]
    # One request per step: greedy minimises the same objective exactly, so it must be optimal there.
    tr1 = sv.synthetic(6, 40, prompt=(10, 200), output=(5, 60), rate=0.3)
    one = dp.compare_bfio(tr1, workers=3, slots=4, horizon=6, max_assign=1, max_states=30)
    assert one["states"] >= 10 and one["greedy_optimal"] == 1.0 and one["gap_max"] == 0.0
