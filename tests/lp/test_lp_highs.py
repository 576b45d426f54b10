"""The HiGHS bridge: statuses (incl. presolve's infeasible-or-unbounded), MIP, file round trips,
structure features, the objective only when optimal, and no banner on stdout."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from jaxor.lp import highs


def test_lp_matches_scipy_linprog():
    rng = np.random.default_rng(0)
    A = rng.uniform(0, 1, (5, 7))
    b = A.sum(1) * 0.3
    c = -rng.uniform(0, 1, 7)
    ref = scipy.optimize.linprog(c, A_ub=A, b_ub=b, bounds=(0, 1))
    got = highs.solve_linprog(c, A_ub=A, b_ub=b, bounds=(0, 1))
    assert got.status == "optimal"
    assert abs(got.objective - ref.fun) <= 1e-9 * max(1, abs(ref.fun))
    np.testing.assert_allclose(got.y, ref.ineqlin.marginals, atol=1e-9)  # SciPy uses HiGHS's sign too


def test_statuses_and_objective_only_when_optimal():
    inf = highs.solve([1.0, 1.0], [[1.0, 1.0], [1.0, 1.0]], [2.0, -np.inf], [np.inf, 1.0])
    assert inf.status == "infeasible" and inf.objective is None
    # min -x s.t. x - y <= 1, x, y >= 0: unbounded; presolve may only say "infeasible or unbounded".
    amb = highs.solve([-1.0, 0.0], [[1.0, -1.0]], None, [1.0])
    assert amb.status in ("unbounded", "infeasible_or_unbounded") and amb.objective is None
    res = highs.solve([-1.0, 0.0], [[1.0, -1.0]], None, [1.0], resolve_ambiguous=True)
    assert res.status == "unbounded" and res.objective is None
    lim = highs.solve(-np.ones(30), np.random.default_rng(1).uniform(size=(20, 30)), None, np.ones(20),
                      options={"simplex_iteration_limit": 1, "presolve": "off"})
    assert lim.status == "iteration_limit" and lim.objective is None
    assert set(highs.STATUSES) >= {inf.status, res.status, lim.status, "error"}


def test_mip_knapsack_matches_brute_force():
    rng = np.random.default_rng(2)
    w, v = rng.integers(1, 10, 10).astype(float), rng.integers(1, 10, 10).astype(float)
    cap = w.sum() / 2
    res = highs.solve(-v, w[None, :], None, [cap], 0.0, 1.0, integrality=np.ones(10, bool))
    best = max(v @ np.array(bits) for bits in np.ndindex(*([2] * 10)) if w @ np.array(bits) <= cap)
    assert res.status == "optimal" and abs(-res.objective - best) < 1e-9
    assert res.y is None and res.mip_gap is not None


def test_write_read_round_trip_and_features(tmp_path):
    c = np.array([1.0, -2.0, -0.5])
    A = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 2.0]])
    args = dict(lo=np.array([1.0, -np.inf]), hi=np.array([1.0, 4.0]), l=np.array([0.0, 0.0, -np.inf]),
                u=np.array([1.0, 3.0, np.inf]))
    direct = highs.solve(c, A, integrality=[0, 1, 0], c0=2.5, **args)
    for suffix in (".mps", ".lp"):
        path = tmp_path / f"m{suffix}"
        highs.write_model(path, c, A, integrality=[0, 1, 0], c0=2.5, **args)
        model = highs.read_model(path)
        again = highs.solve_model(model)
        assert again.status == direct.status == "optimal"
        assert abs(again.objective - direct.objective) < 1e-9
        f = highs.features(model)
        assert f == {"sense": "min", "rows": 2, "columns": 3, "nonzeros": 4, "integer_columns": 1,
                     "binary_columns": 0, "objective_offset": 2.5, "equality_rows": 1, "free_columns": 1}
    with pytest.raises(ValueError, match="path"):
        highs.write_model(tmp_path / "m.txt", c, A)
    with pytest.raises(ValueError, match="path"):
        highs.read_model(tmp_path / "missing.mps")


def test_maximisation_file_keeps_its_sense(tmp_path):
    path = tmp_path / "max.lp"
    path.write_text("Maximize\n obj: 3 x + 2 y + 1\nSubject To\n c1: x + y <= 4\n c2: x + 3 y <= 6\n"
                    "Bounds\n x <= 3\nEnd\n")
    model = highs.read_model(path)
    assert model.sense == "max" and highs.features(model)["objective_offset"] == 1.0
    res = highs.solve_model(model)
    assert res.status == "optimal" and abs(res.objective - (3 * 3 + 2 * 1 + 1)) < 1e-9


def test_no_banner_on_stdout(capfd):
    highs.solve([1.0], None)
    out, _ = capfd.readouterr()
    assert "Running HiGHS" not in out and out == ""
