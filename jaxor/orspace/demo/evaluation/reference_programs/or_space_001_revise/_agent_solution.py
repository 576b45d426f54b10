import os

from utils import Model, load_parameters, load_table

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
p = load_parameters(os.path.join(DATA, "general_parameters.csv"))
demand = {int(r["Period"]): r["Demand"] for r in load_table(os.path.join(DATA, "table_1.csv"))}
periods = sorted(demand)
top = p["regular_capacity"] + p["overtime_capacity"]

m = Model("production_plan", "min")
reg, ot, inv, setup = {}, {}, {}, {}
for t in periods:
    reg[t] = m.var(f"reg_{t}", ub=p["regular_capacity"], cost=p["unit_production_cost"])
    ot[t] = m.var(f"ot_{t}", ub=p["overtime_capacity"], cost=p["unit_production_cost"] + p["overtime_premium"])
    inv[t] = m.var(f"inv_{t}", cost=p["holding_cost"])
    setup[t] = m.var(f"setup_{t}", ub=1, integer=True, cost=p["setup_cost"])
for t in periods:
    start = p["initial_inventory"] if t == periods[0] else 0.0
    coefs = {reg[t]: 1, ot[t]: 1, inv[t]: -1}
    if t - 1 in inv:
        coefs[inv[t - 1]] = 1
    m.row(f"balance_{t}", coefs, lo=demand[t] - start, hi=demand[t] - start)
    m.row(f"setup_link_{t}", {reg[t]: 1, ot[t]: 1, setup[t]: -top}, hi=0)
    m.row(f"min_batch_{t}", {reg[t]: 1, ot[t]: 1, setup[t]: -p["min_batch"]}, lo=0)
m.solve()
m.report()
