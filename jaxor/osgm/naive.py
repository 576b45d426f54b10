"""Plain NumPy reference of the OSGM recurrence (arXiv 2411.01803, 2502.11229), for tests.

A literal float64 loop over one flat vector that reads like the papers: trial point, feedback
gradient, AdaGrad (or OGD) step on ``P`` and ``beta``, null-step test. It mirrors what
:func:`jaxor.osgm.scale_by_osgm` computes when driven by a full-batch loop, without optax or jit.
Not exported from ``jaxor.osgm``; tests import it directly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["osgm_reference"]


def osgm_reference(
    value_fn: Callable[[np.ndarray], float],
    grad_fn: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    steps: int,
    *,
    learning_rate: float,
    diagonal: bool = True,
    feedback: str = "hypergradient",
    learner: str = "adagrad",
    momentum: bool = False,
    beta_init: float = 0.95,
    beta_learning_rate: float = 1.0,
    beta_max: float = 0.9995,
    p_init: float = 0.0,
    p_max: float = np.inf,
    eps: float = 1e-12,
    safeguard: bool = True,
    hvp_fn: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Run ``steps`` gradient evaluations of OSGM from ``x0``; return trial points, anchors and ``P``.

    Args:
        value_fn, grad_fn: ``f`` and ``grad f`` on a flat float64 vector ``[n]``.
        x0: ``[n]`` initial point.
        steps: number of gradient evaluations (= calls of the transform's ``update``).
        other args: as in :func:`jaxor.osgm.scale_by_osgm` (``p_max=inf`` means no clip).

    Returns:
        dict with ``trials`` ``[steps + 1, n]`` (the points where gradients are evaluated, x0 first),
        ``anchors`` ``[steps, n]`` (accepted iterate after each call), ``p`` (final ``P``), ``beta``,
        ``n_null``.
    """
    x0 = np.asarray(x0, np.float64)
    n = x0.size
    p = np.full(n, p_init) if diagonal else np.float64(p_init)
    gacc = np.zeros(n) if diagonal else 0.0
    beta, bacc = beta_init, 0.0
    x = g = m = None
    f = np.inf
    z = np.inf
    trial = x0.copy()
    trials, anchors = [trial.copy()], []
    n_null = 0
    for _ in range(steps):
        gp, fp = grad_fn(trial), value_fn(trial)
        if x is None:  # first call: the trial is the first anchor; nothing to learn yet
            x, g, f, m = trial.copy(), gp, fp, np.zeros(n)
            z = f - 0.1
        else:
            src = hvp_fn(trial, gp) if feedback == "gradient_norm" else gp
            if feedback == "ratio":
                denom = f - z + 1e-20
            elif feedback == "gradient_norm":
                denom = np.linalg.norm(g) * np.linalg.norm(gp) + eps
            else:
                denom = g @ g + eps
            grad_p = -(src * g) / denom if diagonal else -(src @ g) / denom
            if learner == "adagrad":
                gacc = gacc + grad_p ** 2
                p = p - learning_rate * grad_p / (np.sqrt(gacc) + 1e-12)
            else:
                p = p - learning_rate * grad_p
            p = np.clip(p, 0.0, p_max)
            if momentum:
                db = (src @ m) / denom
                if learner == "adagrad":
                    bacc += db ** 2
                    beta = beta - beta_learning_rate * db / (np.sqrt(bacc) + 1e-12)
                else:
                    beta = beta - beta_learning_rate * db
                beta = float(np.clip(beta, 0.0, beta_max))
            if (not safeguard) or fp < f:  # accept: x_prev <- x, x <- x+
                m = trial - x
                x, g, f = trial.copy(), gp, fp
            else:  # null step: stay, next momentum term is zero
                m = np.zeros(n)
                n_null += 1
            if feedback == "ratio" and f < z:
                z = f - min(0.01 * (z - f), 1.0)
        trial = x - p * g + (beta * m if momentum else 0.0)
        trials.append(trial.copy())
        anchors.append(x.copy())
    return {"trials": np.asarray(trials), "anchors": np.asarray(anchors), "p": np.asarray(p), "beta": beta,
            "n_null": n_null}
