"""Every ``Examples:`` block in the installed ``jaxor`` package runs and prints what it says (doctest).

The OR-Space demo workspaces shipped as package data (``jaxor.orspace.demo``) are participant files, not
library modules, and are left out.
"""

import doctest
import importlib
import pkgutil

import pytest

import jaxor

SKIP_PREFIXES = ("jaxor.orspace.demo",)


def _modules():
    names = [jaxor.__name__]
    for info in pkgutil.walk_packages(jaxor.__path__, prefix="jaxor."):
        if not info.name.startswith(SKIP_PREFIXES):
            names.append(info.name)
    return sorted(names)


FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _run(module):
    """``(failed, attempted, report)`` for the module's docstring examples."""
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, module.__name__):
        runner.run(test, out=report.append)
    return runner.failures, runner.tries, "".join(report)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    failed, attempted, report = _run(importlib.import_module(name))
    assert failed == 0, f"{failed} of {attempted} docstring examples in {name} failed:\n{report}"


def test_examples_exist():
    # A guard against the collection silently finding nothing (e.g. a broken package path).
    attempted = sum(_run(importlib.import_module(n))[1] for n in ("jaxor.olp._rollout", "jaxor.batch"))
    assert attempted >= 5
