"""Benchmark evaluation for the ``en_question``/``en_answer`` JSONL family.

NL4OPT, MAMO (EasyLP/ComplexLP), IndustryOR, OptMATH-Bench and OptiBench as redistributed with SIRL
(Chen et al., arXiv 2505.11792) share one row shape: ``{"en_question": str, "en_answer": str|float,
...}``, with ``"No Best Solution"`` (or ``-9999``) for infeasible instances. The same loader reads the
upstream variants (``question``/``answer``, LLM4OR's ``Question``/``Answer``, OptiBench's ``results``
dict) and ``.json`` files that are JSONL inside.

Predictions are JSONL rows with an ``id`` (or in data order) and one of: ``objective`` (a number or
None), ``code`` (a program to run and verify), or ``completion`` (a full response whose
``<python>`` block is run). :func:`evaluate` scores them under every tolerance policy at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jaxor.sandbox import Limits
from jaxor.verify._program import ProgramCheck, ProgramSpec, check_programs, job_key
from jaxor.verify._reward import extract_code
from jaxor.verify._tolerance import (
    POLICIES,
    Reference,
    TolerancePolicy,
    get_policy,
    parse_number,
    parse_reference,
)

__all__ = ["BenchItem", "EvalReport", "evaluate", "load_benchmark", "load_predictions"]

_QUESTION_KEYS = ("en_question", "question", "Question", "problem", "description")
_ANSWER_KEYS = ("en_answer", "answer", "Answer", "ground_truth", "results", "objective")
_ID_KEYS = ("id", "index", "idx", "instance_id", "workspace_id")
_OK_STATUS = {"ok", "optimal", "done", "success", "no_objective", "infeasible"}


@dataclasses.dataclass(frozen=True)
class BenchItem:
    """One benchmark row: id, question text, parsed reference and the raw row."""

    id: str
    question: str
    reference: Reference
    raw: dict[str, Any]


def _read_rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
            if isinstance(rows, list):
                return rows
        except json.JSONDecodeError:
            pass
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from e
    return rows


def _first(row: dict[str, Any], keys: Sequence[str]):
    for k in keys:
        if k in row:
            return row[k]
    return None


def _answer(value: Any) -> Any:
    """OptiBench upstream stores ``results`` as ``{name: value}``; its objective is the first entry."""
    if isinstance(value, dict):
        for k, v in value.items():
            if "obj" in str(k).lower() or "optimal" in str(k).lower():
                return v
        return next(iter(value.values()), None)
    return value


def load_benchmark(path: str | os.PathLike) -> list[BenchItem]:
    """Read a benchmark file (JSONL, a JSON array, or JSONL saved as ``.json``).

    Raises:
        ValueError: the file is missing, not JSON, or a row has no answer field (names the row).
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"path: benchmark file not found: {p}")
    items = []
    for i, row in enumerate(_read_rows(p)):
        if not isinstance(row, dict):
            raise ValueError(f"{p}: row {i} is not a JSON object")
        ans = _first(row, _ANSWER_KEYS)
        if ans is None and not any(k in row for k in _ANSWER_KEYS):
            raise ValueError(f"{p}: row {i} has none of the answer fields {_ANSWER_KEYS}")
        rid = _first(row, _ID_KEYS)
        items.append(BenchItem(id=str(i if rid is None else rid), question=str(_first(row, _QUESTION_KEYS) or ""),
                               reference=parse_reference(_answer(ans)), raw=row))
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):  # duplicated ids in the file: fall back to row numbers
        items = [dataclasses.replace(it, id=str(i)) for i, it in enumerate(items)]
    return items


def load_predictions(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a predictions JSONL/JSON file (rows as dicts)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"pred: predictions file not found: {p}")
    rows = _read_rows(p)
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise ValueError(f"{p}: prediction row {i} is not a JSON object")
    return rows


