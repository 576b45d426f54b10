"""Generative-model sampling, estimators, simplex projection and LSVI against direct references."""

import jax
import numpy as np

from jaxor import rl


def _small(x64=True):
    return rl.garnet(jax.random.PRNGKey(1), 4, 2, branching=3)


def test_count_stream_is_nested_and_counts_samples(x64):
    m = _small()
    sched = (16, 40, 96)
    c = np.asarray(rl.sample_count_stream(jax.random.PRNGKey(0), m.P, sched))
    assert c.shape == (3, 4, 2, 4)
    np.testing.assert_array_equal(c.sum(axis=(1, 2, 3)), sched)
    assert np.all(np.diff(c, axis=0) >= 0)  # one growing stream: later counts contain earlier ones
    # round robin: sample i queries pair i mod 8
    np.testing.assert_array_equal(c[1].sum(-1).ravel(), [5] * 8)
    # next states only where P > 0
    assert np.all(c[-1][np.asarray(m.P) == 0] == 0)
    u = np.asarray(rl.sample_count_stream(jax.random.PRNGKey(0), m.P, sched, allocation="uniform"))
    np.testing.assert_array_equal(u.sum(axis=(1, 2, 3)), sched)


def test_counts_have_the_law_of_individual_samples(x64):
    m = _small()
    n = 800
    keys = jax.random.split(jax.random.PRNGKey(3), 200)
    counts = jax.vmap(lambda k: rl.sample_counts(k, m.P, n))(keys)
    mean = np.asarray(counts).mean(0)
    expect = (n / 8) * np.asarray(m.P)
    sd = np.sqrt(expect * (1 - np.asarray(m.P)) / 200) + 1e-12
    assert np.all(np.abs(mean - expect) <= 5 * sd + 1e-9)
    tr = rl.sample_transitions(jax.random.PRNGKey(4), m.P, 20000)
    tc = np.asarray(rl.transition_counts(tr, 4, 2))
    np.testing.assert_array_equal(tc.sum(-1).ravel(), [2500] * 8)
    np.testing.assert_allclose(tc / 2500, np.asarray(m.P), atol=0.04)


def test_estimators(x64):
    m = _small()
    counts = rl.sample_counts(jax.random.PRNGKey(5), m.P, 64)
    counts = counts.at[3, 1].set(0.0)  # one pair never sampled
    P_tab = np.asarray(rl.estimate_tabular(counts))
    np.testing.assert_allclose(P_tab[3, 1], 0.25)
    P_ls, _ = rl.estimate_linear_mdp(counts, rl.one_hot_features(4, 2), ridge=1e-12)
    np.testing.assert_allclose(np.asarray(P_ls), P_tab, atol=1e-8)
    # least squares recovers a low-rank kernel exactly from expected counts
    lr = rl.low_rank_mdp(jax.random.PRNGKey(6), 12, 3, 4)
    exp_counts = 50.0 * lr.mdp.P
    P_hat, mu_hat = rl.estimate_linear_mdp(exp_counts, lr.Phi, ridge=1e-14, project=False)
    np.testing.assert_allclose(np.asarray(P_hat), np.asarray(lr.mdp.P), atol=1e-8)


def test_project_simplex_kkt(x64):
    v = jax.random.normal(jax.random.PRNGKey(0), (50, 7)) * 2
    w = np.asarray(rl.project_simplex(v))
    v = np.asarray(v)
    assert w.min() >= 0 and np.allclose(w.sum(1), 1)
    for vi, wi in zip(v, w, strict=True):
        pos = wi > 0
        theta = (vi - wi)[pos]
        assert np.ptp(theta) < 1e-10  # w = max(v - theta, 0) with one threshold
        assert np.all(vi[~pos] <= theta[0] + 1e-12)


def test_lsvi_with_one_hot_features_is_value_iteration_on_the_estimate(x64):
    m = rl.garnet(jax.random.PRNGKey(2), 6, 3)
    counts = rl.sample_counts(jax.random.PRNGKey(8), m.P, 360)
    _, pi, Q = rl.lsvi(counts, rl.one_hot_features(6, 3), m.r, m.gamma, iters=400, ridge=1e-14)
    emp = rl.TabularMDP(rl.estimate_tabular(counts), m.r, m.gamma, m.nu)
    V, pi_vi, _ = rl.value_iteration(emp)
    np.testing.assert_allclose(np.asarray(Q.max(1)), np.asarray(V), atol=1e-8)
    F = rl.random_features(jax.random.PRNGKey(9), 6, 3, 5)
    theta, pi_f, _ = rl.lsvi(counts, F, m.r, m.gamma, iters=50)
    assert np.all(np.isfinite(np.asarray(theta))) and np.allclose(np.asarray(pi_f).sum(1), 1)
