"""Runs inside the 8-device subprocess: batch_rollout sharded equals the single-device run."""

import jax
import numpy as np


def check_sharded_rollout():
    from jaxor import batch, olp

    gen = olp.Acceptance(m=3)
    keys = jax.random.split(jax.random.PRNGKey(0), 13)  # not a multiple of 8: exercises padding
    fn = jax.vmap(lambda k: olp.rollout(olp.FirstOrder(), gen, k, 50).reward)
    batch.assert_sharded_equals_unsharded(fn, keys)
    res = olp.batch_rollout(olp.FirstOrder(), gen, keys, 50)  # sharded, scan outside the vmap
    same = bool(np.array_equal(np.asarray(res.reward), np.asarray(jax.jit(fn)(keys))))
    return {"devices": len(jax.devices()), "shape": list(res.reward.shape), "same": same}
