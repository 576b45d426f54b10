"""The JAX data-parallel rollout against the plain-Python oracle, and model invariants."""

import numpy as np
import pytest

import jaxor.serving as sv
from jaxor.serving import dp
from jaxor.serving.dp.naive import simulate_dp_reference

POLICIES = list(dp.POLICY_IDS)
N_TRACES = 50
MAX_ASSIGN = 3


def _random_case(seed):
    rng = np.random.default_rng(seed)
    n = 24
    tr = sv.synthetic(seed, n, prompt=(0, 30), output=(1, 25), rate=float(rng.uniform(0.3, 3.0)))
    tr = sv.with_intervals(tr, seed + 1000, float(rng.uniform(0.2, 1.0)))
    foot = int((np.asarray(tr.prompt) + np.asarray(tr.output)).max())
    g, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    # Tight KV capacity in half the cases: head-of-line blocking and reservation limits get exercised.
    cap = int(foot + rng.integers(0, 40)) if seed % 2 else 10**6
    return tr, dict(workers=g, slots=b, kv_capacity=cap, horizon=int(rng.integers(1, 7)), d=int(rng.integers(1, 4)),
                    seed=int(rng.integers(0, 1000)))


@pytest.fixture(scope="module")
def cases_and_rollout():
    cases = [_random_case(s) for s in range(N_TRACES)]
    trs, cfgs = [], []
    for tr, kw in cases:
        for p in POLICIES:
            trs.append(tr)
            cfgs.append(dp.lanes([p], workers=kw["workers"], slots=kw["slots"], kv_capacity=kw["kv_capacity"],
                                 horizon=kw["horizon"], d=kw["d"], seeds=(kw["seed"],)))
    cfg = dp.DPConfig(*[np.concatenate([getattr(c, f) for c in cfgs]) for f in dp.DPConfig._fields])
    ro = dp.simulate_dp(sv.stack(trs), cfg, max_workers=4, max_slots=4, max_horizon=6, max_assign=MAX_ASSIGN,
                        chunk=128, record_loads=True)
    return cases, ro


@pytest.mark.parametrize("policy", POLICIES)
def test_rollout_equals_oracle_on_50_traces(cases_and_rollout, policy):
    cases, ro = cases_and_rollout
    pi = POLICIES.index(policy)
    for ci, (tr, kw) in enumerate(cases):
        lane = ci * len(POLICIES) + pi
        ref = simulate_dp_reference(tr, policy=policy, max_assign=MAX_ASSIGN, **kw)
        assert ref["finished"] and ro.finished[lane]
        np.testing.assert_array_equal(ro.worker[lane], ref["worker"], err_msg=f"case {ci} workers")
        np.testing.assert_array_equal(ro.start[lane], ref["start"], err_msg=f"case {ci} starts")
        np.testing.assert_array_equal(ro.done[lane], ref["done"], err_msg=f"case {ci} completions")
        np.testing.assert_allclose(ro.done_time[lane], ref["done_time"], rtol=2e-5)
        k = len(ref["steps"]["step_time"])
        assert ro.steps["valid"][lane].sum() == k
        np.testing.assert_allclose(ro.steps["step_time"][lane, :k], ref["steps"]["step_time"], rtol=2e-5)
        np.testing.assert_array_equal(ro.steps["queue"][lane, :k], ref["steps"]["queue"])


def test_slots_and_kv_capacity_never_exceeded(cases_and_rollout):
    cases, ro = cases_and_rollout
    for ci, (tr, kw) in enumerate(cases):
        foot = np.asarray(tr.prompt) + np.asarray(tr.output)
        for pi in range(len(POLICIES)):
            lane = ci * len(POLICIES) + pi
            k = int(ro.steps["valid"][lane].sum())
            for step in range(0, k, 3):
                on = (ro.start[lane] <= step) & (step <= ro.done[lane])
                for g in range(kw["workers"]):
                    mine = on & (ro.worker[lane] == g)
                    assert mine.sum() <= kw["slots"]
                    assert foot[mine].sum() <= kw["kv_capacity"]
                    # the recorded KV load is the sum of prompt + tokens generated before this step
                    kv = (np.asarray(tr.prompt) + step - ro.start[lane])[mine].sum()
                    assert ro.loads[lane, step, g] == kv


def test_every_request_completes_after_its_output_length(cases_and_rollout):
    cases, ro = cases_and_rollout
    for ci, (tr, _) in enumerate(cases):
        lanes = slice(ci * len(POLICIES), (ci + 1) * len(POLICIES))
        np.testing.assert_array_equal(ro.done[lanes] - ro.start[lanes] + 1, np.broadcast_to(tr.output, ro.done[lanes].shape))
        assert np.all(ro.start[lanes] >= np.asarray(tr.arrival))


def test_load_only_idle_is_the_load_imbalance(cases_and_rollout):
    cases, ro = cases_and_rollout
    # Same lanes and shapes as the fixture (no recompilation), busy time = KV load.
    lanes_tr = [tr for tr, _ in cases for _ in POLICIES]
    batch = sv.stack(lanes_tr)
    lo = dp.simulate_dp(batch, ro.configs, max_workers=4, max_slots=4, max_horizon=6, max_assign=MAX_ASSIGN,
                        chunk=128, record_loads=True, time_model=dp.load_only_time_model())
    np.testing.assert_array_equal(lo.done, ro.done)  # routing never depends on the time model
    m = dp.summarize_dp(lo, batch)
    for lane in range(0, len(lanes_tr), 7):
        g = int(lo.configs.workers[lane])
        k = int(lo.steps["valid"][lane].sum())
        L = lo.loads[lane, :k, :g].astype(np.float64)
        act = lo.steps["active"][lane, :k] > 0
        idle = (g * L.max(axis=1) - L.sum(axis=1))[act].sum()
        assert m["idle_fraction"][lane] == pytest.approx(idle / (g * L.max(axis=1)[act].sum()), rel=1e-4)


def test_scale_to_utilisation_sets_the_arrival_rate():
    tr = sv.load_azure("azure-conv", round_s=1e-3)
    sub = sv.Trace(*[np.asarray(x)[:3000] for x in tr])
    sc = dp.scale_to_utilisation(sub, workers=8, slots=32, utilisation=0.9)
    rate = (sc.n - 1) / sc.arrival[-1]
    assert rate == pytest.approx(0.9 * 8 * 32 / np.mean(sub.output), rel=0.01)


def test_bad_input_names_the_argument():
    tr = sv.synthetic(0, 10)
    with pytest.raises(ValueError, match="workers"):
        dp.simulate_dp(tr, dp.DPConfig(4, 0, 2, 10**6, 4, 2, 0))
    with pytest.raises(ValueError, match="slots"):
        dp.simulate_dp(tr, dp.DPConfig(4, 2, 0, 10**6, 4, 2, 0))
    with pytest.raises(ValueError, match="kv_capacity"):
        dp.simulate_dp(tr, dp.DPConfig(4, 2, 2, 3, 4, 2, 0))
    bad = tr._replace(prompt=np.where(np.arange(10) == 3, np.nan, np.asarray(tr.prompt, float)))
    with pytest.raises(ValueError, match="prompt"):
        dp.simulate_dp(bad, dp.DPConfig(4, 2, 2, 10**6, 4, 2, 0))
    with pytest.raises(ValueError, match="policy"):
        dp.lanes(["nope"], workers=2, slots=2)
    with pytest.raises(ValueError, match="workers"):
        dp.scale_to_utilisation(tr, workers=0, slots=2)
