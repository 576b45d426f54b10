"""LLM judge for OR-Space Explain answers over an OpenAI-compatible endpoint (arXiv 2605.28158, §4.3).

The judge receives the question, the answer, the evaluator-side checklist (semantic items with their
``instruction_for_judge``), the programmatic exact-match results (which it must not override) and
evidence, and returns JSON: a boolean per semantic criterion id plus Reasoning / Grounding /
Answer quality / Hallucination penalty. The paper's judge ran at temperature 0 with a 4,000-token
budget and up to 3 attempts; those are the defaults. Coverage and the total are recomputed by
:func:`jaxor.orspace.score_explain`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jaxor.orspace._explain import Judgment, parse_judgment

__all__ = ["DEFAULT_JUDGE_PROMPT", "LLMJudge", "workspace_evidence"]

DEFAULT_JUDGE_PROMPT = (
    "You are a strict rubric judge for operations-research explanations. Judge every checklist criterion "
    "labelled llm_boolean_judgment (a hit only when the required claim is present, correct and used in the right "
    "context), do not override the supplied exact-match results, then score Reasoning (0-35), Grounding (0-20), "
    "Answer Quality (0-10) and a Hallucination Penalty (0-20). Do not return a coverage or total score.")

_REPLY_FORMAT = (
    'Reply with one JSON object: {"semantic_judgments": {"<criterion_id>": true|false, ...}, "reasoning": <0-35>, '
    '"grounding": <0-20>, "answer_quality": <0-10>, "hallucination_penalty": <0-20>}.')


def workspace_evidence(dataset_root: str | Path, max_chars: int = 20_000):
    """``evidence(workspace_id) -> str``: the Explain workspace's solver records (``solver_records/*``) and
    execution logs (``logs/*``), each as a ``=== path ===`` block, truncated to ``max_chars`` in all."""
    from jaxor.orspace._dataset import Dataset

    ds = Dataset(dataset_root)

    def evidence(wid: str) -> str:
        if wid not in ds:
            return ""
        root = ds[wid].path
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("solver_records", "logs"))
        text = "\n\n".join(f"=== {p.relative_to(root).as_posix()} ===\n{p.read_text(errors='replace')}" for p in files)
        return text[:max_chars]

    return evidence


class LLMJudge:
    """``judge(rubric, answer, exact_results) -> Judgment`` through an OpenAI-compatible client.

    Args:
        model: judge model name (the paper used gpt-5.1).
        base_url: endpoint; ``api_key_env``: environment variable holding the key.
        system_prompt: the judge's system prompt; default: the dataset's ``judge_prompt.md`` when
            ``dataset_root`` is given, else :data:`DEFAULT_JUDGE_PROMPT`.
        max_attempts: tries per answer when a reply cannot be parsed or lacks a semantic judgment.
        evidence: ``evidence(workspace_id) -> str`` with verified workspace / solver facts; default with
            ``dataset_root``: :func:`workspace_evidence` (the workspace's solver records and logs).
        client: an ``openai.OpenAI``-like client (tests).
    """

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 dataset_root: str | Path | None = None, system_prompt: str | None = None,
                 temperature: float = 0.0, max_tokens: int = 4000, max_attempts: int = 3,
                 request_timeout_s: float = 300.0, evidence=None, client=None):
        if max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts} must be >= 1")
        if system_prompt is None and dataset_root is not None:
            p = Path(dataset_root) / "evaluation" / "explain_evaluation" / "judge_prompt.md"
            system_prompt = p.read_text(encoding="utf-8") if p.exists() else None
        self.system_prompt = (system_prompt or DEFAULT_JUDGE_PROMPT) + "\n\n" + _REPLY_FORMAT
        self.model, self.base_url, self.api_key_env = model, base_url, api_key_env
        self.temperature, self.max_tokens, self.max_attempts = temperature, max_tokens, max_attempts
        if evidence is None and dataset_root is not None:
            evidence = workspace_evidence(dataset_root)
        self.request_timeout_s, self.evidence, self._client = request_timeout_s, evidence, client
        self.prompt_tokens = self.completion_tokens = 0

    @property
    def client(self):
        if self._client is None:
            import openai

            self._client = openai.OpenAI(base_url=self.base_url, api_key=os.environ.get(self.api_key_env) or "EMPTY",
                                         timeout=self.request_timeout_s, max_retries=0)
        return self._client

    def user_message(self, rubric: dict, answer: str, exact: dict[str, bool]) -> str:
        semantic = [{"criterion_id": c["criterion_id"], "criterion": c.get("criterion"),
                     "instruction_for_judge": c.get("instruction_for_judge")}
                    for c in rubric.get("checklist", []) if c.get("checklist_type") == "llm_boolean_judgment"]
        exact_items = [{"criterion_id": c["criterion_id"], "criterion": c.get("criterion"),
                        "target_entities": c.get("target_entities")}
                       for c in rubric.get("checklist", []) if c.get("checklist_type") == "exact_match"]
        ev = self.evidence(rubric.get("workspace_id")) if self.evidence else ""
        return "\n\n".join([
            f"QUESTION:\n{rubric.get('question', '')}", f"ANSWER:\n{answer}",
            f"VERIFIED WORKSPACE AND SOLVER EVIDENCE:\n{ev}\nEvidence path: {rubric.get('multi_hop_path', '')}\n"
            f"Reference notes: {rubric.get('expected_short_answer', '')}",
            f"CHECKLIST (semantic items to judge):\n{json.dumps(semantic, indent=1)}",
            f"EXACT-MATCH CRITERIA:\n{json.dumps(exact_items, indent=1)}",
            f"EXACT-MATCH RESULTS (programmatic, final):\n{json.dumps(exact, indent=1)}"])

    def __call__(self, rubric: dict, answer: str, exact: dict[str, bool]) -> Judgment:
        wanted = [c["criterion_id"] for c in rubric.get("checklist", [])
                  if c.get("checklist_type") == "llm_boolean_judgment"]
        messages = [{"role": "system", "content": self.system_prompt},
                    {"role": "user", "content": self.user_message(rubric, answer, exact)}]
        last = None
        for _ in range(self.max_attempts):
            try:
                resp = self.client.chat.completions.create(model=self.model, messages=messages,
                                                           temperature=self.temperature, max_tokens=self.max_tokens)
                usage = getattr(resp, "usage", None)
                if usage is not None:
                    self.prompt_tokens += int(usage.prompt_tokens or 0)
                    self.completion_tokens += int(usage.completion_tokens or 0)
                jd = parse_judgment(resp.choices[0].message.content or "")
            except Exception as e:  # retried; the last error is raised to the harness
                last = e
                continue
            missing = [c for c in wanted if c not in jd.semantic]
            if not missing:
                return jd
            last = ValueError(f"judge reply lacks semantic judgments for {missing}")
        raise RuntimeError(f"judge failed after {self.max_attempts} attempts: {last}")
