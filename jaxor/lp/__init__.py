"""Linear programming: a batched, jittable, differentiable restarted-PDHG solver and the HiGHS bridge.

* :class:`LP` — ``min c.x + c0 s.t. lo <= A x <= hi, l <= x <= u`` as a validated pytree; ``A`` dense,
  sparse (BCOO / SciPy) or :class:`MatrixFree`; ``col_mask`` / ``row_mask`` keep a growing LP's shape.
* :func:`solve` — restarted average PDHG in the PDLP style (arXiv:2106.04756), pure, under
  ``jit`` / ``vmap``, float32 or float64, traced ``max_iters``, :class:`WarmStart`; returns a
  :class:`Solution` with a status and HiGHS-convention duals.
* :func:`solve_batch` — the throughput path for batches: host-side compaction so finished LPs stop
  paying for the slowest (design notes in ``jaxor/lp/_batch.py``).
* :func:`optimal_value` (exact envelope-theorem gradients) and :func:`solve_x` (smoothed minimiser).
* :func:`linprog` / :func:`from_linprog` (SciPy-style), :func:`from_file` (MPS / LP files).
* ``jaxor.lp.highs`` — the only module in jaxor that calls highspy (LP, MIP, files, features).
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
