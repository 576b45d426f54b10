"""Build / Revise scoring rules (OR-Space's released rule), checked against a plain re-statement."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxor.orspace as ors


def _rule(obj, ref, tol=0.01):
    return abs(obj - ref) / max(1.0, abs(ref)) <= tol


@given(ref=st.floats(-1e7, 1e7, allow_nan=False), rel=st.floats(-0.05, 0.05))
def test_orspace_tolerance_matches_released_rule(ref, rel):
    obj = ref + rel * max(1.0, abs(ref))
    out = ors.classify_run(0, f"Status: Optimal\nFINAL_OBJ_VALUE: {obj!r}\n", ref=ref, tol=0.01)
    assert out.passed == _rule(obj, ref)
    assert out.outcome == ("pass" if out.passed else "wrong_value")


@pytest.mark.parametrize("stdout,outcome", [
    ("FINAL_OBJ_VALUE: 100\n", "pass"),
    ("FINAL_OBJ_VALUE: 100\nFINAL_OBJ_VALUE: 120\n", "wrong_value"),       # the last line counts
    ("FINAL_OBJ_VALUE: 1.00e+02\n", "pass"),                               # scientific notation
    ("FINAL_OBJ_VALUE: None\n", "no_objective"),
    ("FINAL_OBJ_VALUE: nan\n", "no_objective"),
    ("FINAL_OBJ_VALUE: inf\n", "no_objective"),
    ("the objective is 100\n", "no_objective"),
    ("Status: Infeasible\nFINAL_OBJ_VALUE: 100\n", "no_objective"),        # printed status must be optimal
    ("Model status: Optimal\nOBJECTIVE_STATUS: OPTIMAL\nFINAL_OBJ_VALUE: 100.5\n", "pass"),
])
def test_orspace_classify_outputs(stdout, outcome):
    assert ors.classify_run(0, stdout, ref=100.0, tol=0.01).outcome == outcome


def test_orspace_classify_failures_and_row_tolerance():
    assert ors.classify_run(1, "FINAL_OBJ_VALUE: 100\n", ref=100.0).outcome == "runtime_error"
    assert ors.classify_run(None, "", timed_out=True, ref=100.0).outcome == "timeout"
    assert ors.classify_run(0, "FINAL_OBJ_VALUE: 100\n", infra_error="licence", ref=100.0).outcome == \
        "infrastructure_error"
    # max(1, |ref|): small references use an absolute 0.01
    assert ors.classify_run(0, "FINAL_OBJ_VALUE: 0.009\n", ref=0.0).passed
    assert not ors.classify_run(0, "FINAL_OBJ_VALUE: 0.011\n", ref=0.0).passed
    # the reference row's own tolerance is used
    assert ors.classify_run(0, "FINAL_OBJ_VALUE: 104\n", ref=100.0, tol=0.05).passed
    assert not ors.classify_run(0, "FINAL_OBJ_VALUE: 104\n", ref=100.0, tol=0.01).passed


def test_orspace_strip_and_predictions():
    clean, removed = ors.strip_evaluator_keys(
        {"question": "q", "meta": {"Reference_Objective": 1, "keep": [{"expected_answer": 2, "x": 3}]}})
    assert clean == {"question": "q", "meta": {"keep": [{"x": 3}]}}
    assert removed == ["meta.Reference_Objective", "meta.keep[0].expected_answer"]
    from jaxor.orspace._scoring import score_prediction

    assert score_prediction({"status": "optimal", "objective": 100.4}, 100.0)
    assert not score_prediction({"status": "Optimal", "objective": True}, 1.0)        # booleans fail
    assert not score_prediction({"status": "Optimal", "objective": "100"}, 100.0)     # non-numbers fail
    assert not score_prediction({"status": "RuntimeError", "objective": None}, 100.0)


@pytest.mark.parametrize("kw,name", [({"timeout_s": 0}, "timeout_s"), ({"perturb_factor": 1.0}, "perturb_factor"),
                                     ({"program_name": "a/b.py"}, "program_name"),
                                     ({"revise_program_dir": "../x"}, "revise_program_dir")])
def test_orspace_run_config_validates(kw, name):
    with pytest.raises(ValueError, match=name):
        ors.RunConfig(**kw)


def test_orspace_run_benchmark_bad_inputs(tmp_path):
    demo = ors.Dataset(ors.demo_root())
    with pytest.raises(ValueError, match="solver_track"):
        ors.run_benchmark(demo, ors.NullAgent(), tmp_path / "a", config=ors.RunConfig(solver_track="cplex"))
    with pytest.raises(KeyError):
        ors.run_benchmark(demo, ors.NullAgent(), tmp_path / "b", instances=["or_space_999_build"])
    ors.run_benchmark(demo, ors.NullAgent(), tmp_path / "c", instances=["or_space_001_build"])
    with pytest.raises(ValueError, match="resume"):
        ors.run_benchmark(demo, ors.NullAgent(), tmp_path / "c", instances=["or_space_001_build"], resume=False)
    with pytest.raises(ValueError, match="Workspace_OR"):
        ors.Dataset(tmp_path)


def test_orspace_participant_only_copy(tmp_path):
    import shutil

    demo = ors.Dataset(ors.demo_root())
    shutil.copytree(demo.root / "Workspace_OR", tmp_path / "Workspace_OR")   # no evaluation/ folder
    ds = ors.Dataset(tmp_path)
    assert len(ds) == len(demo) and ds["or_space_001_build"].reference_objective is None
    code = "print('Status: Optimal')\nprint('FINAL_OBJ_VALUE: 5')\n"
    rec = ors.run_benchmark(ds, ors.CallableAgent(lambda t: code), tmp_path / "r", instances=["or_space_001_build"])[0]
    assert rec["status"] == "Optimal" and rec["objective"] == 5.0 and rec["outcome"] == "infrastructure_error"
