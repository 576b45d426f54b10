"""The environment block: what ``jaxor info`` prints and every ``results.json`` records."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import sys
from typing import Any

_PACKAGES = ("jax", "jaxlib", "optax", "flax", "equinox", "chex", "numpy", "scipy", "highspy", "mpax")


def environment() -> dict[str, Any]:
    import jax

    import jaxor

    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    devices = [{"id": d.id, "platform": d.platform, "kind": getattr(d, "device_kind", "")} for d in jax.devices()]
    return {
        "jaxor": jaxor.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "backend": jax.default_backend(),
        "devices": devices,
        "process_count": jax.process_count(),
        "x64_enabled": bool(jax.config.jax_enable_x64),
        "compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        "packages": versions,
    }


def format_environment(env: dict[str, Any]) -> str:
    lines = [f"jaxor {env['jaxor']}  python {env['python']}  {env['platform']}"]
    lines.append(f"backend: {env['backend']}  processes: {env['process_count']}  cpus: {env['cpu_count']}  "
                 f"x64: {env['x64_enabled']}")
    lines.append(f"devices ({len(env['devices'])}):")
    lines += [f"  [{d['id']}] {d['platform']} {d['kind']}" for d in env["devices"]]
    lines.append("packages: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v))
    lines.append(f"compilation cache: {env['compilation_cache_dir'] or 'off'}")
    return "\n".join(lines)
