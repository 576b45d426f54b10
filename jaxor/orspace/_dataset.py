"""Load an OR-Space dataset root and list / filter its workspaces.

Zhou, Lu, Zhao, Lin, Ge, Ye, "OR-Space: A Full-Lifecycle Workspace Benchmark for Industrial Optimization
Agents", arXiv 2605.28158. The release is laid out as::

    <root>/Workspace_OR/{build,revise,explain}_workspaces/instance_N/...     participant-visible
    <root>/evaluation/{build,revise}_evaluation/reference_objectives.csv     evaluator-only
    <root>/evaluation/explain_evaluation/rubrics.jsonl (+ judge_prompt.md)   evaluator-only
    <root>/supporting_files/metadata/workspace_index.csv                     optional

:class:`Dataset` reads exactly that layout (the real release, the sample, or jaxor's own demo set).
Workspace ids follow the release: ``or_space_<NNN>_<build|revise|explain>``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MODES", "Dataset", "Instance", "workspace_id"]

MODES = ("build", "revise", "explain")
_ID_RE = re.compile(r"^or_space_(\d{3,})_(build|revise|explain)$")


def workspace_id(number: int, mode: str) -> str:
    """The release's id for instance ``number`` of ``mode`` (``or_space_001_build``)."""
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} must be one of {MODES}")
    return f"or_space_{int(number):03d}_{mode}"


@dataclasses.dataclass(frozen=True)
class Instance:
    """One workspace and its evaluator-side labels.

    Attributes:
        workspace_id: ``or_space_<NNN>_<mode>``.
        mode: ``"build"``, ``"revise"`` or ``"explain"``.
        number: the topology number N (shared by the three modes).
        path: the participant workspace folder (never staged in place; see :func:`jaxor.orspace.stage`).
        metadata: the workspace's ``metadata.json`` as released.
        difficulty: ``Easy`` / ``Medium`` / ``Hard`` (empirical label) or None.
        domain: e.g. ``Production_Planning`` (from Explain metadata or ``workspace_index.csv``) or None.
        revise_type: ``R1`` ... ``R5`` for Revise, else None.
        reference_objective: evaluator-only reference (Build / Revise) or None.
        tolerance: relative tolerance of the reference row (0.01 in the release) or None.
        rubric: evaluator-only Explain rubric row or None.
    """

    workspace_id: str
    mode: str
    number: int
    path: Path
    metadata: dict
    difficulty: str | None = None
    domain: str | None = None
    revise_type: str | None = None
    reference_objective: float | None = None
    tolerance: float | None = None
    rubric: dict | None = dataclasses.field(default=None, repr=False)

    @property
    def question(self) -> str | None:
        """The Explain question shown to the participant (from visible metadata)."""
        task = self.metadata.get("explain_task") or {}
        return task.get("question") or self.metadata.get("question")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _difficulty(meta: dict) -> str | None:
    ev = meta.get("difficulty_evidence") or {}
    for v in (ev.get("label"), meta.get("difficulty"), meta.get("difficulty_level"),
              (meta.get("metadata") or {}).get("difficulty")):
        if isinstance(v, str) and v:
            return v
    return None


