"""Data-parallel decode load balancing under barrier synchronisation (BF-IO), as vmapped rollouts.

Paper: Chen, Bu, Song, Lu, Ye, Zhou, "A Universal Load Balancing Principle and Its Application to Large
Language Model Serving" (arXiv 2601.17855); follow-up Bu et al. (arXiv 2605.06113). Model and policies:
:mod:`jaxor.serving.dp._model`. The plain-Python oracle is :mod:`jaxor.serving.dp.naive` (not re-exported).
"""

from jaxor.serving.dp._exact import bfio_exact_assignment as bfio_exact_assignment
from jaxor.serving.dp._exact import compare_bfio as compare_bfio
from jaxor.serving.dp._metrics import lanes as lanes
from jaxor.serving.dp._metrics import scale_to_utilisation as scale_to_utilisation
from jaxor.serving.dp._metrics import summarize_dp as summarize_dp
from jaxor.serving.dp._model import POLICY_IDS as POLICY_IDS
from jaxor.serving.dp._model import DPConfig as DPConfig
from jaxor.serving.dp._model import dp_time_model as dp_time_model
from jaxor.serving.dp._model import load_only_time_model as load_only_time_model
from jaxor.serving.dp._rollout import DPRollout as DPRollout
from jaxor.serving.dp._rollout import simulate_dp as simulate_dp
from jaxor.serving.dp._study import grid_study as grid_study
from jaxor.serving.dp._study import load_trace as load_trace
from jaxor.serving.dp._study import plot_study as plot_study
from jaxor.serving.dp._study import rows_table as rows_table

__all__ = [
    "POLICY_IDS", "DPConfig", "DPRollout", "bfio_exact_assignment", "compare_bfio", "dp_time_model", "grid_study",
    "lanes", "load_only_time_model", "load_trace", "plot_study", "rows_table", "scale_to_utilisation", "simulate_dp",
    "summarize_dp",
]
