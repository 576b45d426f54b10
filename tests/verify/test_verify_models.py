"""jaxor.verify model checks: >= 40 LP/MPS files classified, optima equal to SciPy's linprog/milp."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from jaxor.verify import check_model_file, check_model_text, sanitize_lp_names

INF = np.inf


# ---------------------------------------------------------------- an independent writer (test-only)
def _num(v: float) -> str:
    return repr(float(v))


def write_lp(p: dict, bracket: bool = False) -> str:
    """CPLEX-LP text for problem dict p (rows: A, lo, hi; cols: l, u, integ; c, c0, sense)."""
    n = len(p["c"])
    names = [f"x[{j}]" if bracket else f"x{j}" for j in range(n)]

    def expr(coefs):
        terms = [f"{'+' if a >= 0 else '-'} {_num(abs(a))} {names[j]}" for j, a in enumerate(coefs) if a != 0]
        return " ".join(terms) if terms else f"0 {names[0]}"

    obj = expr(p["c"]) + (f" {'+' if p['c0'] >= 0 else '-'} {_num(abs(p['c0']))}" if p["c0"] else "")
    out = ["maximize" if p["sense"] == "max" else "minimize", f" obj: {obj}", "subject to"]
    for i, row in enumerate(p["A"]):
        lo, hi = p["lo"][i], p["hi"][i]
        if lo == hi:
            out.append(f" r{i}: {expr(row)} = {_num(hi)}")
        else:
            if hi < INF:
                out.append(f" r{i}u: {expr(row)} <= {_num(hi)}")
            if lo > -INF:
                out.append(f" r{i}l: {expr(row)} >= {_num(lo)}")
    out.append("bounds")
    for j in range(n):
        lj, uj = p["l"][j], p["u"][j]
        if lj == -INF and uj == INF:
            out.append(f" {names[j]} free")
        else:
            out.append(f" {'-inf' if lj == -INF else _num(lj)} <= {names[j]} <= {'+inf' if uj == INF else _num(uj)}")
    ints = [names[j] for j in range(n) if p["integ"][j]]
    if ints:
        out += ["general", " " + " ".join(ints)]
    out.append("end")
    return "\n".join(out) + "\n"


def write_mps(p: dict, bracket: bool = False) -> str:
    n = len(p["c"])
    names = [f"x[{j}]" if bracket else f"x{j}" for j in range(n)]
    out = ["NAME gen"]
    if p["sense"] == "max":
        out += ["OBJSENSE", "    MAX"]
    out.append("ROWS")
    out.append(" N obj")
    rows = []
    for i in range(len(p["A"])):
        lo, hi = p["lo"][i], p["hi"][i]
        kind = "E" if lo == hi else ("L" if lo == -INF else "G")
        rows.append((f"r{i}", kind, lo, hi))
        out.append(f" {kind} r{i}")
    out.append("COLUMNS")
    in_int = False
    for j in range(n):
        if p["integ"][j] and not in_int:
            out.append("    M1 'MARKER' 'INTORG'")
            in_int = True
        if not p["integ"][j] and in_int:
            out.append("    M2 'MARKER' 'INTEND'")
            in_int = False
        out.append(f"    {names[j]} obj {_num(p['c'][j])}")
        for i, row in enumerate(p["A"]):
            if row[j] != 0:
                out.append(f"    {names[j]} r{i} {_num(row[j])}")
    if in_int:
        out.append("    M3 'MARKER' 'INTEND'")
    out.append("RHS")
    if p["c0"]:
        out.append(f"    rhs obj {_num(-p['c0'])}")  # MPS: objective-row RHS is minus the constant
    ranges = []
    for name, kind, lo, hi in rows:
        rhs = hi if kind in ("L", "E") else lo
        out.append(f"    rhs {name} {_num(rhs)}")
        if kind != "E" and lo > -INF and hi < INF:
            ranges.append(f"    rng {name} {_num(hi - lo)}")
    if ranges:
        out += ["RANGES"] + ranges
    out.append("BOUNDS")
    for j in range(n):
        lj, uj = p["l"][j], p["u"][j]
        if lj == -INF and uj == INF:
            out.append(f" FR bnd {names[j]}")
            continue
        out.append(f" MI bnd {names[j]}" if lj == -INF else f" LO bnd {names[j]} {_num(lj)}")
        out.append(f" PL bnd {names[j]}" if uj == INF else f" UP bnd {names[j]} {_num(uj)}")
    out.append("ENDATA")
    return "\n".join(out) + "\n"


def scipy_solve(p: dict):
    """(status, objective) with status in optimal / infeasible / unbounded, via SciPy."""
    c = np.asarray(p["c"], float)
    sign = -1.0 if p["sense"] == "max" else 1.0
    A = np.asarray(p["A"], float)
    if any(p["integ"]):
        r = milp(sign * c, constraints=[LinearConstraint(A, p["lo"], p["hi"])], integrality=np.asarray(p["integ"], int),
                 bounds=Bounds(p["l"], p["u"]))
        st = {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(r.status, f"other{r.status}")
        if r.status == 4 and "unbounded or infeasible" in r.message:
            st = "infeasible_or_unbounded"
        return st, (sign * r.fun + p["c0"] if r.status == 0 else None)
    A_ub, b_ub, A_eq, b_eq = [], [], [], []
    for row, lo, hi in zip(A, p["lo"], p["hi"], strict=True):
        if lo == hi:
            A_eq.append(row)
            b_eq.append(hi)
            continue
        if hi < INF:
            A_ub.append(row)
            b_ub.append(hi)
        if lo > -INF:
            A_ub.append(-row)
            b_ub.append(-lo)
    r = linprog(sign * c, A_ub=np.array(A_ub) if A_ub else None, b_ub=b_ub or None,
                A_eq=np.array(A_eq) if A_eq else None, b_eq=b_eq or None,
                bounds=[(None if lj == -INF else lj, None if uj == INF else uj) for lj, uj in zip(p["l"], p["u"], strict=True)],
                method="highs")
    st = {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(r.status, f"other{r.status}")
    return st, (sign * r.fun + p["c0"] if r.status == 0 else None)


def random_problem(seed: int) -> dict:
    """Small random LP/MIP; the kind (feasible, infeasible, unbounded) is set by the seed."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    A = rng.integers(0, 6, size=(m, n)).astype(float)
    A[:, rng.integers(0, n)] += 1  # no all-zero column in the first... keep rows non-trivial
    A[A.sum(1) == 0, 0] = 1
    hi = rng.integers(8, 30, size=m).astype(float)
    lo = np.full(m, -INF)
    if seed % 5 == 1:  # a two-sided (ranged) row and an equality row
        lo[0] = 1.0
        if m > 2:
            lo[2] = hi[2] = float(A[2].sum())  # x = 1 satisfies it
    l = np.zeros(n)
    u = np.where(rng.random(n) < 0.5, rng.integers(2, 6, size=n).astype(float), INF)
    c = rng.integers(-3, 8, size=n).astype(float)
    sense = "max" if seed % 2 == 0 else "min"
    if sense == "min":
        c = -c
    integ = (rng.random(n) < 0.5).astype(int) if seed % 3 == 0 else np.zeros(n, int)
    if seed % 7 == 3:  # infeasible: demand more than the rows allow
        A = np.vstack([A, np.ones(n)])
        lo = np.append(lo, float(hi.sum() * 10 + 1000))
        hi = np.append(hi, INF)
        u = np.where(np.isinf(u), INF, u)
    if seed % 11 == 5:  # unbounded: a free-growing column that helps the objective
        A = np.hstack([A, np.zeros((A.shape[0], 1))])
        c = np.append(c, 1.0 if sense == "max" else -1.0)
        l, u = np.append(l, 0.0), np.append(u, INF)
        integ = np.append(integ, 0)
        n += 1
    if seed % 4 == 2:  # a free column and a negative lower bound
        l[0] = -5.0
    c0 = float(rng.integers(-20, 20)) if seed % 2 == 1 else 0.0
    return {"c": c, "A": A, "lo": lo, "hi": hi, "l": l, "u": u, "integ": integ, "sense": sense, "c0": c0}


