"""`jaxor orspace ...` end to end: progress on runs, a killed run resumes without redoing work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jaxor.orspace as ors
from jaxor.cli import main


def _jaxor(*args, **kw):
    env = {**os.environ, "JAXOR_PROGRESS": "1"}
    return subprocess.Popen([sys.executable, "-m", "jaxor.cli", "--no-cache", "orspace", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def test_orspace_cli_killed_run_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JAXOR_PROGRESS", "1")  # the test checks the progress display (CI silences it)
    out = tmp_path / "run"
    records = out / "records.jsonl"
    proc = _jaxor("run", "--agent", "reference", "--mode", "build", "--out", str(out), "--workers", "2")
    deadline = time.time() + 50
    while time.time() < deadline:
        if records.exists() and len(records.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = ors.load_records(out)
    assert 2 <= len(before) < 5, len(before)
    with records.open("a") as f:                 # as if killed in the middle of writing a line
        f.write('{"workspace_id": "or_space_00')
    assert main(["--no-cache", "orspace", "run", "--agent", "reference", "--mode", "build",
                 "--out", str(out), "--workers", "2"]) == 0
    cap = capsys.readouterr()
    stdout, stderr = cap.out, cap.err
    after = ors.load_records(out)
    ids = [r["workspace_id"] for r in after]
    assert len(ids) == len(set(ids)) == 5
    first = {r["workspace_id"]: r["started_at"] for r in before}
    assert all(r["started_at"] == first[r["workspace_id"]] for r in after if r["workspace_id"] in first)
    assert f"resuming: {len(before)} of 5" in stderr and "%|" in stderr
    assert all(r["outcome"] == "pass" for r in after)
    assert json.loads(stdout)["pass_at_1"] == {"build": 100.0}
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(p["workspace_id"] for p in preds) == sorted(ids)
    assert (out / "summary.md").exists() and (out / "pass_by_group.png").exists()


def test_orspace_cli_list_stage_score_validate_new(tmp_path, capsys):
    assert main(["--no-cache", "orspace", "list", "--mode", "revise", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5 and all(r["revise_type"] for r in rows)
    assert main(["--no-cache", "orspace", "stage", "or_space_001_explain", "--out", str(tmp_path / "st")]) == 0
    assert (tmp_path / "st" / "or_space_001_explain" / "original" / "src" / "optimization_model.py").exists()
    assert (tmp_path / "st" / "or_space_001_explain.manifest.json").exists()
    capsys.readouterr()
    preds = tmp_path / "p.jsonl"
    demo = ors.Dataset(ors.demo_root())
    rows = [{"workspace_id": i.workspace_id, "status": "Optimal", "objective": i.reference_objective * 1.005}
            for i in demo.filter(mode="build")]
    rows[0]["objective"] *= 1.02
    rows[1]["status"] = "Infeasible"
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["--no-cache", "orspace", "score", "--predictions", str(preds), "--allow-missing"]) == 0
    assert json.loads(capsys.readouterr().out) == {"build": 60.0}
    assert main(["--no-cache", "orspace", "score", "--predictions", str(preds)]) == 0
    assert json.loads(capsys.readouterr().out) == {"build": 60.0, "revise": 0.0}   # missing rows fail
    preds.write_text(preds.read_text() + json.dumps(rows[0]) + "\n")
    try:
        main(["--no-cache", "orspace", "score", "--predictions", str(preds)])
        raise AssertionError("duplicate ids must be rejected")
    except ValueError as e:
        assert "twice" in str(e)
    assert main(["--no-cache", "orspace", "validate", "--no-run"]) == 0
    assert "0 problems" in capsys.readouterr().out
    assert main(["--no-cache", "orspace", "new", "--out", str(tmp_path / "new"), "--domains", "transportation",
                 "--seed", "5", "--no-validate"]) == 0
    assert len(ors.Dataset(tmp_path / "new")) == 3
