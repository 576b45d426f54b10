"""Pallas kernels for the (gated, write-key-scaled) delta rule: DeltaNet, gated DeltaNet, OSDN."""

from jaxor.kernels.osdn.pallas import BlockSizes as BlockSizes
from jaxor.kernels.osdn.pallas import chunk_delta_rule_pallas as chunk_delta_rule_pallas
from jaxor.kernels.osdn.pallas import delta_rule_reference as delta_rule_reference

__all__ = ["BlockSizes", "chunk_delta_rule_pallas", "delta_rule_reference"]
