"""Experiment and benchmark scripts, installed as ``jaxor.experiments``.

``<name>.py`` modules register experiments with :func:`jaxor.registry.register`; ``bench_<name>.py``
modules define ``run(quick=False) -> list[jaxor.benchmarking.Ratio]``. Both use only jaxor's public API.
"""
