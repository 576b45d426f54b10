"""JAX's persistent compilation cache, switched on by the CLI (experiments recompile the same programs).

The directory is ``$JAXOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxor/xla`` (``~/.cache/jaxor/xla``).
The CPU backend honours the cache in the JAX versions jaxor supports; ``tests/test_foundation_cli.py``
checks that entries are written.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("JAXOR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "jaxor" / "xla"


def enable_compilation_cache(path: str | os.PathLike | None = None, *, min_compile_time_s: float = 0.2) -> Path:
    """Turn on the persistent cache at ``path`` (default :func:`cache_dir`) and return it."""
    import jax

    d = Path(path) if path is not None else cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(d))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_s))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return d
