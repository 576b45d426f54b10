"""Shard a batch axis over devices with ``jax.sharding``: pad, shard, run, unpad.

Every batched workload in jaxor (online-LP replications, LP-RL seeds, serving traces x policies x
seeds) runs through :func:`sharded`. The wrapped function must already be batch-polymorphic along
axis 0 of every argument (typically a ``jax.vmap``); :func:`sharded` pads that axis to a multiple of
the device count, places the shards with a ``NamedSharding`` over a 1-D mesh named ``"batch"``, runs
the jitted function (XLA partitions it, no communication is needed for an embarrassingly parallel
batch), and slices the padding off the outputs. On one device it is plain ``jax.jit``.

Padding repeats the last batch element rather than writing zeros, so padded rows are valid inputs
(a zero budget or an empty trace could raise or produce NaNs) and their results are discarded.

Multi-host: after ``jax.distributed.initialize()``, pass ``devices=jax.devices()`` to build a global
mesh; every host must then call with the same global batch. The default uses local devices only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["batch_mesh", "pad_batch", "sharded", "assert_sharded_equals_unsharded", "BATCH_AXIS"]

BATCH_AXIS = "batch"


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with axis ``"batch"`` over ``devices`` (default: all local devices)."""
    devs = list(jax.local_devices() if devices is None else devices)
    if not devs:
        raise ValueError("devices must name at least one device")
    return Mesh(np.array(devs), (BATCH_AXIS,))


def _batch_size(tree: Any, axis: int = 0) -> int:
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError("args must hold at least one array with a leading batch axis")
    sizes = {np.shape(x)[axis] if np.ndim(x) else None for x in leaves}
    if None in sizes:
        raise ValueError("every array in args needs a leading batch axis; found a scalar leaf")
    if len(sizes) != 1:
        raise ValueError(f"args disagree on the batch size (axis {axis}): found sizes {sorted(sizes)}")
    return sizes.pop()


def pad_batch(tree: Any, multiple: int, axis: int = 0) -> tuple[Any, int]:
    """Pad the batch axis (``axis``, default 0) of every leaf to a multiple of ``multiple`` by repeating
    the last element.

    Returns:
        ``(padded_tree, n)`` where ``n`` is the original batch size.
    """
    n = _batch_size(tree, axis)
    if n == 0:
        raise ValueError(f"the batch is empty (axis {axis} has size 0)")
    pad = (-n) % multiple
    if pad == 0:
        return tree, n

    def _pad(x):
        x = jnp.asarray(x)
        last = jax.lax.slice_in_dim(x, n - 1, n, axis=axis)
        return jnp.concatenate([x, jnp.repeat(last, pad, axis=axis)], axis=axis)

    return jax.tree_util.tree_map(_pad, tree), n


def sharded(fn: Callable[..., Any], *, devices: Sequence[jax.Device] | None = None) -> Callable[..., Any]:
    """Wrap a batch-polymorphic ``fn`` so that its batch axis (axis 0) is sharded over ``devices``.

    Args:
        fn: ``fn(*args) -> outputs``, where every leaf of every argument and every output has the
            batch on axis 0 (for example ``jax.vmap(rollout)``). Non-batched inputs are closed over
            (``functools.partial``).
        devices: devices of the mesh; default all local devices.

    Returns:
        A function with the same signature whose outputs equal ``jax.jit(fn)(*args)``.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxor import batch
        >>> f = batch.sharded(jax.vmap(lambda x: x ** 2))
        >>> f(jnp.arange(5.0)).tolist()
        [0.0, 1.0, 4.0, 9.0, 16.0]
    """
    mesh = batch_mesh(devices)
    ndev = mesh.devices.size
    jitted = jax.jit(fn)
    if ndev == 1:
        return jitted
    spec = NamedSharding(mesh, PartitionSpec(BATCH_AXIS))

    @functools.wraps(fn)
    def run(*args):
        padded, n = pad_batch(args, ndev)
        placed = jax.device_put(padded, spec)
        out = jitted(*placed)
        return jax.tree_util.tree_map(lambda y: y[:n], out)

    return run


def assert_sharded_equals_unsharded(fn: Callable[..., Any], *args, rtol: float = 0.0, atol: float = 0.0,
                                    devices: Sequence[jax.Device] | None = None) -> None:
    """Test helper: ``sharded(fn)(*args)`` equals ``jax.jit(fn)(*args)`` on one device.

    With the default zero tolerances the comparison is exact (elementwise-independent batches
    compute the same floating-point operations on every device).
    """
    ref = jax.jit(fn)(*jax.device_put(args, jax.local_devices()[0]))
    got = sharded(fn, devices=devices)(*args)
    ref_leaves, ref_def = jax.tree_util.tree_flatten(ref)
    got_leaves, got_def = jax.tree_util.tree_flatten(got)
    if ref_def != got_def:
        raise AssertionError(f"output structure differs: {ref_def} vs {got_def}")
    for i, (a, b) in enumerate(zip(ref_leaves, got_leaves, strict=True)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, atol=atol,
                                   err_msg=f"output leaf {i} differs between sharded and unsharded runs")
