"""Test helpers for tests/olp: one generator that switches between every family (one compile per policy)."""

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxor import olp


def all_generators(m: int = 4):
    """Every family with m = 4 resources (NetworkRM with 2 spokes has 4 legs)."""
    return (olp.Acceptance(m=m), olp.FiniteSupport.random(m=m, K=6, seed=3), olp.Nonstationary("drift", m=m),
            olp.Nonstationary("periodic", m=m), olp.Nonstationary("shocks", m=m), olp.NetworkRM(spokes=2),
            olp.LiYeInput("I", m=m), olp.LiYeInput("II", m=m))


class Switch(olp.AbstractGenerator):
    """Family ``idx`` of ``gens`` with its budget scaled by ``scale`` (idx and scale are traced leaves)."""

    gens: tuple
    idx: jax.Array
    d: jax.Array
    m: int = eqx.field(static=True)

    def __init__(self, gens, idx, scale):
        self.gens = tuple(gens)
        self.m = gens[0].m
        self.idx = jnp.asarray(idx, jnp.int32)
        self.d = jnp.asarray(scale) * jnp.stack([g.d for g in gens])[idx]

    def sample(self, key, t, n):
        return jax.lax.switch(self.idx, [lambda k, g=g: g.sample(k, t, n) for g in self.gens], key)
