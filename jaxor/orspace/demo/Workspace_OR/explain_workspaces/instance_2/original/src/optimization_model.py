import os

from utils import Model, load_parameters, load_table

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
p = load_parameters(os.path.join(DATA, "general_parameters.csv"))
plants = load_table(os.path.join(DATA, "table_1.csv"))
customers = load_table(os.path.join(DATA, "table_2.csv"))

m = Model("shipping_plan", "min")
ship = {}
for pl in plants:
    for cu in customers:
        ship[pl["Plant"], cu["Customer"]] = m.var(f"ship_{pl['Plant']}_{cu['Customer']}", cost=pl[cu["Customer"]])
for pl in plants:
    m.row(f"supply_{pl['Plant']}", {ship[pl["Plant"], cu["Customer"]]: 1 for cu in customers}, hi=pl["Supply"])
for cu in customers:
    m.row(f"demand_{cu['Customer']}", {ship[pl["Plant"], cu["Customer"]]: 1 for pl in plants}, lo=cu["Demand"])
m.solve()
m.report()
