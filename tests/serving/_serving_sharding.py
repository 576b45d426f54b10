"""Run inside the 8-device worker (see tests/multidevice.py): sharded rollouts equal one-device rollouts."""

import jax
import numpy as np

import jaxor.serving as sv


def sharded_matches_single_device(n_traces):
    trs = [sv.with_intervals(sv.synthetic(s, 20, prompt=(1, 10), output=(1, 20), rate=0.7), s, 0.3)
           for s in range(n_traces)]
    pols = [sv.a_min(), sv.sorted_f()]
    a = sv.simulate(sv.stack(trs), pols, memory=50, max_batch=5, window=4, chunk=64, shard=True)
    b = sv.simulate(sv.stack(trs), pols, memory=50, max_batch=5, window=4, chunk=64, shard=False)
    same = all(np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
               for x, y in zip(a[:-1], b[:-1], strict=True))
    return {"devices": jax.device_count(), "same": bool(same), "evictions": int(np.sum(a.evictions))}