class Dataset:
    """An OR-Space dataset root.

    Args:
        root: the folder holding ``Workspace_OR/`` and ``evaluation/`` (the ``Workspace_OR`` folder
            itself is accepted too, with ``evaluation/`` beside it).

    Example:
        >>> ds = Dataset(jaxor.orspace.demo_root())          # doctest: +SKIP
        >>> [i.workspace_id for i in ds.filter(mode="build", difficulty="Easy")]   # doctest: +SKIP
    """

    def __init__(self, root: str | Path):
        root = Path(root).expanduser().resolve()
        if root.name == "Workspace_OR":
            root = root.parent
        if not (root / "Workspace_OR").is_dir():
            raise ValueError(f"root={str(root)!r} holds no Workspace_OR/ folder (not an OR-Space dataset root)")
        self.root = root
        self.workspaces = root / "Workspace_OR"
        self.evaluation = root / "evaluation"
        self._instances = self._load()

    # -- loading -------------------------------------------------------------------------------
    def _references(self, mode: str) -> dict[str, tuple[float, float]]:
        path = self.evaluation / f"{mode}_evaluation" / "reference_objectives.csv"
        out: dict[str, tuple[float, float]] = {}
        if not path.exists():
            return out
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out[row["workspace_id"]] = (float(row["reference_objective"]),
                                            float(row.get("relative_tolerance") or 0.01))
        return out

    def _rubrics(self) -> dict[str, dict]:
        path = self.evaluation / "explain_evaluation" / "rubrics.jsonl"
        if not path.exists():
            return {}
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return {r["workspace_id"]: r for r in rows}

    def _index(self) -> dict[str, dict]:
        path = self.root / "supporting_files" / "metadata" / "workspace_index.csv"
        if not path.exists():
            return {}
        with path.open(newline="", encoding="utf-8") as f:
            return {r["workspace_id"]: r for r in csv.DictReader(f) if r.get("workspace_id")}

    def _load(self) -> dict[str, Instance]:
        refs = {m: self._references(m) for m in ("build", "revise")}
        rubrics = self._rubrics()
        index = self._index()
        found: list[tuple[int, str, Path, dict]] = []
        for mode in MODES:
            folder = self.workspaces / f"{mode}_workspaces"
            if not folder.is_dir():
                continue
            for d in folder.iterdir():
                m = re.fullmatch(r"instance_(\d+)", d.name)
                if d.is_dir() and m:
                    found.append((int(m.group(1)), mode, d, _read_json(d / "metadata.json")))
        # Domain is a property of the topology: Explain metadata names it for all three modes.
        domains = {n: meta.get("domain") or (meta.get("explain_task") or {}).get("domain")
                   for n, mode, _, meta in found if mode == "explain"}
        out: dict[str, Instance] = {}
        for n, mode, d, meta in sorted(found, key=lambda t: (MODES.index(t[1]), t[0])):
            wid = workspace_id(n, mode)
            row = index.get(wid, {})
            ref, tol = refs.get(mode, {}).get(wid, (None, None))
            out[wid] = Instance(
                workspace_id=wid, mode=mode, number=n, path=d, metadata=meta,
                difficulty=row.get("difficulty") or _difficulty(meta),
                domain=row.get("domain") or meta.get("domain") or domains.get(n),
                revise_type=meta.get("revise_type") if mode == "revise" else None,
                reference_objective=ref, tolerance=tol, rubric=rubrics.get(wid))
        return out

    # -- access --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._instances)

    def __iter__(self):
        return iter(self._instances.values())

    def __contains__(self, wid: str) -> bool:
        return wid in self._instances

    def __getitem__(self, wid: str) -> Instance:
        if wid not in self._instances:
            raise KeyError(f"unknown workspace_id {wid!r} (e.g. {next(iter(self._instances), 'none')!r})")
        return self._instances[wid]

    def ids(self) -> list[str]:
        return list(self._instances)

    def filter(self, *, mode: str | Iterable[str] | None = None, domain: str | Iterable[str] | None = None,
               difficulty: str | Iterable[str] | None = None, revise_type: str | Iterable[str] | None = None,
               ids: Iterable[str] | None = None) -> list[Instance]:
        """Instances matching every given criterion (each a value or a collection of values;
        matching is case-insensitive)."""

        def norm(v, name):
            if v is None:
                return None
            vals = {v} if isinstance(v, str) else set(v)
            return {str(x).lower() for x in vals}

        crit = {k: norm(v, k) for k, v in
                dict(mode=mode, domain=domain, difficulty=difficulty, revise_type=revise_type).items()}
        if crit["mode"] and not crit["mode"] <= set(MODES):
            raise ValueError(f"mode={mode!r} must be among {MODES}")
        wanted = None
        if ids is not None:
            wanted = list(ids)
            unknown = [w for w in wanted if w not in self._instances]
            if unknown:
                raise ValueError(f"ids contains unknown workspace ids {unknown[:5]}")
        out = []
        for inst in self._instances.values():
            if wanted is not None and inst.workspace_id not in wanted:
                continue
            ok = all(vals is None or str(getattr(inst, k) or "").lower() in vals for k, vals in crit.items())
            if ok:
                out.append(inst)
        return out

    def evaluator_files(self) -> list[Path]:
        """Every evaluator-only file (hashed by the harness to detect tampering)."""
        paths = []
        for sub in ("evaluation", "evaluation_programs"):
            d = self.root / sub
            if d.is_dir():
                paths += [p for p in sorted(d.rglob("*")) if p.is_file()]
        return paths

    def summary(self) -> dict[str, Any]:
        """Counts by mode, difficulty, domain and revise type."""
        out: dict[str, dict[str, int]] = {"mode": {}, "difficulty": {}, "domain": {}, "revise_type": {}}
        for inst in self:
            for k in out:
                v = getattr(inst, k)
                if v is not None:
                    out[k][v] = out[k].get(v, 0) + 1
        return out
