import numpy as np
import pytest

from jaxor import stats


def test_loglog_slope_recovers_power_law_with_interval():
    rng = np.random.default_rng(0)
    n = np.array([1e2, 3e2, 1e3, 3e3, 1e4])
    y = 2.0 * n**0.5 * rng.lognormal(0.0, 0.2, size=(40, n.size))
    fit = stats.loglog_slope(n, y, n_boot=500)
    assert abs(fit.slope - 0.5) < 0.05
    assert fit.ci_low < fit.slope < fit.ci_high
    assert fit.contains(0.5)
    assert fit.ci_high - fit.ci_low < 0.2


def test_fit_line_against_log_squared_has_r2_one_on_exact_data():
    n = np.array([1e2, 1e3, 1e4, 1e5])
    y = 3.0 + 0.7 * np.log(n) ** 2
    fit = stats.fit_line(n, y, transform_x=lambda v: np.log(v) ** 2)
    assert fit.slope == pytest.approx(0.7) and fit.intercept == pytest.approx(3.0) and fit.r2 == pytest.approx(1.0)


def test_bootstrap_ci_brackets_mean():
    s = np.random.default_rng(1).normal(5.0, 1.0, 400)
    est, lo, hi = stats.bootstrap_ci(s, n_boot=500)
    assert lo < est < hi and lo < 5.0 < hi


def test_bad_inputs():
    with pytest.raises(ValueError, match="positive"):
        stats.loglog_slope([1, 2, 3], [1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        stats.fit_line([1, 2], [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="NaN"):
        stats.fit_line([1, 2], [1.0, np.nan])
