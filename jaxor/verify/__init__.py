"""Solver-informed verification and rewards for LLM-written optimisation models.

Chen, Xia, Shao, Ge, Ye, "Solver-Informed RL: Grounding Large Language Models for Authentic
Optimization Modeling" (SIRL, arXiv 2505.11792). Model checks load LP/MPS files with HiGHS
(through ``jaxor.lp.highs``); program checks run generated code in :mod:`jaxor.sandbox`, parse the
``FINAL_OBJ_VALUE`` line and re-solve the model file the program wrote; tolerance policies name each
benchmark's matching rule; SIRL stage-1/2 rewards, a batched ``reward``, an instance-enhanced
self-consistency vote and benchmark evaluation build on them.
"""

from jaxor.verify._bench import BenchItem as BenchItem
from jaxor.verify._bench import EvalReport as EvalReport
from jaxor.verify._bench import evaluate as evaluate
from jaxor.verify._bench import load_benchmark as load_benchmark
from jaxor.verify._bench import load_predictions as load_predictions
from jaxor.verify._model_files import MODEL_STATUSES as MODEL_STATUSES
from jaxor.verify._model_files import ModelCheck as ModelCheck
from jaxor.verify._model_files import ModelFeatures as ModelFeatures
from jaxor.verify._model_files import check_model_file as check_model_file
from jaxor.verify._model_files import check_model_text as check_model_text
from jaxor.verify._model_files import sanitize_lp_names as sanitize_lp_names
from jaxor.verify._program import ProgramCheck as ProgramCheck
from jaxor.verify._program import ProgramSpec as ProgramSpec
from jaxor.verify._program import check_program as check_program
from jaxor.verify._program import check_programs as check_programs
from jaxor.verify._program import parse_final_objective as parse_final_objective
from jaxor.verify._program import parse_final_solution as parse_final_solution
from jaxor.verify._reward import RewardBreakdown as RewardBreakdown
from jaxor.verify._reward import extract_code as extract_code
from jaxor.verify._reward import format_score as format_score
from jaxor.verify._reward import reward as reward
from jaxor.verify._reward import reward_details as reward_details
from jaxor.verify._reward import sirl_reward as sirl_reward
from jaxor.verify._reward import solution_hit_rate as solution_hit_rate
from jaxor.verify._tolerance import POLICIES as POLICIES
from jaxor.verify._tolerance import Reference as Reference
from jaxor.verify._tolerance import TolerancePolicy as TolerancePolicy
from jaxor.verify._tolerance import get_policy as get_policy
from jaxor.verify._tolerance import parse_number as parse_number
from jaxor.verify._tolerance import parse_reference as parse_reference
from jaxor.verify._vote import Candidate as Candidate
from jaxor.verify._vote import VoteResult as VoteResult
from jaxor.verify._vote import iesc_vote as iesc_vote
from jaxor.verify._vote import majority_vote as majority_vote

__all__ = ["MODEL_STATUSES", "POLICIES", "BenchItem", "Candidate", "EvalReport", "ModelCheck", "ModelFeatures",
           "ProgramCheck", "ProgramSpec", "Reference", "RewardBreakdown", "TolerancePolicy", "VoteResult",
           "check_model_file", "check_model_text", "check_program", "check_programs", "evaluate", "extract_code",
           "format_score", "get_policy", "iesc_vote", "load_benchmark", "load_predictions", "majority_vote",
           "parse_final_objective", "parse_final_solution", "parse_number", "parse_reference", "reward",
           "reward_details", "sanitize_lp_names", "sirl_reward", "solution_hit_rate"]
