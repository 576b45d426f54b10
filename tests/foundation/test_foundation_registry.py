import json

import pytest

from jaxor import _reproduce, registry


@pytest.fixture
def fake_registry(monkeypatch):
    saved = dict(registry._REGISTRY)
    registry._REGISTRY.clear()
    monkeypatch.setattr(registry, "discover", registry.registered)
    yield registry._REGISTRY
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def _register_pair(calls):
    @registry.register("toy_ok", quick_budget_s=5)
    def toy_ok(config, out_dir, progress):
        """A toy experiment that meets one claim and misses another."""
        calls.append(("toy_ok", config.quick, config.seed))
        (out_dir / "fig.png").write_bytes(b"\x89PNG")
        return registry.Result(metrics={"x": 1.5}, figures=["fig.png"], claims=[
            registry.Claim("x is positive", "> 0", 1.5, True),
            registry.Claim("x is huge", ">= 100", 1.5, False)])

    @registry.register("toy_crash", quick_budget_s=5)
    def toy_crash(config, out_dir, progress):
        calls.append(("toy_crash", config.quick, config.seed))
        raise RuntimeError("boom")


def test_empty_registry_exits_zero(fake_registry, tmp_path):
    lines = []
    assert _reproduce.reproduce(None, quick=True, seed=0, out_dir=tmp_path, resume=False, docs_dir=None,
                                echo=lines.append) == 0
    assert "No experiments" in lines[0]


def test_reproduce_writes_schema_and_reports_unmet_claims(fake_registry, tmp_path):
    calls = []
    _register_pair(calls)
    docs = tmp_path / "docs"
    rc = _reproduce.reproduce(["toy_ok"], quick=True, seed=3, out_dir=tmp_path / "out", resume=False,
                              docs_dir=docs, echo=lambda *_: None)
    assert rc == 0  # an unmet claim is reported, not a failure
    summary = json.loads((tmp_path / "out" / "results.json").read_text())
    rec = summary["experiments"][0]
    assert set(summary["environment"]) >= {"backend", "devices", "packages"}
    assert rec["metrics"] == {"x": 1.5} and rec["figures"] == ["fig.png"]
    assert [c["met"] for c in rec["claims"]] == [True, False]
    assert set(rec["claims"][0]) == {"claim", "target", "measured", "met"}
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**no**" in report and "toy_ok" in report
    assert (docs / "toy_ok.md").exists() and (docs / "toy_ok" / "fig.png").exists()


def test_crash_gives_nonzero_exit_and_resume_skips_finished(fake_registry, tmp_path):
    calls = []
    _register_pair(calls)
    kw = dict(quick=True, seed=0, out_dir=tmp_path, docs_dir=None, echo=lambda *_: None)
    assert _reproduce.reproduce(None, resume=False, **kw) == 1
    rec = json.loads((tmp_path / "toy_crash" / "results.json").read_text())
    assert rec["status"] == "crashed" and "boom" in rec["error"]
    calls.clear()
    assert _reproduce.reproduce(None, resume=True, **kw) == 1
    assert calls == [("toy_crash", True, 0)]  # toy_ok was finished and skipped
    calls.clear()
    _reproduce.reproduce(None, resume=True, **{**kw, "seed": 1})
    assert ("toy_ok", True, 1) in calls  # another seed is not "finished"


def test_register_validates():
    with pytest.raises(ValueError, match="quick_budget_s"):
        registry.register("x", quick_budget_s=0)
    with pytest.raises(ValueError, match="name="):
        registry.register("bad name!", quick_budget_s=1)


def test_registered_experiments_have_budgets():
    for exp in registry.discover().values():
        assert exp.quick_budget_s > 0 and exp.description
