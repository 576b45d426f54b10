"""Gradients of the optimal value: envelope theorem vs HiGHS duals and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxor import rl


def _fd(f, x, d, h=1e-6):
    return (f(x + h * d) - f(x - h * d)) / (2 * h)


def test_gradients_wrt_reward_kernel_nu_gamma(x64):
    m = rl.garnet(jax.random.PRNGKey(0), 10, 2)
    f = jax.jit(lambda r, P, nu, g: rl.optimal_value(rl.TabularMDP(P, r, g, nu)))
    gr, gP, gnu, gg = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3)))(m.r, m.P, m.nu, m.gamma)
    # dV*/dr is the optimal occupancy of the HiGHS dual LP (value scale)
    q = rl.solve_dual_lp(m).q
    np.testing.assert_allclose(np.asarray(gr), q / (1 - float(m.gamma)), atol=1e-8)
    mask = (m.P > 0).astype(m.P.dtype)
    d = jax.random.normal(jax.random.PRNGKey(2), m.P.shape) * mask
    d = d - (d.sum(-1, keepdims=True) / mask.sum(-1, keepdims=True)) * mask  # stay on the simplex
    assert abs(float(jnp.sum(gP * d)) - float(_fd(lambda P: f(m.r, P, m.nu, m.gamma), m.P, d))) < 1e-6
    assert abs(float(gg) - float(_fd(lambda g: f(m.r, m.P, m.nu, g), m.gamma, 1.0))) < 1e-5
    dn = jax.random.normal(jax.random.PRNGKey(3), (10,))
    dn = dn - dn.mean()
    assert abs(float(gnu @ dn) - float(_fd(lambda nu: f(m.r, m.P, nu, m.gamma), m.nu, dn))) < 1e-7


def test_feature_gradients_of_a_linear_mdp(x64):
    lr = rl.low_rank_mdp(jax.random.PRNGKey(7), 5, 2, 2)

    @jax.jit
    def f(Phi, theta):
        P = jnp.einsum("sad,td->sat", Phi, lr.mu)
        P = P / P.sum(-1, keepdims=True)  # finite-difference steps leave the simplex otherwise
        return rl.optimal_value(rl.TabularMDP(P, Phi @ theta, lr.mdp.gamma, lr.mdp.nu))

    grad = jax.jit(jax.grad(f, argnums=(0, 1)))
    gPhi, gth = grad(lr.Phi, lr.theta)
    dPhi = jax.random.normal(jax.random.PRNGKey(5), lr.Phi.shape)
    assert abs(float(jnp.sum(gPhi * dPhi)) - float(_fd(lambda x: f(x, lr.theta), lr.Phi, dPhi))) < 1e-6
    dth = jax.random.normal(jax.random.PRNGKey(6), (2,))
    assert abs(float(gth @ dth) - float(_fd(lambda t: f(lr.Phi, t), lr.theta, dth))) < 1e-7
    # vmapped over a batch of reward parameters equals the loop
    thetas = jax.random.uniform(jax.random.PRNGKey(8), (4, 2))
    batched = jax.jit(jax.vmap(lambda t: grad(lr.Phi, t)[1]))(thetas)
    for i in range(4):
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(grad(lr.Phi, thetas[i])[1]), atol=1e-10)
