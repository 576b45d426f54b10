"""Public surface: linprog adapter, file loading, compacted batches, the CLI."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from jaxor import cli
from jaxor.lp import PDHG, from_linprog, highs, linprog

TIGHT = PDHG(eps_abs=1e-9, eps_rel=1e-9)


def test_linprog_adapter_matches_highs(x64):
    rng = np.random.default_rng(3)
    A_ub, A_eq = rng.uniform(0, 1, (4, 6)), rng.uniform(0, 1, (2, 6))
    x0 = rng.uniform(0.1, 0.4, 6)
    b_ub, b_eq = A_ub @ x0 + 0.1, A_eq @ x0
    c = rng.normal(size=6)
    ref = highs.solve_linprog(c, A_ub, b_ub, A_eq, b_eq, bounds=(0, 1))
    sol = linprog(c, A_ub, b_ub, A_eq, b_eq, bounds=(0, 1), options=TIGHT, dtype=jnp.float64)
    assert sol.status_name == "optimal" and ref.status == "optimal"
    assert abs(float(sol.objective) - ref.objective) <= 1e-7 * max(1, abs(ref.objective))
    np.testing.assert_allclose(sol.y, ref.y, atol=1e-6)
    with pytest.raises(ValueError, match="b_ub"):
        from_linprog(c, A_ub=A_ub)
    with pytest.raises(ValueError, match="bounds"):
        from_linprog(c, bounds=[(0, 1)] * 5)


def test_cli_solves_netlib_with_both_backends(capsys, data):
    path = str(data("netlib/afiro.mps"))
    out = {}
    for backend in ("highs", "pdhg"):
        rc = cli.main(["--no-cache", "lp", "solve", path, "--backend", backend, "--eps", "1e-9", "--json"])
        out[backend] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert rc == 0 and out[backend]["status"] == "optimal"
    assert abs(out["pdhg"]["objective"] - out["highs"]["objective"]) <= 1e-6 * abs(out["highs"]["objective"])
    assert out["pdhg"]["rows"] == 27 and out["pdhg"]["columns"] == 32
    assert cli.main(["--no-cache", "lp", "solve", "/nonexistent.mps"]) == 2
