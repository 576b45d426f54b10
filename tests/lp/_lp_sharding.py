"""Run inside the 8-device worker (tests/multidevice.py): batched PDHG sharded over devices."""

import jax
import numpy as np

from jaxor import batch
from jaxor.lp import LP, PDHG, solve


def sharded_solve_matches(n_lps):
    rng = np.random.default_rng(0)
    A = rng.uniform(0, 1, (n_lps, 6, 10)).astype(np.float32)
    c = rng.uniform(0, 1, (n_lps, 10)).astype(np.float32)
    b = (A.sum(2) * 0.3).astype(np.float32)
    opts = PDHG(eps_abs=1e-6, eps_rel=1e-6)

    def one(A, c, b):
        sol = solve(LP(-c, A, None, b, 0.0, 1.0), opts)
        return sol.status, sol.objective

    fn = jax.vmap(one)
    # Per-device batch sizes change float32 rounding, so iteration paths may differ by a block;
    # statuses must agree and objectives to the solve tolerance.
    batch.assert_sharded_equals_unsharded(fn, A, c, b, rtol=1e-4, atol=1e-4)
    status, obj = batch.sharded(fn)(A, c, b)
    return {"devices": jax.device_count(), "status": np.asarray(status).tolist(), "objective": np.asarray(obj).tolist()}
