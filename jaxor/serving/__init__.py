"""LLM-serving simulator: KV-cache-constrained batch scheduling as vmapped ``lax.scan`` rollouts.

Papers: Jaillet, Jiang, Mellou, Molinaro, Podimata, Zhou, "Online Scheduling for LLM Inference with KV
Cache Constraints" (arXiv 2502.07115, the model and MC-SF); Wang, Ye, Zhou, "LLM Serving Optimization
with Variable Prefill and Decode Lengths" (arXiv 2508.06133, Sorted-F, LP bound and LP scheduler);
Chen, Ye, Zhou, "Adaptively Robust LLM Inference Optimization under Prediction Uncertainty"
(arXiv 2508.14544, A_max, A_min, H-SF).

The plain-Python oracle lives in :mod:`jaxor.serving.naive` (not re-exported).
"""

from jaxor.serving._exact import dp_optimum as dp_optimum
from jaxor.serving._exact import ip_optimum as ip_optimum
from jaxor.serving._exact import local_search as local_search
from jaxor.serving._exact import lp_bound as lp_bound
from jaxor.serving._exact import lp_priority as lp_priority
from jaxor.serving._exact import schedule_cost as schedule_cost
from jaxor.serving._policy import POLICY_NAMES as POLICY_NAMES
from jaxor.serving._policy import Policy as Policy
from jaxor.serving._policy import a_max as a_max
from jaxor.serving._policy import a_min as a_min
from jaxor.serving._policy import choose_prefix as choose_prefix
from jaxor.serving._policy import fcfs as fcfs
from jaxor.serving._policy import hindsight_sf as hindsight_sf
from jaxor.serving._policy import initial_estimate as initial_estimate
from jaxor.serving._policy import mc_sf as mc_sf
from jaxor.serving._policy import policy as policy
from jaxor.serving._policy import priority_key as priority_key
from jaxor.serving._policy import priority_order as priority_order
from jaxor.serving._policy import sorted_f as sorted_f
from jaxor.serving._policy import stack_policies as stack_policies
from jaxor.serving._rollout import Rollout as Rollout
from jaxor.serving._rollout import simulate as simulate
from jaxor.serving._rollout import summarize as summarize
from jaxor.serving._timemodel import TimeModel as TimeModel
from jaxor.serving._timemodel import linear as linear
from jaxor.serving._timemodel import unit as unit
from jaxor.serving._trace import DEFAULT_ROUND_S as DEFAULT_ROUND_S
from jaxor.serving._trace import Trace as Trace
from jaxor.serving._trace import from_arrays as from_arrays
from jaxor.serving._trace import load_azure as load_azure
from jaxor.serving._trace import load_vidur as load_vidur
from jaxor.serving._trace import never_fit as never_fit
from jaxor.serving._trace import random_window as random_window
from jaxor.serving._trace import stack as stack
from jaxor.serving._trace import synthetic as synthetic
from jaxor.serving._trace import validate as validate
from jaxor.serving._trace import with_intervals as with_intervals

__all__ = [
    "DEFAULT_ROUND_S", "POLICY_NAMES", "Policy", "Rollout", "TimeModel", "Trace", "a_max", "a_min",
    "choose_prefix", "dp_optimum", "fcfs", "from_arrays", "hindsight_sf", "initial_estimate", "ip_optimum",
    "linear", "load_azure", "load_vidur", "local_search", "lp_bound", "lp_priority", "mc_sf", "never_fit",
    "policy", "priority_key", "priority_order", "random_window", "schedule_cost", "simulate", "sorted_f",
    "stack", "stack_policies", "summarize", "synthetic", "unit", "validate", "with_intervals",
]
