import os

import pytest

from jaxor import sandbox


def test_sandbox_is_available_where_ci_runs():
    """CI machines support namespaces: there the sandbox tests must run, never skip silently."""
    if not (os.environ.get("CI") or os.environ.get("JAXOR_REQUIRE_SANDBOX")):
        pytest.skip("only enforced under CI=true or JAXOR_REQUIRE_SANDBOX=1")
    assert sandbox.sandbox_available() is None, sandbox.sandbox_available()
