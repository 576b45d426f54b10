"""Run inside the 8-device worker (see tests/multidevice.py)."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import batch


def _toy_rollout(key, budget):
    """A little stochastic inventory rollout: lax.scan over time with an explicit key per replication."""

    def step(carry, k):
        stock, reward = carry
        demand = jax.random.uniform(k, (), minval=0.0, maxval=2.0)
        sold = jnp.minimum(stock, demand)
        return (stock - sold, reward + sold * 1.5), sold

    keys = jax.random.split(key, 50)
    (stock, reward), sold = jax.lax.scan(step, (budget, jnp.zeros_like(budget)), keys)
    return reward, sold


def device_count():
    return jax.device_count()


def sharded_equals_unsharded(n_reps):
    keys = jax.random.split(jax.random.PRNGKey(0), n_reps)
    budgets = jnp.linspace(1.0, 30.0, n_reps)
    fn = jax.vmap(_toy_rollout)
    batch.assert_sharded_equals_unsharded(fn, keys, budgets)  # exact
    out = batch.sharded(fn)(keys, budgets)
    rewards = np.asarray(out[0])
    return {"devices": jax.device_count(), "shape": list(rewards.shape), "rewards": rewards.tolist()}


def one_device_rewards(n_reps):
    keys = jax.random.split(jax.random.PRNGKey(0), n_reps)
    budgets = jnp.linspace(1.0, 30.0, n_reps)
    out = batch.sharded(jax.vmap(_toy_rollout), devices=jax.devices()[:1])(keys, budgets)
    return np.asarray(out[0]).tolist()


def placed_on_all_devices(n_reps):
    x = jnp.arange(float(n_reps))
    padded, n = batch.pad_batch((x,), jax.device_count())
    y = jax.device_put(padded[0], jax.sharding.NamedSharding(batch.batch_mesh(), jax.sharding.PartitionSpec("batch")))
    return len({s.device.id for s in y.addressable_shards})