GEN_SEEDS = list(range(20)) + [27]  # 27: an unbounded MIP


@pytest.mark.parametrize("seed", GEN_SEEDS)
def test_verify_generated_models_match_scipy(seed, tmp_path):
    p = random_problem(seed)
    want_status, want_obj = scipy_solve(p)
    assert want_status in ("optimal", "infeasible", "unbounded", "infeasible_or_unbounded"), want_status
    files = {"m.lp": write_lp(p), "m.mps": write_mps(p)}
    if seed % 4 == 0:
        files["b.lp"] = write_lp(p, bracket=True)
        files["b.mps"] = write_mps(p, bracket=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        r = check_model_file(tmp_path / name, time_limit=10)
        assert r.loaded, (name, r.message)
        ok = {want_status} | ({"infeasible_or_unbounded"} if want_status != "optimal" else set())
        assert r.status in ok, (name, r.status, want_status, r.message)
        if want_status == "optimal":
            assert r.objective == pytest.approx(want_obj, rel=1e-7, abs=1e-7), name
            assert r.x is not None and len(r.x) == len(p["c"])
        else:
            assert r.objective is None
        assert r.sanitized == (name == "b.lp")
        if r.status == "infeasible_or_unbounded":  # split it with a feasibility solve
            resolved = check_model_file(tmp_path / name, resolve_ambiguous=True).status
            assert resolved == ("unbounded" if seed % 11 == 5 else "infeasible"), resolved
        f = r.features
        assert (f.sense, f.n_vars, f.n_int) == (p["sense"], len(p["c"]), int(np.sum(p["integ"])))
        assert f.offset == pytest.approx(p["c0"])


# ---------------------------------------------------------------- hand-made files (hand-computed)
HAND = [
    # (name, text, parse_status, status, objective)
    ("classic.lp", "max\n obj: 3 x + 2 y\nst\n c1: x + y <= 4\n c2: x + 3 y <= 6\nbounds\n x <= 3\nend\n",
     "ok", "optimal", 11.0),
    ("constant.lp", "max\n obj: 3 x + 2 y + 5\nst\n c1: x + y <= 4\n c2: x + 3 y <= 6\nbounds\n x <= 3\nend\n",
     "ok", "optimal", 16.0),
    ("only_constant.lp", "minimize\n obj: 2 x + 7\nsubject to\n c: x >= 1.5\nend\n", "ok", "optimal", 10.0),
    ("diet.lp", "min\n cost: 2 a + 3 b\nst\n prot: 4 a + 2 b >= 8\n fat: a + 3 b >= 6\nend\n", "ok", "optimal", 7.2),
    ("equality_free.lp", "min\n obj: x - y\nst\n e: x + y = 2\n f: x - y >= -4\nbounds\n y free\nend\n",
     "ok", "optimal", -2.0),  # x >= 0 binds before x - y >= -4: x = 0, y = 2
    ("knapsack.lp", "max\n v: 5 a + 4 b + 3 c\nst\n w: 2 a + 3 b + c <= 5\nbinary\n a\n b\n c\nend\n", "ok", "optimal", 9.0),
    ("general.lp", "max\n obj: x + y\nst\n c1: 2 x + 2 y <= 7\nbounds\n x <= 10\n y <= 10\ngeneral\n x y\nend\n",
     "ok", "optimal", 3.0),
    ("infeasible.lp", "min\n obj: x\nst\n c1: x + y >= 5\n c2: x + y <= 3\nend\n", "ok", "infeasible", None),
    ("infeasible_mip.lp", "min\n obj: x\nst\n c1: 2 x = 3\ngeneral\n x\nend\n", "ok", "infeasible", None),
    ("unbounded.lp", "max\n obj: x + y\nst\n c1: x - y <= 1\nend\n", "ok", "unbounded", None),
    ("unbounded_mip.lp", "min\n obj: - x - y\nst\n c1: x - y >= 1\ngeneral\n x\nend\n", "ok",
     "infeasible_or_unbounded", None),
    ("bracketed.lp", "max\n obj: 3 x[0] + 2 x[1,2]\nst\n c[0]: x[0] + x[1,2] <= 4\n c[1]: x[0] + 3 x[1,2] <= 6\n"
     "bounds\n x[0] <= 3\nend\n", "ok", "optimal", 11.0),
    ("quadratic_lp.lp", "min\n obj: - 2 x + [ 2 x^2 ] / 2\nst\n c: x <= 5\nend\n", "ok", "optimal", -1.0),
    ("miqp.lp", "min\n obj: x + [ x^2 ] / 2\nst\n c1: x >= 1\ngeneral\n x\nend\n", "ok", "error", None),
    ("syntax.lp", "max\n obj: 3 x + 2 y\nst\n c1: x + y <= 4 +\nend\n", "error", "error", None),
    ("syntax.mps", "NAME bad\nROWS\n N obj\nCOLUMNS\n    x obj\nnot an mps line at all\n", "error", "error", None),
    ("empty.lp", "", "missing", "error", None),
    ("classic.mps", "NAME classic\nOBJSENSE\n    MAX\nROWS\n N obj\n L c1\n L c2\nCOLUMNS\n    x obj 3 c1 1\n"
     "    x c2 1\n    y obj 2 c1 1\n    y c2 3\nRHS\n    rhs c1 4 c2 6\n    rhs obj -5\nBOUNDS\n UP bnd x 3\nENDATA\n",
     "ok", "optimal", 16.0),
    ("bracket_names.mps", "NAME b\nROWS\n N obj\n G c[0]\nCOLUMNS\n    x[0] obj 1 c[0] 1\n    x[1] obj 2 c[0] 1\n"
     "RHS\n    rhs c[0] 3\nENDATA\n", "ok", "optimal", 3.0),
    ("warning.mps", "NAME t\nROWS\n N obj\n L c1\nCOLUMNS\n    x obj -1 c1 1\nRHS\n    rhs c1 4\n    rhs c9 4\nENDATA\n",
     "warning", "optimal", -4.0),  # an RHS for an unknown row: HiGHS warns and loads
    ("sos.lp", "max\n obj: x + y\nst\n c: x + y <= 4\nsos\n s1: S1:: x:1 y:2\nend\n", "error", "error", None),
    ("inconsistent_bounds.lp", "max\n obj: x\nst\n c: x <= 4\nbounds\n x >= 5\n x <= 3\nend\n", "ok",
     "infeasible", None),
    ("wrong_suffix.txt", "max\n obj: x\nst\n c: x <= 1\nend\n", "error", "error", None),
]


@pytest.mark.parametrize("case", HAND, ids=[h[0] for h in HAND])
def test_verify_hand_made_models(case, tmp_path):
    name, text, parse, status, obj = case
    path = tmp_path / name
    path.write_text(text)
    r = check_model_file(path, time_limit=10)
    assert (r.parse_status, r.status) == (parse, status), r.message
    if obj is None:
        assert r.objective is None
    else:
        assert r.objective == pytest.approx(obj, abs=1e-9)
    if status != "optimal":
        assert r.message
    if name == "bracketed.lp":
        assert r.sanitized and "bracketed" in r.message and r.names == ["x(0)", "x(1,2)"]
    if name == "warning.mps":
        assert "warned" in r.message
    if name == "syntax.lp":
        assert "expected" in r.message  # HiGHS's own diagnostic is passed on


def test_verify_model_counts_at_least_40():
    n_gen = sum(2 + (2 if s % 4 == 0 else 0) for s in GEN_SEEDS)
    kinds = {scipy_solve(random_problem(s))[0] for s in GEN_SEEDS}
    assert kinds == {"optimal", "infeasible", "unbounded", "infeasible_or_unbounded"}
    assert any(random_problem(s)["integ"].any() for s in GEN_SEEDS)
    assert n_gen + len(HAND) >= 40


def test_verify_model_features_binary_and_sanitize_flags(tmp_path):
    r = check_model_text("max\n v: 5 a + 4 b + 3 c + 2 d + 1\nst\n w: 2 a + 3 b + c + d <= 5\nbounds\n d <= 7\n"
                         "binary\n a\n b\n c\ngeneral\n d\nend\n")
    f = r.features
    assert (f.n_vars, f.n_cons, f.nnz, f.n_int, f.n_bin, f.n_cont, f.offset) == (4, 1, 4, 4, 3, 0, 1.0)
    assert f.is_mip and not f.quadratic
    txt = "max\n obj: x[0] + 2 y[1][2]\nst\n c: x[0] + y[1][2] + [ x[0] ^ 2 ] <= 3\nend\n"
    fixed, n = sanitize_lp_names(txt)
    assert n == 7 and "y(1)(2)" in fixed and "[ x(0) ^ 2 ]" in fixed
    no = check_model_text("max\n obj: x[0]\nst\n c: x[0] <= 2\nend\n", sanitize=False)
    assert no.parse_status == "error" and "sanitize=True" in no.message
    amb = check_model_text("min\n obj: - x - y\nst\n c1: x - y >= 1\ngeneral\n x\nend\n", resolve_ambiguous=True)
    assert amb.status == "unbounded"
    amb2 = check_model_text("min\n obj: - x - y\nst\n c1: x - y >= 1\n c2: x - y <= 0\ngeneral\n x\nend\n",
                            resolve_ambiguous=True)
    assert amb2.status == "infeasible"
    assert check_model_file(tmp_path / "nope.lp").parse_status == "missing"
    link = tmp_path / "w" / "model.lp"
    link.parent.mkdir()
    (tmp_path / "outside.lp").write_text("max\n obj: x\nst\n c: x <= 1\nend\n")
    link.symlink_to(tmp_path / "outside.lp")
    refused = check_model_file(link, root=tmp_path / "w")
    assert refused.status == "error" and "refused" in refused.message
    with pytest.raises(ValueError, match="fmt"):
        check_model_text("x", fmt="xls")
    tl = check_model_file(tmp_path / "outside.lp", time_limit=1e-9)
    assert tl.status in ("time_limit", "optimal")


NETLIB = {"afiro": -4.6475314286e02, "adlittle": 2.2549496316e05, "blend": -3.0812149846e01,
          "kb2": -1.7499001299e03, "sc50a": -6.4575077059e01, "sc50b": -7.0000000000e01,
          "share2b": -4.1573224074e02}  # optimal values published with the Netlib LP collection


@pytest.mark.parametrize("name", sorted(NETLIB))
def test_verify_netlib_models(name, data):
    path = data(f"netlib/{name}.mps")
    r = check_model_file(path, time_limit=30)
    assert (r.parse_status, r.status) == ("ok", "optimal"), r.message
    assert r.objective == pytest.approx(NETLIB[name], rel=1e-9)
    assert r.features.sense == "min" and r.features.n_int == 0


def test_verify_model_check_isolated_worker(data):
    path = data("netlib/afiro.mps")
    a = check_model_file(path, isolate=True)
    b = check_model_file(path)
    assert (a.status, a.objective, a.features) == (b.status, b.objective, b.features)
    slow = check_model_file(data("netlib/adlittle.mps"), isolate=True, isolate_timeout=1e-4)
    assert slow.status == "time_limit" and "killed" in slow.message
    again = check_model_file(path, isolate=True)  # a fresh worker replaces the killed one
    assert again.objective == b.objective
    bad = check_model_text("max\n obj: 3 x +\nend\n", isolate=True)
    assert bad.parse_status == "error" and "expected" in bad.message
