"""Gradients of the optimal value: envelope theorem vs HiGHS duals and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import rl


def _fd(f, x, d, h=1e-6):
    return (f(x + h * d) - f(x - h * d)) / (2 * h)


def test_reward_gradient_is_the_lp_occupancy(x64):
    m = rl.garnet(jax.random.PRNGKey(0), 10, 2)
    g = jax.grad(lambda r: rl.optimal_value(rl.TabularMDP(m.P, r, m.gamma, m.nu)))(m.r)
    q = rl.solve_dual_lp(m).q
    np.testing.assert_allclose(np.asarray(g), q / (1 - float(m.gamma)), atol=1e-8)


def test_kernel_nu_gamma_gradients_match_finite_differences(x64):
    m = rl.garnet(jax.random.PRNGKey(1), 8, 3)
    mask = (m.P > 0).astype(m.P.dtype)
    d = jax.random.normal(jax.random.PRNGKey(2), m.P.shape) * mask
    d = d - (d.sum(-1, keepdims=True) / mask.sum(-1, keepdims=True)) * mask  # stay on the simplex
    fP = lambda P: rl.optimal_value(rl.TabularMDP(P, m.r, m.gamma, m.nu))
    gP = jax.grad(fP)(m.P)
    assert abs(float(jnp.sum(gP * d)) - float(_fd(fP, m.P, d))) < 1e-6
    fg = lambda g: rl.optimal_value(rl.TabularMDP(m.P, m.r, g, m.nu))
    assert abs(float(jax.grad(fg)(m.gamma)) - float(_fd(fg, m.gamma, 1.0))) < 1e-5
    fn = lambda nu: rl.optimal_value(rl.TabularMDP(m.P, m.r, m.gamma, nu))
    dn = jax.random.normal(jax.random.PRNGKey(3), (8,))
    dn = dn - dn.mean()
    assert abs(float(jnp.sum(jax.grad(fn)(m.nu) * dn)) - float(_fd(fn, m.nu, dn))) < 1e-7


def test_feature_gradients_of_a_linear_mdp(x64):
    lr = rl.low_rank_mdp(jax.random.PRNGKey(4), 12, 3, 3)

    def f(Phi, theta):
        P = jnp.einsum("sad,td->sat", Phi, lr.mu)
        P = P / P.sum(-1, keepdims=True)  # finite-difference steps leave the simplex otherwise
        return rl.optimal_value(rl.TabularMDP(P, Phi @ theta, lr.mdp.gamma, lr.mdp.nu))

    gPhi, gth = jax.grad(f, argnums=(0, 1))(lr.Phi, lr.theta)
    dPhi = jax.random.normal(jax.random.PRNGKey(5), lr.Phi.shape)
    assert abs(float(jnp.sum(gPhi * dPhi)) - float(_fd(lambda x: f(x, lr.theta), lr.Phi, dPhi))) < 1e-6
    dth = jax.random.normal(jax.random.PRNGKey(6), (3,))
    assert abs(float(gth @ dth) - float(_fd(lambda t: f(lr.Phi, t), lr.theta, dth))) < 1e-7
    # vmapped and jitted over a batch of reward parameters equals the loop
    thetas = jax.random.uniform(jax.random.PRNGKey(7), (4, 3))
    batched = jax.jit(jax.vmap(jax.grad(lambda t: f(lr.Phi, t))))(thetas)
    for i in range(4):
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(jax.grad(lambda t: f(lr.Phi, t))(thetas[i])),
                                   atol=1e-10)
