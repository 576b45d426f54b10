"""The opt-in Philox-4x32-10 simulation generator: known answers, uniformity, independence,
reproducibility, and regret estimates that agree with JAX's threefry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jaxor
from jaxor import olp
from jaxor.olp._philox import philox4x32, philox_key, philox_uniforms
from jaxor.olp._rollout import rollout

# Known-answer vectors of the Random123 distribution (Salmon et al. 2011): counter, key, output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def test_known_answers_and_mulhi():
    ctr = [jnp.asarray([c[i] for c, _, _ in KAT], jnp.uint32) for i in range(4)]
    key = [jnp.asarray([k[i] for _, k, _ in KAT], jnp.uint32) for i in range(2)]
    out = np.stack([np.asarray(w) for w in jax.jit(philox4x32)(ctr, key)], 1)
    np.testing.assert_array_equal(out, np.array([e for _, _, e in KAT], np.uint32))


@pytest.fixture(scope="module")
def uniforms():
    keys = jax.random.split(jax.random.PRNGKey(11), 64)
    pk = jax.vmap(philox_key)(keys)  # [64, 2]
    u = jax.jit(lambda pk: philox_uniforms(pk[None], jnp.arange(2000)[:, None], 5, jnp.float32))(pk)
    return np.asarray(u, np.float64)  # [5 coords, 2000 steps, 64 replications]


def test_uniform_moments_and_ks(uniforms):
    u = uniforms.ravel()
    assert u.min() >= 0 and u.max() < 1
    n = u.size
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    for j in range(uniforms.shape[0]):  # every coordinate on its own
        assert stats.kstest(uniforms[j].ravel(), "uniform").pvalue > 1e-4


def test_no_correlation_across_steps_replications_coordinates(uniforms):
    z = uniforms - 0.5
    corr = lambda x, y: float(np.corrcoef(x.ravel(), y.ravel())[0, 1])  # noqa: E731
    lim = 5 / np.sqrt(z[0].size)  # 5 sd of a sample correlation of independent pairs
    assert abs(corr(z[:, 1:], z[:, :-1])) < lim  # lag 1 in time
    assert abs(corr(z[:, :, 1:], z[:, :, :-1])) < lim  # neighbouring replications (keys)
    assert abs(corr(z[1:], z[:-1])) < lim  # neighbouring coordinates of one order
    # pairs in a 2-D grid: chi-square on 16 x 16 cells of consecutive steps
    cells = (np.floor(uniforms[0, :-1] * 16) * 16 + np.floor(uniforms[0, 1:] * 16)).astype(int).ravel()
    obs = np.bincount(cells, minlength=256)
    assert stats.chisquare(obs).pvalue > 1e-4


def test_reproducible_and_chunk_invariant():
    gen = olp.Acceptance(m=3)
    key = jax.random.PRNGKey(5)
    r1, a1 = gen.draw(key, 64, rng="philox")
    r2, a2 = gen.draw(key, 64, rng="philox")
    np.testing.assert_array_equal(np.asarray(a1), np.asarray(a2))
    np.testing.assert_array_equal(np.asarray(r1), np.asarray(r2))
    r3, a3 = gen.orders(key, jnp.arange(10, 20), 64, rng="philox")  # any chunk sees the same orders
    np.testing.assert_array_equal(np.asarray(a3), np.asarray(a1[10:20]))
    rt, at = gen.draw(key, 64)
    assert not np.array_equal(np.asarray(rt), np.asarray(r1))  # a different stream than threefry
    with pytest.raises(ValueError, match="rng"):
        gen.draw(key, 4, rng="mt19937")
    with pytest.raises(ValueError, match="rng"):
        olp.rollout(olp.FirstOrder(), olp.NetworkRM(), key, 4, rng="philox")


def test_batch_last_layout_matches_vmapped_rollout():
    # batch_rollout runs the scan outside the vmap for stepwise policies; results must be identical to
    # vmap(rollout) drawing one order per step (chunk 7 leaves a remainder chunk).
    gen = olp.Acceptance(m=3)
    keys = jax.random.split(jax.random.PRNGKey(3), 4)
    pol = olp.Decoupled(gamma=2, T1=10)
    a = olp.batch_rollout(pol, gen, keys, 40, chunk=7, rng="philox")
    b = jax.jit(jax.vmap(lambda k: rollout(pol, gen, k, 40, None, "philox")))(keys)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_regret_agrees_with_threefry(x64):
    # Same policy, same family: the regret estimate may not depend on the generator beyond noise.
    gen = olp.Acceptance(m=2)
    keys = jax.random.split(jax.random.PRNGKey(21), 128)
    n = 200
    orders = {rng: jax.jit(jax.vmap(lambda k, rng=rng: gen.draw(olp.split_key(k)[0], n, rng)))(keys)
              for rng in ("threefry", "philox")}
    r_all = jnp.concatenate([orders["threefry"][0], orders["philox"][0]])
    a_all = jnp.concatenate([orders["threefry"][1], orders["philox"][1]])
    hind = np.asarray(jax.jit(jax.vmap(lambda r, a: olp.solve_hindsight(r, a, gen.budget(n)).value))(r_all, a_all))
    est = {}
    for i, rng in enumerate(("threefry", "philox")):
        reg = hind[i * 128:(i + 1) * 128] - np.asarray(olp.batch_rollout(olp.FirstOrder(), gen, keys, n, rng=rng).reward)
        est[rng] = (reg.mean(), reg.std(ddof=1) / np.sqrt(reg.size))
    (m1, s1), (m2, s2) = est["threefry"], est["philox"]
    assert abs(m1 - m2) < 4 * np.hypot(s1, s2), est
    with jaxor.float64():
        u = philox_uniforms(philox_key(keys[0]), jnp.arange(4000), 2, jnp.float64)
    assert u.dtype == jnp.float64 and stats.kstest(np.asarray(u).ravel(), "uniform").pvalue > 1e-3
    assert len(np.unique(np.asarray(u))) == u.size  # 52-bit mantissas: no collisions at this size
