"""Rollouts against Python-loop references (HiGHS per step), generators, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxor
from jaxor import olp
from jaxor.lp import highs
from jaxor.olp import naive

N_REF = 40


@pytest.fixture(scope="module")
def case():
    with jaxor.float64():
        gen = olp.Acceptance(m=3)
        key = jax.random.PRNGKey(7)
        k_orders, k_policy = olp.split_key(key)
        r, a = gen.draw(k_orders, N_REF)
        samples = gen.draw(k_policy, N_REF)
        yield gen, key, np.asarray(r), np.asarray(a), np.asarray(gen.budget(N_REF)), samples


def test_draw_matches_in_scan_orders(x64, case):
    gen, key, r, a, b, _ = case
    k_orders, _ = olp.split_key(key)
    for t in (0, 5, N_REF - 1):
        rt, at = gen.order(k_orders, t, N_REF)
        assert float(rt) == r[t] and np.array_equal(np.asarray(at), a[t])


def test_first_order_matches_reference(x64, case):
    gen, key, r, a, b, _ = case
    res = olp.rollout(olp.FirstOrder(), gen, key, N_REF)
    assert float(res.reward) == pytest.approx(naive.first_order_rollout(r, a, b), rel=1e-12)
    # Balseiro-Lu-Mirrokni with the Euclidean mirror map is the same update.
    res2 = olp.rollout(olp.MirrorDescent("euclidean"), gen, key, N_REF)
    assert float(res2.reward) == float(res.reward)


@pytest.mark.parametrize("chunk", [None, 7, 40], ids=["per_step", "chunk7_remainder", "one_chunk"])
def test_chunked_draws_match_reference(x64, case, chunk):
    # The chunked path draws C periods per vectorised call; with threefry keys the orders are the very
    # ones of gen.draw, so the rollout equals the Python loop on those drawn inputs, remainder included.
    gen, key, r, a, b, _ = case
    res = olp.rollout(olp.FirstOrder(), gen, key, N_REF, chunk=chunk)
    assert float(res.reward) == pytest.approx(naive.first_order_rollout(r, a, b), rel=1e-12)
    assert np.all(np.asarray(res.used) <= b + 1e-12) and np.all(np.asarray(res.min_remaining) >= 0)
    ref_used = np.asarray(olp.rollout(olp.FirstOrder(), gen, key, N_REF, chunk=None).used)
    np.testing.assert_array_equal(np.asarray(res.used), ref_used)
    with pytest.raises(ValueError, match="chunk"):
        olp.rollout(olp.FirstOrder(), gen, key, N_REF, chunk=0)


@pytest.mark.parametrize("policy", [olp.LiYe(), olp.SingleSample(), olp.SingleSample(current="true"),
                                    olp.SingleSample(current="compare")],
                         ids=["li_ye", "single_sample", "single_sample_true", "single_sample_compare"])
def test_resolving_matches_highs_per_step(x64, case, policy):
    gen, key, r, a, b, samples = case
    res = olp.rollout(policy, gen, key, N_REF)
    kind = "li_ye" if isinstance(policy, olp.LiYe) else "single_sample"
    kind += {"true": "_true", "compare": "_compare"}.get(getattr(policy, "current", ""), "")
    ref = naive.resolve_rollout(r, a, b, kind=kind, samples=tuple(np.asarray(s) for s in samples))
    assert int(res.solver_fails) == 0
    assert float(res.reward) == pytest.approx(ref, rel=1e-12)


def test_hindsight_and_regret(x64, case):
    gen, key, r, a, b, _ = case
    lp = highs.solve(-r, a.T, None, b, 0.0, 1.0)
    assert float(olp.hindsight_value(gen, key, N_REF)) == pytest.approx(-lp.objective, rel=1e-9)
    reg = olp.regret(olp.FirstOrder(), gen, key, N_REF)
    assert float(reg) == pytest.approx(-lp.objective - naive.first_order_rollout(r, a, b), rel=1e-10)


def test_acceptance_prices_positive(x64):
    p = olp.fluid_price(olp.Acceptance(m=4), jax.random.PRNGKey(0), 4000)
    assert np.all(np.asarray(p) > 0.05), p


def test_finite_support_fluid_price_matches_expected_lp(x64):
    gen = olp.FiniteSupport.random(m=2, K=5, seed=1)
    probs = np.exp(np.asarray(gen.logits))
    rw, cs, d = np.asarray(gen.rewards), np.asarray(gen.consumption), np.asarray(gen.d)
    # Fluid LP over types: max sum pi_k r_k y_k  s.t.  sum pi_k a_k y_k <= d, 0 <= y <= 1.
    res = highs.solve(-probs * rw, (probs[:, None] * cs).T, None, d, 0.0, 1.0)
    p_exact = np.maximum(-res.y, 0.0)
    p = np.asarray(olp.fluid_price(gen, jax.random.PRNGKey(2), 4000))
    # A sharp (finite-support) dual: the sample dual lands on the exact one or next to it.
    np.testing.assert_allclose(p, p_exact, atol=0.05)


def test_network_rm_structure():
    gen = olp.NetworkRM(spokes=3)
    assert gen.m == 6
    cs = np.asarray(gen.consumption)
    assert set(np.unique(cs.sum(1))) == {1.0, 2.0}  # single legs and connections
    r, a = gen.draw(jax.random.PRNGKey(0), 500)
    r, a = np.asarray(r), np.asarray(a)
    none = r == 0
    assert np.all(a[none] == 0) and 0.02 < none.mean() < 0.25
    high = r > 1.7
    # high fares are back-loaded
    assert high[250:].mean() > high[:250].mean()


def test_nonstationary_scale_moves(x64):
    gen = olp.Nonstationary("drift", m=2)
    r, _ = gen.draw(jax.random.PRNGKey(0), 4000)
    r = np.asarray(r)
    assert r[3000:].mean() > 1.5 * r[:1000].mean()


def test_bad_input_raises_naming_argument():
    with pytest.raises(ValueError, match="d "):
        olp.Acceptance(m=2, d=-0.1)
    with pytest.raises(ValueError, match="d must"):
        olp.Acceptance(m=2, d=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="n "):
        olp.rollout(olp.FirstOrder(), olp.Acceptance(m=2), jax.random.PRNGKey(0), 0)
    with pytest.raises(ValueError, match="n "):
        olp.hindsight_value(olp.Acceptance(m=2), jax.random.PRNGKey(0), -3)
    with pytest.raises(ValueError, match="consumption"):
        olp.FiniteSupport(np.ones(3), np.ones((4, 2)), np.ones(3) / 3, 0.2)
    with pytest.raises(ValueError, match="probs"):
        olp.FiniteSupport(np.ones(3), np.ones((3, 2)), np.ones(2) / 2, 0.2)
    with pytest.raises(ValueError, match="m "):
        olp.Acceptance(m=0)
    with pytest.raises(ValueError, match="policy"):
        olp.rollout("first_order", olp.Acceptance(m=2), jax.random.PRNGKey(0), 10)
    with pytest.raises(ValueError, match="f "):
        olp.WaitLess(f=0)
    with pytest.raises(ValueError, match="gamma"):
        olp.Decoupled(gamma=3)
    with pytest.raises(ValueError, match="b must"):
        olp.solve_hindsight(jnp.ones(4), jnp.ones((4, 2)), jnp.ones(3))


def test_batch_rollout_sharded(multi_device):
    out = multi_device.call("olp/_olp_sharding.py:check_sharded_rollout")
    assert out == {"devices": 8, "shape": [13], "same": True}


def test_vmap_over_step_sizes_and_replications(x64, case):
    gen, key, r, a, b, _ = case
    etas = jnp.array([0.05, 0.2, 0.5])
    keys = jax.random.split(key, 2)
    f = jax.jit(jax.vmap(jax.vmap(lambda eta, k: olp.rollout(olp.FirstOrder(eta=eta), gen, k, N_REF).reward,
                                  in_axes=(0, None)), in_axes=(None, 0)))
    got = np.asarray(f(etas, keys))  # [replications, etas]
    assert got.shape == (2, 3)
    r0, a0 = (np.asarray(v) for v in gen.draw(olp.split_key(keys[1])[0], N_REF))
    for j, eta in enumerate(np.asarray(etas)):
        assert got[1, j] == pytest.approx(naive.first_order_rollout(r0, a0, b, eta=float(eta)), rel=1e-12)


def test_single_sample_with_several_draws_matches_highs_per_step(x64, case):
    gen, key, r, a, b, _ = case
    pol = olp.SingleSample(samples=3)
    res = olp.rollout(pol, gen, key, N_REF)
    k_policy = olp.split_key(key)[1]
    draws = [gen.draw(k, N_REF) for k in jax.random.split(k_policy, 3)]
    rh = np.concatenate([np.asarray(d[0]) for d in draws])
    ah = np.concatenate([np.asarray(d[1]) for d in draws])
    ref = naive.resolve_rollout(r, a, b, kind="single_sample", samples=(rh, ah), copies=3)
    assert int(res.solver_fails) == 0
    assert float(res.reward) == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError, match="samples"):
        olp.SingleSample(samples=0)
