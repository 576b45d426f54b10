"""Explain scoring: the exact-match checklist with OR-Space's normalisation plus an LLM judge
(arXiv 2605.28158, §4.3; the release's ``evaluation/explain_evaluation/normalization.md``).

Score of one answer:

.. math::  \\text{coverage} = 35 \\cdot \\frac{\\text{exact entity hits} + \\text{semantic hits}}
           {\\text{exact entities} + \\text{semantic items}},\\qquad
           \\text{final} = \\operatorname{clip}(\\text{coverage} + R + G + Q - H,\\ 0,\\ 100)

with judge scores Reasoning ``R`` in [0, 35], Grounding ``G`` in [0, 20], Answer quality ``Q`` in
[0, 10] and Hallucination penalty ``H`` in [0, 20]. Coverage and the total are always recomputed by
the harness; totals returned by a judge are ignored. A missing semantic judgment is an error.

Exact matching (:func:`entity_hit`): NFKC; curly quotes, dashes, minus signs and arrows normalised;
backticks removed; whitespace collapsed; thousands separators between digits removed; case-folded.
Identifier-like targets match only at identifier boundaries (``I`` is not inside ``II``); other
structured targets are also compared compactly (quotes and spaces dropped, ``[]`` treated as
``()``); pure numbers match any number in the answer within 1e-6 relative / 1e-9 absolute.

.. warning:: The released ``score_explain.py::entity_hit`` was not readable here; this is a
   re-implementation of the rules as documented in ``normalization.md``. Where that text is silent
   (e.g. how a number embedded in a structured target is compared) jaxor compares the compact strings.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

__all__ = ["ExplainScore", "Judgment", "entity_hit", "exact_results", "normalize_text", "parse_judgment",
           "score_explain"]

_QUOTES = {ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4"} | {ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033"}
_DASHES = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"}
_ARROWS = {"\u2192": "->", "\u27f6": "->", "\u21d2": "=>", "\u2190": "<-", "\u2194": "<->", "\u27f9": "=>"}
_NUM_RE = re.compile(r"(?<![A-Za-z0-9_.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![A-Za-z0-9_])", re.I)
_IDENT_RE = re.compile(r"^[^\W\d]\w*$")


def normalize_text(s: str) -> str:
    """OR-Space's deterministic normalisation (steps 1-5 of ``normalization.md``).

    Example:
        >>> normalize_text("The \u201cCost\u201d is `1,234,567` \u2013 \u2192 OK")
        'the "cost" is 1234567 - -> ok'
    """
    s = unicodedata.normalize("NFKC", s)
    s = s.translate(_QUOTES).translate(_DASHES)
    for a, b in _ARROWS.items():
        s = s.replace(a, b)
    s = s.replace("`", "")
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)
    return s.casefold()


def _compact(s: str) -> str:
    """Quotes dropped, whitespace dropped where it touches punctuation, ``[]`` as ``()``."""
    s = re.sub(r"['\"]", "", s).replace("[", "(").replace("]", ")")
    s = re.sub(r"\s*([^\w\s])\s*", r"\1", s)
    return re.sub(r"\s+", " ", s).strip()


def _as_number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def entity_hit(entity: str, answer: str) -> bool:
    """Whether ``answer`` contains the exact-match target ``entity`` under OR-Space's normalisation.

    Example:
        >>> entity_hit("I", "column II only"), entity_hit("I", "columns I and II")
        (False, True)
        >>> entity_hit("P_reg[t]", "uses P_reg(t)"), entity_hit("1.0", "a value of 1")
        (True, True)
    """
    e = normalize_text(entity)
    a = normalize_text(answer)
    if not e:
        return False
    target = _as_number(e)
    if target is not None:
        for m in _NUM_RE.finditer(a):
            v = _as_number(m.group(0))
            if v is not None and abs(v - target) <= max(1e-9, 1e-6 * abs(target)):
                return True
        return False
    if _IDENT_RE.match(e):
        return re.search(rf"(?<![\w]){re.escape(e)}(?![\w])", a) is not None
    # structured symbol: plain form at identifier boundaries, or the compact form
    lb = r"(?<![\w])" if re.match(r"\w", e) else ""
    rb = r"(?![\w])" if re.search(r"\w$", e) else ""
    if re.search(lb + re.escape(e) + rb, a):
        return True
    ce, ca = _compact(e), _compact(a)
    return bool(ce) and re.search(lb + re.escape(ce) + rb, ca) is not None


def exact_results(rubric: dict, answer: str) -> dict[str, bool]:
    """``{"c<k>.e<j>": hit}`` for every exact-match target entity of ``rubric`` (auditable keys)."""
    out = {}
    for item in rubric.get("checklist", []):
        if item.get("checklist_type") == "exact_match":
            for j, ent in enumerate(item.get("target_entities") or [], start=1):
                out[f"{item['criterion_id']}.e{j}"] = entity_hit(ent, answer)
    return out


@dataclasses.dataclass
class Judgment:
    """What the judge returns: a boolean per semantic criterion id and the four scored dimensions."""

    semantic: dict[str, bool]
    reasoning: float = 0.0
    grounding: float = 0.0
    answer_quality: float = 0.0
    hallucination_penalty: float = 0.0
    raw: Any = None


def _clip(v: Any, hi: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return min(max(f, 0.0), hi)


def parse_judgment(text: str) -> Judgment:
    """Parse a judge reply: the first JSON object in ``text`` (fenced or bare) with keys
    ``semantic_judgments`` ({criterion_id: bool|0|1} or a list of {criterion_id, hit}), ``reasoning``,
    ``grounding``, ``answer_quality``, ``hallucination_penalty``. Raises ValueError if none parses."""
    m = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.S)
    candidates = [m.group(1)] if m else []
    start = text.find("{")
    if start >= 0:
        candidates.append(text[start:text.rfind("}") + 1])
    obj = None
    for c in candidates:
        try:
            obj = json.loads(c)
            break
        except json.JSONDecodeError:
            continue
    if not isinstance(obj, dict):
        raise ValueError(f"judge reply holds no JSON object: {text[:200]!r}")
    sem = obj.get("semantic_judgments", obj.get("judgments", {}))
    if isinstance(sem, list):
        sem = {d.get("criterion_id"): d.get("hit", d.get("judgment")) for d in sem if isinstance(d, dict)}
    semantic = {str(k): bool(v) and str(v).lower() not in ("false", "0", "no") for k, v in sem.items()}
    return Judgment(semantic=semantic, reasoning=_clip(obj.get("reasoning"), 35),
                    grounding=_clip(obj.get("grounding"), 20), answer_quality=_clip(obj.get("answer_quality"), 10),
                    hallucination_penalty=_clip(obj.get("hallucination_penalty"), 20), raw=obj)


@dataclasses.dataclass
class ExplainScore:
    """One Explain answer's score with every entity decision kept for audit."""

    workspace_id: str
    final: float
    coverage: float
    reasoning: float
    grounding: float
    answer_quality: float
    hallucination_penalty: float
    exact_hits: int
    exact_total: int
    semantic_hits: int
    semantic_total: int
    decisions: dict[str, bool]
    error: str | None = None


