"""Reports of an OR-Space run: pass@1 overall and by difficulty, domain and revise type (Build /
Revise), mean Explain score, outcome classes, a markdown summary and plots (arXiv 2605.28158, Table 2)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from jaxor.orspace._scoring import OUTCOMES

__all__ = ["summarize", "write_report"]


def _pct(xs: list[bool]) -> float:
    return 100.0 * sum(xs) / len(xs) if xs else float("nan")


def summarize(records: list[dict]) -> dict[str, Any]:
    """Aggregate per-instance records.

    Returns:
        ``{"pass_at_1": {mode: %}, "by_difficulty": {mode: {label: %}}, "by_domain": ...,
        "by_revise_type": {type: %}, "explain_mean": float|None, "explain_by_difficulty": {...},
        "outcomes": {mode: {outcome: count}}, "n": {mode: count}}``.
    """
    out: dict[str, Any] = {"pass_at_1": {}, "by_difficulty": {}, "by_domain": {}, "by_revise_type": {},
                           "explain_mean": None, "explain_by_difficulty": {}, "outcomes": {}, "n": {}}
    by_mode: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_mode[r["mode"]].append(r)
    for mode, rows in by_mode.items():
        out["n"][mode] = len(rows)
        out["outcomes"][mode] = dict(Counter(r["outcome"] for r in rows))
        if mode == "explain":
            scores = [float(r.get("score") or 0.0) for r in rows]
            out["explain_mean"] = sum(scores) / len(scores)
            groups = defaultdict(list)
            for r, s in zip(rows, scores, strict=True):
                groups[r.get("difficulty") or "unknown"].append(s)
            out["explain_by_difficulty"] = {k: sum(v) / len(v) for k, v in sorted(groups.items())}
            continue
        out["pass_at_1"][mode] = _pct([bool(r["passed"]) for r in rows])
        for key, field in (("by_difficulty", "difficulty"), ("by_domain", "domain")):
            groups = defaultdict(list)
            for r in rows:
                groups[r.get(field) or "unknown"].append(bool(r["passed"]))
            out[key][mode] = {k: _pct(v) for k, v in sorted(groups.items())}
        if mode == "revise":
            groups = defaultdict(list)
            for r in rows:
                groups[r.get("revise_type") or "unknown"].append(bool(r["passed"]))
            out["by_revise_type"] = {k: _pct(v) for k, v in sorted(groups.items())}
    return out


def _table(header: list[str], rows: list[list[Any]]) -> str:
    fmt = lambda v: f"{v:.1f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def markdown_tables(summary: dict[str, Any]) -> dict[str, str]:
    """The summary as markdown tables keyed by title."""
    tables = {}
    rows = [[m, summary["n"][m], summary["pass_at_1"][m]] for m in ("build", "revise") if m in summary["pass_at_1"]]
    if "explain" in summary["n"]:
        rows.append(["explain (mean score)", summary["n"]["explain"], summary["explain_mean"]])
    tables["Overall (pass@1 %, Explain mean score)"] = _table(["mode", "instances", "score"], rows)
    for key, title in (("by_difficulty", "pass@1 % by difficulty"), ("by_domain", "pass@1 % by domain")):
        rows = [[m, k, v] for m, d in summary[key].items() for k, v in d.items()]
        if rows:
            tables[title] = _table(["mode", key[3:], "pass@1 %"], rows)
    if summary["by_revise_type"]:
        tables["Revise pass@1 % by revise type"] = _table(["revise type", "pass@1 %"],
                                                           [[k, v] for k, v in summary["by_revise_type"].items()])
    oc = summary["outcomes"]
    tables["Outcome classes"] = _table(["mode"] + list(OUTCOMES),
                                       [[m] + [oc[m].get(o, 0) for o in OUTCOMES] for m in oc])
    return tables


def write_report(records: list[dict], out_dir: str | Path, *, title: str = "OR-Space run") -> Path:
    """Write ``summary.md`` (tables + per-instance list) and ``pass_by_group.png`` into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = summarize(records)
    parts = [f"# {title}\n"]
    for t, md in markdown_tables(s).items():
        parts.append(f"## {t}\n\n{md}\n")
    inst_rows = [[r["workspace_id"], r.get("agent", ""), r["outcome"],
                  r.get("objective") if r["mode"] != "explain" else r.get("score"),
                  r.get("ground_truth", ""), (r.get("error") or "")[:80].replace("|", "/").replace("\n", " ")]
                 for r in records]
    parts.append("## Per instance\n\n" + _table(["workspace", "agent", "outcome", "objective / score", "reference",
                                                 "note"], inst_rows) + "\n")
    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels, vals = [], []
    for m in ("build", "revise"):
        for k, v in s["by_difficulty"].get(m, {}).items():
            labels.append(f"{m}\n{k}")
            vals.append(v)
    if s["explain_by_difficulty"]:
        for k, v in s["explain_by_difficulty"].items():
            labels.append(f"explain\n{k}")
            vals.append(v)
    ax.bar(range(len(vals)), vals, color="tab:blue")
    ax.set_xticks(range(len(vals)), labels, fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_ylabel("pass@1 % / Explain score")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "pass_by_group.png", dpi=110)
    plt.close(fig)
    parts.insert(1, "![pass@1 by group](pass_by_group.png)\n")
    path = out / "summary.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
