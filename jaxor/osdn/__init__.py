"""OSDN: Online Scaled DeltaNet (Zhou et al., arXiv 2605.13473) with DeltaNet / gated DeltaNet baselines.

Recurrent references (``lax.scan``, float64-capable), a chunkwise-parallel form, single-step decoding,
equinox modules, a small LM with save/load and generation, and a Flax NNX wrapper. The Pallas
kernels live in :mod:`jaxor.kernels.osdn`; the Python-loop reference for tests is
:mod:`jaxor.osdn.naive` (not re-exported).
"""

from jaxor.osdn._chunk import chunk_delta_rule as chunk_delta_rule
from jaxor.osdn._chunk import chunk_osdn as chunk_osdn
from jaxor.osdn._decode import osdn_step as osdn_step
from jaxor.osdn._lm import LM as LM
from jaxor.osdn._lm import LMConfig as LMConfig
from jaxor.osdn._lm import generate as generate
from jaxor.osdn._metrics import recall_residual_ratio as recall_residual_ratio
from jaxor.osdn._modules import DeltaNetAttention as DeltaNetAttention
from jaxor.osdn._modules import OSDNAttention as OSDNAttention
from jaxor.osdn._nnx import EquinoxNNX as EquinoxNNX
from jaxor.osdn._nnx import deltanet_attention_nnx as deltanet_attention_nnx
from jaxor.osdn._nnx import osdn_attention_nnx as osdn_attention_nnx
from jaxor.osdn._precond import OSDNState as OSDNState
from jaxor.osdn._precond import init_state as init_state
from jaxor.osdn._recurrent import recurrent_delta_rule as recurrent_delta_rule
from jaxor.osdn._recurrent import recurrent_osdn as recurrent_osdn

__all__ = [
    "LM",
    "DeltaNetAttention",
    "EquinoxNNX",
    "LMConfig",
    "OSDNAttention",
    "OSDNState",
    "chunk_delta_rule",
    "chunk_osdn",
    "deltanet_attention_nnx",
    "generate",
    "init_state",
    "osdn_attention_nnx",
    "osdn_step",
    "recall_residual_ratio",
    "recurrent_delta_rule",
    "recurrent_osdn",
]
