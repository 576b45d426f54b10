"""Restarted average PDHG for LPs in the PDLP style, under ``jit`` and ``vmap``.

Implements, for ``min c.x s.t. lo <= A x <= hi, l <= x <= u`` (:class:`jaxor.lp.LP`), the method of

    Applegate, Diaz, Hinder, Lu, Lubin, O'Donoghue, Schudy, "Practical Large-Scale Linear Programming
    using Primal-Dual Hybrid Gradient", NeurIPS 2021, arXiv:2106.04756 (PDLP),

with the restart scheme of Applegate, Hinder, Lu, Lubin, "Faster first-order primal-dual methods for
linear programming using restarts and sharpness", arXiv:2105.12715, and the KKT-based restart criteria
of cuPDLP (Lu, Yang, arXiv:2311.12180):

* preprocessing (PDLP section 4.3): ``ruiz_iters`` rounds of l_inf Ruiz equilibration, then
  Pock-Chambolle scaling with ``alpha`` (rows by ``||A_i||_{2-alpha}``, columns by ``||A^j||_alpha``);
* PDHG step (PDLP eq. 3), for the two-sided rows via the proximal map of
  ``p(y) = lo.y^+ - hi.y^-``: ``x+ = proj_[l,u](x - tau (c - A^T y))``,
  ``y+ = v + sigma proj(...)`` i.e. ``y+ = max(v + sigma lo, 0) + min(v + sigma hi, 0)`` with
  ``v = y - sigma A (2 x+ - x)``, ``tau = eta / omega``, ``sigma = eta omega``;
* adaptive step size (PDLP section 4.1, Algorithm 2) with exponents 0.3 / 0.6;
* step-size-weighted averaging, adaptive restarts to the average or the current iterate, whichever
  has the smaller weighted KKT error (cuPDLP's criteria: sufficient 0.2, necessary 0.8 without
  progress, artificial after 36 % of all iterations), evaluated every ``eval_every`` iterations;
* primal weight ``omega`` updated at restarts with smoothing 0.5 (PDLP section 4.4);
* termination on the relative KKT error of the *unscaled* problem (PDLP section 3.1), checked for
  both the current and the average iterate;
* infeasibility detection from the last step difference and the average's displacement since the
  last restart (Applegate et al., arXiv:2102.04592), in the unscaled problem.

.. warning:: Departures from the papers: (1) the step-size exponents use ``k + 2`` instead of
   ``k + 1`` so the first step can shrink without collapsing to zero (PDLP leaves the count's origin
   implicit); (2) infeasibility certificates additionally require the certificate's objective to
   exceed ``infeasibility_obj_tol * ||ray||_inf * scale`` so rounding noise on a converged feasible
   problem is never read as a ray; (3) options are static (changing one recompiles), except
   ``max_iters`` and the warm start, which are traced.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxor.lp import _termination as T
from jaxor.lp._problem import LP
from jaxor.lp._solution import (
    DUAL_INFEASIBLE,
    ITERATION_LIMIT,
    NUMERICAL_ERROR,
    OPTIMAL,
    PRIMAL_INFEASIBLE,
    RUNNING,
    Solution,
    WarmStart,
)

__all__ = ["PDHG", "solve"]


@dataclasses.dataclass(frozen=True)
class PDHG:
    """Options of the restarted average PDHG solver (hashable; static under ``jit``).

    Args:
        eps_abs, eps_rel: relative KKT termination: ``||A x - proj(A x)|| <= eps_abs + eps_rel ||b||``,
            ``||c - A^T y - z|| <= eps_abs + eps_rel ||c||``, ``|gap| <= eps_abs + eps_rel (|p| + |d|)``.
        eps_infeasible: ray tolerance for infeasibility certificates; None: 1e-8 (float64) / 1e-5 (float32).
        infeasibility_obj_tol: a certificate's objective must exceed this times ``||ray||_inf * scale``;
            None: ``sqrt`` of the dtype's machine epsilon.
        max_iters: iteration cap used when :func:`solve` gets none.
        eval_every: iterations between termination/restart evaluations (PDLP: 64).
        ruiz_iters: l_inf Ruiz rounds (PDLP: 10); 0 disables.
        pock_chambolle_alpha: Pock-Chambolle exponent (PDLP: 1); None disables.
        adaptive_step: PDLP's adaptive step size; False uses ``0.998 / ||A||_2`` (power iteration).
        step_reduction_exponent, step_growth_exponent: PDLP's 0.3 and 0.6.
        max_line_search: trials per step before the last one is accepted anyway.
        primal_weight_smoothing: ``theta`` in ``log w <- theta log(dy/dx) + (1-theta) log w`` (PDLP: 0.5).
        restart_sufficient, restart_necessary, restart_artificial: cuPDLP's 0.2, 0.8, 0.36.
        norm: ``"l2"`` (PDLP) or ``"linf"`` (MPAX's default) for the termination residuals.
        infeasibility_detection: check certificates at each evaluation.

    Raises:
        ValueError: for out-of-range options, naming the option.
    """

    eps_abs: float = 1e-4
    eps_rel: float = 1e-4
    eps_infeasible: float | None = None
    infeasibility_obj_tol: float | None = None
    max_iters: int = 100_000
    eval_every: int = 64
    ruiz_iters: int = 10
    pock_chambolle_alpha: float | None = 1.0
    adaptive_step: bool = True
    step_reduction_exponent: float = 0.3
    step_growth_exponent: float = 0.6
    max_line_search: int = 30
    primal_weight_smoothing: float = 0.5
    restart_sufficient: float = 0.2
    restart_necessary: float = 0.8
    restart_artificial: float = 0.36
    norm: str = "l2"
    infeasibility_detection: bool = True

    def __post_init__(self):
        for name in ("eps_abs", "eps_rel"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)}")
        if self.eps_abs == 0 and self.eps_rel == 0:
            raise ValueError("eps_abs and eps_rel cannot both be 0")
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be >= 1; got {self.eval_every}")
        if self.max_iters < 0:
            raise ValueError(f"max_iters must be >= 0; got {self.max_iters}")
        if self.ruiz_iters < 0:
            raise ValueError(f"ruiz_iters must be >= 0; got {self.ruiz_iters}")
        if self.pock_chambolle_alpha is not None and not 0 <= self.pock_chambolle_alpha <= 2:
            raise ValueError(f"pock_chambolle_alpha must be in [0, 2] or None; got {self.pock_chambolle_alpha}")
        if self.norm not in ("l2", "linf"):
            raise ValueError(f"norm must be 'l2' or 'linf'; got {self.norm!r}")
        if not 0 <= self.primal_weight_smoothing <= 1:
            raise ValueError(f"primal_weight_smoothing must be in [0, 1]; got {self.primal_weight_smoothing}")


class _Scaled(NamedTuple):
    """The rescaled problem ``A_hat = diag(r) A diag(s)`` and its data."""

    A: object
    c: jax.Array
    lo: jax.Array
    hi: jax.Array
    l: jax.Array
    u: jax.Array
    r: jax.Array  # [m] row scale: y = r * y_hat
    s: jax.Array  # [n] column scale: x = s * x_hat


def rescale(lp: LP, opts: PDHG) -> _Scaled:
    """Ruiz then Pock-Chambolle scaling (PDLP section 4.3). Matrix-free operators stay unscaled."""
    m, n = lp.shape
    dt = lp.dtype
    op = lp.A
    r = jnp.ones((m,), dt)
    s = jnp.ones((n,), dt)
    if op.abs_max() is not None:
        def inv_sqrt(v):
            return jnp.where(v > 0, 1.0 / jnp.sqrt(jnp.where(v > 0, v, 1.0)), 1.0)

        for _ in range(opts.ruiz_iters):
            rm, cm = op.abs_max()
            dr, ds = inv_sqrt(rm), inv_sqrt(cm)
            op = op.scale(dr, ds)
            r, s = r * dr, s * ds
        if opts.pock_chambolle_alpha is not None:
            a = opts.pock_chambolle_alpha
            rs, cs = op.abs_pow_sum(2.0 - a, a)
            dr, ds = inv_sqrt(rs), inv_sqrt(cs)
            op = op.scale(dr, ds)
            r, s = r * dr, s * ds
    return _Scaled(op, lp.c * s, lp.lo * r, lp.hi * r, lp.l / s, lp.u / s, r, s)


class _State(NamedTuple):
    x: jax.Array
    y: jax.Array
    Ax: jax.Array
    ATy: jax.Array
    x_sum: jax.Array
    y_sum: jax.Array
    Ax_sum: jax.Array
    ATy_sum: jax.Array
    w_sum: jax.Array
    x0: jax.Array   # last restart point
    y0: jax.Array
    Ax0: jax.Array
    ATy0: jax.Array
    dx: jax.Array   # last step's differences (and their products): infeasibility rays
    dy: jax.Array
    dAx: jax.Array
    dATy: jax.Array
    eta: jax.Array
    omega: jax.Array
    k: jax.Array          # shape=(), int32: iterations so far
    k_restart: jax.Array  # shape=(), int32
    kkt_restart: jax.Array
    kkt_prev: jax.Array
    status: jax.Array     # shape=(), int32


def _power_norm(op, n, dt, iters: int = 30):
    v = jnp.ones((n,), dt) / jnp.sqrt(jnp.asarray(max(n, 1), dt))

    def body(_, v):
        w = op.rmv(op.mv(v))
        return w / jnp.maximum(jnp.linalg.norm(w), jnp.finfo(dt).tiny)

    v = lax.fori_loop(0, iters, body, v)
    return jnp.sqrt(jnp.linalg.norm(op.rmv(op.mv(v))))


def _kkt(P: _Scaled, omega, x, y, Ax, ATy):
    res = T.residuals(P.c, 0.0, P.lo, P.hi, P.l, P.u, x, y, Ax, ATy, "l2")
    gap = res.primal_obj - res.dual_obj
    return jnp.sqrt(omega * res.primal ** 2 + res.dual ** 2 / omega + gap ** 2)


def _project_y(y, lo, hi):
    """Row duals may be positive only at a finite ``lo`` and negative only at a finite ``hi``."""
    return jnp.clip(y, jnp.where(jnp.isfinite(hi), -jnp.inf, 0.0), jnp.where(jnp.isfinite(lo), jnp.inf, 0.0))


def _init(lp: LP, P: _Scaled, opts: PDHG, warm: WarmStart | None) -> _State:
    m, n = lp.shape
    dt = lp.dtype
    if warm is None:
        x = jnp.clip(jnp.zeros((n,), dt), P.l, P.u)
        y = jnp.zeros((m,), dt)
    else:
        x = jnp.clip(jnp.asarray(warm.x, dt) / P.s, P.l, P.u)
        y = _project_y(jnp.asarray(warm.y, dt) / P.r, P.lo, P.hi)
    Ax, ATy = P.A.mv(x), P.A.rmv(y)
    stats = P.A.abs_max()
    if stats is not None:
        amax = jnp.max(stats[0], initial=0.0)
        eta0 = jnp.where(amax > 0, 1.0 / jnp.where(amax > 0, amax, 1.0), 1.0)
    else:
        nrm = _power_norm(P.A, n, dt)
        eta0 = jnp.where(nrm > 0, 1.0 / jnp.where(nrm > 0, nrm, 1.0), 1.0)
    if not opts.adaptive_step:
        nrm = _power_norm(P.A, n, dt)
        eta0 = jnp.where(nrm > 0, 0.998 / jnp.where(nrm > 0, nrm, 1.0), 1.0)
    cn = jnp.linalg.norm(P.c)
    bn = T.bound_norm(P.lo, P.hi, "l2")
    omega0 = jnp.where((cn > 1e-10) & (bn > 1e-10), cn / jnp.where(bn > 1e-10, bn, 1.0), jnp.ones((), dt))
    if warm is not None:
        ws_eta = jnp.asarray(warm.step_size, dt)
        ws_om = jnp.asarray(warm.primal_weight, dt)
        if opts.adaptive_step:
            eta0 = jnp.where((ws_eta > 0) & jnp.isfinite(ws_eta), ws_eta, eta0)
        omega0 = jnp.where((ws_om > 0) & jnp.isfinite(ws_om), ws_om, omega0)
    zero = jnp.zeros((), dt)
    kkt0 = _kkt(P, omega0, x, y, Ax, ATy)
    i0 = jnp.zeros((), jnp.int32)
    return _State(x, y, Ax, ATy, jnp.zeros_like(x), jnp.zeros_like(y), jnp.zeros_like(Ax), jnp.zeros_like(ATy), zero,
                  x, y, Ax, ATy, jnp.zeros_like(x), jnp.zeros_like(y), jnp.zeros_like(Ax), jnp.zeros_like(ATy),
                  eta0.astype(dt), omega0.astype(dt), i0, i0, kkt0, jnp.asarray(jnp.inf, dt),
                  jnp.asarray(RUNNING, jnp.int32))


def _step(P: _Scaled, opts: PDHG, st: _State) -> _State:
    """One PDHG iteration (PDLP Algorithm 2: adaptive step with a retry loop)."""
    x, y, Ax, ATy, omega = st.x, st.y, st.Ax, st.ATy, st.omega
    g = P.c - ATy

    def trial(eta):
        xn = jnp.clip(x - (eta / omega) * g, P.l, P.u)
        Axn = P.A.mv(xn)
        sigma = eta * omega
        v = y - sigma * (2.0 * Axn - Ax)
        yn = jnp.maximum(v + sigma * P.lo, 0.0) + jnp.minimum(v + sigma * P.hi, 0.0)
        return xn, yn, Axn, P.A.rmv(yn)

    if opts.adaptive_step:
        kk = (st.k + 2).astype(x.dtype)
        red = 1.0 - kk ** (-opts.step_reduction_exponent)
        grow = 1.0 + kk ** (-opts.step_growth_exponent)

        def ls_body(c):
            eta, _, _, tries, _ = c
            xn, yn, Axn, ATyn = trial(eta)
            dx, dy = xn - x, yn - y
            inter = jnp.abs(dy @ (Axn - Ax))
            mov = 0.5 * (omega * (dx @ dx) + (dy @ dy) / omega)
            eta_max = jnp.where(inter > 0, mov / jnp.where(inter > 0, inter, 1.0), jnp.inf)
            eta_next = jnp.minimum(red * eta_max, grow * eta)
            ok = (eta <= eta_max) | (tries + 1 >= opts.max_line_search)
            return eta_next, eta, ok, tries + 1, (xn, yn, Axn, ATyn)

        def ls_cond(c):
            return ~c[2]

        dummy = (x, y, Ax, ATy)
        eta_next, eta_used, _, _, (xn, yn, Axn, ATyn) = lax.while_loop(
            ls_cond, ls_body, (st.eta, st.eta, jnp.asarray(False), jnp.zeros((), jnp.int32), dummy))
    else:
        eta_used = eta_next = st.eta
        xn, yn, Axn, ATyn = trial(st.eta)
    w = eta_used
    return st._replace(x=xn, y=yn, Ax=Axn, ATy=ATyn,
                       x_sum=st.x_sum + w * xn, y_sum=st.y_sum + w * yn, Ax_sum=st.Ax_sum + w * Axn,
                       ATy_sum=st.ATy_sum + w * ATyn, w_sum=st.w_sum + w,
                       dx=xn - x, dy=yn - y, dAx=Axn - Ax, dATy=ATyn - ATy,
                       eta=eta_next, k=st.k + 1)


class _Consts(NamedTuple):
    c_norm: jax.Array
    b_norm: jax.Array
    eps_inf: float
    obj_tol: float
    pscale: jax.Array
    dscale: jax.Array


def _consts(lp: LP, opts: PDHG) -> _Consts:
    dt = lp.dtype
    f64 = jnp.dtype(dt).itemsize == 8
    eps_inf = opts.eps_infeasible if opts.eps_infeasible is not None else (1e-8 if f64 else 1e-5)
    obj_tol = (opts.infeasibility_obj_tol if opts.infeasibility_obj_tol is not None
               else float(jnp.finfo(dt).eps) ** 0.5)
    fin = T._fin
    bmax = jnp.max(jnp.abs(jnp.concatenate([fin(lp.lo), fin(lp.hi), fin(lp.l), fin(lp.u)])), initial=0.0)
    return _Consts(T.norm(lp.c, opts.norm), T.bound_norm(lp.lo, lp.hi, opts.norm), eps_inf, obj_tol,
                   1.0 + bmax, 1.0 + jnp.max(jnp.abs(lp.c), initial=0.0))


def _unscale(P: _Scaled, x, y, Ax, ATy):
    return P.s * x, P.r * y, Ax / P.r, ATy / P.s


def _evaluate(lp: LP, P: _Scaled, opts: PDHG, K: _Consts, max_iters, st: _State) -> _State:
    """Termination, infeasibility and restart checks (every ``eval_every`` iterations)."""
    has_avg = st.w_sum > 0
    wd = jnp.where(has_avg, st.w_sum, 1.0)

    def avg(s, cur):
        return jnp.where(has_avg, s / wd, cur)

    cur = (st.x, st.y, st.Ax, st.ATy)
    av = (avg(st.x_sum, st.x), avg(st.y_sum, st.y), avg(st.Ax_sum, st.Ax), avg(st.ATy_sum, st.ATy))
    k_cur = _kkt(P, st.omega, *cur)
    k_avg = _kkt(P, st.omega, *av)
    use_avg = k_avg < k_cur
    cand = tuple(jnp.where(use_avg, a, b) for a, b in zip(av, cur, strict=True))
    k_cand = jnp.minimum(k_avg, k_cur)

    def conv(pt):
        x, y, Ax, ATy = _unscale(P, *pt)
        res = T.residuals(lp.c, lp.c0, lp.lo, lp.hi, lp.l, lp.u, x, y, Ax, ATy, opts.norm)
        return T.converged(res, K.c_norm, K.b_norm, opts.eps_abs, opts.eps_rel)

    conv_cur, conv_avg = conv(cur), conv(av)
    converged = conv_cur | conv_avg
    out = tuple(jnp.where(conv_avg, a, jnp.where(conv_cur, b, c)) for a, b, c in zip(av, cur, cand, strict=True))

    pinf = dinf = jnp.asarray(False)
    ray_x, ray_y = st.dx, st.dy
    if opts.infeasibility_detection:
        rays = [(st.dx, st.dy, st.dAx, st.dATy),
                (av[0] - st.x0, av[1] - st.y0, av[2] - st.Ax0, av[3] - st.ATy0)]
        for rx, ry, rAx, rATy in rays:
            ux, uy, uAx, uATy = _unscale(P, rx, ry, rAx, rATy)
            p_i = T.primal_infeasibility(lp.lo, lp.hi, lp.l, lp.u, uy, uATy, K.eps_inf, K.obj_tol, K.pscale)
            d_i = T.dual_infeasibility(lp.c, lp.lo, lp.hi, lp.l, lp.u, ux, uAx, K.eps_inf, K.obj_tol, K.dscale)
            ray_y = jnp.where(p_i & ~pinf, ry, ray_y)
            ray_x = jnp.where(d_i & ~dinf, rx, ray_x)
            pinf, dinf = pinf | p_i, dinf | d_i
    finite = jnp.all(jnp.isfinite(st.x)) & jnp.all(jnp.isfinite(st.y))
    status = jnp.where(converged, OPTIMAL,
             jnp.where(~finite, NUMERICAL_ERROR,
             jnp.where(pinf, PRIMAL_INFEASIBLE,
             jnp.where(dinf, DUAL_INFEASIBLE,
             jnp.where(st.k >= max_iters, ITERATION_LIMIT, RUNNING))))).astype(jnp.int32)  # noqa: E128
    running = status == RUNNING

    # Restart (cuPDLP's KKT criteria) to the candidate; primal weight update (PDLP section 4.4).
    kf = st.k.astype(st.eta.dtype)
    do_restart = running & ((k_cand <= opts.restart_sufficient * st.kkt_restart)
                            | ((k_cand <= opts.restart_necessary * st.kkt_restart) & (k_cand > st.kkt_prev))
                            | ((st.k - st.k_restart).astype(kf.dtype) >= opts.restart_artificial * kf))
    ddx = jnp.linalg.norm(cand[0] - st.x0)
    ddy = jnp.linalg.norm(cand[1] - st.y0)
    tiny = 1e-10
    th = opts.primal_weight_smoothing
    om_new = jnp.where((ddx > tiny) & (ddy > tiny),
                       jnp.exp(th * jnp.log(jnp.where(ddy > tiny, ddy, 1.0) / jnp.where(ddx > tiny, ddx, 1.0))
                               + (1 - th) * jnp.log(st.omega)), st.omega)
    omega = jnp.where(do_restart, om_new, st.omega)
    kkt_new = _kkt(P, omega, *cand)

    # What the state holds next: at termination the reported point, at a restart the candidate.
    def pick(i, cur_v):
        v = jnp.where(do_restart, cand[i], cur_v)
        return jnp.where(running, v, out[i])

    x, y, Ax, ATy = (pick(i, v) for i, v in enumerate(cur))
    z = jnp.zeros_like
    rs = do_restart
    return st._replace(
        x=x, y=y, Ax=Ax, ATy=ATy,
        x_sum=jnp.where(rs, z(st.x_sum), st.x_sum), y_sum=jnp.where(rs, z(st.y_sum), st.y_sum),
        Ax_sum=jnp.where(rs, z(st.Ax_sum), st.Ax_sum), ATy_sum=jnp.where(rs, z(st.ATy_sum), st.ATy_sum),
        w_sum=jnp.where(rs, 0.0, st.w_sum),
        x0=jnp.where(rs, cand[0], st.x0), y0=jnp.where(rs, cand[1], st.y0),
        Ax0=jnp.where(rs, cand[2], st.Ax0), ATy0=jnp.where(rs, cand[3], st.ATy0),
        dx=ray_x, dy=ray_y,
        omega=omega, k_restart=jnp.where(rs, st.k, st.k_restart),
        kkt_restart=jnp.where(rs, kkt_new, st.kkt_restart),
        kkt_prev=jnp.where(rs, jnp.inf, k_cand), status=status)


def _finish(lp: LP, P: _Scaled, opts: PDHG, st: _State) -> Solution:
    x, y, Ax, ATy = _unscale(P, st.x, st.y, st.Ax, st.ATy)
    rx, ry = P.s * st.dx, P.r * st.dy
    pinf = st.status == PRIMAL_INFEASIBLE
    dinf = st.status == DUAL_INFEASIBLE
    res = T.residuals(lp.c, lp.c0, lp.lo, lp.hi, lp.l, lp.u, x, y, Ax, ATy, opts.norm)
    nan = jnp.asarray(jnp.nan, x.dtype)

    def unit(v):
        s = jnp.max(jnp.abs(v), initial=0.0)
        return v / jnp.where(s > 0, s, 1.0)

    xo = jnp.where(dinf, unit(rx), x)
    yo = jnp.where(pinf, unit(ry), y)
    infeas = pinf | dinf
    return Solution(
        status=st.status, x=xo, y=yo, z=lp.c - ATy,
        objective=jnp.where(infeas, nan, res.primal_obj), dual_objective=jnp.where(infeas, nan, res.dual_obj),
        iterations=st.k, primal_residual=res.primal, dual_residual=res.dual,
        gap=jnp.abs(res.primal_obj - res.dual_obj),
        warm_start=WarmStart(x, y, st.eta, st.omega))


def _start(lp: LP, opts: PDHG, warm):
    """Scale and initialise: ``(scaled problem, state)``; the state is evaluated by the first round."""
    P = rescale(lp, opts)
    return P, _init(lp, P, opts, warm)


def _advance(lp: LP, P: _Scaled, opts: PDHG, max_iters, st: _State, rounds=None, first=False) -> _State:
    """Run rounds of ``eval_every`` iterations plus an evaluation until the status is final, or ``rounds``.

    With ``first`` (a bool, or a traced bool scalar) the first round takes no iterations: it only
    evaluates the starting point, so one copy of the evaluation code (the bulk of the compiled
    program) serves both uses.
    """
    ev = functools.partial(_evaluate, lp, P, opts, _consts(lp, opts), max_iters)

    def body(carry):
        st, r = carry
        n = jnp.minimum(opts.eval_every, max_iters - st.k)
        if first is not False:
            n = jnp.where(first & (r == 0), 0, n)
        st = lax.fori_loop(0, n, lambda _, s: _step(P, opts, s), st)
        return ev(st), r + 1

    def cond(carry):
        st, r = carry
        go = st.status == RUNNING
        if first is not False:
            go = go | (first & (r == 0))
        if rounds is None:
            return go
        return go & (r < rounds + jnp.asarray(first, jnp.int32))  # the evaluation-only round is extra

    st, _ = lax.while_loop(cond, body, (st, jnp.zeros((), jnp.int32)))
    return st


def _solve_impl(lp: LP, opts: PDHG, max_iters, warm):
    P, st = _start(lp, opts, warm)
    return _finish(lp, P, opts, _advance(lp, P, opts, max_iters, st, first=True))


@functools.partial(jax.jit, static_argnames=("options",))
def _solve_jit(lp, options, max_iters, warm_start):
    return _solve_impl(lp, options, max_iters, warm_start)


def solve(lp: LP, options: PDHG | None = None, *, max_iters=None, warm_start: WarmStart | None = None) -> Solution:
    """Solve one LP with restarted average PDHG (``vmap`` it for a batch of one shape).

    Args:
        lp: the :class:`jaxor.lp.LP` (``[m, n]``).
        options: :class:`PDHG` (static; default ``PDHG()``: eps 1e-4 relative, l2 norms).
        max_iters: iteration cap, an int or a traced int32 scalar (default ``options.max_iters``).
            Iterations are counted in whole ``eval_every`` blocks except the last.
        warm_start: a :class:`WarmStart` from an earlier :class:`Solution` (``sol.warm_start``): the
            point and the step size / primal weight of a problem with the same ``A`` scaling.

    Returns:
        :class:`jaxor.lp.Solution`; infeasible or unbounded problems return a status, never raise.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxor.lp import LP, solve, PDHG
        >>> lp = LP(c=jnp.array([-1.0, -1.0]), A=jnp.array([[1.0, 2.0]]), hi=jnp.array([4.0]), u=3.0)
        >>> sol = solve(lp, PDHG(eps_rel=1e-6, eps_abs=1e-6))
        >>> sol.status_name, round(float(sol.objective), 3)
        ('optimal', -3.5)
    """
    options, mi = check_args(lp, options, max_iters)
    return _solve_jit(lp, options, mi, warm_start)


def check_args(lp, options, max_iters):
    """Boundary checks shared by the solve entry points: ``(options, max_iters as int32)``."""
    if not isinstance(lp, LP):
        raise ValueError(f"lp must be a jaxor.lp.LP; got {type(lp).__name__}")
    options = PDHG() if options is None else options
    if not isinstance(options, PDHG):
        raise ValueError(f"options must be a jaxor.lp.PDHG; got {type(options).__name__}")
    mi = options.max_iters if max_iters is None else max_iters
    if not isinstance(mi, jax.core.Tracer) and np.any(np.asarray(mi) < 0):
        raise ValueError(f"max_iters must be >= 0; got {mi}")
    return options, jnp.asarray(mi, jnp.int32)
