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


def check_sharded_replay():
    from jaxor import olp

    r = jax.random.uniform(jax.random.PRNGKey(1), (13, 40))  # 13 streams on 8 devices: padding
    a = 2.0 * jax.random.uniform(jax.random.PRNGKey(2), (13, 40, 3))
    b = np.full(3, 10.0, np.float32)
    one = np.asarray(jax.jit(jax.vmap(lambda rr, aa: olp.replay(olp.FirstOrder(), rr, aa, b).reward))(r, a))
    first = np.asarray(olp.batch_replay(olp.FirstOrder(), r, a, b).reward)
    last = np.asarray(olp.batch_replay(olp.FirstOrder(), r.T, np.moveaxis(np.asarray(a), 0, -1), b,
                                       time_major=True).reward)
    liye = np.asarray(olp.batch_replay(olp.LiYe(), r, a, b).reward)
    liye_one = np.asarray(jax.jit(jax.vmap(lambda rr, aa: olp.replay(olp.LiYe(), rr, aa, b).reward))(r, a))
    return {"devices": len(jax.devices()), "shape": list(last.shape),
            "same": bool(np.allclose(one, first, rtol=1e-6) and np.allclose(one, last, rtol=1e-6)
                         and np.allclose(liye, liye_one, rtol=1e-6))}
