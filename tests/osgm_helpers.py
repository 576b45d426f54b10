"""Shared pieces of the OSGM tests: the transform registry (the optax contrib battery's list) and test problems."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxor.osgm import osgm, scale_by_osgm

# One entry per configuration under test: adding a member to the battery is one dict.
# needs: which extra arguments its update takes ("value", "hvp_fn").
OPTIMIZERS_UNDER_TEST = [
    dict(name="diag-h", factory=scale_by_osgm, kwargs=dict(learning_rate=1e-2), needs=("value",)),
    dict(name="scalar-h", factory=scale_by_osgm, kwargs=dict(learning_rate=1e-2, preconditioner="scalar"),
         needs=("value",)),
    dict(name="osgm-momentum", factory=osgm, kwargs=dict(learning_rate=1e-2), needs=("value",)),
    dict(name="diag-ratio", factory=scale_by_osgm, kwargs=dict(learning_rate=1e-2, feedback="ratio"),
         needs=("value",)),
    dict(name="diag-gradnorm", factory=scale_by_osgm, kwargs=dict(learning_rate=1e-3, feedback="gradient_norm"),
         needs=("value", "hvp_fn")),
    # Without `value` there is no null step: plain hypergradient descent, which diverges on Rosenbrock from
    # (0, 0) (the instability paper B explains and the safeguard fixes), so that problem is skipped.
    dict(name="diag-h-novalue", factory=scale_by_osgm, kwargs=dict(learning_rate=1e-2), needs=(),
         skip=("rosenbrock",)),
]
IDS = [o["name"] for o in OPTIMIZERS_UNDER_TEST]


def make(entry, **override):
    return entry["factory"](**{**entry["kwargs"], **override})


def extras(entry, loss, params):
    out = {}
    if "value" in entry["needs"]:
        out["value"] = loss(params)
    if "hvp_fn" in entry["needs"]:
        out["hvp_fn"] = lambda p, v: jax.jvp(jax.grad(loss), (p,), (v,))[1]
    return out


def parabola(p):
    return jnp.sum((p - jnp.asarray([1.0, -2.0])) ** 2)


def rosenbrock(p):
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


def matrix_parabola(p):
    return jnp.sum((p - jnp.asarray([[1.0, 2.0], [-1.0, 0.5]])) ** 2)


def mixed_tree(p):
    return jnp.sum((p["a"] - 1.0) ** 2) + 2.0 * jnp.sum((p["b"] + 0.5) ** 2)


PROBLEMS = {
    "parabola": (parabola, jnp.zeros(2), jnp.asarray([1.0, -2.0])),
    "rosenbrock": (rosenbrock, jnp.zeros(2), jnp.ones(2)),
    "matrix_parabola": (matrix_parabola, jnp.zeros((2, 2)), jnp.asarray([[1.0, 2.0], [-1.0, 0.5]])),
    "mixed_tree": (mixed_tree, {"a": jnp.zeros(3), "b": jnp.zeros((2, 2))},
                   {"a": jnp.ones(3), "b": jnp.full((2, 2), -0.5)}),
}


def run_scan(entry, opt, loss, params, steps):
    """``steps`` jitted update calls in one lax.scan; returns (params, state)."""

    def step(carry, _):
        p, s = carry
        g = jax.grad(loss)(p)
        u, s = opt.update(g, s, p, **extras(entry, loss, p))
        return (optax.apply_updates(p, u), s), None

    (p, s), _ = jax.lax.scan(step, (params, opt.init(params)), length=steps)
    return p, s
