"""LP-based reinforcement learning with function approximation (Jiang, Zong, Ye, arXiv 2505.12037;
constrained MDPs: Jiang & Ye, arXiv 2402.16324).

MDP containers with validation, exact planning (policy evaluation, value/policy iteration, a
jittable constrained-MDP solver, envelope-theorem gradients of ``V*``), the primal/dual occupancy LPs
solved by HiGHS, linear features and the data-driven LP from a generative model, adaptive re-solving
on a geometric schedule with the plug-in and LSVI baselines, and benchmark environments that vmap
over seeds.
"""

from jaxor.rl._data import ALLOCATIONS as ALLOCATIONS
from jaxor.rl._data import Transitions as Transitions
from jaxor.rl._data import estimate_linear_mdp as estimate_linear_mdp
from jaxor.rl._data import estimate_tabular as estimate_tabular
from jaxor.rl._data import lsvi as lsvi
from jaxor.rl._data import one_hot_features as one_hot_features
from jaxor.rl._data import project_simplex as project_simplex
from jaxor.rl._data import random_features as random_features
from jaxor.rl._data import sample_count_stream as sample_count_stream
from jaxor.rl._data import sample_counts as sample_counts
from jaxor.rl._data import sample_transitions as sample_transitions
from jaxor.rl._data import transition_counts as transition_counts
from jaxor.rl._envs import LowRankMDP as LowRankMDP
from jaxor.rl._envs import constrained as constrained
from jaxor.rl._envs import default_dtype as default_dtype
from jaxor.rl._envs import garnet as garnet
from jaxor.rl._envs import gridworld as gridworld
from jaxor.rl._envs import low_rank_mdp as low_rank_mdp
from jaxor.rl._envs import riverswim as riverswim
from jaxor.rl._exact import CMDPSolution as CMDPSolution
from jaxor.rl._exact import backward_induction as backward_induction
from jaxor.rl._exact import cmdp_evaluate as cmdp_evaluate
from jaxor.rl._exact import finite_horizon_evaluation as finite_horizon_evaluation
from jaxor.rl._exact import flow_residual as flow_residual
from jaxor.rl._exact import greedy_policy as greedy_policy
from jaxor.rl._exact import occupancy_measure as occupancy_measure
from jaxor.rl._exact import optimal_value as optimal_value
from jaxor.rl._exact import policy_evaluation as policy_evaluation
from jaxor.rl._exact import policy_from_occupancy as policy_from_occupancy
from jaxor.rl._exact import policy_iteration as policy_iteration
from jaxor.rl._exact import q_values as q_values
from jaxor.rl._exact import solve_cmdp as solve_cmdp
from jaxor.rl._exact import value_iteration as value_iteration
from jaxor.rl._lp import LPSolution as LPSolution
from jaxor.rl._lp import dual_lp as dual_lp
from jaxor.rl._lp import flow_matrix as flow_matrix
from jaxor.rl._lp import optimal_value_pdhg as optimal_value_pdhg
from jaxor.rl._lp import solve_approximate_lp as solve_approximate_lp
from jaxor.rl._lp import solve_cmdp_lp as solve_cmdp_lp
from jaxor.rl._lp import solve_data_driven_lp as solve_data_driven_lp
from jaxor.rl._lp import solve_dual_lp as solve_dual_lp
from jaxor.rl._lp import solve_dual_lp_pdhg as solve_dual_lp_pdhg
from jaxor.rl._lp import solve_feature_lp as solve_feature_lp
from jaxor.rl._lp import solve_finite_horizon_lp as solve_finite_horizon_lp
from jaxor.rl._lp import solve_primal_lp as solve_primal_lp
from jaxor.rl._mdp import ConstrainedMDP as ConstrainedMDP
from jaxor.rl._mdp import FiniteHorizonMDP as FiniteHorizonMDP
from jaxor.rl._mdp import TabularMDP as TabularMDP
from jaxor.rl._resolve import ResolveOptions as ResolveOptions
from jaxor.rl._resolve import ResolveTrace as ResolveTrace
from jaxor.rl._resolve import adaptive_resolve as adaptive_resolve
from jaxor.rl._resolve import compare_methods as compare_methods
from jaxor.rl._resolve import compare_methods_seeds as compare_methods_seeds
from jaxor.rl._resolve import evaluate_outputs as evaluate_outputs
from jaxor.rl._resolve import geometric_schedule as geometric_schedule
from jaxor.rl._resolve import mixture_weights as mixture_weights
from jaxor.rl._resolve import plug_in as plug_in

__all__ = [
    "ALLOCATIONS", "Transitions", "estimate_linear_mdp", "estimate_tabular", "lsvi", "one_hot_features",
    "project_simplex", "random_features", "sample_count_stream", "sample_counts", "sample_transitions",
    "transition_counts", "LowRankMDP", "constrained", "default_dtype", "garnet", "gridworld", "low_rank_mdp",
    "riverswim", "CMDPSolution", "backward_induction", "cmdp_evaluate", "finite_horizon_evaluation",
    "flow_residual", "greedy_policy", "occupancy_measure", "optimal_value", "policy_evaluation",
    "policy_from_occupancy", "policy_iteration", "q_values", "solve_cmdp", "value_iteration", "LPSolution",
    "flow_matrix", "optimal_value_pdhg", "dual_lp", "solve_dual_lp_pdhg", "solve_approximate_lp", "solve_cmdp_lp", "solve_data_driven_lp", "solve_dual_lp", "solve_feature_lp",
    "solve_finite_horizon_lp", "solve_primal_lp", "ConstrainedMDP", "FiniteHorizonMDP", "TabularMDP",
    "ResolveOptions", "ResolveTrace", "adaptive_resolve", "compare_methods", "compare_methods_seeds",
    "evaluate_outputs", "geometric_schedule", "mixture_weights", "plug_in",
]
