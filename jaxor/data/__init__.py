"""Find data files: ``$JAXOR_DATA``, then ``<checkout>/../shared/data``, then data shipped in the package.

Only redistributable data ships inside jaxor (the Netlib MPS files and the Azure LLM inference traces,
CC-BY-4.0; see ``DATA_LICENSES.md``). The LIBSVM copies and the OR-Space sample (non-commercial licence)
are looked up outside the package only; :func:`locate` raises :class:`DataNotFound` naming what is
missing and how to get it, and tests turn that into a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DataNotFound", "locate", "search_roots", "HOW_TO_GET"]

_PACKAGE_DATA = Path(__file__).resolve().parent
# jaxor/data/__init__.py -> checkout root is two levels up (only meaningful in a source checkout).
_CHECKOUT = _PACKAGE_DATA.parent.parent

HOW_TO_GET = {
    "libsvm": "download a1a, a2a, a3a and mushrooms from the LIBSVM binary datasets page "
    "(csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary.html) into $JAXOR_DATA/libsvm/",
    "orspace-sample": "download the OR-Space release (arXiv 2605.28158) and point $JAXOR_DATA at a folder "
    "holding it as orspace-sample/{Workspace_OR,evaluation} (non-commercial licence: not shipped)",
    "netlib": "reinstall jaxor (the Netlib files ship with it) or put the MPS files in $JAXOR_DATA/netlib/",
    "serving": "reinstall jaxor (the Azure traces ship with it) or put them in $JAXOR_DATA/serving/",
}


class DataNotFound(FileNotFoundError):
    """A data file or folder is in none of the search roots; the message says how to get it."""


def search_roots() -> list[Path]:
    """The folders searched, in order: ``$JAXOR_DATA``, ``<checkout>/../shared/data``, package data."""
    roots: list[Path] = []
    env = os.environ.get("JAXOR_DATA")
    if env:
        roots.append(Path(env).expanduser())
    if (_CHECKOUT / "pyproject.toml").exists():
        roots.append(_CHECKOUT.parent / "shared" / "data")
    roots.append(_PACKAGE_DATA)
    return roots


def locate(name: str) -> Path:
    """Return the path of data file or folder ``name`` (e.g. ``"netlib/afiro.mps"``, ``"libsvm/a1a"``).

    Args:
        name: a path relative to a data root; its first component names the collection.

    Raises:
        DataNotFound: where no root holds ``name``; the message lists the roots and how to get it.
    """
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in Path(name).parts:
        raise ValueError(f"name={name!r} must be a relative path inside a data root, such as 'netlib/afiro.mps'")
    for root in search_roots():
        candidate = root / name
        if candidate.exists():
            return candidate
    collection = Path(name).parts[0]
    hint = HOW_TO_GET.get(collection, f"put it under $JAXOR_DATA/{name}")
    roots = ", ".join(str(r) for r in search_roots())
    raise DataNotFound(f"data {name!r} not found (searched {roots}); to get it: {hint}")
