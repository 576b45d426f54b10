"""Shared test infrastructure: budget guard, hypothesis profile, float64 per test, PRNG keys,
one multi-device subprocess for sharding checks, and data lookups that skip cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import pytest
from hypothesis import HealthCheck, settings

import jaxor
from jaxor.data import DataNotFound, locate

# Strategies draw values, not shapes (a new shape recompiles); 25 examples keep each property test short.
settings.register_profile("jaxor", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "jaxor"))

TEST_TIME_LIMIT_S = float(os.environ.get("JAXOR_TEST_TIME_LIMIT", "60"))

# The tests run against an installed jaxor (CI installs a wheel), whose data locator cannot see the source
# checkout; point it at <checkout>/../shared/data when that folder exists and the user set nothing.
_SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
if "JAXOR_DATA" not in os.environ and _SHARED.is_dir():
    os.environ["JAXOR_DATA"] = str(_SHARED)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fail any single default-suite test whose call phase exceeds the 60 s guard."""
    outcome = yield
    rep = outcome.get_result()
    marker = item.get_closest_marker("time_limit")
    limit = float(marker.args[0]) if marker else TEST_TIME_LIMIT_S
    if (rep.when == "call" and rep.passed and call.duration > limit
            and item.get_closest_marker("slow") is None):
        rep.outcome = "failed"
        rep.longrepr = (f"test took {call.duration:.1f} s, over the {limit:.0f} s per-test guard; "
                        "shrink it or mark it slow")


@pytest.fixture
def x64():
    """Run the test with float64 enabled; the flag is restored afterwards (no leak between tests)."""
    with jaxor.float64():
        yield


@pytest.fixture
def getkey():
    """Fresh, deterministic PRNG keys: ``k = getkey()``."""
    state = {"key": jax.random.PRNGKey(1234)}

    def _next():
        state["key"], sub = jax.random.split(state["key"])
        return sub

    return _next


def require_data(name: str):
    """Path of data ``name`` or a skip that says what is missing and how to get it."""
    try:
        return locate(name)
    except DataNotFound as e:
        pytest.skip(str(e))


@pytest.fixture
def data():
    return require_data


@pytest.fixture(scope="session")
def multi_device():
    """One shared subprocess with 8 forced host CPU devices for every sharding check.

    ``multi_device.call("foundation/_sharding_checks.py:check_fn", *json_args)`` runs the function
    in that process and returns its JSON result (or raises with the remote traceback).
    """
    from multidevice import MultiDeviceSession

    session = MultiDeviceSession(n_devices=8)
    yield session
    session.close()
