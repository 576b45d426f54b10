"""The public surface of jaxor.rl: every exported name resolves, once."""

import jaxor.rl as rl


def test_all_names_resolve_and_are_unique():
    assert len(rl.__all__) == len(set(rl.__all__))
    for name in rl.__all__:
        assert getattr(rl, name) is not None, name
        assert not name.startswith("_")
