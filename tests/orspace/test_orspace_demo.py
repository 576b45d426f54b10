"""The shipped demo set and the workspace generator / validator."""

from __future__ import annotations

import csv
import json

import pytest

import jaxor.orspace as ors


@pytest.fixture(scope="module")
def demo():
    return ors.Dataset(ors.demo_root())


@pytest.fixture(scope="module")
def demo_runs(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_runs")
    insts = demo.filter(mode=["build", "revise"])
    ref = ors.reference_agent(demo)
    some = [i for i in insts if (i.number + (i.mode == "revise")) % 2]   # both modes, every topology once
    return {"reference": ors.run_benchmark(demo, ref, out / "reference", instances=insts, workers=2),
            "null": ors.run_benchmark(demo, ors.NullAgent(), out / "null", instances=insts),
            "wrong": ors.run_benchmark(demo, ors.ScaledObjectiveAgent(ref, 1.05), out / "wrong", instances=some,
                                       workers=2)}


def test_orspace_demo_layout(demo):
    s = demo.summary()
    assert len(demo) >= 15 and s["mode"] == {"build": 5, "revise": 5, "explain": 5}
    assert len(s["domain"]) == 5
    assert {"R1", "R3", "R4", "R5"} <= set(s["revise_type"])
    for inst in demo:
        assert (inst.path / "metadata.json").exists()
        if inst.mode == "build":
            assert (inst.path / "docs" / "business_requirement.md").exists()
            assert (inst.path / "data" / "general_parameters.csv").exists()
        elif inst.mode == "revise":
            assert (inst.path / "original" / "src" / "current_heuristic.py").exists()
        else:
            for side in ("original", "revised"):
                for f in ("src/formulation.tex", "src/optimization_model.py", "logs/execution_record.json"):
                    assert (inst.path / side / f).exists()
            assert inst.question and inst.rubric["checklist"]
    assert set(ors.reference_programs(demo)) == {i.workspace_id for i in demo.filter(mode=["build", "revise"])}


def test_orspace_demo_reference_passes_null_and_wrong_fail(demo_runs):
    assert [r["outcome"] for r in demo_runs["reference"]] == ["pass"] * 10
    assert all(r["outcome"] == "no_objective" and not r["passed"] for r in demo_runs["null"])
    by_id = {r["workspace_id"]: r for r in demo_runs["reference"]}
    assert {w["mode"] for w in demo_runs["wrong"]} == {"build", "revise"} and len(demo_runs["wrong"]) == 5
    for w in demo_runs["wrong"]:
        assert w["outcome"] == "wrong_value"
        assert w["objective"] == pytest.approx(1.05 * by_id[w["workspace_id"]]["objective"], rel=1e-9)
    s = ors.summarize(demo_runs["reference"] + [])
    assert s["pass_at_1"] == {"build": 100.0, "revise": 100.0}
    assert set(s["by_revise_type"]) == {"R1", "R3", "R4", "R5"}


def test_orspace_demo_explain_reference_and_null(demo, tmp_path):
    insts = demo.filter(mode="explain")
    ref = ors.run_benchmark(demo, ors.reference_agent(demo), tmp_path / "r", instances=insts)
    null = ors.run_benchmark(demo, ors.NullAgent(), tmp_path / "n", instances=insts)
    for r in ref:  # the expected answer names every exact entity; no judge: semantic items missed
        assert r["outcome"] == "scored" and r["exact_hits"] == r["exact_total"] > 0
        assert r["score"] == pytest.approx(35 * r["exact_total"] / (r["exact_total"] + r["semantic_total"]))
    assert all(n["score"] == 0.0 and n["outcome"] == "no_objective" for n in null)
    rows = [json.loads(x) for x in (tmp_path / "r" / "explain_answers.jsonl").read_text().splitlines()]
    assert [r["instance_id"] for r in rows] == [f"OR_explain_{k:03d}" for k in range(1, 6)]


def test_orspace_validator_accepts_demo_subset(demo):
    rep = ors.validate(demo, ids=["or_space_002_build", "or_space_005_revise", "or_space_003_explain"])
    assert rep.ok, rep.problems
    c = rep.checks["or_space_005_revise"]
    assert c["reference_passes"] and c["perturbation_changes_objective"] and c["differs_from_base"]
    assert ors.validate(demo, run_programs=False).ok


def test_orspace_generator_and_validator_catch_faults(tmp_path):
    ds = ors.generate(tmp_path / "g", domains=("blending",), seed=3, start=7)
    assert ds.ids() == ["or_space_007_build", "or_space_007_revise", "or_space_007_explain"]
    assert ors.validate(ds, run_programs=False).ok
    with pytest.raises(ValueError, match="already exists"):
        ors.generate(tmp_path / "g", domains=("blending",), start=7)
    with pytest.raises(ValueError, match="domains"):
        ors.generate(tmp_path / "h", domains=("mining",))
    root = tmp_path / "g"
    build = root / "Workspace_OR" / "build_workspaces" / "instance_7"
    ref = ds["or_space_007_build"].reference_objective
    # 1) a leaked reference objective in visible prose
    doc = build / "docs" / "business_requirement.md"
    doc.write_text(doc.read_text() + f"\nLast year's best plan cost {ref!r}.\n")
    # 2) a revise that does not differ from its base
    rev = root / "Workspace_OR" / "revise_workspaces" / "instance_7"
    (rev / "revised" / "docs" / "business_requirement.md").write_text(
        (rev / "original" / "docs" / "business_requirement.md").read_text())
    path = root / "evaluation" / "revise_evaluation" / "reference_objectives.csv"
    rows = list(csv.reader(path.open()))
    rows[1][4] = repr(ref)
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    # 3) a reference program that prints a constant (data-independent)
    prog = root / "evaluation" / "reference_programs" / "or_space_007_build" / "_agent_solution.py"
    prog.write_text(f"print('Status: Optimal')\nprint('FINAL_OBJ_VALUE: {ref!r}')\n")
    # 4) an evaluator-only key in visible metadata
    meta = rev / "metadata.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "reference_objective": ref}))
    rep = ors.validate(ors.Dataset(root))
    text = "\n".join(rep.problems)
    assert "or_space_007_build: reference objective appears in visible files" in text
    assert "or_space_007_revise: revise workspace does not differ" in text
    assert "or_space_007_build: perturbing the data leaves the objective" in text
    assert "or_space_007_revise: visible metadata holds evaluator-only keys ['reference_objective']" in text
    # staging strips that key again
    m = ors.stage(ors.Dataset(root)["or_space_007_revise"], tmp_path / "st")
    assert m.stripped_keys == ["reference_objective"]
    assert "reference_objective" not in (tmp_path / "st" / "metadata.json").read_text()
