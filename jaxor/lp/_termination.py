"""Residuals, the relative KKT test and infeasibility certificates for row-bounded LPs (PDLP section 3).

All functions are pure, per problem (use ``vmap`` for batches), and take the products ``A x`` and
``A^T y`` from the caller so that no matrix product is recomputed here.

Saddle form: ``min_x max_y  c.x - y.(A x) + p(y)`` with ``p(y) = sum_i lo_i y_i^+ - hi_i y_i^-`` and
``x`` in ``[l, u]``. Reduced costs ``rc = c - A^T y``; the part of ``rc`` a finite variable bound can
absorb is ``z`` (positive part where ``l`` is finite, negative part where ``u`` is finite), the rest is
the dual residual. This is HiGHS's sign convention: ``y_i >= 0`` at a lower row bound, ``z_j >= 0`` at
a lower variable bound (minimisation).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

__all__ = ["Residuals", "residuals", "bound_norm", "primal_infeasibility", "dual_infeasibility"]


class Residuals(NamedTuple):
    primal: jnp.ndarray       # shape=(), norm of A x - proj_[lo, hi](A x)
    dual: jnp.ndarray         # shape=(), norm of rc - z
    primal_obj: jnp.ndarray   # shape=()
    dual_obj: jnp.ndarray     # shape=()


def _fin(v):
    return jnp.where(jnp.isfinite(v), v, 0.0)


def norm(v, kind: str):
    if v.shape[-1] == 0:
        return jnp.zeros((), v.dtype)
    return jnp.max(jnp.abs(v)) if kind == "linf" else jnp.sqrt(jnp.sum(v * v))


def split_reduced_costs(rc, l, u):
    """``(z, residual)``: the part of ``rc`` that finite bounds absorb, and the rest."""
    z = jnp.where((rc > 0) & jnp.isfinite(l), rc, 0.0) + jnp.where((rc < 0) & jnp.isfinite(u), rc, 0.0)
    return z, rc - z


def row_dual_value(y, lo, hi):
    """``p(y) = sum_i lo_i y_i^+ - hi_i y_i^-`` with infinite bounds contributing nothing."""
    return jnp.sum(jnp.where(y > 0, _fin(lo) * y, _fin(hi) * y))


def residuals(c, c0, lo, hi, l, u, x, y, Ax, ATy, kind: str = "l2") -> Residuals:
    """Primal residual, dual residual and both objectives of the point ``(x, y)``."""
    rp = Ax - jnp.clip(Ax, lo, hi)
    rc = c - ATy
    z, rd = split_reduced_costs(rc, l, u)
    # y of the wrong sign for an infinite row bound is dual infeasibility too.
    ry = jnp.where(jnp.isfinite(lo), 0.0, jnp.maximum(y, 0.0)) + jnp.where(jnp.isfinite(hi), 0.0, jnp.minimum(y, 0.0))
    pobj = c @ x + c0
    dobj = row_dual_value(y, lo, hi) + jnp.sum(jnp.where(z > 0, _fin(l) * z, _fin(u) * z)) + c0
    rd_n = norm(rd, kind)
    if ry.shape[-1]:
        rd_n = jnp.sqrt(rd_n ** 2 + norm(ry, kind) ** 2) if kind == "l2" else jnp.maximum(rd_n, norm(ry, kind))
    return Residuals(norm(rp, kind), rd_n, pobj, dobj)


def bound_norm(lo, hi, kind: str = "l2"):
    """Norm of the right-hand side: per row the larger finite bound magnitude (PDLP's combined bounds)."""
    b = jnp.maximum(jnp.abs(_fin(lo)), jnp.abs(_fin(hi)))
    return norm(b, kind)


def converged(res: Residuals, c_norm, b_norm, eps_abs, eps_rel):
    """PDLP's relative KKT test: each of primal residual, dual residual and gap below abs + rel * scale."""
    gap = jnp.abs(res.primal_obj - res.dual_obj)
    return ((res.primal <= eps_abs + eps_rel * b_norm)
            & (res.dual <= eps_abs + eps_rel * c_norm)
            & (gap <= eps_abs + eps_rel * (jnp.abs(res.primal_obj) + jnp.abs(res.dual_obj))))


def primal_infeasibility(lo, hi, l, u, y_ray, ATy_ray, eps, obj_tol, data_scale):
    """True when ``y_ray`` certifies primal infeasibility (a dual ray).

    ``g(y) = p(y) + min_{x in [l, u]} -(A^T y).x`` is positive for a certificate and at most 0 for every
    ``y`` when the primal is feasible (weak duality). Accept when ``g`` exceeds ``obj_tol`` relative to
    ``||y||_inf * data_scale`` (rounding cannot reach that) and the ray's infeasibility (wrong-sign parts
    against infinite bounds) is at most ``eps * g``.
    """
    rc = -ATy_ray
    z, rd = split_reduced_costs(rc, l, u)
    ry = jnp.where(jnp.isfinite(lo), 0.0, jnp.maximum(y_ray, 0.0)) + jnp.where(jnp.isfinite(hi), 0.0,
                                                                             jnp.minimum(y_ray, 0.0))
    g = row_dual_value(y_ray, lo, hi) + jnp.sum(jnp.where(z > 0, _fin(l) * z, _fin(u) * z))
    bad = jnp.maximum(norm(rd, "linf"), norm(ry, "linf"))
    ysz = norm(y_ray, "linf")
    return (ysz > 0) & (g > obj_tol * ysz * data_scale) & (bad <= eps * g)


def dual_infeasibility(c, lo, hi, l, u, x_ray, Ax_ray, eps, obj_tol, data_scale):
    """True when ``x_ray`` certifies dual infeasibility (a primal ray ``d``: ``c.d < 0``, ``A d`` and ``d``
    in the recession cones of the row and variable bounds)."""
    cd = c @ x_ray
    va = (jnp.where(jnp.isfinite(lo), jnp.maximum(-Ax_ray, 0.0), 0.0)
          + jnp.where(jnp.isfinite(hi), jnp.maximum(Ax_ray, 0.0), 0.0))
    vx = (jnp.where(jnp.isfinite(l), jnp.maximum(-x_ray, 0.0), 0.0)
          + jnp.where(jnp.isfinite(u), jnp.maximum(x_ray, 0.0), 0.0))
    bad = jnp.maximum(norm(va, "linf"), norm(vx, "linf"))
    xsz = norm(x_ray, "linf")
    return (xsz > 0) & (-cd > obj_tol * xsz * data_scale) & (bad <= eps * (-cd))
