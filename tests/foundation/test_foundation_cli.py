import os
import subprocess
import sys
import textwrap

from jaxor import cli


def test_info_lists_devices(capsys):
    assert cli.main(["--no-cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "devices (" in out and "cpu" in out


def test_help_of_groups(capsys):
    import pytest

    for argv in (["bench", "--help"], ["reproduce", "--help"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--resume" in out


def test_unknown_benchmark_is_an_error(capsys):
    assert cli.main(["--no-cache", "bench", "no_such_bench"]) == 2


def test_compilation_cache_takes_effect_on_cpu(tmp_path):
    code = textwrap.dedent(f"""
        import jax, jax.numpy as jnp
        from jaxor._cache import enable_compilation_cache
        enable_compilation_cache({str(tmp_path)!r}, min_compile_time_s=0)
        f = jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T + 1.0)
        f(jnp.ones((64, 64))).block_until_ready()
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert any(tmp_path.rglob("*")), "no persistent compilation-cache entry was written on CPU"


def test_installed_layout_maps_kernels_into_jaxor(tmp_path):
    # From outside the checkout: jaxor.kernels and jaxor.experiments import, a top-level `kernels` does not.
    code = ("import importlib.util, jaxor.kernels, jaxor.experiments; "
            "print(importlib.util.find_spec('kernels') is None)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "True"
