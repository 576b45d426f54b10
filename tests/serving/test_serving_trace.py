"""Trace loading, validation (errors name the field), generators and interval predictions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxor.serving as sv
from jaxor.serving.naive import simulate_reference


def test_azure_traces_load(data):
    conv = sv.load_azure(data("serving/AzureLLMInferenceTrace_conv.csv"))
    code = sv.load_azure("azure-code")
    assert conv.n == 19366 and code.n == 8819
    assert np.all(np.diff(conv.arrival) >= 0) and conv.arrival[0] == 0
    assert conv.output.max() == 1000 and conv.prompt.max() == 14050
    # ~58 minutes of trace at 20 ms rounds
    assert 57 * 60 / 0.02 < conv.arrival[-1] < 59 * 60 / 0.02
    w = sv.random_window(conv, 3, 1000)
    assert w.n == 1000 and w.arrival[0] == 0
    assert np.array_equal(w.output, sv.random_window(conv, 3, 1000).output)


def test_vidur_arxiv_lengths(data):
    tr = sv.load_vidur(data("serving/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv"))
    assert tr.n == 28257 and np.all(tr.arrival == 0)


def test_vidur_schema_with_arrivals(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,10,3\n0.05,7,2\n0.01,4,1\n")
    tr = sv.load_vidur(p, round_s=0.01)
    assert tr.arrival.tolist() == [0, 1, 5] and tr.prompt.tolist() == [10, 4, 7]


@pytest.mark.parametrize("field,kwargs,match", [
    ("prompt", dict(prompt=[1, -2, 3]), "prompt"),
    ("output", dict(output=[1, 0, 3]), "output"),
    ("arrival", dict(arrival=[0, 5, 2]), "arrival"),
    ("arrival", dict(arrival=[0, np.nan, 2]), "arrival"),
    ("prompt", dict(prompt=[1.0, np.nan, 2.0]), "prompt"),
    ("lower", dict(lower=[1, 5, 1]), "lower"),
    ("upper", dict(upper=[1, 1, 1]), "upper"),
])
def test_bad_input_names_the_field(field, kwargs, match):
    base = dict(arrival=[0, 1, 2], prompt=[1, 2, 3], output=[1, 2, 3])
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sv.from_arrays(**base)


def test_prompt_larger_than_memory_raises_and_never_fit_is_reported():
    tr = sv.from_arrays([0, 0, 0], [5, 50, 10], [3, 3, 60])
    with pytest.raises(ValueError, match="prompt"):
        sv.validate(tr, 40)
    tr2 = sv.from_arrays([0, 0, 0], [5, 30, 10], [3, 3, 60])
    assert sv.never_fit(tr2, 40).tolist() == [2]
    for p in (sv.fcfs(), sv.hindsight_sf(), sv.a_min()):
        r = simulate_reference(tr2, p, memory=40)
        assert r["rejected"].tolist() == [False, False, True] and r["completion"][2] == -1
        assert (r["completion"][:2] > 0).all()


@given(alpha=st.floats(0.05, 1.0), seed=st.integers(0, 10_000))
def test_intervals_contain_truth_with_quality_alpha(alpha, seed):
    tr = sv.synthetic(seed, 200, output=(20, 500))
    p = sv.with_intervals(tr, seed, alpha)
    assert np.all(p.lower <= p.output) and np.all(p.output <= p.upper) and np.all(p.lower >= 1)
    q = p.lower / p.upper
    assert np.all(q <= alpha + 1e-9) and np.median(q) > alpha * 0.9 - 0.01
    assert np.all((p.pred >= p.lower) & (p.pred <= p.upper))


def test_synthetic_is_seeded_and_accepts_jax_keys(getkey):
    import jax

    k = getkey()
    a = sv.synthetic(k, 50, rate=0.3)
    b = sv.synthetic(k, 50, rate=0.3)
    c = sv.synthetic(jax.random.fold_in(k, 1), 50, rate=0.3)
    assert np.array_equal(a.output, b.output) and not np.array_equal(a.output, c.output)
    with pytest.raises(ValueError, match="alpha"):
        sv.with_intervals(a, 0, 0.0)