@dataclasses.dataclass
class EvalReport:
    """Accuracy per policy, execution rate and per-item results."""

    n: int
    accuracy: dict[str, float]
    execution_rate: float
    items: list[dict[str, Any]]
    policies: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def format(self, per_item: bool = True, limit: int | None = 50) -> str:
        lines = [f"items: {self.n}   execution rate: {self.execution_rate:.3f}"]
        lines.append("| policy | accuracy | rule |")
        lines.append("|---|---|---|")
        for name, acc in self.accuracy.items():
            lines.append(f"| {name} | {acc:.3f} | {self.policies[name]} |")
        if per_item:
            lines.append("")
            lines.append("| id | reference | prediction | status | " + " | ".join(self.accuracy) + " |")
            lines.append("|---|---|---|---|" + "---|" * len(self.accuracy))
            shown = self.items if limit is None else self.items[:limit]
            for it in shown:
                marks = " | ".join("1" if it["correct"][k] else "0" for k in self.accuracy)
                lines.append(f"| {it['id']} | {it['reference']} | {it['prediction']} | {it['status']} | {marks} |")
            if limit is not None and len(self.items) > limit:
                lines.append(f"... {len(self.items) - limit} more items")
        return "\n".join(lines)


def evaluate(data: str | os.PathLike | Sequence[BenchItem], preds: str | os.PathLike | Sequence[dict[str, Any]],
             *, policies: Sequence[str | TolerancePolicy] | None = None, limits: Limits | None = None,
             workers: int | None = None, solver_track: str | None = "highspy",
             journal: str | os.PathLike | None = None, allow_unsandboxed: bool = False) -> EvalReport:
    """Score predictions against a benchmark under several tolerance policies.

    Rows whose prediction carries ``code`` or ``completion`` are run and verified (in a sandbox
    pool); rows with ``objective`` are compared directly (``status`` other than ok/optimal means not
    executed). A missing prediction counts as wrong with status ``missing``; a non-numeric reference
    gives status ``invalid_reference`` and counts as wrong. The denominator is always the number of
    benchmark items.

    Returns:
        :class:`EvalReport`.
    """
    items = list(data) if not isinstance(data, (str, os.PathLike)) else load_benchmark(data)
    rows = list(preds) if not isinstance(preds, (str, os.PathLike)) else load_predictions(preds)
    pols = [get_policy(p) for p in (policies or list(POLICIES))]
    has_ids = any(any(k in r for k in _ID_KEYS) for r in rows)
    by_id: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(rows):
        rid = _first(r, _ID_KEYS)
        key = str(rid) if has_ids and rid is not None else (items[i].id if i < len(items) else f"extra-{i}")
        by_id[key] = r
    specs, spec_of = [], {}
    for it in items:
        r = by_id.get(it.id)
        if r is None:
            continue
        code = r.get("code")
        if code is None and "completion" in r:
            code = extract_code(r["completion"]) or ""
        if code is not None:
            spec_of[it.id] = ProgramSpec(id=job_key(it.id, code), code=code, solver_track=solver_track)
            specs.append(spec_of[it.id])
    checks: dict[str, ProgramCheck] = {}
    if specs:
        limits = limits if limits is not None else Limits(wall_s=60.0)
        done = check_programs(specs, workers=workers, limits=limits, journal=journal,
                              allow_unsandboxed=allow_unsandboxed)
        by_spec = {s.id: c for s, c in zip(specs, done, strict=True)}
        checks = {item_id: by_spec[s.id] for item_id, s in spec_of.items()}
    out_items, executed = [], 0
    for it in items:
        r = by_id.get(it.id)
        rec: dict[str, Any] = {"id": it.id, "reference": it.reference.raw}
        if r is None:
            pred, ran, status = None, False, "missing"
        elif it.id in checks:
            c = checks[it.id]
            pred = c.objective if not c.hardcoded else None
            ran, status = c.executed, c.status + (" (hard-coded print)" if c.hardcoded else "")
            rec["message"] = c.message
        elif not any(k in r for k in ("objective", "pred", "prediction", "status")):
            pred, ran, status = None, False, "empty_prediction"
        else:
            pred = parse_number(r.get("objective", r.get("pred", r.get("prediction"))))
            st = str(r.get("status", "ok")).strip().lower()
            ran = st in _OK_STATUS
            status = st
        if not it.reference.valid:
            status = "invalid_reference"
        executed += bool(ran)
        rec["prediction"], rec["status"], rec["executed"] = pred, status, bool(ran)
        rec["correct"] = {p.name: bool(ran) and it.reference.valid and p.matches(pred, it.reference)
                          for p in pols}
        out_items.append(rec)
    n = len(items)
    acc = {p.name: (sum(x["correct"][p.name] for x in out_items) / n if n else 0.0) for p in pols}
    return EvalReport(n=n, accuracy=acc, execution_rate=executed / n if n else 0.0, items=out_items,
                      policies={p.name: p.description for p in pols})
