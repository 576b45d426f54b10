"""jaxor.osgm's public surface: __all__ lists exactly the re-exported names, which are the private objects."""

import jaxor.osgm
from jaxor.osgm import _minimize, _transform


def test_all_names_exist_and_are_the_implementations():
    assert sorted(jaxor.osgm.__all__) == sorted(set(jaxor.osgm.__all__))
    for name in jaxor.osgm.__all__:
        obj = getattr(jaxor.osgm, name)
        src = getattr(_transform, name, None) or getattr(_minimize, name)
        assert obj is src
    assert {"scale_by_osgm", "osgm", "minimize", "ScaleByOSGMState", "MinimizeResult"} <= set(jaxor.osgm.__all__)


def test_reference_is_not_exported():
    assert "osgm_reference" not in jaxor.osgm.__all__
