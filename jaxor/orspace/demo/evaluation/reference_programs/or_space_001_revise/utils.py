"""Helpers for the workspace's optimisation programs: read the CSV data and build a HiGHS model
with named variables and rows (highspy), then write solver records for audit."""
import csv
import json
import os

import highspy

INF = highspy.kHighsInf


def _num(text):
    try:
        return float(text)
    except ValueError:
        return text.strip()


def load_parameters(path):
    """{Parameter_Name: float Value} from general_parameters.csv."""
    with open(path, newline="") as f:
        return {row["Parameter_Name"].strip(): float(row["Value"]) for row in csv.DictReader(f)}


def load_table(path):
    """Rows of a CSV table as dicts, numbers converted to float."""
    with open(path, newline="") as f:
        return [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(f)]


class Model:
    """A linear (mixed-integer) model with named columns and rows, solved by HiGHS."""

    def __init__(self, name, sense="min"):
        self.name, self.sense = name, sense
        self.cols, self.cost, self.lower, self.upper, self.integer = [], [], [], [], []
        self.rows = []  # (name, {col: coef}, lo, hi)
        self.status, self.objective, self.values = "NotSolved", None, {}

    def var(self, name, lb=0.0, ub=INF, integer=False, cost=0.0):
        self.cols.append(name)
        self.cost.append(float(cost))
        self.lower.append(float(lb))
        self.upper.append(float(ub))
        self.integer.append(bool(integer))
        return len(self.cols) - 1

    def row(self, name, coefs, lo=-INF, hi=INF):
        self.rows.append((name, {int(k): float(v) for k, v in coefs.items() if v != 0}, float(lo), float(hi)))

    def _highs(self, relax=False):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for j in range(len(self.cols)):
            h.addVar(self.lower[j], self.upper[j])
            h.changeColCost(j, self.cost[j])
            if self.integer[j] and not relax:
                h.changeColIntegrality(j, highspy.HighsVarType.kInteger)
        if self.sense == "max":
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        for _, coefs, lo, hi in self.rows:
            h.addRow(lo, hi, len(coefs), list(coefs), list(coefs.values()))
        h.run()
        return h

    def solve(self):
        h = self._highs()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        self.status = "Optimal" if ok else h.modelStatusToString(h.getModelStatus())
        if ok:
            self.objective = h.getInfo().objective_function_value
            x = h.getSolution().col_value
            self.values = {n: (round(x[j]) if self.integer[j] else x[j]) for j, n in enumerate(self.cols)}
        return self.status

    def write_records(self, folder):
        """<name>.solution.json and <name>.lp_relaxation.json (duals, reduced costs, slacks)."""
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{self.name}.solution.json"), "w") as f:
            json.dump({"solver": "highspy", "model_name": self.name, "status": self.status,
                       "objective_value": self.objective, "variables": self.values}, f, indent=2, sort_keys=True)
        h = self._highs(relax=True)
        sol = h.getSolution()
        rows = {}
        for i, (name, _coefs, lo, hi) in enumerate(self.rows):
            act = sol.row_value[i]
            slack = (hi - act) if hi < INF else (act - lo)
            rows[name] = {"activity": act, "slack": slack, "dual_value": sol.row_dual[i]}
        cols = {n: {"value": sol.col_value[j], "reduced_cost": sol.col_dual[j]} for j, n in enumerate(self.cols)}
        with open(os.path.join(folder, f"{self.name}.lp_relaxation.json"), "w") as f:
            json.dump({"solver": "highspy", "model_name": self.name + "_lp_relaxation",
                       "diagnostic_type": "lp_relaxation", "status": h.modelStatusToString(h.getModelStatus()),
                       "objective_value": h.getInfo().objective_function_value, "variables": cols,
                       "constraints": rows}, f, indent=2, sort_keys=True)

    def report(self):
        """Print the status and the final objective line the harness reads."""
        print(f"Status: {self.status}")
        if os.environ.get("ORSPACE_RECORD_DIR") and self.status == "Optimal":
            self.write_records(os.environ["ORSPACE_RECORD_DIR"])
        print(f"FINAL_OBJ_VALUE: {self.objective}")
