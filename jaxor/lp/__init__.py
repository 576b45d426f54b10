"""Linear programming: a batched, jittable, differentiable restarted-PDHG solver and the HiGHS bridge.

``jaxor.lp.highs`` is the only module in jaxor that calls highspy.
"""

from jaxor.lp import highs as highs

__all__ = ["highs"]
