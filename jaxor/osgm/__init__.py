"""OSGM: online scaled gradient methods (arXiv 2411.01803, 2505.23081, 2502.11229, 2509.11007).

``scale_by_osgm`` / ``osgm`` are optax transforms that learn a diagonal or scalar step size online;
``minimize`` is a jit-compiled full-batch driver (OSGM-Best, OSGM-H, OSGM-R, OSGM-G, HDM).
"""

from jaxor.osgm._minimize import METHODS as METHODS
from jaxor.osgm._minimize import MinimizeHistory as MinimizeHistory
from jaxor.osgm._minimize import MinimizeResult as MinimizeResult
from jaxor.osgm._minimize import Status as Status
from jaxor.osgm._minimize import minimize as minimize
from jaxor.osgm._transform import ScaleByOSGMState as ScaleByOSGMState
from jaxor.osgm._transform import osgm as osgm
from jaxor.osgm._transform import osgm_anchor as osgm_anchor
from jaxor.osgm._transform import scale_by_osgm as scale_by_osgm

__all__ = ["METHODS", "MinimizeHistory", "MinimizeResult", "ScaleByOSGMState", "Status", "minimize", "osgm",
           "osgm_anchor", "scale_by_osgm"]
