"""Replay of given orders: the same rollouts as the generator path, every layout, bad input."""

import jax
import numpy as np
import pytest

import jaxor
from jaxor import olp
from jaxor.olp import naive

N = 60
REPS = 5


@pytest.fixture(scope="module")
def orders():
    with jaxor.float64():
        gen = olp.Acceptance(m=3)
        keys = jax.random.split(jax.random.PRNGKey(11), REPS)
        drawn = [gen.draw(olp.split_key(k)[0], N) for k in keys]
        r = np.stack([np.asarray(d[0]) for d in drawn])  # [R, n]
        a = np.stack([np.asarray(d[1]) for d in drawn])  # [R, n, m]
        yield gen, keys, r, a, np.asarray(gen.budget(N))


@pytest.mark.parametrize("policy", [olp.FirstOrder(), olp.Decoupled(), olp.LiYe(), olp.SingleSample()],
                         ids=["first_order", "decoupled", "li_ye", "single_sample"])
def test_replay_equals_rollout_on_the_same_orders(x64, orders, policy):
    gen, keys, r, a, b = orders
    want = olp.batch_rollout(policy, gen, keys, N)
    pkeys = jax.vmap(lambda k: olp.split_key(k)[1])(keys)  # the policy's own key, as rollout splits it
    got = olp.batch_replay(policy, r, a, b, keys=pkeys, gen=gen)
    np.testing.assert_allclose(np.asarray(got.reward), np.asarray(want.reward), rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(got.accepted), np.asarray(want.accepted))
    if policy.stepwise:  # the single-stream entry point (a separate compile: checked where it is cheap)
        one = olp.replay(policy, r[2], a[2], b, key=pkeys[2], gen=gen)
        assert float(one.reward) == pytest.approx(float(want.reward[2]), rel=1e-12)


def test_time_major_layout_and_python_reference(x64, orders):
    gen, _, r, a, b = orders
    pol = olp.FirstOrder(eta=0.3)
    first = olp.batch_replay(pol, r, a, b)
    last = olp.batch_replay(pol, r.T, np.moveaxis(a, 0, -1), b, time_major=True)
    np.testing.assert_array_equal(np.asarray(first.reward), np.asarray(last.reward))
    np.testing.assert_array_equal(np.asarray(first.used), np.asarray(last.used))
    ref = [naive.first_order_rollout(r[i], a[i], b, eta=0.3) for i in range(REPS)]
    np.testing.assert_allclose(np.asarray(last.reward), ref, rtol=1e-12)
    assert np.all(np.asarray(last.used) <= b + 1e-12) and np.all(np.asarray(last.min_remaining) >= 0)


def test_replay_is_jittable(x64, orders):
    _, _, r, a, b = orders
    f = jax.jit(lambda rr, aa, bb: olp.replay(olp.FirstOrder(), rr, aa, bb).reward)
    assert float(f(r[0], a[0], b)) == pytest.approx(float(olp.replay(olp.FirstOrder(), r[0], a[0], b).reward))


def test_replay_bad_input_names_the_argument(orders):
    gen, _, r, a, b = orders
    with pytest.raises(ValueError, match="a \\(consumptions\\)"):
        olp.replay(olp.FirstOrder(), r[0], a[0, :-1], b)
    with pytest.raises(ValueError, match="r \\(rewards\\)"):
        olp.replay(olp.FirstOrder(), r, a[0], b)
    with pytest.raises(ValueError, match="b \\(the budget\\) must be nonnegative"):
        olp.replay(olp.FirstOrder(), r[0], a[0], -b)
    with pytest.raises(ValueError, match="b \\(the budget\\) must have shape"):
        olp.replay(olp.FirstOrder(), r[0], a[0], b[:2])
    with pytest.raises(ValueError, match="n \\(the horizon\\)"):
        olp.replay(olp.FirstOrder(), r[0, :0], a[0, :0], b)
    with pytest.raises(ValueError, match="gen"):
        olp.replay(olp.SingleSample(), r[0], a[0], b, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="key"):
        olp.replay(olp.SingleSample(), r[0], a[0], b, gen=gen)
    with pytest.raises(ValueError, match="time_major"):
        olp.batch_replay(olp.FirstOrder(), r, a, b, time_major=1)
    with pytest.raises(ValueError, match="a \\(consumptions\\) must have shape \\(n, m, R\\)"):
        olp.batch_replay(olp.FirstOrder(), r.T, a, b, time_major=True)
    with pytest.raises(ValueError, match="policy"):
        olp.replay("first_order", r[0], a[0], b)


def test_batch_replay_sharded(multi_device):
    out = multi_device.call("olp/_olp_sharding.py:check_sharded_replay")
    assert out == {"devices": 8, "shape": [13], "same": True}
