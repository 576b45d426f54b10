"""Float64 on request, never by surprise.

JAX computes in float32 unless ``jax_enable_x64`` is on; asking for ``float64`` while it is off
silently yields float32. jaxor never flips the flag at import: users opt in per call with
``with jaxor.float64(): ...`` and every jaxor API that is asked for float64 checks the flag with
:func:`require_x64`, raising instead of silently downcasting.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax
import numpy as np


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Context manager: enable 64-bit types inside the block, restore the previous setting after.

    Examples:
        >>> import jax.numpy as jnp, jaxor
        >>> with jaxor.float64():
        ...     x = jnp.ones(3, dtype=jnp.float64)
        >>> str(x.dtype)
        'float64'
    """
    with jax.enable_x64(True):
        yield


def x64_enabled() -> bool:
    """True when ``jax_enable_x64`` is on in the current context."""
    return bool(jax.config.jax_enable_x64)


def require_x64(dtype, argname: str = "dtype") -> None:
    """Raise if ``dtype`` is a 64-bit type while x64 is off.

    Args:
        dtype: the requested dtype (anything ``np.dtype`` accepts), or None (no request).
        argname: the name of the argument that carried it, used in the message.

    Raises:
        ValueError: naming ``argname`` and the ``jax_enable_x64`` flag.
    """
    if dtype is None:
        return
    dt = np.dtype(dtype)
    if dt.itemsize == 8 and dt.kind in "fciu" and not x64_enabled():
        raise ValueError(
            f"{argname}={dt.name} needs 64-bit JAX, but jax_enable_x64 is off: wrap the call in "
            "`with jaxor.float64():` (or set jax.config.update('jax_enable_x64', True)). "
            "jaxor never downcasts silently."
        )
