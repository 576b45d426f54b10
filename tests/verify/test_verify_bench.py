"""Benchmark loaders for the en_question/en_answer family and objective-only evaluation."""

from __future__ import annotations

import json

import pytest

from jaxor.verify import evaluate, load_benchmark

# One row in the shape of each public file (field names as released; the values are made up).
FAMILY = {
    "NL4OPT.jsonl": [{"en_question": "A farmer ...", "en_answer": "140"},
                     {"en_question": "A shop ...", "en_answer": "No Best Solution"}],
    "MAMO_EasyLP_fixed.jsonl": [{"en_question": "q", "en_answer": "3.5", "is_checked": True,
                                 "original_answer": "3.4"}],
    "MAMO_ComplexLP.json": [{"en_question": "q", "en_answer": " 1234.0"}],  # JSONL inside a .json, leading space
    "IndustryOR_fixedV2.json": [{"en_question": "q", "en_answer": "-9999", "id": 7, "difficulty": "Hard"},
                                {"en_question": "q", "en_answer": 2.5e6, "id": 8, "difficulty": "Easy"}],
    "OptMATH_Bench_166.jsonl": [{"en_question": "q", "en_answer": 12.75}],
    "OptiBench.json": [{"question": "q", "index": 3, "type": "linear-notable",
                        "results": {"The optimal value": "42.0", "x": "1"}}],
    "llm4or.jsonl": [{"id": "m1", "Question": "q", "Answer": "8"}],
}


def test_verify_load_benchmark_family(tmp_path):
    refs = {}
    for name, rows in FAMILY.items():
        p = tmp_path / name
        if name == "OptiBench.json":
            p.write_text(json.dumps(rows))  # a JSON array
        else:
            p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        items = load_benchmark(p)
        assert len(items) == len(rows)
        refs[name] = [(it.id, it.reference.value, it.reference.infeasible) for it in items]
    assert refs["NL4OPT.jsonl"] == [("0", 140.0, False), ("1", None, True)]
    assert refs["MAMO_ComplexLP.json"] == [("0", 1234.0, False)]
    assert refs["IndustryOR_fixedV2.json"] == [("7", None, True), ("8", 2.5e6, False)]
    assert refs["OptMATH_Bench_166.jsonl"] == [("0", 12.75, False)]
    assert refs["OptiBench.json"] == [("3", 42.0, False)]
    assert refs["llm4or.jsonl"] == [("m1", 8.0, False)]
    assert load_benchmark(tmp_path / "NL4OPT.jsonl")[0].question == "A farmer ..."


def test_verify_load_benchmark_bad_input(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_benchmark(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"en_question": "q", "en_answer": 1}\n{oops\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_benchmark(bad)
    noans = tmp_path / "noans.jsonl"
    noans.write_text('{"en_question": "q"}\n')
    with pytest.raises(ValueError, match="row 0"):
        load_benchmark(noans)


def test_verify_evaluate_objective_rows_in_order(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"en_question": "q", "en_answer": a}) for a in ["10", "20", "abc", "-9999"]))
    # no ids: predictions pair with items by order; a status other than ok/optimal means "did not run"
    preds = [{"objective": 10.05}, {"objective": "2e1", "status": "Optimal"}, {"objective": 5},
             {"objective": None, "status": "RuntimeError"}]
    rep = evaluate(data, preds, policies=["orspace", "sirl", "orspace@0.001"])
    assert [it["status"] for it in rep.items] == ["ok", "optimal", "invalid_reference", "runtimeerror"]
    assert rep.accuracy == pytest.approx({"orspace": 2 / 4, "sirl": 1 / 4, "orspace@0.001": 1 / 4})
    assert rep.execution_rate == pytest.approx(3 / 4)
    assert "| orspace | 0.500 |" in rep.format()


def test_verify_public_api_and_empty_prediction(tmp_path):
    import jaxor.sandbox
    import jaxor.verify

    for mod in (jaxor.sandbox, jaxor.verify):
        assert sorted(mod.__all__) == sorted(set(mod.__all__))
        for name in mod.__all__:
            assert getattr(mod, name) is not None, name
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"en_question": "q", "en_answer": "1"}))
    rep = evaluate(data, [{"id": "0", "note": "model gave up"}])
    assert rep.items[0]["status"] == "empty_prediction" and rep.execution_rate == 0.0
