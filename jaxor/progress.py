"""Progress display for long runs (tqdm on stderr; ``JAXOR_PROGRESS=0`` silences it)."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

__all__ = ["Progress", "progress"]


class Progress:
    """A small progress handle passed to experiments and long rollouts.

    ``update(n)`` advances, ``set_total(n)`` (re)sizes, ``note(msg)`` prints a line above the bar.
    """

    def __init__(self, total: int | None = None, desc: str = "", *, enabled: bool | None = None):
        if enabled is None:
            enabled = os.environ.get("JAXOR_PROGRESS", "1") != "0"
        self._bar = tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=False,
                         dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def set_total(self, total: int) -> None:
        self._bar.total = total
        self._bar.refresh()

    def set_description(self, desc: str) -> None:
        self._bar.set_description_str(desc)

    def note(self, msg: str) -> None:
        self._bar.write(msg, file=sys.stderr)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(total: int | None = None, desc: str = "", enabled: bool | None = None) -> Progress:
    """Create a :class:`Progress`; use as a context manager."""
    return Progress(total, desc, enabled=enabled)
