"""One progress bar for every long run of the package: sweeps, forecast plans, the twin's year.

:class:`ProgressBar` is a ``callback(done, total, errors=0)`` -- the form every long-running
function of ``mas_lib`` accepts as ``progress=`` -- drawn by ``tqdm.auto``: a widget bar in
Jupyter (no red stderr block in a notebook), a text bar in a terminal. The Q-learning panel of
notebook 05 keeps its own ipywidgets bar, since it is part of the lesson's interface.

This module is a bottom layer of the package, like :mod:`mas_lib.validation`: it imports
nothing else from ``mas_lib``.
"""

from __future__ import annotations

from typing import IO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A ``callback(done, total, errors=0)`` drawn with ``tqdm.auto`` (``desc`` names the run,
    ``unit`` what is counted: ``"job"``, ``"day"``, ...). The bar opens on the first call, moves to
    ``done`` on every call, shows ``errors`` as ``failed=N`` when there are any, and closes when
    ``done`` reaches ``total``. ``file`` (default ``sys.stderr``) and ``mininterval`` [s] go to
    ``tqdm``; a calling-back function is never slowed by more than one redraw per interval."""

    def __init__(self, desc: str = "", unit: str = "it", file: IO[str] | None = None,
                 mininterval: float = 0.5):
        self.desc, self.unit, self.file, self.mininterval = desc, unit, file, mininterval
        self._bar = None

    def __call__(self, done: int, total: int, errors: int = 0) -> None:
        if self._bar is None or self._bar.total != total:
            from tqdm.auto import tqdm

            self.close()
            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=self.file,
                             mininterval=self.mininterval, dynamic_ncols=True)
        if errors:
            self._bar.set_postfix(failed=errors, refresh=False)
        self._bar.update(done - self._bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Close the bar (it is closed by itself when ``done`` reaches ``total``)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
