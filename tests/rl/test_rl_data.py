"""Generative-model sampling, estimators, simplex projection and LSVI against direct references.

Shapes and the schedule match tests/rl/test_rl_resolve.py so compiled functions are shared.
"""

import jax
import numpy as np

from jaxor import rl

SCHED = (24, 48, 96)


def _garnet():
    return rl.garnet(jax.random.PRNGKey(1), 5, 2, branching=3)


def test_count_stream_is_nested_and_has_the_law_of_samples(x64):
    m = _garnet()
    c = np.asarray(rl.sample_count_stream(jax.random.PRNGKey(0), m.P, SCHED))
    assert c.shape == (3, 5, 2, 5)
    np.testing.assert_array_equal(c.sum(axis=(1, 2, 3)), SCHED)
    assert np.all(np.diff(c, axis=0) >= 0)  # one growing stream: later counts contain earlier ones
    # round robin: sample i queries pair i mod 10
    np.testing.assert_array_equal(c[0].sum(-1).ravel(), [3] * 4 + [2] * 6)
    assert np.all(c[-1][np.asarray(m.P) == 0] == 0)
    u = np.asarray(rl.sample_count_stream(jax.random.PRNGKey(0), m.P, SCHED, allocation="uniform"))
    np.testing.assert_array_equal(u.sum(axis=(1, 2, 3)), SCHED)


def test_counts_have_the_law_of_individual_samples(x64):
    m = _garnet()
    c = np.asarray(rl.sample_count_stream(jax.random.PRNGKey(0), m.P, SCHED))
    # expected counts over many streams: E n_k(s,a,s') = n_k(s,a) P(s'|s,a)
    R = 400
    many = np.asarray(jax.vmap(lambda k: rl.sample_count_stream(k, m.P, SCHED))(
        jax.random.split(jax.random.PRNGKey(3), R)))[:, -1]
    P = np.asarray(m.P)
    expect = c[-1].sum(-1, keepdims=True) * P
    sd = np.sqrt(expect * (1 - P) / R)
    assert np.all(np.abs(many.mean(0) - expect) <= 5 * sd + 1e-9)
    # individual samples from the generative model count up to the same pair allocation
    tr = rl.sample_transitions(jax.random.PRNGKey(4), m.P, 20000)
    tc = np.asarray(rl.transition_counts(tr, 5, 2))
    np.testing.assert_array_equal(tc.sum(-1).ravel(), [2000] * 10)
    np.testing.assert_allclose(tc / 2000, P, atol=0.05)


def test_estimators_and_lsvi(x64):
    m = _garnet()
    counts = rl.sample_count_stream(jax.random.PRNGKey(5), m.P, SCHED)[0]
    counts = counts.at[3, 1].set(0.0)  # one pair never sampled
    P_tab = np.asarray(rl.estimate_tabular(counts))
    np.testing.assert_allclose(P_tab[3, 1], 0.2)
    oh = rl.one_hot_features(5, 2)
    P_ls, _ = rl.estimate_linear_mdp(counts, oh, ridge=1e-12)
    np.testing.assert_allclose(np.asarray(P_ls), P_tab, atol=1e-8)
    # least squares recovers a low-rank kernel exactly from expected counts
    lr = rl.low_rank_mdp(jax.random.PRNGKey(7), 5, 2, 2)
    P_hat, _ = rl.estimate_linear_mdp(50.0 * lr.mdp.P, lr.Phi, ridge=1e-14, project=False)
    np.testing.assert_allclose(np.asarray(P_hat), np.asarray(lr.mdp.P), atol=1e-8)
    # the data-driven LP in feature space: exact on expected counts; one-hot = tabular
    V_lr, _, _ = rl.value_iteration(lr.mdp)
    dd = rl.solve_data_driven_lp(50.0 * lr.mdp.P, lr.mdp.r, lr.mdp.gamma, lr.mdp.nu, Phi=lr.Phi, ridge=1e-14)
    assert abs(dd.value - float(lr.mdp.nu @ V_lr)) < 1e-7
    c2 = rl.sample_count_stream(jax.random.PRNGKey(5), m.P, SCHED)[-1]
    t1 = rl.solve_data_driven_lp(c2, m.r, m.gamma, m.nu)
    t2 = rl.solve_data_driven_lp(c2, m.r, m.gamma, m.nu, Phi=oh, ridge=1e-14)
    assert abs(t1.value - t2.value) < 1e-7
    # LSVI with one-hot features is value iteration on the empirical MDP
    counts = rl.sample_count_stream(jax.random.PRNGKey(8), m.P, SCHED)[-1]
    _, pi, Q = rl.lsvi(counts, oh, m.r, m.gamma, iters=300, ridge=1e-14)
    emp = rl.TabularMDP(rl.estimate_tabular(counts), m.r, m.gamma, m.nu)
    V, _, _ = rl.value_iteration(emp)
    np.testing.assert_allclose(np.asarray(Q.max(1)), np.asarray(V), atol=1e-8)
    F = rl.random_features(jax.random.PRNGKey(9), 5, 2, 10)
    theta, pi_f, _ = rl.lsvi(counts, F, m.r, m.gamma, iters=300)
    assert np.all(np.isfinite(np.asarray(theta))) and np.allclose(np.asarray(pi_f).sum(1), 1)


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
