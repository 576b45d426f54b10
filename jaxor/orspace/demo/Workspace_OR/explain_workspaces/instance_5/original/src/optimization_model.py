import os

from utils import Model, load_parameters, load_table

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
p = load_parameters(os.path.join(DATA, "general_parameters.csv"))
sites = load_table(os.path.join(DATA, "table_1.csv"))
customers = load_table(os.path.join(DATA, "table_2.csv"))
scenarios = [("base", "Demand", 1.0)]

m = Model("facility_plan", "min")
open_ = {s["Site"]: m.var(f"open_{s['Site']}", ub=1, integer=True, cost=s["Fixed_Cost"]) for s in sites}
for name, col, weight in scenarios:
    x = {}
    for s in sites:
        for c in customers:
            x[s["Site"], c["Customer"]] = m.var(f"x_{name}_{s['Site']}_{c['Customer']}", cost=weight * c[s["Site"]])
    for c in customers:
        m.row(f"serve_{name}_{c['Customer']}", {x[s["Site"], c["Customer"]]: 1 for s in sites}, lo=c[col], hi=c[col])
    for s in sites:
        coefs = {x[s["Site"], c["Customer"]]: 1 for c in customers}
        coefs[open_[s["Site"]]] = -s["Capacity"]
        m.row(f"capacity_{name}_{s['Site']}", coefs, hi=0)
m.solve()
m.report()
