"""Stage a participant copy of an OR-Space workspace and detect tampering (arXiv 2605.28158, §3).

Staging copies only the participant-visible workspace into a fresh folder, strips evaluator-only
keys from ``metadata.json`` (the release's ``tools/stage_participant_workspaces.py`` strips keys that
mention answer, expected, ground_truth, objective, oracle, reference, rubric, score, solution or
target) and records a manifest of sha256 hashes of every staged input file and of every
evaluator-only file of the dataset. :func:`check_manifest` recomputes them after the agent and its
program ran: an input that was modified or removed, or an evaluator file that changed, is tampering.
The manifest is kept outside the staged folder so the agent cannot rewrite it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from jaxor.orspace._dataset import Dataset, Instance

__all__ = ["EVALUATOR_ONLY_TERMS", "Manifest", "TamperReport", "check_manifest", "sha256_file", "stage",
           "strip_evaluator_keys"]

EVALUATOR_ONLY_TERMS = ("answer", "expected", "ground_truth", "objective", "oracle", "reference", "rubric",
                        "score", "solution", "target", "checklist")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def strip_evaluator_keys(obj: Any, terms: tuple[str, ...] = EVALUATOR_ONLY_TERMS,
                         _path: str = "") -> tuple[Any, list[str]]:
    """Remove (recursively) every dict key whose lower-cased name contains one of ``terms``.

    Returns ``(clean_copy, removed_key_paths)``.

    Example:
        >>> strip_evaluator_keys({"a": 1, "reference_objective": 3, "b": {"expected_answer": 2}})[0]
        {'a': 1, 'b': {}}
    """
    removed: list[str] = []
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            key_path = f"{_path}.{k}" if _path else str(k)
            if any(t in str(k).lower() for t in terms):
                removed.append(key_path)
                continue
            out[k], sub = strip_evaluator_keys(v, terms, key_path)
            removed += sub
        return out, removed
    if isinstance(obj, list):
        out_list = []
        for i, v in enumerate(obj):
            clean, sub = strip_evaluator_keys(v, terms, f"{_path}[{i}]")
            out_list.append(clean)
            removed += sub
        return out_list, removed
    return obj, removed


@dataclasses.dataclass
class Manifest:
    """sha256 hashes of a staged workspace's inputs and of the dataset's evaluator files."""

    workspace_id: str
    mode: str
    staged_dir: str
    files: dict[str, str]
    evaluator: dict[str, str]
    evaluator_root: str | None
    stripped_keys: list[str]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


@dataclasses.dataclass
class TamperReport:
    """What changed since staging: ``modified`` / ``removed`` staged inputs, changed evaluator files."""

    modified: list[str]
    removed: list[str]
    evaluator_changed: list[str]

    @property
    def tampered(self) -> bool:
        return bool(self.modified or self.removed or self.evaluator_changed)

    def describe(self) -> str:
        parts = []
        for name, items in (("modified inputs", self.modified), ("removed inputs", self.removed),
                            ("changed evaluator files", self.evaluator_changed)):
            if items:
                parts.append(f"{name}: {', '.join(items[:8])}")
        return "; ".join(parts) or "no tampering"


def _hash_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def stage(instance: Instance, dest: str | Path, *, dataset: Dataset | None = None,
          manifest_path: str | Path | None = None, terms: tuple[str, ...] = EVALUATOR_ONLY_TERMS) -> Manifest:
    """Copy ``instance``'s participant-visible files into the fresh folder ``dest``.

    Args:
        instance: a workspace from :class:`Dataset`.
        dest: the staged workspace folder; must not exist or be empty.
        dataset: when given, its evaluator-only files are hashed into the manifest too.
        manifest_path: where to write the manifest JSON (default ``<dest>.manifest.json``, beside the
            staged folder, not inside it).
        terms: key fragments that mark evaluator-only metadata keys.

    Returns:
        The :class:`Manifest` (also written to ``manifest_path``).
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"dest={str(dest)!r} exists and is not empty; staging needs a fresh folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        dest.rmdir()
    shutil.copytree(instance.path, dest, symlinks=False)
    stripped: list[str] = []
    meta_path = dest / "metadata.json"
    if meta_path.exists():
        clean, stripped = strip_evaluator_keys(json.loads(meta_path.read_text(encoding="utf-8")), terms)
        meta_path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    # Agent output folders exist even where the release keeps them empty (git drops empty folders).
    if instance.mode == "build":
        (dest / "src").mkdir(exist_ok=True)
    elif instance.mode == "revise":
        (dest / "revised" / "src").mkdir(parents=True, exist_ok=True)
    evaluator: dict[str, str] = {}
    if dataset is not None:
        evaluator = {p.relative_to(dataset.root).as_posix(): sha256_file(p) for p in dataset.evaluator_files()}
    manifest = Manifest(workspace_id=instance.workspace_id, mode=instance.mode, staged_dir=str(dest.resolve()),
                        files=_hash_tree(dest), evaluator=evaluator,
                        evaluator_root=str(dataset.root) if dataset is not None else None,
                        stripped_keys=stripped)
    mpath = Path(manifest_path) if manifest_path else dest.with_name(dest.name + ".manifest.json")
    mpath.write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def check_manifest(manifest: Manifest, staged_dir: str | Path | None = None) -> TamperReport:
    """Recompute hashes: staged inputs that changed or vanished, evaluator files that changed.

    Files the agent added (its program, its answer, solver output) are not inputs and are ignored;
    ``.gitkeep`` placeholders may be removed.
    """
    root = Path(staged_dir or manifest.staged_dir)
    modified, removed = [], []
    for rel, digest in manifest.files.items():
        p = root / rel
        if not p.is_file():
            if not rel.endswith(".gitkeep"):
                removed.append(rel)
        elif sha256_file(p) != digest:
            modified.append(rel)
    changed = []
    if manifest.evaluator_root:
        eroot = Path(manifest.evaluator_root)
        for rel, digest in manifest.evaluator.items():
            p = eroot / rel
            if not p.is_file() or sha256_file(p) != digest:
                changed.append(rel)
    return TamperReport(modified, removed, changed)
