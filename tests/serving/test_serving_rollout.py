"""Rollout properties: closed forms, memory feasibility, no recompilation, sharding, records."""

import numpy as np
import pytest

import jaxor.serving as sv
from jaxor.serving.naive import simulate_reference


def test_ample_memory_every_policy_starts_on_arrival():
    tr = sv.synthetic(3, 25, prompt=(0, 9), output=(1, 9), rate=0.5)
    a, o = np.asarray(tr.arrival), np.asarray(tr.output)
    for p in ("fcfs", "sf", "sorted-f", "a-max", "a-min", "h-sf"):
        r = simulate_reference(sv.with_intervals(tr, 1, 0.5), sv.policy(p), memory=10_000, max_batch=25, window=25)
        np.testing.assert_array_equal(r["completion"], a + o)
        assert r["evictions"] == 0


def test_a_min_only_uses_lower_bounds_and_a_max_never_evicts():
    tr = sv.with_intervals(sv.synthetic(2, 40, prompt=(1, 8), output=(1, 40), rate=1.0), 0, 0.2)
    hi_changed = tr._replace(upper=np.asarray(tr.upper) * 2)  # A_min must ignore u
    r1 = simulate_reference(tr, sv.a_min(), memory=60, max_batch=8, window=8)
    r2 = simulate_reference(hi_changed, sv.a_min(), memory=60, max_batch=8, window=8)
    np.testing.assert_array_equal(r1["completion"], r2["completion"])
    assert r1["evictions"] > 0
    assert simulate_reference(tr, sv.a_max(), memory=60, max_batch=8, window=8)["evictions"] == 0


def test_sharded_equals_single_device(multi_device):
    out = multi_device.call("serving/_serving_sharding.py:sharded_matches_single_device", 5)
    assert out["devices"] == 8 and out["same"] and out["evictions"] > 0


def test_bad_arguments_raise():
    tr = sv.synthetic(0, 5)
    with pytest.raises(ValueError, match="memory"):
        sv.simulate(tr, sv.fcfs(), memory=0)
    with pytest.raises(ValueError, match="max_batch"):
        sv.simulate(tr, sv.fcfs(), memory=1000, max_batch=0)
    with pytest.raises(ValueError, match="prompt"):
        sv.simulate(sv.from_arrays([0, 1], [5, 500], [3, 3]), sv.fcfs(), memory=100)
    with pytest.raises(ValueError, match="window"):
        sv.simulate(tr, sv.fcfs(), memory=1000, window=2.5)
    with pytest.raises(ValueError, match="policy"):
        sv.policy("lifo")
