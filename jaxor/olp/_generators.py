"""Order generators for online linear programming, jittable from a PRNG key.

An order at period ``t`` of an ``n``-period horizon is a reward ``r_t`` (scalar) and a consumption
vector ``a_t [m]``; the budget is ``b = n d``. Every generator draws one order from
``(key_t, t, n)`` with ``key_t = fold_in(key, t)``, so a rollout samples *inside* its ``lax.scan``
(no ``[n, m]`` array is materialised), while :meth:`AbstractGenerator.draw` returns the very same
orders as arrays (``vmap`` over ``t``) for the hindsight LP and for the re-solving policies.

Families (setting of Li & Ye, arXiv 1909.05499; Gao et al., arXiv 2501.02761; Xu et al., arXiv
2603.14673):

* :class:`Acceptance`: continuous support, ``a ~ U[0, 2]^m``, ``r ~ U[0, 1]`` (+ optional Gaussian
  noise), ``d = 0.25``: every constraint binds and every optimal price is positive
  (:func:`fluid_price` checks ``p* > 0`` by a large-sample dual solve).
* :class:`FiniteSupport`: ``K`` order types drawn with fixed probabilities (sharp dual, growth
  exponent 1).
* :class:`Nonstationary`: the acceptance family with a time-varying reward scale (``"drift"``,
  ``"periodic"``, ``"shocks"``); each period has its own distribution, and the single-sample setting
  of Xu et al. gives one independent draw per period (``draw`` with another key).
* :class:`NetworkRM`: hub-and-spoke network revenue management; legs are resources, itineraries x
  fare classes are products; arrival probabilities vary over the horizon (low fares early, high
  late); at most one request per period (``r = 0, a = 0`` when none arrives).
* :class:`LiYeInput`: Li & Ye's random inputs I and II, stress tests only (input I is degenerate:
  a binding constraint with zero price; input II has negative consumption).
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from jaxor.olp._philox import philox_key, philox_uniforms

__all__ = ["AbstractGenerator", "Acceptance", "FiniteSupport", "Nonstationary", "NetworkRM", "LiYeInput",
           "fluid_price"]


def _float():
    return jnp.result_type(float)


def _check_d(d, m: int) -> jax.Array:
    d_arr = np.asarray(d, dtype=np.float64)
    if d_arr.ndim == 0:
        d_arr = np.full((m,), float(d_arr))
    if d_arr.shape != (m,):
        raise ValueError(f"d must be a scalar or have shape ({m},); got shape {d_arr.shape}")
    if not np.all(np.isfinite(d_arr)) or np.any(d_arr < 0):
        raise ValueError(f"d (the per-period budget) must be finite and nonnegative; got {d_arr.tolist()}")
    return jnp.asarray(d_arr, dtype=_float())


def _check_m(m) -> int:
    if int(m) != m or m < 1:
        raise ValueError(f"m (number of resources) must be an integer >= 1; got {m!r}")
    return int(m)


class AbstractGenerator(eqx.Module):
    """A family of order distributions: ``sample(key, t, n) -> (r [], a [m])``.

    Attributes:
        d: per-period budget ``[m]``; the budget of an ``n``-period horizon is ``n d``.
        m: number of resources (static).
    """

    d: eqx.AbstractVar[jax.Array]
    m: eqx.AbstractVar[int]

    @abc.abstractmethod
    def sample(self, key: jax.Array, t, n: int) -> tuple[jax.Array, jax.Array]:
        """One order ``(r [], a [m])`` of period ``t`` of an ``n``-period horizon, drawn from ``key``."""

    #: uniforms per order consumed by :meth:`from_uniforms` (``None``: ``rng="philox"`` unsupported).
    n_uniforms = None

    def from_uniforms(self, u: jax.Array, t, n: int) -> tuple[jax.Array, jax.Array]:
        """Orders from uniforms (``rng="philox"``): ``u [n_uniforms, *batch]`` in ``[0, 1)``, ``t``
        broadcastable to ``batch``; returns ``r [*batch]``, ``a [m, *batch]`` (elementwise in the
        batch, so the caller's layout is kept)."""
        raise ValueError(f"{type(self).__name__} has no uniform-based sampler: rng='philox' is not supported")

    def order(self, key: jax.Array, t, n: int) -> tuple[jax.Array, jax.Array]:
        """The order of period ``t``: ``sample(fold_in(key, t), t, n)`` (what a rollout sees)."""
        return self.sample(jax.random.fold_in(key, t), t, n)

    def orders(self, key: jax.Array, ts: jax.Array, n: int, rng: str = "threefry"):
        """The orders of periods ``ts [C]``: ``r [C]``, ``a [C, m]``.

        ``rng="threefry"``: :meth:`order` per period (JAX's PRNG, whatever the key's implementation).
        ``rng="philox"``: the opt-in Philox-4x32-10 simulation generator
        (:mod:`jaxor.olp._philox`) keyed from ``key``: order ``t`` is :meth:`from_uniforms` of
        ``philox_uniforms(philox_key(key), t, n_uniforms)``.
        """
        if check_rng(rng, self) == "threefry":
            return jax.vmap(lambda t: self.order(key, t, n))(ts)
        r, a = self.from_uniforms(philox_uniforms(philox_key(key), ts, self.n_uniforms, _float()), ts, n)
        return r, jnp.moveaxis(a, 0, -1)

    def draw(self, key: jax.Array, n: int, rng: str = "threefry") -> tuple[jax.Array, jax.Array]:
        """All ``n`` orders as arrays: ``r [n]``, ``a [n, m]`` (the same values a rollout with this
        ``rng`` sees)."""
        n = _check_n(n)
        return self.orders(key, jnp.arange(n), n, rng)

    def budget(self, n: int) -> jax.Array:
        """``b = n d``: ``[m]``."""
        return _check_n(n) * self.d


RNGS = ("threefry", "philox")


def check_rng(rng, gen=None) -> str:
    """Validate ``rng`` (``"threefry"`` or ``"philox"``) and, for ``"philox"``, that ``gen`` supports it."""
    if rng not in RNGS:
        raise ValueError(f"rng must be one of {RNGS}; got {rng!r}")
    if rng == "philox" and gen is not None and gen.n_uniforms is None:
        raise ValueError(f"rng='philox' is not supported by {type(gen).__name__} (no from_uniforms); use 'threefry'")
    return rng


def _check_n(n) -> int:
    if isinstance(n, (jax.Array, np.ndarray)) and np.ndim(n) == 0:
        n = int(n)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (the horizon) must be an integer >= 1; got {n!r}")
    return int(n)


class Acceptance(AbstractGenerator):
    """Continuous acceptance family: ``a ~ U[0, a_max]^m``, ``r ~ U[0, 1] + noise * N(0, 1)``.

    With the defaults (``a_max = 2``, ``d = 0.25``) accepting everything would use ``E a_i = 1 > d``
    of each resource, so every constraint binds, and the fluid prices are all positive (checked by
    :func:`fluid_price`): the non-degenerate regime of Li & Ye and Gao et al.

    Args:
        m: number of resources.
        d: per-period budget (scalar or ``[m]``), default 0.25.
        a_max: consumption upper bound, default 2.
        noise: standard deviation of Gaussian noise added to ``r``, default 0.

    Examples:
        >>> import jax
        >>> gen = Acceptance(m=4)
        >>> r, a = gen.draw(jax.random.PRNGKey(0), 10)
        >>> r.shape, a.shape
        ((10,), (10, 4))
    """

    d: jax.Array
    m: int = eqx.field(static=True)
    a_max: float = eqx.field(static=True)
    noise: float = eqx.field(static=True)

    def __init__(self, m: int = 4, d=0.25, a_max: float = 2.0, noise: float = 0.0):
        self.m = _check_m(m)
        self.d = _check_d(d, self.m)
        if not a_max > 0:
            raise ValueError(f"a_max must be positive; got {a_max}")
        if not noise >= 0:
            raise ValueError(f"noise must be nonnegative; got {noise}")
        self.a_max = float(a_max)
        self.noise = float(noise)

    @property
    def n_uniforms(self):
        return self.m + 1 + (2 if self.noise > 0 else 0)

    def from_uniforms(self, u, t, n):
        a = self.a_max * u[: self.m]
        r = u[self.m]
        if self.noise > 0:  # Box-Muller from two more uniforms
            z = jnp.sqrt(-2.0 * jnp.log1p(-u[self.m + 1])) * jnp.cos(2.0 * math.pi * u[self.m + 2])
            r = r + self.noise * z
        return r, a

    def sample(self, key, t, n):
        # One draw of m + 1 uniforms per order (a single PRNG call keeps in-scan sampling cheap).
        u = jax.random.uniform(key, (self.m + 1,), _float())
        a = self.a_max * u[: self.m]
        r = u[self.m]
        if self.noise > 0:
            r = r + self.noise * jax.random.normal(jax.random.fold_in(key, 1), (), _float())
        return r, a


class FiniteSupport(AbstractGenerator):
    """``K`` order types ``(r_k, a_k)`` drawn with probabilities ``probs``.

    Args:
        rewards: ``[K]``.
        consumption: ``[K, m]``.
        probs: ``[K]`` nonnegative, summing to 1.
        d: per-period budget (scalar or ``[m]``).

    The default constructor :meth:`random` draws the types from a seed.
    """

    d: jax.Array
    rewards: jax.Array
    consumption: jax.Array
    logits: jax.Array
    m: int = eqx.field(static=True)

    def __init__(self, rewards, consumption, probs, d):
        rw = np.asarray(rewards, dtype=np.float64)
        cs = np.asarray(consumption, dtype=np.float64)
        pr = np.asarray(probs, dtype=np.float64)
        if rw.ndim != 1:
            raise ValueError(f"rewards must be 1-D [K]; got shape {rw.shape}")
        if cs.ndim != 2 or cs.shape[0] != rw.shape[0]:
            raise ValueError(f"consumption must have shape [K, m] = [{rw.shape[0]}, m]; got {cs.shape}")
        if pr.shape != rw.shape:
            raise ValueError(f"probs must have shape {rw.shape} to match rewards; got {pr.shape}")
        if np.any(pr < 0) or not np.isclose(pr.sum(), 1.0):
            raise ValueError(f"probs must be nonnegative and sum to 1; got sum {pr.sum()}")
        self.m = _check_m(cs.shape[1])
        self.d = _check_d(d, self.m)
        self.rewards = jnp.asarray(rw, _float())
        self.consumption = jnp.asarray(cs, _float())
        with np.errstate(divide="ignore"):
            self.logits = jnp.asarray(np.log(pr), _float())

    @classmethod
    def random(cls, m: int = 4, K: int = 10, d=0.25, seed: int = 0) -> FiniteSupport:
        """``K`` types with ``r_k ~ U[0, 1]``, ``a_k ~ U[0, 2]^m``, probabilities ``Dirichlet(1)``."""
        if K < 1:
            raise ValueError(f"K must be >= 1; got {K}")
        rng = np.random.default_rng(seed)
        return cls(rng.uniform(0, 1, K), rng.uniform(0, 2, (K, _check_m(m))), rng.dirichlet(np.ones(K)), d)

    def sample(self, key, t, n):
        k = jax.random.categorical(key, self.logits)
        return self.rewards[k], self.consumption[k]

    n_uniforms = 1

    def from_uniforms(self, u, t, n):
        """Inverse CDF of the type distribution at ``u[0]``."""
        cdf = jnp.cumsum(jnp.exp(self.logits))
        k = jnp.minimum(jnp.searchsorted(cdf, u[0] * cdf[-1], side="right"), self.rewards.shape[0] - 1)
        return self.rewards[k], jnp.moveaxis(self.consumption[k], -1, 0)


class Nonstationary(AbstractGenerator):
    """The acceptance family with a period-dependent reward scale ``c(t / n)``.

    ``a_t ~ U[0, 2]^m`` and ``r_t ~ c(s) U[0, 1]`` with ``s = t / n`` and

    * ``"drift"``:    ``c(s) = 1 + amplitude (2 s - 1)`` (rewards rise through the horizon);
    * ``"periodic"``: ``c(s) = 1 + amplitude sin(2 pi periods s)``;
    * ``"shocks"``:   piecewise constant, ``c = 1 - amplitude, 1 + amplitude, 1 - amplitude / 2``
      on the thirds of the horizon.

    A fixed price learned from the past misprices the future, so stationary-assumption policies pay
    a regret linear in ``n``; the single-sample re-solving policy of Xu et al. sees one draw per
    period in advance (``draw`` with an independent key).

    Args:
        kind: ``"drift"``, ``"periodic"`` or ``"shocks"``.
        m: number of resources.
        d: per-period budget, default 0.25.
        amplitude: in ``[0, 1)``, default 0.6.
        periods: cycles over the horizon (``"periodic"``), default 2.
    """

    d: jax.Array
    m: int = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    amplitude: float = eqx.field(static=True)
    periods: float = eqx.field(static=True)

    def __init__(self, kind: str = "drift", m: int = 4, d=0.25, amplitude: float = 0.6, periods: float = 2.0):
        if kind not in ("drift", "periodic", "shocks"):
            raise ValueError(f"kind must be 'drift', 'periodic' or 'shocks'; got {kind!r}")
        if not 0 <= amplitude < 1:
            raise ValueError(f"amplitude must lie in [0, 1); got {amplitude}")
        self.kind = kind
        self.m = _check_m(m)
        self.d = _check_d(d, self.m)
        self.amplitude = float(amplitude)
        self.periods = float(periods)

    def scale(self, s):
        """The reward scale ``c(s)`` at horizon fraction ``s = t / n``."""
        amp = self.amplitude
        if self.kind == "drift":
            return 1.0 + amp * (2.0 * s - 1.0)
        if self.kind == "periodic":
            return 1.0 + amp * jnp.sin(2.0 * math.pi * self.periods * s)
        return jnp.where(s < 1 / 3, 1.0 - amp, jnp.where(s < 2 / 3, 1.0 + amp, 1.0 - amp / 2))

    @property
    def n_uniforms(self):
        return self.m + 1

    def from_uniforms(self, u, t, n):
        s = jnp.asarray(t, _float()) / n
        return self.scale(s) * u[self.m], 2.0 * u[: self.m]

    def sample(self, key, t, n):
        k1, k2 = jax.random.split(key)
        s = jnp.asarray(t, _float()) / n
        a = jax.random.uniform(k1, (self.m,), _float(), 0.0, 2.0)
        r = self.scale(s) * jax.random.uniform(k2, (), _float())
        return r, a


class NetworkRM(AbstractGenerator):
    """Hub-and-spoke network revenue management.

    ``spokes`` cities connect through one hub; each spoke has an inbound and an outbound leg
    (``m = 2 spokes`` resources, seat capacities ``n d``). Products are itineraries -- the
    ``2 spokes`` single legs and the ``spokes (spokes - 1)`` two-leg connections -- in two fare
    classes (low = base fare, high = ``high_ratio`` x base; base fare 1 per leg, 0.8 per leg on a
    connection). Each period at most one request arrives, with probability ``arrival``; low-fare
    demand is front-loaded and high-fare demand back-loaded: the weight of a product is
    ``1 +- tilt (1 - 2 s)`` (``s = t / n``), the classic time-varying RM arrival pattern.
    """

    d: jax.Array
    fares: jax.Array
    consumption: jax.Array
    high: jax.Array
    m: int = eqx.field(static=True)
    arrival: float = eqx.field(static=True)
    tilt: float = eqx.field(static=True)

    def __init__(self, spokes: int = 3, d=0.15, arrival: float = 0.9, high_ratio: float = 2.5, tilt: float = 0.8):
        if int(spokes) != spokes or spokes < 2:
            raise ValueError(f"spokes must be an integer >= 2; got {spokes!r}")
        if not 0 < arrival <= 1:
            raise ValueError(f"arrival must lie in (0, 1]; got {arrival}")
        if not 0 <= tilt < 1:
            raise ValueError(f"tilt must lie in [0, 1); got {tilt}")
        S = int(spokes)
        m = 2 * S  # leg 2i: spoke i -> hub, leg 2i+1: hub -> spoke i
        itins, base = [], []
        for i in range(S):
            for leg in (2 * i, 2 * i + 1):
                v = np.zeros(m)
                v[leg] = 1
                itins.append(v)
                base.append(1.0)
        for i in range(S):
            for j in range(S):
                if i != j:
                    v = np.zeros(m)
                    v[2 * i] = v[2 * j + 1] = 1
                    itins.append(v)
                    base.append(1.6)
        itins = np.array(itins)
        base = np.array(base)
        self.consumption = jnp.asarray(np.concatenate([itins, itins]), _float())
        self.fares = jnp.asarray(np.concatenate([base, high_ratio * base]), _float())
        self.high = jnp.asarray(np.r_[np.zeros(len(base)), np.ones(len(base))], _float())
        self.m = m
        self.d = _check_d(d, m)
        self.arrival = float(arrival)
        self.tilt = float(tilt)

    def sample(self, key, t, n):
        k1, k2 = jax.random.split(key)
        s = jnp.asarray(t, _float()) / n
        sign = 2.0 * self.high - 1.0  # +1 high fare, -1 low fare
        weight = 1.0 - sign * self.tilt * (1.0 - 2.0 * s)
        k = jax.random.categorical(k1, jnp.log(weight))
        arrives = jax.random.uniform(k2, (), _float()) < self.arrival
        return jnp.where(arrives, self.fares[k], 0.0), jnp.where(arrives, self.consumption[k], 0.0)


class LiYeInput(AbstractGenerator):
    """Li & Ye's random inputs (arXiv 1909.05499, numerical section), stress tests only.

    * ``kind="I"``: ``r ~ U[0, 10]``, ``a_ij ~ U[-0.5, 1]``, ``d = 0.25``: degenerate -- a constraint
      can bind with a zero price.
    * ``kind="II"``: ``a_ij ~ N(0.5, 1)``, ``r = sum_i a_ij``, ``d = 0.2``.
    """

    d: jax.Array
    m: int = eqx.field(static=True)
    kind: str = eqx.field(static=True)

    def __init__(self, kind: str = "I", m: int = 4, d=None):
        if kind not in ("I", "II"):
            raise ValueError(f"kind must be 'I' or 'II'; got {kind!r}")
        self.kind = kind
        self.m = _check_m(m)
        self.d = _check_d((0.25 if kind == "I" else 0.2) if d is None else d, self.m)

    def sample(self, key, t, n):
        k1, k2 = jax.random.split(key)
        if self.kind == "I":
            a = jax.random.uniform(k1, (self.m,), _float(), -0.5, 1.0)
            r = jax.random.uniform(k2, (), _float(), 0.0, 10.0)
        else:
            a = 0.5 + jax.random.normal(k1, (self.m,), _float())
            r = jnp.sum(a)
        return r, a


def fluid_price(gen: AbstractGenerator, key: jax.Array, n_samples: int = 20000) -> jax.Array:
    """The fluid (known-distribution) dual price ``p* = argmin_p d.p + E[(r - a.p)^+]``, estimated by an
    exact dual solve over ``n_samples`` orders of one horizon (for a nonstationary family: the
    time-averaged distribution). Returns ``[m]``.

    For :class:`Acceptance` every entry is positive (``p* > 0``: all constraints bind).
    """
    from jaxor.olp._hindsight import solve_hindsight

    r, a = gen.draw(key, n_samples)
    return solve_hindsight(r, a, gen.budget(n_samples)).p
