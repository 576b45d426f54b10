import jax
import jax.numpy as jnp
import pytest

import jaxor


def test_float64_context_enables_and_restores():
    assert not jax.config.jax_enable_x64
    with jaxor.float64():
        assert jnp.ones(2, jnp.float64).dtype == jnp.float64
    assert not jax.config.jax_enable_x64
    assert jnp.ones(2).dtype == jnp.float32


def test_require_x64_raises_naming_flag():
    with pytest.raises(ValueError, match="jax_enable_x64.*") as e:
        jaxor.require_x64(jnp.float64, "dtype")
    assert "dtype=float64" in str(e.value)
    jaxor.require_x64(jnp.float32)  # fine
    with jaxor.float64():
        jaxor.require_x64("float64")


def test_x64_fixture_does_not_leak(x64):
    assert jax.config.jax_enable_x64
