import os

from utils import Model, load_parameters, load_table

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
p = load_parameters(os.path.join(DATA, "general_parameters.csv"))
items = load_table(os.path.join(DATA, "table_1.csv"))
batch = p["batch_size"]

m = Model("feed_blend", "min")
use = {}
for it in items:
    cost = it["Cost"]
    use[it["Ingredient"]] = m.var(f"use_{it['Ingredient']}", ub=it["Available"], cost=cost)
m.row("batch_size", {j: 1 for j in use.values()}, lo=batch, hi=batch)
m.row("protein_min", {use[it["Ingredient"]]: it["Protein"] for it in items}, lo=p["min_protein_pct"] * batch)
m.row("fat_max", {use[it["Ingredient"]]: it["Fat"] for it in items}, hi=p["max_fat_pct"] * batch)
m.row("fiber_min", {use[it["Ingredient"]]: it["Fiber"] for it in items}, lo=p["min_fiber_pct"] * batch)
m.solve()
m.report()
