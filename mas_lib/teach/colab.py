"""Run the notebooks on Google Colab: the first cell of a notebook opened from the book's Colab
button calls :func:`setup`, which (on Colab only) pip-installs what it is asked to and fetches the
UCI Online Retail data into the cache, checked against its sha256.

The download, conversion, cache and checksum are :func:`mas_lib.data.download_online_retail`'s
(the original UCI URL, :data:`mas_lib.data.CSV_SHA256`); this module only decides when to call it
and points ``$MAS_LIB_ONLINE_RETAIL`` at the result so that the notebooks that read the UCI data find the real
data. Anywhere else (a laptop, Binder, the book build) :func:`setup` does nothing, so the same
first cell runs everywhere. The course page (``book/course.md``) shows the cell.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mas_lib.data import CSV_SHA256, ENV_PATH, UCI_URL, download_online_retail
from mas_lib.validation import ConfigError, check_bool

__all__ = ["ColabSetup", "on_colab", "setup"]


def on_colab() -> bool:
    """True inside a Google Colab runtime (its ``google.colab`` module is imported at start-up)."""
    return "google.colab" in sys.modules


@dataclass(frozen=True)
class ColabSetup:
    """What :func:`setup` did."""

    on_colab: bool                 #: False: nothing was done
    installed: tuple[str, ...]     #: requirements handed to pip (empty: none)
    data_path: Path | None         #: the verified cached data file; None when not fetched

    def summary(self) -> str:
        """One line for the notebook's first cell output."""
        if not self.on_colab:
            return "Not on Colab: nothing to set up (the data is found as in notebook 03)."
        parts = [f"installed {', '.join(self.installed)}" if self.installed else "nothing installed"]
        parts.append(f"data: {self.data_path}" if self.data_path else "data: not fetched")
        return "Colab: " + "; ".join(parts)


def _pip(requirements: Sequence[str]) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *requirements], check=True)


def setup(
    requirements: Sequence[str] = (),
    *,
    data: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    url: str = UCI_URL,
    expected_sha256: str | None = CSV_SHA256,
    force: bool = False,
    pip: Callable[[Sequence[str]], None] | None = None,
    fetch: Callable[[str, Path], None] | None = None,
) -> ColabSetup:
    """On Colab: ``pip install`` the ``requirements`` (e.g. ``"mas_lib[scale] @ git+<repo>"``),
    then download and cache the UCI data (skipped when the cache already holds a verified copy)
    and set ``$MAS_LIB_ONLINE_RETAIL`` to it. Off Colab: return at once, changing nothing.

    Args:
        requirements: pip requirement strings; empty installs nothing (the first cell has already
            installed mas_lib itself, or it could not import this function).
        data: fetch the data (about 23 MB from UCI, converted once; a minute on Colab).
        cache_dir, url, expected_sha256, force, fetch: passed to
            :func:`mas_lib.data.download_online_retail`.
        pip: function that installs a list of requirements; default runs
            ``python -m pip install --quiet``.

    Raises:
        ConfigError: ``requirements`` is a single string instead of a list of them.
        subprocess.CalledProcessError: pip failed. The data errors of
        :func:`~mas_lib.data.download_online_retail` (download failed, wrong checksum: nothing
        is written to the cache).
    """
    data = check_bool(data, "data")
    if isinstance(requirements, str):
        raise ConfigError(f"requirements = {requirements!r} is not allowed; allowed: a list of pip "
                          f"requirement strings, e.g. [{requirements!r}]")
    if not on_colab():
        return ColabSetup(False, (), None)
    reqs = tuple(requirements)
    if reqs:
        (pip or _pip)(reqs)
    path = None
    if data:
        path = download_online_retail(cache_dir, url, expected_sha256=expected_sha256,
                                      force=force, fetch=fetch)
        os.environ[ENV_PATH] = str(path)
    return ColabSetup(True, reqs, path)
