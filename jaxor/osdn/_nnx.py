"""A Flax NNX wrapper around jaxor's equinox OSDN / DeltaNet modules (arXiv 2605.13473).

The equinox module's array leaves become ``nnx.Param`` variables (so ``nnx.Optimizer``,
``nnx.state`` and ``nnx.split`` see them); its static structure is kept and the module is rebuilt
on each call. Batched input ``[B, T, D]`` is mapped over with ``jax.vmap``.
"""

from __future__ import annotations

import equinox as eqx
import jax
from flax import nnx

from jaxor.osdn._modules import DeltaNetAttention, OSDNAttention


class EquinoxNNX(nnx.Module):
    """Hold any equinox module as NNX parameters. ``__call__(x [B, ...])`` vmaps the module over ``B``.

    Examples:
        >>> import jax
        >>> from flax import nnx
        >>> from jaxor.osdn import OSDNAttention
        >>> m = EquinoxNNX(OSDNAttention(16, 2, key=jax.random.PRNGKey(0)))
        >>> m(jax.numpy.ones((3, 8, 16))).shape
        (3, 8, 16)
    """

    def __init__(self, module: eqx.Module):
        params, static = eqx.partition(module, eqx.is_array)
        leaves, self._treedef = jax.tree.flatten(params)
        self._static = static
        self.params = nnx.List([nnx.Param(x) for x in leaves])

    @property
    def module(self) -> eqx.Module:
        leaves = [p[...] for p in self.params]
        return eqx.combine(jax.tree.unflatten(self._treedef, leaves), self._static)

    def __call__(self, x):
        return jax.vmap(self.module)(x)


def osdn_attention_nnx(d_model: int, num_heads: int, *, rngs: nnx.Rngs, **kwargs) -> EquinoxNNX:
    """An NNX :class:`OSDNAttention` (keyword arguments as for the equinox module)."""
    return EquinoxNNX(OSDNAttention(d_model, num_heads, key=rngs.params(), **kwargs))


def deltanet_attention_nnx(d_model: int, num_heads: int, *, rngs: nnx.Rngs, **kwargs) -> EquinoxNNX:
    """An NNX :class:`DeltaNetAttention` (keyword arguments as for the equinox module)."""
    return EquinoxNNX(DeltaNetAttention(d_model, num_heads, key=rngs.params(), **kwargs))
