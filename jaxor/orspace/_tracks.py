"""User-side solver-track helpers that the harness can place into a staged workspace."""

from __future__ import annotations

from pathlib import Path

__all__ = ["pulp_compat_source"]

_DIR = Path(__file__).resolve().parent / "tracks"


def pulp_compat_source() -> str:
    """Source of a PuLP-subset modelling module solved by highspy (``LpProblem``, ``LpVariable``,
    ``lpSum``, ``value``, ``LpStatus``, ``GUROBI_CMD``), so released programs written against OR-Space's
    ``gurobi_pulp_compat`` surface run on the highspy track. Write it next to the program as
    ``gurobi_pulp_compat.py`` (or ``pulp.py``); jaxor never imports it."""
    return (_DIR / "pulp_highs.py.txt").read_text(encoding="utf-8")
