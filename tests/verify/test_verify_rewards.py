"""SIRL rewards against hand-computed values; tolerance policies at their edges; parsing; voting."""

from __future__ import annotations

import math

import pytest

from jaxor.sandbox import SandboxResult
from jaxor.verify import (
    POLICIES,
    Candidate,
    ModelFeatures,
    ProgramCheck,
    extract_code,
    format_score,
    get_policy,
    iesc_vote,
    majority_vote,
    parse_final_objective,
    parse_number,
    parse_reference,
    sirl_reward,
    solution_hit_rate,
)

GOOD = "<think>t</think><model>m</model><python>print(1)</python>"


def ran(objective=None, *, printed="x", ok=True, hardcoded=None, solution=None):
    """A ProgramCheck as the sandbox would return it (rewards are pure given the check)."""
    sb = SandboxResult(status="ok" if ok else "error", returncode=0 if ok else 1)
    status = ("ok" if objective is not None else "no_objective") if ok else "error"
    return ProgramCheck(status=status, objective=objective, printed=printed, sandbox=sb, hardcoded=hardcoded,
                        solution=solution)


# (id, completion, reference, check, stage, ref_solution, expected acc, format, exec, hit, reward)
# Every number below is computed by hand from the SIRL rules in the notes.
T = 1 / 3
ROWS = [
    ("perfect", GOOD, "100", ran(100.0), 1, None, 1, 2, 1, 0, 1 + 1 + 1),
    ("within_1e-6", GOOD, 100, ran(100.0000001), 1, None, 1, 2, 1, 0, 3),            # 1e-7/101
    ("just_outside", GOOD, 100, ran(100.0002), 1, None, 0, 2, 1, 0, 2),              # 2e-4/101 = 1.98e-6
    ("gt_zero_close", GOOD, 0, ran(5e-7), 1, None, 1, 2, 1, 0, 3),                   # 5e-7/1 < 1e-6
    ("gt_zero_strict", GOOD, 0, ran(1e-6), 1, None, 0, 2, 1, 0, 2),                  # 1e-6 < 1e-6 is false
    ("sci_notation_gt", GOOD, "1e+06", ran(1000000.5), 1, None, 1, 2, 1, 0, 3),      # 0.5/1000001
    ("negative", GOOD, "-42.5", ran(-42.5), 1, None, 1, 2, 1, 0, 3),
    ("infeasible_ok", GOOD, "No Best Solution", ran(None), 1, None, 1, 2, 1, 0, 3),
    ("infeasible_9999", GOOD, "-9999", ran(None), 1, None, 1, 2, 1, 0, 3),
    ("infeasible_but_number", GOOD, "No Best Solution", ran(5.0), 1, None, 0, 2, 1, 0, 2),
    ("infeasible_crash", GOOD, "No Best Solution", ran(None, ok=False), 1, None, 0, 2, 0, 0, 1),
    ("crash", GOOD, 7, ran(None, ok=False), 1, None, 0, 2, 0, 0, 1),
    ("no_objective_printed", GOOD, 7, ran(None), 1, None, 0, 2, 1, 0, 2),
    ("hardcoded", GOOD, 7, ran(7.0, hardcoded=True), 1, None, 0, 2, 1, 0, 2),
    ("bad_reference", GOOD, "about ten", ran(10.0), 1, None, 0, 2, 1, 0, 2),
    ("no_code", "<think>t</think><model>m</model>", 7, None, 1, None, 0, 2 - 0.5 - 2 * T, 0, 0, 0.5 * (2 - 0.5 - 2 * T)),
    ("no_think", "<model>m</model><python>p</python>", 7, ran(7.0), 1, None, 1, 1.75, 1, 0, 1 + 0.875 + 1),
    ("empty_text", "", 7, None, 1, None, 0, 2 - 1 - T, 0, 0, 0.5 * (1 - T)),
    ("double_think", "<think>a</think><think>b</think><model>m</model><python>p</python>", 7, ran(7.0), 1, None,
     1, 1.75, 1, 0, 2.875),
    ("python_first", "<think>a</think><python>p</python><model>m</model>", 7, ran(7.0), 1, None,
     1, 2 - T, 1, 0, 1 + 0.5 * (2 - T) + 1),
    ("think_closes_late", "<think>a<model>m</model></think><python>p</python>", 7, ran(7.0), 1, None,
     1, 2 - T, 1, 0, 2 + 0.5 * (2 - T)),
    ("close_before_open", "</think>a<think><model>m</model><python>p</python>", 7, ran(7.0), 1, None,
     1, 2 - T, 1, 0, 2 + 0.5 * (2 - T)),
    ("model_with_attrs", "<think>t</think><model type='milp'>m</model><python>p</python>", 7, ran(7.0), 1, None,
     1, 2, 1, 0, 3),
    ("stage2_full_hit", GOOD, 10, ran(10.0, solution=[3, 1, 2.0004]), 2, [1, 2, 3], 1, 2, 1, 1, 1 + 1 + 1),
    ("stage2_partial", GOOD, 10, ran(10.0, solution=[1, 1, 3]), 2, [1, 2, 3], 1, 2, 1, 2 / 3, 2 + 2 / 3),
    ("stage2_wrong", GOOD, 10, ran(11.0, solution=[1, 2, 3]), 2, [1, 2, 3], 0, 2, 1, 1, 1),
    ("stage2_no_solution", GOOD, 10, ran(10.0), 2, [1, 2, 3], 1, 2, 1, 0, 2),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_verify_sirl_reward_table(row):
    _, comp, ref, check, stage, sol, acc, fmt, ex, hit, rew = row
    b = sirl_reward(comp, ref, check, stage=stage, ref_solution=sol)
    assert (b.acc, b.exec) == (acc, ex)
    assert b.format == pytest.approx(fmt, abs=1e-12)
    assert b.hit_rate == pytest.approx(hit, abs=1e-12)
    assert b.reward == pytest.approx(rew, abs=1e-12)
    assert 0.0 <= b.format <= 2.0


def test_verify_reward_table_size_and_statuses():
    assert len(ROWS) >= 20
    b = sirl_reward(GOOD, "about ten", ran(10.0))
    assert b.status == "invalid_reference" and "about ten" in b.message
    assert sirl_reward("x", 1, None).status == "no_code"
    with pytest.raises(ValueError, match="stage"):
        sirl_reward(GOOD, 1, None, stage=3)


@pytest.mark.parametrize("name,pred,ref,want", [
    ("orspace", 101.0, 100.0, True), ("orspace", 101.01, 100.0, False),     # 1% of max(1, |ref|), inclusive
    ("orspace", 0.01, 0.0, True), ("orspace", 0.0101, 0.0, False),
    ("orlm", 104.6, 100.0, True), ("orlm", 105.6, 100.0, False),             # 105 then 106 after rounding
    ("orlm", 0.4, 0.0, True), ("orlm", 0.6, 0.0, False),                     # gt == 0: |round(pred)| <= 0.05
    ("optmath", 95.0, 100.0, True), ("optmath", 94.4, 100.0, False),
    ("optibench", 3.00009, 3.0, True), ("optibench", 3.0001, 3.0, False),    # strict 1e-4
    ("sirl", 1.0, 1.0 + 2e-6, True), ("sirl", 1.0, 1.0 + 2.1e-6, False),     # 2e-6/2.000002 < 1e-6
    ("orspace", None, "No Best Solution", True), ("orspace", 3.0, "infeasible", False),
    ("sirl", None, 5.0, False), ("sirl", "nan", "-9999", True), ("orspace", True, 1.0, False),
    ("orspace@0.05", 104.0, 100.0, True), ("orspace", 5.0, "n/a text", False),
])
def test_verify_tolerance_policies(name, pred, ref, want):
    assert get_policy(name).matches(pred, ref) is want


def test_verify_policy_registry_and_parsing():
    assert set(POLICIES) == {"sirl", "orspace", "orlm", "optmath", "optibench"}
    with pytest.raises(ValueError, match="unknown tolerance policy"):
        get_policy("nope")
    assert parse_number("1e+06") == 1e6 and parse_number("-2.5E-3") == -2.5e-3
    assert parse_number("1,234.5") == 1234.5 and parse_number("np.float64(3.0)") == 3.0
    assert parse_number("3.0 (optimal)") == 3.0 and parse_number(7) == 7.0
    for bad in ("None", "nan", "inf", "-inf", "", "abc", None, True, float("nan"), "Infeasible"):
        assert parse_number(bad) is None, bad
    r = parse_reference(" 1.5e3")
    assert (r.value, r.infeasible, r.valid) == (1500.0, False, True)
    assert parse_reference("No Best Solution").infeasible and parse_reference(-9999).infeasible
    assert not parse_reference("hello").valid
    out = "x\nFINAL_OBJ_VALUE: 3\nmore\nFINAL_OBJ_VALUE: 1e+06\n"
    assert parse_final_objective(out) == (True, 1e6, "1e+06")
    assert parse_final_objective("FINAL_OBJ_VALUE: None") == (True, None, "None")
    assert parse_final_objective("FINAL_OBJ_VALUE = inf")[1] is None
    assert parse_final_objective("obj 3") == (False, None, None)
    assert parse_final_objective("  FINAL_OBJ_VALUE:-7.25e-1  ")[1] == -0.725


def test_verify_extract_code_and_hit_rate():
    assert extract_code("<python>\n```python\nprint(1)\n```\n</python>").strip() == "print(1)"
    assert extract_code("text ```python\nprint(2)\n``` more").strip() == "print(2)"
    assert extract_code("<python>   </python>") is None and extract_code("none") is None
    assert format_score(GOOD) == 2.0
    assert solution_hit_rate([1.0004, 2, 2], [1, 2, 3]) == pytest.approx(2 / 3)
    assert solution_hit_rate(None, [1]) == 0.0 and solution_hit_rate([1], []) == 0.0
    assert solution_hit_rate([-0.0001], [0.0]) == 1.0  # -0.0 and 0.0 count as the same value


def F(sense="max", n_int=0, n_bin=0, n_vars=4, n_cons=3):
    return ModelFeatures(sense=sense, n_vars=n_vars, n_cons=n_cons, nnz=8, n_int=n_int, n_bin=n_bin,
                         n_cont=n_vars - n_int, n_semi=0, offset=0.0, quadratic=False)


def test_verify_iesc_vote_beats_majority_on_odd_models():
    # Three samples say 12, each from a model that breaks the consensus structure; two say 10 from
    # the consensus model (max, 2 integers of which 1 binary, 4 vars, 3 rows).
    good = F(n_int=2, n_bin=1)
    cands = [Candidate(12.0, F(sense="min", n_int=0, n_bin=0)), Candidate(10.0, good),
             Candidate(12.0, F(sense="min", n_int=2, n_bin=1, n_vars=9, n_cons=9)), Candidate(10.0, good),
             Candidate(12.0, F(n_int=2, n_bin=0, n_vars=9, n_cons=9)), Candidate(99.0, None, valid=False)]
    maj = majority_vote(cands)
    assert maj.answer == 12.0 and maj.scores[0][1:] == (3.0, 3)
    v = iesc_vote(cands, alpha=0.25)
    assert v.consensus == {"sense": "max", "n_int": 2, "n_bin": 1, "n_vars": 4, "n_cons": 3}
    # by hand (beta total 4): c0 agrees on sizes only -> 1/4; good -> 4/4; c2 on n_int, n_bin -> 2/4;
    # c4 on sense, n_int -> 2/4; the failed program does not vote
    assert v.weights == pytest.approx([0.5, 1.25, 0.75, 1.25, 0.75, 0.0])
    assert v.answer == 10.0 and v.scores[0][1] == pytest.approx(2.5) and v.scores[1][1] == pytest.approx(2.0)
    # a large base weight turns IESC back into a majority vote: 12 -> 3 + 1.25 > 10 -> 2 + 2
    assert iesc_vote(cands, alpha=1.0).answer == 12.0
    assert majority_vote([None, None, 3.0]).answer is None and majority_vote([]).has_answer is False
    assert majority_vote([1.0, 1.0 + 1e-9, 2.0]).scores[0][2] == 2
    with pytest.raises(ValueError):
        iesc_vote(cands, alpha=-1)
    assert math.isclose(sum(iesc_vote([Candidate(1.0, {"sense": "max"})]).weights), 2.0)
