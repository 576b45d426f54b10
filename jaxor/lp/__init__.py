"""Linear programming: a batched, jittable, differentiable restarted-PDHG solver and the HiGHS bridge.

``jaxor.lp.highs`` is the only module in jaxor that calls highspy.
"""

from jaxor.lp import highs as highs
from jaxor.lp._batch import solve_batch as solve_batch
from jaxor.lp._diff import optimal_value as optimal_value
from jaxor.lp._diff import solve_x as solve_x
from jaxor.lp._linprog import from_file as from_file
from jaxor.lp._linprog import from_linprog as from_linprog
from jaxor.lp._linprog import linprog as linprog
from jaxor.lp._operator import MatrixFree as MatrixFree
from jaxor.lp._pdhg import PDHG as PDHG
from jaxor.lp._pdhg import solve as solve
from jaxor.lp._problem import LP as LP
from jaxor.lp._problem import stack as stack
from jaxor.lp._solution import STATUS_NAMES as STATUS_NAMES
from jaxor.lp._solution import Solution as Solution
from jaxor.lp._solution import WarmStart as WarmStart
from jaxor.lp._solution import status_name as status_name

__all__ = ["LP", "MatrixFree", "PDHG", "STATUS_NAMES", "Solution", "WarmStart", "from_file", "from_linprog", "highs",
           "linprog", "optimal_value", "solve", "solve_batch", "solve_x", "stack", "status_name"]
