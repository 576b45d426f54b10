"""Must-show checks on the user's copy of the OR-Space sample (skipped cleanly when absent)."""

from __future__ import annotations

import json

import pytest
from orspace_helpers import sample_reference_files

import jaxor.orspace as ors


@pytest.fixture(scope="module")
def sample(request):
    from jaxor.data import DataNotFound, locate

    try:
        return ors.Dataset(locate("orspace-sample"))
    except DataNotFound as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def ref_files(sample):
    return sample_reference_files(sample)


def test_orspace_sample_loads_and_filters(sample):
    s = sample.summary()
    assert s["mode"] == {"build": 6, "revise": 6, "explain": 6}
    assert all(i.reference_objective is not None and i.tolerance == 0.01 for i in sample.filter(mode="build"))
    assert all(i.rubric is not None for i in sample.filter(mode="explain"))
    r1 = sample.filter(mode="revise", revise_type="R1")
    assert [i.workspace_id for i in r1] == ["or_space_001_revise"]
    # domain is a topology property, carried from Explain metadata to Build / Revise
    assert sample["or_space_005_build"].domain == sample["or_space_005_explain"].domain
    hard = sample.filter(difficulty="hard", mode="build")
    assert hard and all(i.difficulty == "Hard" for i in hard)
    with pytest.raises(ValueError, match="mode"):
        sample.filter(mode="bogus")


def test_orspace_sample_reference_passes_null_and_wrong_fail(sample, ref_files, tmp_path):
    insts = sample.filter(mode=["build", "revise"])
    ref = ors.run_benchmark(sample, ors.ProgramAgent(ref_files), tmp_path / "ref", instances=insts, workers=2)
    assert [r["outcome"] for r in ref] == ["pass"] * 12, [(r["workspace_id"], r["error"]) for r in ref]
    null = ors.run_benchmark(sample, ors.NullAgent(), tmp_path / "null", instances=insts)
    assert all(not r["passed"] and r["outcome"] == "no_objective" for r in null)
    # the 5%-off agent on half the topologies in each mode (the experiment covers every demo instance)
    some = [i for i in insts if (i.number + (i.mode == "revise")) % 2]
    wrong = ors.run_benchmark(sample, ors.ScaledObjectiveAgent(ors.ProgramAgent(ref_files), 1.05),
                              tmp_path / "wrong", instances=some, workers=2)
    by_id = {r["workspace_id"]: r for r in ref}
    assert {w["mode"] for w in wrong} == {"build", "revise"} and len(wrong) == 6
    for w in wrong:
        assert w["outcome"] == "wrong_value" and not w["passed"]
        assert w["objective"] == pytest.approx(1.05 * by_id[w["workspace_id"]]["objective"], rel=1e-9)
    # the predictions file is what the release's scorer reads; re-scoring it agrees
    scored = ors.score_predictions(sample, tmp_path / "ref" / "predictions.jsonl")
    assert scored["objective_match_pass_at_1"] == {"build": 100.0, "revise": 100.0}
    scored = ors.score_predictions(sample, tmp_path / "wrong" / "predictions.jsonl", allow_missing=True)
    assert scored["objective_match_pass_at_1"] == {"build": 0.0, "revise": 0.0}


def test_orspace_sample_staging_strips_and_hashes(sample, tmp_path):
    inst = sample["or_space_004_explain"]
    m = ors.stage(inst, tmp_path / "ws", dataset=sample)
    meta = json.loads((tmp_path / "ws" / "metadata.json").read_text())
    assert meta["explain_task"]["question"] == inst.question
    assert (tmp_path / "ws.manifest.json").exists() and not (tmp_path / "ws" / "manifest.json").exists()
    assert any(k.startswith("evaluation/") for k in m.evaluator)
    staged = {p.relative_to(tmp_path / "ws").as_posix() for p in (tmp_path / "ws").rglob("*") if p.is_file()}
    assert set(m.files) == staged and not any("evaluation" in s for s in staged)
    assert not ors.check_manifest(m).tampered
    (tmp_path / "ws" / "revised" / "data" / "general_parameters.csv").write_text("x\n")
    rep = ors.check_manifest(m)
    assert rep.tampered and rep.modified == ["revised/data/general_parameters.csv"]


def test_orspace_sample_tampering_and_hardcoding_detected(sample, ref_files, tmp_path):
    wid = "or_space_004_build"
    ref = sample[wid].reference_objective

    def edits_data(task):  # makes the data agree with a wrong model instead of fixing the model
        p = task.workdir / "data" / "general_parameters.csv"
        p.write_text(p.read_text().replace("max_total_animals,100", "max_total_animals,90"))
        return None

    tam = ors.run_benchmark(sample, _Chain(ors.ProgramAgent(ref_files), ors.CallableAgent(edits_data)),
                            tmp_path / "tam", instances=[wid])
    assert tam[0]["outcome"] == "integrity_violation" and "data/general_parameters.csv" in tam[0]["tampering"]

    hard = ors.CallableAgent(lambda task: f"print('FINAL_OBJ_VALUE: {ref}')\n", name="hardcoded")
    cfg = ors.RunConfig(check_hardcoded=True)
    rec = ors.run_benchmark(sample, hard, tmp_path / "hard", instances=[wid], config=cfg)[0]
    assert rec["outcome"] == "integrity_violation" and rec["hardcoded_check"]["flagged"]
    # computed from data via a variable: the static check is silent, the perturbation check still fires
    sneaky = ors.CallableAgent(lambda task: f"v = {ref}\nprint(f'FINAL_OBJ_VALUE: {{v}}')\n", name="sneaky")
    rec = ors.run_benchmark(sample, sneaky, tmp_path / "sneaky", instances=[wid], config=cfg)[0]
    assert not rec["hardcoded_check"]["literal_print"] and rec["hardcoded_check"]["data_independent"]
    assert rec["outcome"] == "integrity_violation"
    # the honest reference program moves with the data and is not flagged
    rec = ors.run_benchmark(sample, ors.ProgramAgent(ref_files), tmp_path / "honest", instances=[wid],
                            config=cfg)[0]
    assert rec["outcome"] == "pass" and not rec["hardcoded_check"]["flagged"]
    assert rec["hardcoded_check"]["perturbed_objective"] != pytest.approx(ref, rel=1e-3)


class _Chain(ors.Agent):
    name = "chain"

    def __init__(self, *agents):
        self.agents = agents

    def act(self, task):
        for a in self.agents:
            rep = a.act(task)
        return rep
