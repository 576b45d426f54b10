"""Agents: LLM agents (single-shot and tool-using) against a local OpenAI-compatible server with
canned replies, command-line and callable agents; failures are recorded, never fatal."""

from __future__ import annotations

import json
import sys

import pytest
from orspace_helpers import CannedServer

import jaxor.orspace as ors

WID = "or_space_004_build"        # blending (an LP) in the demo set
RWID = "or_space_001_revise"


@pytest.fixture(scope="module")
def demo():
    return ors.Dataset(ors.demo_root())


def _standalone(demo, wid) -> str:
    """The reference program with its helper module inlined (an LLM returns one program)."""
    files = ors.reference_programs(demo)[wid]
    prog = files["<program>"].replace("from utils import Model, load_parameters, load_table\n", "")
    return files["utils.py"] + "\n" + prog


def _fence(code: str) -> str:
    return f"Here is the model.\n\n```python\n{code}```\n"


def test_orspace_llm_single_shot_prompt_and_pass(demo, tmp_path):
    ref = demo[WID].reference_objective
    with CannedServer([{"content": _fence(_standalone(demo, WID))},
                       {"content": _fence(_standalone(demo, RWID))}]) as srv:
        agent = ors.LLMAgent("m1", base_url=srv.base_url, api_key_env="ORSPACE_TEST_KEY")
        recs = ors.run_benchmark(demo, agent, tmp_path / "run", instances=[WID, RWID])
    assert [r["outcome"] for r in recs] == ["pass", "pass"]
    assert recs[0]["prompt_tokens"] == 11 and recs[0]["completion_tokens"] == 7
    assert recs[0]["finish_reason"] == "stop" and recs[0]["program"] == "_agent_solution.py"
    assert recs[1]["program"] == "revised/_agent_solution.py"
    prompt = srv.requests[0]["messages"][0]["content"]
    ws = demo[WID].path
    for rel in ("docs/business_requirement.md", "data/general_parameters.csv", "data/table_1.csv", "metadata.json"):
        assert f"=== {rel} ===" in prompt
    assert (ws / "data" / "table_1.csv").read_text().strip() in prompt
    assert "FINAL_OBJ_VALUE" in prompt and srv.requests[0]["model"] == "m1"
    # nothing evaluator-only reaches the model
    for p in (srv.requests[0]["messages"][0]["content"], srv.requests[1]["messages"][0]["content"]):
        assert "reference_objectives" not in p and "rubric" not in p.lower()
        assert f"{ref:.6g}" not in p and repr(ref) not in p
        assert repr(demo[RWID].reference_objective) not in p
    prompt_r = srv.requests[1]["messages"][0]["content"]
    assert "=== original/src/current_heuristic.py ===" in prompt_r and "=== revised/data/general_parameters.csv ===" in prompt_r


def test_orspace_llm_failures_are_recorded(demo, tmp_path):
    replies = [{"status": 500}, {"content": "I cannot do this."}, {"raw": "this is not json"},
               {"content": _fence("print('FINAL_OBJ_VALUE: nan')\n"), "finish_reason": "length"},
               {"sleep": 2.5}]
    ids = ["or_space_001_build", "or_space_002_build", "or_space_003_build", "or_space_004_build",
           "or_space_005_build"]
    with CannedServer(replies) as srv:
        agent = ors.LLMAgent("m", base_url=srv.base_url, request_timeout_s=1.0)
        recs = ors.run_benchmark(demo, agent, tmp_path / "run", instances=ids)
    errs = [r["agent_error"] or "" for r in recs]
    assert "500" in errs[0] or "InternalServerError" in errs[0]
    assert "no program found" in errs[1]
    assert errs[2]                                                    # malformed body
    assert recs[3]["outcome"] == "no_objective" and recs[3]["output_truncated"]
    assert "Timeout" in errs[4] or "timed out" in errs[4].lower()
    assert all(not r["passed"] for r in recs) and len(recs) == 5


