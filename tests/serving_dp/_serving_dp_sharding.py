"""Run in the 8-device worker: the sharded DP rollout equals the one-device rollout."""

import jax
import numpy as np

import jaxor.serving as sv
from jaxor.serving import dp


def sharded_matches_single_device():
    trs = [sv.synthetic(s, 20, prompt=(1, 20), output=(1, 15), rate=1.0) for s in range(3)]
    cfg = dp.lanes(["rr", "pod", "bf-io"], workers=3, slots=2, seeds=(1,))
    batch = sv.stack([t for t in trs])
    a = dp.simulate_dp(batch, cfg, shard=True, chunk=64)
    b = dp.simulate_dp(batch, cfg, shard=False, chunk=64)
    same = all(np.array_equal(x, y, equal_nan=True) for x, y in
               [(a.worker, b.worker), (a.done, b.done), (a.done_time, b.done_time), (a.steps["step_time"], b.steps["step_time"])])
    return {"devices": jax.device_count(), "same": bool(same)}