JudgeFn = Callable[[dict, str, dict[str, bool]], Judgment]


def score_explain(rubric: dict, answer: str, judge: JudgeFn | Judgment | None = None) -> ExplainScore:
    """Score ``answer`` against one rubric row.

    Args:
        rubric: a ``rubrics.jsonl`` row (``checklist`` with ``exact_match`` / ``llm_boolean_judgment`` items).
        answer: the participant's answer text.
        judge: a :class:`Judgment`, or ``judge(rubric, answer, exact_results) -> Judgment`` (e.g.
            :class:`jaxor.orspace.LLMJudge`), or None: semantic items then count as misses, the judge
            dimensions as 0, and ``error`` says so.

    Returns:
        :class:`ExplainScore`; ``final`` in [0, 100].
    """
    if not isinstance(answer, str):
        raise ValueError(f"answer must be a string, got {type(answer).__name__}")
    exact = exact_results(rubric, answer)
    sem_ids = [c["criterion_id"] for c in rubric.get("checklist", [])
               if c.get("checklist_type") == "llm_boolean_judgment"]
    error = None
    if judge is None:
        jd = Judgment(semantic={}) if not sem_ids else None
        if jd is None:
            error = "no judge: semantic items scored as misses"
            jd = Judgment(semantic={})
    elif isinstance(judge, Judgment):
        jd = judge
    else:
        jd = judge(rubric, answer, exact)
    missing = [c for c in sem_ids if c not in jd.semantic]
    if missing and error is None:
        error = f"judge gave no judgment for {missing}"
    sem_hits = sum(bool(jd.semantic.get(c)) for c in sem_ids)
    decisions = dict(exact) | {c: bool(jd.semantic.get(c)) for c in sem_ids}
    total = len(exact) + len(sem_ids)
    coverage = 35.0 * (sum(exact.values()) + sem_hits) / total if total else 0.0
    final = min(max(coverage + jd.reasoning + jd.grounding + jd.answer_quality - jd.hallucination_penalty, 0.0),
                100.0)
    return ExplainScore(workspace_id=rubric.get("workspace_id", ""), final=final, coverage=coverage,
                        reasoning=jd.reasoning, grounding=jd.grounding, answer_quality=jd.answer_quality,
                        hallucination_penalty=jd.hallucination_penalty, exact_hits=sum(exact.values()),
                        exact_total=len(exact), semantic_hits=sem_hits, semantic_total=len(sem_ids),
                        decisions=decisions, error=error)
