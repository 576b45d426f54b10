import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxor import batch


def test_pad_batch_repeats_last_element():
    x = jnp.arange(5.0)
    (px,), n = batch.pad_batch((x,), 4)
    assert n == 5
    np.testing.assert_array_equal(np.asarray(px), [0, 1, 2, 3, 4, 4, 4, 4])


def test_pad_batch_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="batch size"):
        batch.pad_batch((jnp.zeros(3), jnp.zeros(4)), 2)
    with pytest.raises(ValueError, match="scalar"):
        batch.pad_batch((jnp.zeros(3), jnp.float32(1.0)), 2)


def test_single_device_is_plain_jit():
    f = batch.sharded(jax.vmap(lambda a, b: a * b + 1.0))
    out = f(jnp.arange(7.0), jnp.full((7,), 2.0))
    np.testing.assert_array_equal(np.asarray(out), 2 * np.arange(7.0) + 1)


def test_sharded_equals_unsharded_on_8_devices(multi_device):
    assert multi_device.call("foundation/_sharding_checks.py:device_count") == 8
    # 13 replications: not a multiple of 8, so padding and unpadding are exercised.
    res = multi_device.call("foundation/_sharding_checks.py:sharded_equals_unsharded", 13)
    assert res["devices"] == 8 and res["shape"] == [13]
    single = multi_device.call("foundation/_sharding_checks.py:one_device_rewards", 13)
    np.testing.assert_array_equal(np.asarray(res["rewards"]), np.asarray(single))
    assert multi_device.call("foundation/_sharding_checks.py:placed_on_all_devices", 13) == 8
