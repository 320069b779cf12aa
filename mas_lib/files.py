"""Files the library writes are written atomically: to a temporary file in the same folder, then
moved onto the target with :func:`os.replace` (issue 11: a process killed during a save must never
leave a corrupt file where a good one had been).

A bottom layer like :mod:`mas_lib.validation`: it imports nothing else from ``mas_lib``. Used by
``QPolicy.save`` (:mod:`mas_lib.decide.tabular.policy`), the data cache
(:func:`mas_lib.data.xlsx_to_csv_gz`) and the benchmark scripts' result files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; on a clean exit it replaces ``path``
    in one step, on an exception it is deleted and ``path`` is left as it was.

    ``mode`` is ``"wb"`` or ``"w"`` (text, ``encoding`` defaults to UTF-8). The folder is created
    if missing. Example::

        with atomic_write("results.csv", "w") as f:
            frame.to_csv(f, index=False)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode = {mode!r} is not allowed; allowed: 'wb' | 'w'")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=(encoding or "utf-8") if mode == "w" else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # the permissions a plain open() would give, not mkstemp's 0600
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
