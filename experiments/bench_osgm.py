"""Per-step cost of jaxor.osgm.scale_by_osgm against optax.adam on a 1M-parameter pytree (jitted, same run).

Each timed call runs ``STEPS`` optimizer steps in one ``lax.scan`` (gradient = a cheap elementwise function of
the params, the same for both), so the ratio measures the update itself. Targets (issue 5): OSGM at most 2x
Adam's time for scalar ``P`` without momentum, at most 3x for diagonal ``P`` with momentum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxor import benchmarking
from jaxor.osgm import scale_by_osgm

STEPS = 20


def _params(n_total: int):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    rows = max(1, n_total // 2048)
    p = {"dense": {"w": jax.random.normal(k1, (rows, 1024)), "b": jnp.zeros((1024,))},
         "head": jax.random.normal(k2, (rows, 1024)) * 0.1}
    rest = n_total - sum(x.size for x in jax.tree.leaves(p))
    p["bias"] = jax.random.normal(k3, (max(rest, 1),))
    return p


def _stepper(tx, with_value: bool):
    def loss(p):
        return sum(0.5 * jnp.sum(x * x) for x in jax.tree.leaves(p))

    def step(carry, _):
        p, s = carry
        g = jax.tree.map(lambda x: x + 0.01 * jnp.sin(x), p)  # cheap, deterministic "gradient"
        kw = {"value": loss(p)} if with_value else {}
        u, s = tx.update(g, s, p, **kw)
        return (optax.apply_updates(p, u), s), None

    @jax.jit
    def run(p, s):
        return jax.lax.scan(step, (p, s), length=STEPS)[0]

    return run


def run(quick: bool = False) -> list[benchmarking.Ratio]:
    n = 100_000 if quick else 1_000_000
    params = _params(n)
    size = sum(x.size for x in jax.tree.leaves(params))
    cases = [
        ("scalar P, no momentum", scale_by_osgm(1e-3, preconditioner="scalar"), False, 0.5),
        ("diagonal P, momentum", scale_by_osgm(1e-3, momentum=True), False, 1.0 / 3.0),
        ("diagonal P, momentum, null-step test (value=)", scale_by_osgm(1e-3, momentum=True), True, None),
    ]
    adam = optax.adam(1e-3)
    adam_fn, adam_state = _stepper(adam, False), adam.init(params)
    t_adam = benchmarking.median_time(lambda: adam_fn(params, adam_state), repeats=3) / STEPS
    rows = []
    for name, tx, with_value, target in cases:
        fn = _stepper(tx, with_value)
        state = tx.init(params)
        t = benchmarking.median_time(lambda fn=fn, state=state: fn(params, state), repeats=3) / STEPS
        rows.append(benchmarking.Ratio("osgm per-step time", f"{name}, {size / 1e6:.2f}M params", t * 1e3,
                                       t_adam * 1e3, "optax.adam", "ms/step", t_adam / t, target,
                                       note="ratio = adam time / osgm time"))
    return rows


if __name__ == "__main__":
    benchmarking.main(run)
