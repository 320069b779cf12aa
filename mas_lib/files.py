"""Files the library writes are written atomically: to a temporary file in the same folder, then
moved onto the target with :func:`os.replace` (a process killed during a save must never leave a
corrupt file where a good one had been).

A process killed mid-write cannot delete its temporary, so :func:`atomic_write` removes the
temporaries of dead writers of the *same target* before it writes (:func:`stale_temporaries`).
A temporary is named ``.<target name>.<writer pid>-<8 random characters>.tmp`` and counts as
stale when

* its writer pid is not a running process on this machine, or
* it carries no pid (the ``.<target name>.<8 random characters>.tmp`` of earlier versions) and
  has not been written for :data:`STALE_SECONDS`, or
* it has not been written for :data:`ABANDONED_SECONDS` (a pid reused by another process).

Temporaries of other targets, of live writers (other threads or processes, also in this
process) and other files are never touched; removal is best effort and never fails a write.
A folder shared by several machines should not be written from two machines at once (a pid
is only checked on the machine that writes).

A bottom layer like :mod:`mas_lib.validation`: it imports nothing else from ``mas_lib``. Used by
every writer of the package: ``QPolicy.save`` (:mod:`mas_lib.decide.tabular.policy`),
``MLP.save`` (:mod:`mas_lib.decide.deep.nn`), ``save_policy_table``
(:mod:`mas_lib.decide.planning.store`), the data cache (:func:`mas_lib.data.xlsx_to_csv_gz`),
the book pages (:mod:`mas_lib.teach.book`) and the benchmark scripts' result files.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "stale_temporaries", "STALE_SECONDS", "ABANDONED_SECONDS"]

#: A temporary without a writer pid (earlier versions) is stale after this long unwritten [s].
STALE_SECONDS = 15 * 60
#: Any temporary is stale after this long unwritten [s], even if its pid runs (pid reuse).
ABANDONED_SECONDS = 24 * 3600


def _pid_running(pid: int) -> bool:
    """Is ``pid`` a running process on this machine? (``os.kill(pid, 0)`` sends no signal; on
    Windows, where it would end the process, every pid counts as running.)"""
    if os.name == "nt":  # pragma: no cover
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process, or larger than any pid
        return False
    except OSError:  # PermissionError: it runs as another user; otherwise we cannot tell: keep it
        return True
    return True


def _temp_pattern(name: str) -> re.Pattern[str]:
    """``.<name>.<pid>-<8 chars>.tmp`` or the pid-less ``.<name>.<8 chars>.tmp``; the tail holds no
    dot, so the temporary of ``a.npz.bak`` never matches the pattern of ``a.npz``."""
    return re.compile(rf"\.{re.escape(name)}\.(?:(?P<pid>[0-9]+)-)?[a-z0-9_]{{8}}\.tmp")


def stale_temporaries(path: str | os.PathLike[str], now: float | None = None) -> list[Path]:
    """The temporaries that killed writes of ``path`` left next to it, by the rules of the module
    docstring (sorted by name). ``now`` [s since the epoch] defaults to the current time."""
    target = Path(path)
    now = time.time() if now is None else now
    pattern = _temp_pattern(target.name)
    out = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:  # removed meanwhile
            continue
        pid = m.group("pid")
        if (pid is not None and not _pid_running(int(pid))) or (pid is None and age > STALE_SECONDS) \
                or age > ABANDONED_SECONDS:
            out.append(Path(entry.path))
    return sorted(out)


def _remove_stale(path: Path) -> None:
    for tmp in stale_temporaries(path):
        try:
            tmp.unlink()
        except OSError:  # another writer removed it first, or no permission: not our business
            pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; on a clean exit it replaces ``path``
    in one step, on an exception it is deleted and ``path`` is left as it was.

    ``mode`` is ``"wb"`` or ``"w"`` (text, ``encoding`` defaults to UTF-8). The folder is created
    if missing. Temporaries left by killed writes of the same ``path`` are removed first
    (:func:`stale_temporaries`). Example::

        with atomic_write("results.csv", "w") as f:
            frame.to_csv(f, index=False)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode = {mode!r} is not allowed; allowed: 'wb' | 'w'")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp")
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
