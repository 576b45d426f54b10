"""jaxor: a JAX toolkit for differentiable optimization.

Capabilities live in subpackages (``jaxor.osgm``, ``jaxor.osdn``, ``jaxor.lp``, ``jaxor.olp``,
``jaxor.rl``, ``jaxor.serving``, ``jaxor.sandbox``, ``jaxor.verify``, ``jaxor.orspace``) and are
imported on demand, so ``import jaxor`` stays cheap. The shared building blocks are
``jaxor.batch`` (device sharding of batch axes), ``jaxor.stats`` (slope fits with bootstrap
intervals), ``jaxor.data`` (data locator), ``jaxor.registry`` (experiments) and
:func:`jaxor.float64`.
"""

from importlib.metadata import PackageNotFoundError, version

from jaxor._precision import float64 as float64
from jaxor._precision import require_x64 as require_x64

try:
    __version__ = version("jaxor")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.0.0+local"

__all__ = ["float64", "require_x64", "__version__"]
