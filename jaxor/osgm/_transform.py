"""Online scaled gradient methods (OSGM) as an optax gradient transformation.

OSGM takes the step ``x+ = x - P g (+ beta (x - x_prev))`` and learns the scaling ``P`` (and the
heavy-ball weight ``beta``) online: after every step a *feedback* function scores the ``P`` just used,
and an online learner (AdaGrad by default) moves ``P`` against the feedback's gradient.

References:
    Gao, Chu, Ye, Udell, `Gradient Methods with Online Scaling <https://arxiv.org/abs/2411.01803>`_, 2024
    (OSGM-R / OSGM-G / OSGM-H, feedback functions of Section 2).
    Gao, Chu, Ye, Udell, `Gradient Methods with Online Scaling Part I. Theoretical Foundations
    <https://arxiv.org/abs/2505.23081>`_, 2025 (hypergradient feedback, null-step safeguard).
    Chu, Gao, Ye, Udell, `Provable and Practical Online Learning Rate Adaptation with Hypergradient
    Descent <https://arxiv.org/abs/2502.11229>`_, 2025 (HDM, learned heavy-ball momentum).
    Chu, Gao, Ye, Udell, `Gradient Methods with Online Scaling Part II. Practical Aspects
    <https://arxiv.org/abs/2509.11007>`_, 2025 (OSGM-Best).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optax._src import base as _optax_base

__all__ = ["ScaleByOSGMState", "scale_by_osgm", "osgm", "osgm_anchor"]

FEEDBACKS = ("hypergradient", "ratio", "gradient_norm")
LEARNERS = ("adagrad", "ogd")
PRECONDITIONERS = ("diagonal", "scalar")
_ADAGRAD_EPS = 1e-12


class ScaleByOSGMState(NamedTuple):
    """State of :func:`scale_by_osgm`.

    The params handed to ``update`` are the *trial* point ``x+`` of the previous step; the state keeps
    the accepted iterate (the anchor) it was taken from, so a rejected trial can be undone.
    """

    count: jax.Array  # shape=(), dtype=int32: number of update calls
    n_null: jax.Array  # shape=(), dtype=int32: rejected trials (null steps)
    n_nonfinite: jax.Array  # shape=(), dtype=int32: skipped steps with a NaN/Inf gradient (or HVP)
    has_anchor: jax.Array  # shape=(), dtype=bool: an accepted iterate exists
    x: optax.Params  # anchor x (accepted iterate), params dtype
    g: optax.Updates  # gradient at x, params dtype
    m: Any  # x - x_prev (params dtype) when momentum is on, else None
    f: jax.Array  # shape=(), f(x) (0 until known; stays 0 when no `value` is passed), accumulation dtype
    gnorm2: jax.Array  # shape=(), ||g||^2, accumulation dtype
    p: Any  # P: a scalar, or a pytree like params (dtype at least float32)
    p_acc: Any  # AdaGrad accumulator G, same structure as p
    beta: jax.Array  # shape=(), heavy-ball weight (unused when momentum is off)
    beta_acc: jax.Array  # shape=(), AdaGrad accumulator of beta
    z: jax.Array  # shape=(), lower bound on f* used by the ratio feedback (0 until the first value)


def _acc_dtype(dtype) -> jnp.dtype:
    return jnp.promote_types(jnp.float32, dtype)


def _tree_acc_dtype(tree) -> jnp.dtype:
    leaves = jax.tree.leaves(tree)
    out = jnp.dtype(jnp.float32)
    for leaf in leaves:
        out = jnp.promote_types(out, jnp.asarray(leaf).dtype)
    return out


def _vdot(a, b, dtype) -> jax.Array:
    """sum_i <a_i, b_i> over leaves, accumulated in ``dtype`` (at least float32)."""
    parts = [jnp.sum(x.astype(dtype) * y.astype(dtype)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b),
                                                                         strict=True)]
    return sum(parts, jnp.zeros((), dtype))


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.asarray(True)


def _check_number(name: str, value, *, low: float | None = None, low_open: bool = False,
                  high: float | None = None, allow_none: bool = False) -> None:
    """Raise ValueError for a Python/NumPy number out of range; traced values are not checked."""
    if value is None:
        if allow_none:
            return
        raise ValueError(f"{name}=None is not allowed")
    if callable(value) or isinstance(value, jax.core.Tracer):
        return
    try:
        v = float(np.asarray(value))
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a number") from None
    if not np.isfinite(v) and not (high is None and v == np.inf and name == "p_max"):
        raise ValueError(f"{name}={value!r} must be finite")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name}={value!r} must be {'>' if low_open else '>='} {low}")
    if high is not None and v > high:
        raise ValueError(f"{name}={value!r} must be <= {high}")


def scale_by_osgm(
    learning_rate: optax.ScalarOrSchedule = 1e-2,
    *,
    preconditioner: str = "diagonal",
    feedback: str = "hypergradient",
    learner: str = "adagrad",
    momentum: bool = False,
    beta_init: float = 0.95,
    beta_learning_rate: float = 1.0,
    beta_max: float = 0.9995,
    p_init: float = 0.0,
    p_max: float | None = None,
    eps: float = 1e-12,
    safeguard: bool | None = None,
    f_lower_bound: float | None = None,
    nonfinite_shrink: float = 0.5,
) -> optax.GradientTransformationExtraArgs:
    r"""Online scaled gradient step: learns a (diagonal or scalar) step size ``P`` while optimizing.

    With ``g = grad f(x)`` at the accepted iterate ``x`` and ``m = x - x_prev``, the trial point is

    .. math::

        x^+ = x - P \odot g + \beta m .

    The next ``update`` receives ``g^+ = \nabla f(x^+)`` (and optionally ``value = f(x^+)``) and

    1. scores ``P`` with a feedback whose gradient is (``D = ||g||^2 + eps``)

       * ``"hypergradient"`` (OSGM-H / HDM): :math:`h = (f(x^+) - f(x)) / ||g||^2`,
         :math:`\nabla_P h = -g^+ \odot g / D` (``-<g^+, g>/D`` for scalar ``P``),
         :math:`\partial_\beta h = <g^+, m> / D`;
       * ``"ratio"`` (OSGM-R): :math:`(f(x^+) - z)/(f(x) - z)`, gradient :math:`-g^+ \odot g/(f(x) - z)`,
         with ``z = f_lower_bound`` or, when that is None, the adaptive lower bound ``z = f(x_0) - 0.1``,
         lowered to ``f - min(0.01 (z - f), 1)`` whenever ``f < z``; needs ``value``;
       * ``"gradient_norm"`` (OSGM-G): :math:`||g^+||/||g||`, gradient
         :math:`-(H g^+) \odot g / (||g|| ||g^+||)` with ``H`` the Hessian at ``x^+``; needs ``hvp_fn``;

    2. takes an online-learner step on ``P`` (and ``beta`` when ``momentum``):
       AdaGrad :math:`G \leftarrow G + (\nabla_P h)^2,\ P \leftarrow \mathrm{clip}(P - \eta \nabla_P h /
       (\sqrt{G} + 10^{-12}), 0, p_{max})`, or plain online gradient descent (``learner="ogd"``);
       ``beta`` is clipped to ``[0, beta_max]``;

    3. accepts ``x^+`` as the new iterate, or, with the null-step safeguard, only if
       ``f(x^+) < f(x)`` (otherwise it stays at ``x`` and zeroes the next momentum term);

    4. returns ``updates = x_{new}^+ - params`` so that ``optax.apply_updates`` lands on the next trial
       point (undoing a rejected one).

    One gradient per step: the trial point's gradient is the one the next ``update`` receives.

    Args:
        learning_rate: the online learner's step size :math:`\eta` on ``P`` (a float or a schedule of the
            update count). It is *not* a step size on the parameters: ``P`` is learned, starting at
            ``p_init``. A good value is about ``1/L`` for an ``L``-smooth objective.
        preconditioner: ``"diagonal"`` (``P`` has the shape of the params) or ``"scalar"``.
        feedback: ``"hypergradient"`` (default; needs nothing), ``"ratio"`` (needs ``value``) or
            ``"gradient_norm"`` (needs ``hvp_fn``).
        learner: ``"adagrad"`` (elementwise AdaGrad, the reference code's choice) or ``"ogd"``.
        momentum: learn a heavy-ball weight ``beta`` online (HDM-HB / OSGM-Best). Off by default.
        beta_init: initial ``beta`` (0.95, the reference code's value).
        beta_learning_rate: AdaGrad (or OGD) step size on ``beta``.
        beta_max: upper clip of ``beta`` (0.9995).
        p_init: initial ``P`` (0, as in every reference implementation: the first trial repeats ``x0``).
        p_max: upper clip of ``P`` (None: no upper clip).
        eps: added to ``||g||^2`` in the hypergradient denominator (the reference code's 1e-12). It is an
            absolute scale: once ``||g||^2`` falls well below ``eps`` the feedback, and so the learning of ``P``,
            fades; pass 0 to keep learning at any gradient scale (the feedback itself is scale-free).
        safeguard: the null-step test. None (default) uses it exactly when ``value`` is passed: stochastic
            training compares ``f`` across minibatches, which is meaningless, so pass ``value`` only for
            full-batch (deterministic) objectives. True requires ``value``; False never tests.
        f_lower_bound: ``f*`` or a lower bound for the ratio feedback (None: adaptive bound, see above).
        nonfinite_shrink: a NaN/Inf gradient skips the step: the learner and the iterate are unchanged,
            the next trial restarts from the anchor without momentum with ``P`` multiplied by this
            factor (so a deterministic run does not hit the same bad point again), and
            ``state.n_nonfinite`` counts it. jaxor's choice (the papers do not discuss it).

    Returns:
        An ``optax.GradientTransformationExtraArgs``. ``update(updates, state, params, *, value=None,
        hvp_fn=None, **extra_args)``: ``updates`` is the gradient at ``params`` (the trial point),
        ``value`` the objective there (a scalar), ``hvp_fn(params, v)`` a Hessian-vector product at
        ``params``; other extra arguments are ignored.

    Examples:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxor.osgm import scale_by_osgm, osgm_anchor
        >>> f = lambda x: jnp.sum(jnp.array([1.0, 4.0]) * x ** 2)
        >>> opt = scale_by_osgm(0.1)
        >>> x = jnp.array([1.0, 1.0]); state = opt.init(x)
        >>> for _ in range(100):
        ...     v, g = jax.value_and_grad(f)(x)
        ...     u, state = opt.update(g, state, x, value=v)
        ...     x = optax.apply_updates(x, u)
        >>> bool(f(osgm_anchor(state)) < 1e-6)
        True

    .. warning::
        With ``safeguard`` on, the params after ``apply_updates`` are the next *trial* point, which may
        be rejected; :func:`osgm_anchor` gives the best accepted iterate.

    References:
        Gao et al, `Gradient Methods with Online Scaling <https://arxiv.org/abs/2411.01803>`_, 2024;
        Chu et al, `Provable and Practical Online Learning Rate Adaptation with Hypergradient Descent
        <https://arxiv.org/abs/2502.11229>`_, 2025 (heavy-ball variant, Section 5);
        Chu et al, `Gradient Methods with Online Scaling Part II <https://arxiv.org/abs/2509.11007>`_, 2025.
    """
    if preconditioner not in PRECONDITIONERS:
        raise ValueError(f"preconditioner={preconditioner!r} must be one of {PRECONDITIONERS}")
    if feedback not in FEEDBACKS:
        raise ValueError(f"feedback={feedback!r} must be one of {FEEDBACKS}")
    if learner not in LEARNERS:
        raise ValueError(f"learner={learner!r} must be one of {LEARNERS}")
    if safeguard not in (None, True, False):
        raise ValueError(f"safeguard={safeguard!r} must be None, True or False")
    _check_number("learning_rate", learning_rate, low=0.0, low_open=True)
    _check_number("beta_init", beta_init, low=0.0, high=1.0)
    _check_number("beta_learning_rate", beta_learning_rate, low=0.0)
    _check_number("beta_max", beta_max, low=0.0, high=1.0)
    _check_number("p_init", p_init, low=0.0)
    _check_number("p_max", p_max, low=0.0, low_open=True, allow_none=True)
    _check_number("eps", eps, low=0.0)
    _check_number("f_lower_bound", f_lower_bound, allow_none=True)
    _check_number("nonfinite_shrink", nonfinite_shrink, low=0.0, high=1.0)
    if (not callable(learning_rate) and not isinstance(learning_rate, jax.core.Tracer) and p_max is not None
            and not isinstance(p_max, jax.core.Tracer) and not isinstance(p_init, jax.core.Tracer)
            and float(np.asarray(p_init)) > float(np.asarray(p_max))):
        raise ValueError(f"p_init={p_init!r} must be <= p_max={p_max!r}")
    diagonal = preconditioner == "diagonal"

    def init_fn(params):
        acc = _tree_acc_dtype(params)
        if diagonal:
            p = jax.tree.map(lambda x: jnp.full(jnp.shape(x), p_init, _acc_dtype(x.dtype)), params)
            p_acc = jax.tree.map(lambda x: jnp.zeros(jnp.shape(x), _acc_dtype(x.dtype)), params)
        else:
            p = jnp.asarray(p_init, acc)
            p_acc = jnp.zeros((), acc)
        zeros = jax.tree.map(jnp.zeros_like, params)
        return ScaleByOSGMState(
            count=jnp.zeros([], jnp.int32), n_null=jnp.zeros([], jnp.int32),
            n_nonfinite=jnp.zeros([], jnp.int32), has_anchor=jnp.asarray(False),
            x=jax.tree.map(jnp.asarray, params), g=zeros,
            m=jax.tree.map(jnp.zeros_like, params) if momentum else None,
            f=jnp.zeros((), acc), gnorm2=jnp.zeros((), acc), p=p, p_acc=p_acc,
            beta=jnp.asarray(beta_init, acc), beta_acc=jnp.zeros((), acc), z=jnp.zeros((), acc))

    def update_fn(updates, state, params=None, *, value=None, hvp_fn=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError(_optax_base.NO_PARAMS_MSG)
        use_safeguard = (value is not None) if safeguard is None else safeguard
        if use_safeguard and value is None:
            raise ValueError("scale_by_osgm(safeguard=True) needs the objective: pass update(..., value=f(params))")
        if feedback == "ratio" and value is None:
            raise ValueError("scale_by_osgm(feedback='ratio') needs the objective: pass update(..., value=f(params))")
        if feedback == "gradient_norm" and hvp_fn is None:
            raise ValueError("scale_by_osgm(feedback='gradient_norm') needs a Hessian-vector product: pass "
                             "update(..., hvp_fn=lambda params, v: H(params) @ v)")
        acc = state.f.dtype
        gp = updates
        xp = params
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        lr = jnp.asarray(lr, acc)
        fp = jnp.asarray(0.0 if value is None else value, acc)

        ok = _all_finite(gp)
        hg_src = gp  # the vector the feedback gradient is built from: g+ or H g+
        gp_norm2 = _vdot(gp, gp, acc)
        if feedback == "gradient_norm":
            hvp = hvp_fn(xp, gp)
            ok = ok & _all_finite(hvp)
            hg_src = hvp
            denom = jnp.sqrt(state.gnorm2) * jnp.sqrt(gp_norm2) + eps
        elif feedback == "ratio":
            denom = state.f - state.z + 1e-20
        else:
            denom = state.gnorm2 + eps
        learn = ok & state.has_anchor & jnp.isfinite(denom) & (denom > 0)
        inv = jnp.where(learn, 1.0 / jnp.where(learn, denom, 1.0), 0.0).astype(acc)

        # Learner step on P (Section 2 feedback gradients; AdaGrad as in the reference code).
        def learn_step(p, gacc, grad):
            if learner == "adagrad":
                gacc_new = gacc + grad * grad
                p_new = p - lr.astype(p.dtype) * grad / (jnp.sqrt(gacc_new) + _ADAGRAD_EPS)
            else:
                gacc_new = gacc
                p_new = p - lr.astype(p.dtype) * grad
            p_new = jnp.maximum(p_new, 0.0)
            if p_max is not None:
                p_new = jnp.minimum(p_new, jnp.asarray(p_max, p.dtype))
            p_new = jnp.where(learn, p_new, jnp.where(ok, p, p * jnp.asarray(nonfinite_shrink, p.dtype)))
            return p_new.astype(p.dtype), jnp.where(learn, gacc_new, gacc).astype(gacc.dtype)

        if diagonal:
            def leaf(p, gacc, s, g):
                grad = -(jnp.where(learn, s, 0).astype(p.dtype) * g.astype(p.dtype)) * inv.astype(p.dtype)
                return learn_step(p, gacc, grad)
            pairs = jax.tree.map(leaf, state.p, state.p_acc, hg_src, state.g)
            p_new = jax.tree.map(lambda _, t: t[0], state.p, pairs)
            pacc_new = jax.tree.map(lambda _, t: t[1], state.p, pairs)
        else:
            grad = -jnp.where(learn, _vdot(hg_src, state.g, acc), 0.0) * inv
            p_new, pacc_new = learn_step(state.p, state.p_acc, grad)

        beta, beta_acc = state.beta, state.beta_acc
        if momentum:
            db = jnp.where(learn, _vdot(hg_src, state.m, acc), 0.0) * inv
            if learner == "adagrad":
                beta_acc = state.beta_acc + db * db
                beta_new = state.beta - jnp.asarray(beta_learning_rate, acc) * db / (jnp.sqrt(beta_acc) + _ADAGRAD_EPS)
            else:
                beta_new = state.beta - jnp.asarray(beta_learning_rate, acc) * db
            beta = jnp.where(learn, jnp.clip(beta_new, 0.0, jnp.asarray(beta_max, acc)), state.beta).astype(acc)
            beta_acc = jnp.where(learn, beta_acc, state.beta_acc).astype(acc)

        # Null-step safeguard (monotone oracle): accept the trial only if it decreases f.
        if use_safeguard:
            accept = ok & jnp.isfinite(fp) & (~state.has_anchor | (fp < state.f))
        else:
            accept = ok
        moved = accept & state.has_anchor  # a real step from an old anchor (momentum term is x+ - x)

        def sel(a, b):
            return jnp.where(accept, a, b).astype(b.dtype)

        x_new = jax.tree.map(sel, xp, state.x)
        g_new = jax.tree.map(sel, gp, state.g)
        f_new = jnp.where(accept, fp, state.f)
        gnorm2_new = jnp.where(accept, gp_norm2, state.gnorm2)
        z = state.z
        if feedback == "ratio":
            if f_lower_bound is not None:
                z = jnp.asarray(f_lower_bound, acc)
            else:
                first = accept & ~state.has_anchor
                lowered = f_new - jnp.minimum(0.01 * (z - f_new), 1.0)
                z = jnp.where(first, f_new - 0.1, jnp.where(f_new < z, lowered, z)).astype(acc)

        # Next trial point x+ = x - P g + beta m, returned as a displacement from params.
        if diagonal:
            step = jax.tree.map(lambda p, g: -(p * g.astype(p.dtype)), p_new, g_new)
        else:
            step = jax.tree.map(lambda g: -(p_new.astype(_acc_dtype(g.dtype)) * g.astype(_acc_dtype(g.dtype))),
                                g_new)
        m_new = None
        if momentum:
            m_new = jax.tree.map(lambda a, b, m: jnp.where(moved, a - b, jnp.zeros_like(m)).astype(m.dtype),
                                 xp, state.x, state.m)
            step = jax.tree.map(lambda s, m: s + beta.astype(s.dtype) * m.astype(s.dtype), step, m_new)
        out = jax.tree.map(
            lambda xn, s, x: jnp.where(accept, s.astype(x.dtype), (xn.astype(s.dtype) - x.astype(s.dtype) + s)
                                       .astype(x.dtype)), x_new, step, xp)

        new_state = ScaleByOSGMState(
            count=optax.safe_increment(state.count),
            n_null=state.n_null + jnp.where(ok & ~accept, 1, 0).astype(jnp.int32),
            n_nonfinite=state.n_nonfinite + jnp.where(ok, 0, 1).astype(jnp.int32),
            has_anchor=state.has_anchor | accept,
            x=x_new, g=g_new, m=m_new, f=f_new.astype(acc), gnorm2=gnorm2_new.astype(acc),
            p=p_new, p_acc=pacc_new, beta=beta, beta_acc=beta_acc, z=z)
        return out, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


osgm = functools.partial(scale_by_osgm, momentum=True)
osgm.__doc__ = r"""The ready OSGM optimizer: :func:`scale_by_osgm` with learned heavy-ball momentum on by default.

``scale_by_osgm`` already returns the full signed step (the learned ``P`` plays the role of the step
size), so no ``scale_by_learning_rate`` follows it; ``learning_rate`` is the online learner's step
size on ``P`` (about ``1/L``).

.. warning::
    Unlike ``optax.sgd``'s ``learning_rate``, this is the hyper-learning-rate of the step size, not
    the step size itself.

Args:
    learning_rate: step size of the learner on ``P`` (float or schedule).
    **kwargs: as in :func:`scale_by_osgm`; ``momentum`` defaults to True here (OSGM-Best's heavy ball).

Returns:
    An ``optax.GradientTransformationExtraArgs``.

Examples:
    >>> import jax, jax.numpy as jnp, optax
    >>> from jaxor.osgm import osgm
    >>> opt = osgm(0.05)
    >>> params = {"w": jnp.ones(3)}
    >>> state = opt.init(params)
    >>> loss = lambda p: jnp.sum((p["w"] - 2.0) ** 2)
    >>> for _ in range(300):
    ...     updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...     params = optax.apply_updates(params, updates)
    >>> bool(loss(params) < 1e-3)
    True

References:
    Chu et al, `Gradient Methods with Online Scaling Part II <https://arxiv.org/abs/2509.11007>`_, 2025.
"""


def osgm_anchor(state: Any) -> optax.Params:
    """The last accepted iterate held in a :class:`ScaleByOSGMState` (searched inside chains/wrappers).

    Args:
        state: an optimizer state that contains exactly one :class:`ScaleByOSGMState`.

    Returns:
        The anchor params (the best accepted point under the null-step safeguard).
    """
    found = [s for s in jax.tree.leaves(state, is_leaf=lambda s: isinstance(s, ScaleByOSGMState))
             if isinstance(s, ScaleByOSGMState)]
    if len(found) != 1:
        raise ValueError(f"state must contain exactly one ScaleByOSGMState; found {len(found)}")
    return found[0].x

