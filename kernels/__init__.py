"""Pallas kernels, installed as ``jaxor.kernels`` (never as a top-level ``kernels`` module).

One folder per op: ``kernels/<op>/pallas.py`` with the kernel, an importable ``<op>_reference`` and the
derivation in ``kernels/<op>/README.md``. Kernels run in interpret mode on CPU and through Triton on
NVIDIA GPUs.
"""