def test_orspace_tool_agent_reads_writes_runs(demo, tmp_path):
    code = _standalone(demo, WID)
    script = [
        {"tool_calls": [("list_files", json.dumps({"path": "data"}))]},
        {"tool_calls": [("read_file", json.dumps({"path": "data/general_parameters.csv"})),
                        ("read_file", json.dumps({"path": "../../../evaluation/build_evaluation/x.csv"}))]},
        {"tool_calls": [("write_file", json.dumps({"path": "_agent_solution.py", "content": code}))]},
        {"tool_calls": [("run_program", "{}"), ("nonexistent_tool", "{}"), ("read_file", "{not json")]},
        {"content": "Done: the program prints the optimum."},
    ]
    with CannedServer(script) as srv:
        agent = ors.ToolLLMAgent("tools", base_url=srv.base_url, max_turns=6)
        rec = ors.run_benchmark(demo, agent, tmp_path / "run", instances=[WID])[0]
    assert rec["outcome"] == "pass" and rec["turns"] == 5 and rec["agent_error"] is None
    assert srv.requests[0]["tools"] and {t["function"]["name"] for t in srv.requests[0]["tools"]} >= {
        "list_files", "read_file", "write_file", "run_program"}
    tool_msgs = [m for m in srv.requests[-1]["messages"] if m["role"] == "tool"]
    contents = [m["content"] for m in tool_msgs]
    assert "data/general_parameters.csv" in contents[0]
    assert "Parameter_Name,Value" in contents[1]
    assert "outside the workspace" in contents[2]
    assert contents[3].startswith("wrote _agent_solution.py")
    assert "FINAL_OBJ_VALUE" in contents[4] and "exit status: 0" in contents[4]
    assert "unknown tool" in contents[5] and "error" in contents[6]


def test_orspace_tool_agent_budget_and_tampering(demo, tmp_path):
    loop = [{"tool_calls": [("list_files", "{}")]}] * 3
    with CannedServer(loop) as srv:
        rec = ors.run_benchmark(demo, ors.ToolLLMAgent("t", base_url=srv.base_url, max_turns=3),
                                tmp_path / "budget", instances=[WID])[0]
    assert "turn budget of 3" in rec["agent_error"] and rec["outcome"] == "no_objective"
    # an agent that "fixes" the data instead of the model is caught by the manifest
    edit = [{"tool_calls": [("write_file", json.dumps({"path": "data/table_1.csv", "content": "x\n"}))]},
            {"content": "done"}]
    with CannedServer(edit) as srv:
        rec = ors.run_benchmark(demo, ors.ToolLLMAgent("t", base_url=srv.base_url), tmp_path / "tamper",
                                instances=[WID])[0]
    assert rec["outcome"] == "integrity_violation" and "data/table_1.csv" in rec["tampering"]


def test_orspace_llm_explain_answer(demo, tmp_path):
    wid = "or_space_002_explain"
    answer = demo[wid].rubric["expected_short_answer"]
    judge_reply = {"semantic_judgments": {"c3": True, "c4": False}, "reasoning": 20, "grounding": 10,
                   "answer_quality": 5, "hallucination_penalty": 0}
    with CannedServer([{"content": answer}, {"content": json.dumps(judge_reply)}]) as srv:
        rec = ors.run_benchmark(demo, ors.LLMAgent("m", base_url=srv.base_url), tmp_path / "run", instances=[wid],
                                judge=ors.LLMJudge("judge", base_url=srv.base_url, dataset_root=demo.root))[0]
    prompt = srv.requests[0]["messages"][0]["content"]
    assert demo[wid].question in prompt and "=== revised/solver_records/" in prompt
    judge_msg = srv.requests[1]["messages"][1]["content"]       # the judge sees checklist and solver evidence
    assert "instruction_for_judge" in judge_msg and "revised/solver_records/" in judge_msg
    assert "checklist" not in prompt.lower() and answer not in prompt
    n = rec["exact_total"] + 2
    assert rec["score"] == pytest.approx(35 * (rec["exact_total"] + 1) / n + 35)
    assert rec["answer"] == answer


def test_orspace_command_and_callable_agents(demo, tmp_path):
    code = _standalone(demo, WID)
    agent_py = tmp_path / "agent.py"
    agent_py.write_text(
        "import os, sys\n"
        f"code = {code!r}\n"
        "assert os.environ['JAXOR_ORSPACE_MODE'] == sys.argv[1] == 'build'\n"
        "open(os.environ['JAXOR_ORSPACE_PROGRAM_PATH'], 'w').write(code)\n")
    rec = ors.run_benchmark(demo, ors.CommandAgent(["python", str(agent_py), "{mode}"]), tmp_path / "cmd",
                            instances=[WID])[0]
    assert rec["outcome"] == "pass" and rec["agent_error"] is None
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(30)\n")
    rec = ors.run_benchmark(demo, ors.CommandAgent([sys.executable, str(slow)], timeout_s=1.0), tmp_path / "slow",
                            instances=[WID])[0]
    assert rec["agent_error"] == "agent timed out" and rec["outcome"] == "no_objective"

    def boom(task):
        raise RuntimeError("agent crashed")

    rec = ors.run_benchmark(demo, ors.CallableAgent(boom), tmp_path / "boom", instances=[WID])[0]
    assert "agent crashed" in rec["agent_error"] and not rec["passed"]
    # a program left in src/ is accepted too; a crashing program is a runtime error, an endless one a timeout
    src = ors.CallableAgent(lambda t: (t.workdir / "src" / "main.py").write_text(code) and None)
    crash = ors.CallableAgent(lambda t: "raise SystemExit(3)\n")
    hang = ors.CallableAgent(lambda t: "while True:\n    pass\n")
    cfg = ors.RunConfig(timeout_s=1.5)
    assert ors.run_benchmark(demo, src, tmp_path / "src", instances=[WID])[0]["program"] == "src/main.py"
    assert ors.run_benchmark(demo, crash, tmp_path / "crash", instances=[WID])[0]["outcome"] == "runtime_error"
    assert ors.run_benchmark(demo, hang, tmp_path / "hang", instances=[WID], config=cfg)[0]["outcome"] == "timeout"


