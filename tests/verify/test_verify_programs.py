"""Program checks in the sandbox, the batched reward, benchmark evaluation and the CLI."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from jaxor import sandbox
from jaxor.cli import main as jaxor_main
from jaxor.sandbox import Limits
from jaxor.verify import ProgramCheck, ProgramSpec, check_programs, evaluate, reward, reward_details

pytestmark = pytest.mark.skipif(sandbox.sandbox_available() is not None,
                                reason=f"namespaces unavailable: {sandbox.sandbox_available()}")

HIGHS_MODEL = """
import highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
x = h.addVariable(lb=0, ub=4, name="x")
y = h.addVariable(lb=0, name="y")
h.addConstr(x + 2 * y <= 14)
h.addConstr(3 * x - y >= 0)
h.maximize(3 * x + 4 * y)
h.writeModel({file!r})
obj = h.getInfo().objective_function_value
print("FINAL_OBJ_VALUE:", {printed})
"""
INFEASIBLE_LP = ("open('m.lp', 'w').write('min\\n obj: x\\nst\\n c1: x + y >= 5\\n c2: x + y <= 3\\nend\\n')\n"
                 "print('FINAL_OBJ_VALUE: None')\n")

SPECS = [
    ProgramSpec("honest", code=HIGHS_MODEL.format(file="model.mps", printed="obj")),
    ProgramSpec("hardcoded", code=HIGHS_MODEL.format(file="model.mps", printed="'1e+06'")),
    ProgramSpec("honest_lp", code=HIGHS_MODEL.format(file="out/model.lp", printed="obj").replace(
        "import highspy", "import os, highspy\nos.makedirs('out', exist_ok=True)")),
    ProgramSpec("infeasible", code=INFEASIBLE_LP),
    ProgramSpec("claims_infeasible_model", code=INFEASIBLE_LP.replace("None", "12")),
    ProgramSpec("sci", code="print('noise'); print('FINAL_OBJ_VALUE: -2.5E+03')"),
    ProgramSpec("nan", code="print('FINAL_OBJ_VALUE: nan')"),
    ProgramSpec("silent", code="x = 1"),
    ProgramSpec("crash", code="raise RuntimeError('model bug')"),
    ProgramSpec("empty", code=""),
    ProgramSpec("missing", path="/nonexistent/prog.py"),
    ProgramSpec("bad_model_file", code="open('m.lp','w').write('max\\n obj: 3 x +\\nend\\n')\nprint('FINAL_OBJ_VALUE: 3')"),
]


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    journal = tmp_path_factory.mktemp("journal") / "checks.jsonl"
    res = check_programs(SPECS, workers=4, limits=Limits(wall_s=20.0), journal=journal)
    return {s.id: r for s, r in zip(SPECS, res, strict=True)}, journal


def test_verify_program_checks(checks):
    c, _ = checks
    h = c["honest"]
    assert (h.status, h.objective, h.model.status, h.model.objective) == ("ok", 32.0, "optimal", 32.0)
    assert h.consistent is True and h.hardcoded is False and h.model_file == "model.mps"
    assert h.solution == [4.0, 5.0] and h.features.sense == "max"
    hc = c["hardcoded"]
    assert hc.objective == 1e6 and hc.hardcoded is True and "hard-coded" in hc.message
    lp = c["honest_lp"]
    assert lp.model_file == "out/model.lp" and lp.consistent and lp.objective == 32.0
    inf = c["infeasible"]
    assert inf.status == "no_objective" and inf.model.status == "infeasible" and inf.consistent is True
    assert inf.hardcoded is False if inf.hardcoded is not None else False
    lie = c["claims_infeasible_model"]
    assert lie.objective == 12.0 and lie.hardcoded is True
    assert (c["sci"].status, c["sci"].objective) == ("ok", -2500.0)
    assert (c["nan"].status, c["nan"].objective, c["nan"].printed) == ("no_objective", None, "nan")
    assert c["silent"].status == "no_objective" and "no 'FINAL_OBJ_VALUE:' line" in c["silent"].message
    assert c["crash"].status == "error" and not c["crash"].executed and "model bug" in c["crash"].message
    assert c["empty"].status == "invalid_input" and c["missing"].status == "invalid_input"
    bad = c["bad_model_file"]
    assert bad.model.parse_status == "error" and bad.hardcoded is None and "not verifiable" in bad.message


def test_verify_vote_over_program_checks(checks):
    from jaxor.verify import Candidate, iesc_vote

    c, _ = checks
    cands = [Candidate.from_check(c[k]) for k in ("honest", "honest_lp", "hardcoded", "crash", "sci")]
    assert [x.valid for x in cands] == [True, True, True, False, True]
    assert cands[2].objective is None and cands[0].features.sense == "max"
    v = iesc_vote(cands)
    assert v.answer == 32.0 and v.scores[0][2] == 2


def test_verify_program_batch_resumes_from_journal(checks):
    c, journal = checks
    lines = journal.read_text().splitlines()
    assert len(lines) == len(SPECS)
    # rerun with programs that would all crash: every result must come back from the journal
    again = check_programs([ProgramSpec(s.id, code="raise SystemExit(9)") for s in SPECS], workers=2,
                           journal=journal)
    assert [r.status for r in again] == [c[s.id].status for s in SPECS]
    assert isinstance(again[0], ProgramCheck) and again[0].model.objective == 32.0


GOOD_TAGS = "<think>t</think><model>m</model><python>{}</python>"


def test_verify_batched_reward_end_to_end():
    comps = [GOOD_TAGS.format("print('FINAL_OBJ_VALUE: 1e+06')"),          # right, sci notation
             GOOD_TAGS.format("print('FINAL_OBJ_VALUE: 41')"),              # wrong value
             GOOD_TAGS.format("raise ValueError('x')"),                     # crash
             GOOD_TAGS.format("while True:\n    pass"),                     # timeout
             "<think>t</think><model>m</model> no code here",               # no code
             GOOD_TAGS.format("print('FINAL_OBJ_VALUE: None')"),            # infeasible, right
             GOOD_TAGS.format("print('FINAL_OBJ_VALUE: 3')"),               # reference not a number
             "```python\nprint('FINAL_OBJ_VALUE: 7')\n```"]                 # fence only: format penalised
    refs = [1000000, 42, 42, 42, 42, "No Best Solution", "n/a", 7]
    details = reward_details(comps, refs, limits=Limits(wall_s=2.5), workers=4)
    r = np.array([d.reward for d in details])
    no_code_fmt = 2 - 0.5 - 2 / 3
    fence_fmt = 2 - 1 - 1 / 3
    want = [3.0, 2.0, 1.0, 1.0, 0.5 * no_code_fmt, 3.0, 2.0, 1 + 0.5 * fence_fmt + 1]
    np.testing.assert_allclose(r, want, atol=1e-12)
    assert [d.status for d in details][:5] == ["ok", "ok", "error", "timeout", "no_code"]
    assert details[6].status == "invalid_reference"
    arr = reward(comps[:2], refs[:2], limits=Limits(wall_s=10), stage=2, solutions=[[1.0], None])
    assert arr.dtype == np.float64 and arr.tolist() == [2.0, 1.0]  # stage 2: acc + exec + acc * hit (no solution)
    with pytest.raises(ValueError, match="differ in length"):
        reward(comps, refs[:2])


def test_verify_evaluate_and_cli(tmp_path, checks, monkeypatch):
    data = tmp_path / "bench.jsonl"
    rows = [{"en_question": "q0", "en_answer": "100"}, {"en_question": "q1", "en_answer": 2.0},
            {"en_question": "q2", "en_answer": "No Best Solution"}, {"en_question": "q3", "en_answer": "abc"},
            {"en_question": "q4", "en_answer": "12.34"}, {"en_question": "q5", "en_answer": "50"}]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    preds = tmp_path / "pred.jsonl"
    prow = [{"id": "0", "objective": 100.5}, {"id": "1", "code": "print('FINAL_OBJ_VALUE: 2.0000001')"},
            {"id": "2", "objective": None, "status": "infeasible"}, {"id": "3", "objective": 1},
            {"id": "4", "completion": "<python>print('FINAL_OBJ_VALUE: 12.3')</python>"}]
    preds.write_text("\n".join(json.dumps(r) for r in prow) + "\n")
    rep = evaluate(data, preds, limits=Limits(wall_s=10))
    st = {it["id"]: it["status"] for it in rep.items}
    assert st["3"] == "invalid_reference" and st["5"] == "missing" and rep.n == 6
    # by hand: item 0 (100.5 vs 100): orspace yes (0.5%), orlm yes (rounds to 100 or 101 -> 1%), sirl no;
    # item 1 (2.0000001 vs 2): sirl yes (1e-7/3), optibench yes; item 2 infeasible: yes everywhere;
    # item 4 (12.3 vs 12.34): orspace yes (0.04/12.34 = 0.3%), orlm yes (12 vs 12), optibench no, sirl no.
    assert rep.accuracy == pytest.approx({"sirl": 2 / 6, "orspace": 4 / 6, "orlm": 4 / 6, "optmath": 4 / 6,
                                          "optibench": 2 / 6})
    assert rep.execution_rate == pytest.approx(5 / 6)
    # CLI: eval, model, program
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = jaxor_main(["--no-cache", "verify", "eval", "--data", str(data), "--pred", str(preds),
                         "--tolerance", "orspace", "--tolerance", "sirl", "--wall", "10"])
    text = out.getvalue()
    assert rc == 0 and "| orspace | 0.667 |" in text and "| sirl | 0.333 |" in text and "missing" in text
    model = tmp_path / "m.lp"
    model.write_text("max\n obj: 3 x + 2 y\nst\n c1: x + y <= 4\n c2: x + 3 y <= 6\nbounds\n x <= 3\nend\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = jaxor_main(["--no-cache", "verify", "model", str(model)])
    assert rc == 0 and "status: optimal   objective: 11.0" in out.getvalue()
    with contextlib.redirect_stdout(io.StringIO()):
        assert jaxor_main(["--no-cache", "verify", "model", str(tmp_path / "nope.mps")]) == 1
    prog = tmp_path / "p.py"
    prog.write_text("print('FINAL_OBJ_VALUE: 4.5e2')\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        monkeypatch.chdir(tmp_path)  # a path relative to the caller's directory
        rc = jaxor_main(["--no-cache", "verify", "program", "p.py", "--wall", "10", "--json",
                         str(tmp_path / "p.json")])
    assert rc == 0 and "objective: 450.0" in out.getvalue()
    assert json.loads((tmp_path / "p.json").read_text())["objective"] == 450.0
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = jaxor_main(["--no-cache", "verify", "eval", "--data", str(tmp_path / "none.jsonl"), "--pred", str(preds)])
    assert rc == 2 and "not found" in out.getvalue()
