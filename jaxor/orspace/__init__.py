"""OR-Space workspace benchmark harness (Zhou et al., arXiv 2605.28158).

Load a release laid out as OR-Space's (``Workspace_OR/`` + ``evaluation/``), stage participant copies
with sha256 manifests, run agents (command line, Python callable, OpenAI-compatible LLMs) through the
sandbox, score Build / Revise by objective match and Explain by checklist + judge, write
OR-Space-compatible JSONL and reports, and author new workspaces (:mod:`jaxor.orspace` demo set).
"""

from jaxor.orspace._agents import Agent as Agent
from jaxor.orspace._agents import AgentReport as AgentReport
from jaxor.orspace._agents import AgentTask as AgentTask
from jaxor.orspace._agents import CallableAgent as CallableAgent
from jaxor.orspace._agents import CommandAgent as CommandAgent
from jaxor.orspace._agents import LLMAgent as LLMAgent
from jaxor.orspace._agents import NullAgent as NullAgent
from jaxor.orspace._agents import ProgramAgent as ProgramAgent
from jaxor.orspace._agents import ScaledObjectiveAgent as ScaledObjectiveAgent
from jaxor.orspace._agents import ToolLLMAgent as ToolLLMAgent
from jaxor.orspace._agents import build_prompt as build_prompt
from jaxor.orspace._agents import extract_program as extract_program
from jaxor.orspace._agents import wrapper_program as wrapper_program
from jaxor.orspace._author import DOMAINS as DOMAINS
from jaxor.orspace._author import ValidationReport as ValidationReport
from jaxor.orspace._author import demo_root as demo_root
from jaxor.orspace._author import generate as generate
from jaxor.orspace._author import reference_agent as reference_agent
from jaxor.orspace._author import reference_programs as reference_programs
from jaxor.orspace._author import validate as validate
from jaxor.orspace._dataset import MODES as MODES
from jaxor.orspace._dataset import Dataset as Dataset
from jaxor.orspace._dataset import Instance as Instance
from jaxor.orspace._dataset import workspace_id as workspace_id
from jaxor.orspace._explain import ExplainScore as ExplainScore
from jaxor.orspace._explain import Judgment as Judgment
from jaxor.orspace._explain import entity_hit as entity_hit
from jaxor.orspace._explain import normalize_text as normalize_text
from jaxor.orspace._explain import parse_judgment as parse_judgment
from jaxor.orspace._explain import score_explain as score_explain
from jaxor.orspace._judge import LLMJudge as LLMJudge
from jaxor.orspace._report import summarize as summarize
from jaxor.orspace._report import write_report as write_report
from jaxor.orspace._runner import RunConfig as RunConfig
from jaxor.orspace._runner import find_program as find_program
from jaxor.orspace._runner import load_records as load_records
from jaxor.orspace._runner import perturb_data as perturb_data
from jaxor.orspace._runner import run_benchmark as run_benchmark
from jaxor.orspace._runner import score_predictions as score_predictions
from jaxor.orspace._scoring import OUTCOMES as OUTCOMES
from jaxor.orspace._scoring import classify_run as classify_run
from jaxor.orspace._scoring import parse_final_objective as parse_final_objective
from jaxor.orspace._stage import Manifest as Manifest
from jaxor.orspace._stage import check_manifest as check_manifest
from jaxor.orspace._stage import stage as stage
from jaxor.orspace._stage import strip_evaluator_keys as strip_evaluator_keys
from jaxor.orspace._tracks import pulp_compat_source as pulp_compat_source

__all__ = [
    "Agent", "AgentReport", "AgentTask", "CallableAgent", "CommandAgent", "LLMAgent", "NullAgent", "ProgramAgent",
    "ScaledObjectiveAgent", "ToolLLMAgent", "build_prompt", "extract_program", "wrapper_program",
    "DOMAINS", "ValidationReport", "demo_root", "generate", "reference_agent", "reference_programs", "validate",
    "MODES", "Dataset", "Instance", "workspace_id",
    "ExplainScore", "Judgment", "LLMJudge", "entity_hit", "normalize_text", "parse_judgment", "score_explain",
    "summarize", "write_report",
    "RunConfig", "find_program", "load_records", "perturb_data", "run_benchmark", "score_predictions",
    "OUTCOMES", "classify_run", "parse_final_objective",
    "Manifest", "check_manifest", "stage", "strip_evaluator_keys",
    "pulp_compat_source",
]
