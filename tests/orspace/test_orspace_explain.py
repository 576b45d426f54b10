"""Explain scoring: normalisation rules, and hand-scored answers on the sample rubrics reproduced
through the judge on a local OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from orspace_helpers import CannedServer

import jaxor.orspace as ors


@pytest.mark.parametrize("entity,answer,hit", [
    ("I", "columns I and II", True),
    ("I", "only column II", False),                       # identifier boundary
    ("II", "column II", True),
    ("cost", "total_cost", False),
    ("BIG_M", "big_m = 19000", True),                     # case-folding
    ("P_reg[t]", "P_reg(t)", True),                       # bracket equivalence
    ("x_peak[(p,t)]", "x_peak[( p , t )]", True),
    ("x_peak[(p,t)]", "x_peak[p,t]", False),
    ("max_prep_time_weekday=45", "max_prep_time_weekday = 45 minutes", True),
    ("slack -17.0", "slack \u221217.0", True),                # minus sign
    ("Demand_Forecast", "Demand\u2011Forecast", False),       # a dash is not an underscore
    ("19000", "BIG_M is 19,000", True),                   # thousands separator + numeric
    ("1.0", "equals 1 here", True),
    ("1.0", "TrainCapacity_Y1", False),                   # digits inside identifiers are not numbers
    ("5.0", "slack 15.0", False),
    ("0.333333", "about 0.3333333", True),                # 1e-6 relative
    ("0.3333", "about 0.3334", False),
    ("\u201cgate\u201d", 'the "gate" rule', True),             # curly quotes
])
def test_orspace_entity_hit_rules(entity, answer, hit):
    assert ors.entity_hit(entity, answer) is hit


def test_orspace_normalize_text():
    assert ors.normalize_text("A\u00a0\u00a0`x`\u2192B 1,234") == "a x->b 1234"
    assert ors.normalize_text("\uff21\uff22") == "ab"  # NFKC full-width


# Hand-scored answers: exact decisions were worked out by hand from the normalisation rules; the
# judge's semantic hits and dimension scores are the canned judge reply.
HAND = {
    "or_space_001_explain": dict(
        answer=("In week 2 the revised model adds `produce_I_flag[2]` and the big\u2011M rows mut_excl_I_2 / "
                "mut_excl_II_2 with BIG_M = 19,000. table_1.csv gives column II = 7,200 for Food II; "
                "general_parameters.csv lists food_I_production_rate = 10, skilled_worker_count = 50 and "
                "worker_weekly_hours = 40."),
        exact={"c1": [1, 1, 1, 1], "c2": [0, 1, 1, 0, 1, 1, 0, 0]},
        judge={"semantic_judgments": {"c3": True, "c4": False}, "reasoning": 20, "grounding": 15,
               "answer_quality": 7, "hallucination_penalty": 4},
        final=35 * 9 / 14 + 20 + 15 + 7 - 4),
    "or_space_002_explain": dict(
        answer=("TrainCapacity_Y1 and TrainCapacity_Y2 are binding; TrainIntensity_Y1 has slack 15.0 while "
                "MinCombat_Y2 shows slack \u221217.0 (a surplus). The efficiency parameter is 0.8 and the year-2 "
                "fleet is 25."),
        exact={"c1": [1, 1, 1, 0, 0, 0, 0], "c2": [0, 1, 1, 1]},
        judge={"semantic_judgments": {"c3": False, "c4": False}, "reasoning": 10, "grounding": 8,
               "answer_quality": 5, "hallucination_penalty": 12},
        final=35 * 6 / 13 + 10 + 8 + 5 - 12),
    "or_space_003_explain": dict(
        answer=("The revised plan uses P_reg(t) and P_ot[ t ] per month, with the binary z_t and C[t] for "
                "contracted units; contract_min_units and contract_bigM come from the Value column "
                "(Parameter_Name rows); table_1.csv has Month and Demand\u2011Forecast."),
        exact={"c1": [1, 1, 1, 0, 1, 1], "c2": [0, 1, 1, 1]},
        judge={"semantic_judgments": {"c3": True, "c4": True}, "reasoning": 30, "grounding": 18,
               "answer_quality": 9, "hallucination_penalty": 0},
        final=35 * 10 / 12 + 30 + 18 + 9),
    "or_space_005_explain": dict(
        answer=("d_okra stays at 0 so veg_balance_penalty (0.5) is not paid. total_intake_weekday and "
                "total_intake_weekend fix 5 units each; weekday_budget binds (10.8) but weekend_budget is slack. "
                "one_protein_activation forces one protein, and backlink_z_pork ties it to a meal. Prices come "
                "from Price_per_100g, fiber from Fiber_Content_per_100g; max_prep_time_weekday = 45 and "
                "max_prep_time_weekend = 55."),
        exact={"c1": [1, 1, 1, 1, 1, 1, 1, 0], "c2": [1, 1, 0, 1, 0]},
        judge={"semantic_judgments": {"c3": True, "c4": False}, "reasoning": 25, "grounding": 15,
               "answer_quality": 8, "hallucination_penalty": 2},
        final=35 * 11 / 15 + 25 + 15 + 8 - 2),
    # a wrong, hallucinating answer: clipped at 0; judge values out of range are clipped too
    "or_space_006_explain": dict(
        answer="The model has no constraints worth naming; costs fall because demand drops.",
        exact={"c1": [0, 0, 0], "c2": [0, 0, 0]},
        judge={"semantic_judgments": {"c3": False, "c4": False}, "reasoning": -5, "grounding": 0,
               "answer_quality": 1, "hallucination_penalty": 60},
        final=0.0),
}


@pytest.fixture(scope="module")
def sample():
    from jaxor.data import DataNotFound, locate

    try:
        return ors.Dataset(locate("orspace-sample"))
    except DataNotFound as e:
        pytest.skip(str(e))


def test_orspace_explain_reproduces_hand_scores(sample):
    wids = list(HAND)
    replies = [{"content": "```json\n" + json.dumps(HAND[w]["judge"]) + "\n```"} for w in wids]
    with CannedServer(replies) as srv:
        judge = ors.LLMJudge("judge-model", base_url=srv.base_url, dataset_root=sample.root)
        for w in wids:
            rubric = sample[w].rubric
            s = ors.score_explain(rubric, HAND[w]["answer"], judge)
            got = {}
            for k, v in s.decisions.items():
                if ".e" in k:
                    got.setdefault(k.split(".")[0], []).append(int(v))
            assert got == HAND[w]["exact"], w
            assert s.final == pytest.approx(HAND[w]["final"], abs=1e-9), w
            assert 0.0 <= s.final <= 100.0 and s.error is None
        # the judge saw the checklist and exact results, and the dataset's judge prompt
        first = srv.requests[0]["messages"]
        assert "strict rubric judge" in first[0]["content"] and "c3" in first[1]["content"]
        assert srv.requests[0]["temperature"] == 0.0


def test_orspace_explain_judge_errors_and_missing_items(sample):
    rubric = sample["or_space_004_explain"].rubric
    # first reply malformed, second lacks c4, third is fine: the judge retries (3 attempts)
    replies = [{"content": "no json here"}, {"content": json.dumps({"semantic_judgments": {"c3": True}})},
               {"content": json.dumps({"semantic_judgments": {"c3": True, "c4": True}, "reasoning": 35,
                                       "grounding": 20, "answer_quality": 10, "hallucination_penalty": 0})}]
    answer = ("z_expand gates cows_premium, sheep_premium and chickens_premium; premium_capacity_multiplier, "
              "premium_manure_multiplier, expansion_land_increase and expansion_cost set the expanded setup.")
    with CannedServer(replies) as srv:
        s = ors.score_explain(rubric, answer, ors.LLMJudge("j", base_url=srv.base_url))
    assert s.exact_hits == s.exact_total == 8 and s.final == pytest.approx(100.0)
    with CannedServer([{"status": 500}] * 3) as srv:
        with pytest.raises(RuntimeError, match="judge failed"):
            ors.score_explain(rubric, answer, ors.LLMJudge("j", base_url=srv.base_url))
    # no judge at all: semantic items are misses and the record says so
    s = ors.score_explain(rubric, answer, None)
    assert s.semantic_hits == 0 and s.final == pytest.approx(35 * 8 / 10) and "no judge" in s.error


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ident = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True)


@given(name=_ident, pre=st.sampled_from(["", "the ", "(", "`"]), post=st.sampled_from(["", " is", ")", "`", "."]))
def test_orspace_identifier_found_at_boundaries_only(name, pre, post):
    assert ors.entity_hit(name, f"{pre}{name}{post}")
    assert not ors.entity_hit(name, f"{pre}{name}_x{post}") and not ors.entity_hit(name, f"x{name}{post}")


@given(v=st.floats(-1e9, 1e9, allow_nan=False).filter(lambda x: abs(x) > 1e-3),
       rel=st.floats(-5e-7, 5e-7))
def test_orspace_numbers_match_within_1e6(v, rel):
    target = f"{v:.10g}"
    assert ors.entity_hit(target, f"value {v * (1 + rel):.12g} here")
    assert not ors.entity_hit(target, f"value {v * (1 + 1e-4):.12g} here")


DEMO_HAND = {
    "or_space_002_explain": dict(
        answer=("The revision adds the binary use_P1 (and use_P2) linked by use_link_P1 / use_link_P2 and the row "
                "mutual\u2011exclusion, so only one of the plants named by exclusive_plant_a and `exclusive_plant_b` "
                "can ship. Cost rises from 1,766 to 2,432."),
        exact={"c1": [0, 1, 1], "c2": [1, 1]},
        judgment=ors.Judgment({"c3": True, "c4": False}, 22, 14, 7, 3),
        final=35 * 5 / 7 + 22 + 14 + 7 - 3),
    "or_space_005_explain": dict(
        answer=("The surge case adds flows such as X_SURGE_S1_K1 and rows serve_surge_K2 (dual 8.35) and "
                "capacity_surge_S4; the surge weight is surge_probability = 0.3 applied to Surge Demand."),
        exact={"c1": [1, 1, 1], "c2": [1, 0]},
        judgment=ors.Judgment({"c3": False, "c4": True}, 18, 12, 6, 0),
        final=35 * 5 / 7 + 18 + 12 + 6),
}


def test_orspace_explain_hand_scores_on_demo():
    demo = ors.Dataset(ors.demo_root())
    for wid, h in DEMO_HAND.items():
        s = ors.score_explain(demo[wid].rubric, h["answer"], h["judgment"])
        got = {}
        for k, v in s.decisions.items():
            if ".e" in k:
                got.setdefault(k.split(".")[0], []).append(int(v))
        assert got == h["exact"], wid
        assert s.final == pytest.approx(h["final"], abs=1e-9)
