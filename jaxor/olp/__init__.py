"""Online linear programming: generators, dual-price policies (first-order, decoupled, re-solving,
single-sample nonstationary) as ``lax.scan`` rollouts, and regret against the exact hindsight LP.

References: Gao, Ge, Xue, Sun & Ye, arXiv 2501.02761; Xu, Shen, Glynn, Ye & Jaillet, arXiv 2603.14673;
Li & Ye, arXiv 1909.05499; Li, Sun & Ye (Math. Programming 2023); Agrawal, Wang & Ye (OR 2014);
Balseiro, Lu & Mirrokni, arXiv 2011.10124; Sun, Gao, Vitercik & Ye, arXiv 2412.09594.
"""

from jaxor.olp._dual import DualSolution as DualSolution
from jaxor.olp._dual import dual_objective as dual_objective
from jaxor.olp._dual import solve_dual as solve_dual
from jaxor.olp._generators import AbstractGenerator as AbstractGenerator
from jaxor.olp._generators import Acceptance as Acceptance
from jaxor.olp._generators import FiniteSupport as FiniteSupport
from jaxor.olp._generators import LiYeInput as LiYeInput
from jaxor.olp._generators import NetworkRM as NetworkRM
from jaxor.olp._generators import Nonstationary as Nonstationary
from jaxor.olp._generators import fluid_price as fluid_price
from jaxor.olp._hindsight import solve_hindsight as solve_hindsight
from jaxor.olp._philox import philox4x32 as philox4x32
from jaxor.olp._philox import philox_key as philox_key
from jaxor.olp._philox import philox_uniforms as philox_uniforms
from jaxor.olp._policies import AbstractPolicy as AbstractPolicy
from jaxor.olp._policies import Context as Context
from jaxor.olp._policies import Decoupled as Decoupled
from jaxor.olp._policies import DynamicLearning as DynamicLearning
from jaxor.olp._policies import FirstOrder as FirstOrder
from jaxor.olp._policies import FluidDual as FluidDual
from jaxor.olp._policies import LiYe as LiYe
from jaxor.olp._policies import MirrorDescent as MirrorDescent
from jaxor.olp._policies import SingleSample as SingleSample
from jaxor.olp._policies import WaitLess as WaitLess
from jaxor.olp._rollout import DEFAULT_CHUNK as DEFAULT_CHUNK
from jaxor.olp._rollout import RolloutResult as RolloutResult
from jaxor.olp._rollout import batch_hindsight as batch_hindsight
from jaxor.olp._rollout import batch_replay as batch_replay
from jaxor.olp._rollout import batch_rollout as batch_rollout
from jaxor.olp._rollout import clear_cache as clear_cache
from jaxor.olp._rollout import hindsight_value as hindsight_value
from jaxor.olp._rollout import regret as regret
from jaxor.olp._rollout import replay as replay
from jaxor.olp._rollout import rollout as rollout
from jaxor.olp._rollout import split_key as split_key

__all__ = [
    "DualSolution", "dual_objective", "solve_dual", "solve_hindsight", "philox4x32", "philox_key", "philox_uniforms",
    "AbstractGenerator", "Acceptance", "FiniteSupport", "LiYeInput", "NetworkRM", "Nonstationary", "fluid_price",
    "AbstractPolicy", "Context", "FluidDual", "FirstOrder", "MirrorDescent", "DynamicLearning", "LiYe", "Decoupled",
    "WaitLess", "SingleSample",
    "DEFAULT_CHUNK", "RolloutResult", "rollout", "hindsight_value", "regret", "batch_rollout", "batch_hindsight", "split_key",
    "replay", "batch_replay", "clear_cache",
]
