"""Exact references: DP == HiGHS IP for n <= 8, LP bounds below, policies above, local search improves."""

import numpy as np
import pytest

import jaxor.serving as sv
from jaxor.serving.naive import simulate_reference


def _instances():
    out = []
    for n, seeds in ((4, range(3)), (6, range(3)), (8, range(2))):
        for seed in seeds:
            rate = None if seed % 2 == 0 else 0.7
            out.append((n, seed, sv.synthetic(100 + seed + n, n, prompt=(1, 8), output=(1, 5), rate=rate, memory=16)))
    return out


INSTANCES = _instances()


@pytest.fixture(scope="module")
def optima():
    return {(n, s): (tr, sv.dp_optimum(tr, 16), sv.ip_optimum(tr, 16)) for n, s, tr in INSTANCES}


def test_dp_and_integer_program_agree(optima):
    for (n, seed), (tr, (dp_val, dp_start), (ip_val, ip_start, status)) in optima.items():
        assert status == "optimal"
        assert dp_val == ip_val, (n, seed)
        assert sv.schedule_cost(tr, dp_start, 16) == dp_val
        assert sv.schedule_cost(tr, ip_start, 16) == ip_val


def test_bounds_and_policies_bracket_the_optimum(optima):
    pols = [sv.fcfs(), sv.hindsight_sf(), sv.sorted_f(), sv.a_max()]
    for (n, _seed), (tr, (opt, _), _) in optima.items():
        assert sv.lp_bound(tr, 16, method="time-indexed") <= opt + 1e-6
        assert sv.lp_bound(tr, 16, method="area") <= opt + 1e-6
        for p in pols:
            ref = simulate_reference(tr, p, memory=16, max_batch=n, window=n)
            assert float((ref["completion"] - tr.arrival).sum()) >= opt
        lp_tr = sv.lp_priority(tr, 16)
        ref = simulate_reference(lp_tr, sv.priority_order(), memory=16, max_batch=n, window=n)
        assert float((ref["completion"] - tr.arrival).sum()) >= opt


def test_brute_force_on_tiny_instance():
    tr = sv.from_arrays([0, 0, 0], [3, 2, 4], [2, 3, 1])
    best = min(sv.schedule_cost(tr, np.array(p), 8) for p in np.ndindex(6, 6, 6))
    assert sv.dp_optimum(tr, 8)[0] == best == sv.ip_optimum(tr, 8)[0]


def test_local_search_improves_and_stays_above_optimum(optima):
    tr, (opt, _), _ = optima[(8, 0)]
    out, best, hist = sv.local_search(tr, 16, init_prio=-np.asarray(tr.output), max_iters=20)
    assert all(b <= a for a, b in zip(hist, hist[1:], strict=False)) and best == hist[-1] >= opt
    assert len(hist) > 1
    ref = simulate_reference(out, sv.priority_order(), memory=16, max_batch=8, window=8)
    assert float((ref["completion"] - tr.arrival).sum()) == best


def test_area_bound_on_a_larger_backlog():
    tr = sv.synthetic(0, 150, prompt=(10, 200), output=(1, 100))
    lb = sv.lp_bound(tr, 2000, method="area")
    r = simulate_reference(tr, sv.hindsight_sf(), memory=2000, max_batch=64, window=64)
    total = float((r["completion"] - tr.arrival).sum())
    assert float(np.sum(tr.output)) <= lb <= total


def test_never_fit_instance_is_reported():
    tr = sv.from_arrays([0, 0], [3, 9], [2, 5])
    with pytest.raises(ValueError, match="never fit"):
        sv.dp_optimum(tr, 10)