def test_orspace_evaluator_and_reference_edits_detected(demo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(demo.root, root)
    ds = ors.Dataset(root)
    ref_csv = root / "evaluation" / "build_evaluation" / "reference_objectives.csv"
    agent_py = tmp_path / "evil.py"
    agent_py.write_text(  # a command-line agent that rewrites the reference row, then submits a constant
        "import sys\n"
        f"p = {str(ref_csv)!r}\n"
        "rows = open(p).read().splitlines()\n"
        "rows[1] = ','.join(rows[1].split(',')[:4] + ['1.0', '0.01'])\n"
        "open(p, 'w').write('\\n'.join(rows) + '\\n')\n"
        "open(sys.argv[1], 'w').write(\"print('FINAL_OBJ_VALUE: 1.0')\\n\")\n")
    rec = ors.run_benchmark(ds, ors.CommandAgent(["python", str(agent_py), "{program_path}"]), tmp_path / "r1",
                            instances=["or_space_001_build"])[0]
    assert rec["outcome"] == "integrity_violation"
    assert "changed evaluator files: evaluation/build_evaluation/reference_objectives.csv" in rec["tampering"]

    def edit_model(task):  # an Explain agent that rewrites the workspace's reference model to fit its answer
        p = task.workdir / "revised" / "src" / "optimization_model.py"
        p.write_text(p.read_text() + "\n# edited\n")
        return "The objective rises because of the new rule."

    rec = ors.run_benchmark(ds, ors.CallableAgent(edit_model), tmp_path / "r2", instances=["or_space_003_explain"])[0]
    assert rec["outcome"] == "integrity_violation" and rec["score"] == 0.0
    assert "revised/src/optimization_model.py" in rec["tampering"]


def test_orspace_public_api():
    for name in ors.__all__:
        assert getattr(ors, name) is not None, name


def test_orspace_cli_llm_agent(demo, tmp_path, capsys, monkeypatch):
    from jaxor.cli import main

    monkeypatch.setenv("MY_KEY", "sk-test")
    wid = "or_space_005_explain"
    answer = demo[wid].rubric["expected_short_answer"]
    with CannedServer([{"content": answer}]) as srv:
        rc = main(["--no-cache", "orspace", "run", "--agent", "llm", "--model", "m", "--base-url", srv.base_url,
                   "--api-key-env", "MY_KEY", "--ids", wid, "--out", str(tmp_path / "run")])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["outcomes"] == {"explain": {"scored": 1}} and out["explain_mean"] > 0
    assert srv.requests[0]["model"] == "m" and demo[wid].question in srv.requests[0]["messages"][0]["content"]


def test_orspace_revise_program_runs_from_revised_and_sees_original(demo, tmp_path):
    code = ("import os, sys\n"
            "sys.path.insert(0, os.path.join('..', 'original', 'src'))\n"
            "import utils\n"                               # the original helper module, reached from revised/
            "assert os.path.basename(os.getcwd()) != 'original' and os.path.isdir('data')\n"
            "assert os.path.exists(os.path.join('..', 'original', 'src', 'current_heuristic.py'))\n"
            "print('cwd ok', os.path.abspath(__file__).endswith('revised/_agent_solution.py'), utils.INF > 0)\n"
            "print('FINAL_OBJ_VALUE: 1')\n")
    rec = ors.run_benchmark(demo, ors.CallableAgent(lambda t: code), tmp_path / "r", instances=[RWID])[0]
    assert rec["outcome"] == "wrong_value", rec["error"]
    assert "cwd ok True True" in rec["stdout_tail"]
    assert not (tmp_path / "r" / "work" / RWID / "_jaxor_run.py").exists()
