import os

from utils import Model, load_parameters, load_table

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
p = load_parameters(os.path.join(DATA, "general_parameters.csv"))
need = {int(r["Period"]): r["Required_Staff"] for r in load_table(os.path.join(DATA, "table_1.csv"))}
shifts = load_table(os.path.join(DATA, "table_2.csv"))
n = len(need)

m = Model("shift_staffing", "min")
staff = {s["Shift"]: m.var(f"staff_{s['Shift']}", integer=True, cost=s["Cost"]) for s in shifts}
for t in sorted(need):
    covering = [s for s in shifts if (t - int(s["Start"])) % n < int(s["Length"])]
    coefs = {staff[s["Shift"]]: 1 for s in covering}
    m.row(f"cover_{t}", coefs, lo=need[t])
m.solve()
m.report()
