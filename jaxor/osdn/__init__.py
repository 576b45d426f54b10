"""OSDN: Online Scaled DeltaNet (arXiv 2605.13473) with DeltaNet / gated DeltaNet baselines.

Recurrent references, a chunkwise-parallel form, single-step decoding, equinox modules, a small LM
and a Flax NNX wrapper. The Pallas kernels live in :mod:`jaxor.kernels.osdn`.
"""

from jaxor.osdn._chunk import chunk_delta_rule as chunk_delta_rule
from jaxor.osdn._chunk import chunk_osdn as chunk_osdn
from jaxor.osdn._decode import osdn_step as osdn_step
from jaxor.osdn._precond import OSDNState as OSDNState
from jaxor.osdn._precond import init_state as init_state
from jaxor.osdn._recurrent import recurrent_delta_rule as recurrent_delta_rule
from jaxor.osdn._recurrent import recurrent_osdn as recurrent_osdn

__all__ = [
    "OSDNState",
    "chunk_delta_rule",
    "chunk_osdn",
    "init_state",
    "osdn_step",
    "recurrent_delta_rule",
    "recurrent_osdn",
]
