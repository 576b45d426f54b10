"""The JAX rollout agrees exactly with the plain-Python event simulator (every completion round)."""

import numpy as np
import pytest

import jaxor.serving as sv
from jaxor.serving import _rollout
from jaxor.serving.naive import simulate_reference

POLICIES = {"fcfs": sv.fcfs(), "mc-sf": sv.mc_sf(), "sorted-f": sv.sorted_f(), "a-max": sv.a_max(),
            "a-min": sv.a_min(), "h-sf": sv.hindsight_sf(), "a-min-largest": sv.a_min(evict="largest"),
            "sorted-f-smaller": sv.sorted_f(tie="smaller"), "prio": sv.priority_order()}
N, K, W = 40, 6, 5
TM = sv.linear(c0=0.01, c1=1e-4, c2=1e-5, c3=1e-3)


def _traces(kind, count):
    out = []
    for seed in range(count):
        rng = np.random.default_rng(seed + (1000 if kind == "tight" else 0))
        if kind == "tight":  # eviction-heavy: poor predictions (alpha 0.1-0.3), short prompts, tight memory
            tr = sv.synthetic(seed + 7, N, prompt=(1, 12), output=(1, 40), rate=float(rng.uniform(0.3, 2.0)))
            tr = sv.with_intervals(tr, seed, float(rng.uniform(0.1, 0.3)))
        else:  # mixed: backlogs and arrivals, with ties in lengths
            rate = None if seed % 4 == 0 else float(rng.uniform(0.05, 1.0))
            tr = sv.synthetic(seed, N, prompt=(0, 30), output=(1, 12), rate=rate)
            tr = sv.with_intervals(tr, seed, float(rng.uniform(0.2, 1.0)))
        tr = tr._replace(prio=rng.permutation(N).astype(np.int32) // 2)  # ties in prio too
        out.append(tr)
    return out


@pytest.fixture(scope="module")
def runs():
    res = {}
    for kind, memory in (("mixed", 90), ("tight", 60)):
        trs = _traces(kind, 25)
        # a request that can never fit (prompt + output - 1 > memory) is reported as rejected
        bad = trs[0]
        o = np.asarray(bad.output).copy()
        o[3] = memory
        trs[0] = sv.from_arrays(bad.arrival, bad.prompt, o, np.minimum(bad.lower, o), np.maximum(bad.upper, o),
                                bad.pred, bad.prio)
        roll = sv.simulate(sv.stack(trs), list(POLICIES.values()), memory=memory, max_batch=K, window=W,
                           time_model=TM, record=True)
        res[kind] = (trs, memory, roll)
    fn = _rollout._chunk_fn(K, W, 4 * N + 64, True, True)
    size = fn._cache_size()
    trs, memory, _ = res["mixed"]
    res["unit"] = (trs, memory, sv.simulate(sv.stack(trs), list(POLICIES.values()), memory=memory, max_batch=K,
                                            window=W, record=True))
    res["compiles"] = (size, fn._cache_size())
    trs, memory, _ = res["tight"]  # without records the rollout stops early (while_loop): same results
    res["norecord"] = sv.simulate(sv.stack(trs), list(POLICIES.values()), memory=memory, max_batch=K, window=W,
                                  time_model=TM)
    return res


@pytest.mark.parametrize("name", list(POLICIES))
def test_rollout_matches_oracle_on_50_traces(runs, name):
    j = list(POLICIES).index(name)
    total_evictions = 0
    for kind in ("mixed", "tight"):
        trs, memory, roll = runs[kind]
        assert bool(np.all(roll.finished[:, j]))
        for i, tr in enumerate(trs):
            ref = simulate_reference(tr, POLICIES[name], memory=memory, max_batch=K, window=W, time_model=TM)
            ctx = f"{name} {kind} trace {i}"
            np.testing.assert_array_equal(roll.completion[i, j], ref["completion"], err_msg=ctx)
            np.testing.assert_array_equal(roll.start[i, j], ref["start"], err_msg=ctx)
            np.testing.assert_array_equal(roll.restarts[i, j], ref["restarts"], err_msg=ctx)
            np.testing.assert_array_equal(roll.rejected[i, j], ref["rejected"], err_msg=ctx)
            assert int(roll.epochs[i, j]) == ref["epochs"], ctx
            for f in ("completion_time", "first_token_time", "arrival_time"):
                np.testing.assert_allclose(getattr(roll, f)[i, j], ref[f],
                                           rtol=2e-5, atol=1e-5, equal_nan=True, err_msg=f"{ctx} {f}")
            total_evictions += ref["evictions"]
        # the never-fitting request is reported, not dropped
        assert bool(roll.rejected[0, j, 3]) and int(roll.completion[0, j, 3]) == -1
    if name.startswith("a-min"):
        assert total_evictions > 100  # the eviction path is really exercised


def test_same_shapes_do_not_recompile(runs):
    before, after = runs["compiles"]
    assert before == after >= 1


def test_records_and_clock(runs):
    for kind in ("mixed", "tight"):
        _, memory, roll = runs[kind]
        rec = roll.records
        assert rec["kv"].max() <= memory and rec["batch"].max() <= K
        valid = rec["valid"]
        for i in range(valid.shape[0]):
            for j in range(valid.shape[1]):
                assert np.all(np.diff(rec["clock"][i, j][valid[i, j]]) > 0)
                assert np.all(np.diff(rec["t"][i, j][valid[i, j]]) > 0)
    for a, b in zip(runs["norecord"][:-1], runs["tight"][2][:-1], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # with unit rounds the clock is the round number
    trs, _, roll = runs["unit"]
    ok = roll.completion >= 0
    np.testing.assert_array_equal(roll.completion_time[ok], roll.completion[ok].astype(np.float32))
    np.testing.assert_array_equal(roll.completion, runs["mixed"][2].completion)


def test_clairvoyant_policies_respect_memory_every_round(runs):
    for kind in ("mixed", "tight"):
        trs, memory, roll = runs[kind]
        for j, name in enumerate(POLICIES):
            if name in ("fcfs", "h-sf", "a-max", "prio"):
                for i, tr in enumerate(trs):
                    ok = ~roll.rejected[i, j]
                    sub = sv.Trace(*[np.asarray(x)[ok] for x in tr])
                    total = float((roll.completion[i, j][ok] - sub.arrival).sum())
                    assert sv.schedule_cost(sub, roll.start[i, j][ok], memory) == total
                    assert int(roll.evictions[i, j]) == 0


def test_summary_reports_rejected_and_metrics(runs):
    trs, memory, roll = runs["mixed"]
    s = sv.summarize(roll, sv.stack(trs))
    assert s["rejected"][0].tolist() == [1] * len(POLICIES)
    assert np.all(s["unfinished"] == 0)
    assert np.all(s["mean_ttft_s"] > 0) and np.all(s["mean_latency_s"] >= s["mean_ttft_s"])
    tot = np.array([[float((roll.completion[i, j][roll.completion[i, j] >= 0]
                            - np.asarray(trs[i].arrival)[roll.completion[i, j] >= 0]).sum())
                     for j in range(len(POLICIES))] for i in range(len(trs))])
    np.testing.assert_array_equal(s["total_latency"], tot)
