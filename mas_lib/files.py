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

Reading is checked as carefully: :func:`read_npz` reads a stored ``.npz`` (never with pickle)
and turns every way a damaged file fails (truncated, not a zip archive, a single ``.npy``
array, a flipped byte, a missing array, a header that is not JSON) into the loader's own error
naming the file and what is wrong; the loaders then check dtypes, shapes and values.

A bottom layer like :mod:`mas_lib.validation`: it imports nothing else from ``mas_lib``. Used by
every writer of the package: ``QPolicy.save`` (:mod:`mas_lib.decide.tabular.policy`),
``MLP.save`` (:mod:`mas_lib.decide.deep.nn`), ``save_policy_table``
(:mod:`mas_lib.decide.planning.store`), the data cache (:func:`mas_lib.data.xlsx_to_csv_gz`),
the published benchmark snapshot (:mod:`mas_lib.teach.published`) and the benchmark scripts'
result files. (The book's pages are written by Jupyter Book, outside the library.)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["atomic_write", "stale_temporaries", "read_npz", "npz_json", "Refuse", "file_refusal", "STALE_SECONDS",
           "ABANDONED_SECONDS"]

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


#: How a loader refuses a file: ``refuse(what, found, allowed)`` returns the loader's own error,
#: whose message names the file, ``what`` (an array or "the file"), what was found and what is allowed.
Refuse = Callable[[str, object, str], Exception]


def file_refusal(kind: str, path: str | os.PathLike[str], error: type[Exception] = ValueError) -> Refuse:
    """The :data:`Refuse` of one loader and file: ``refuse(what, found, allowed)`` is
    ``error("<kind> '<path>': <what> = <found> is not allowed; allowed: <allowed>")`` -- the
    message format of :func:`mas_lib.validation.not_allowed`, with ``found`` shown as given (a
    description such as ``"dtype complex128"`` or a value)."""
    def refuse(what: str, found: object, allowed: str) -> Exception:
        return error(f"{kind} {str(path)!r}: {what} = {found} is not allowed; allowed: {allowed}")
    return refuse


def read_npz(path: str | os.PathLike[str], refuse: Refuse, allowed: str,
             required: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file at ``path``, read at once without pickle (used by
    ``MLP.load``, ``QPolicy.load`` and ``load_policy_table``).

    A missing or unreadable (permissions) file raises the usual :class:`OSError`. Anything else
    that stops the file from being read -- truncated, not a zip archive, a single ``.npy``
    array, pickled data, a damaged byte (a CRC or decompression error), an array of ``required``
    missing -- raises ``refuse(what, found, allowed)``: ``allowed`` says which file was
    expected (e.g. ``"a .npz written by QPolicy.save"``)."""
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        raise
    except zipfile.BadZipFile as err:
        raise refuse("the file", f"truncated or not a .npz (zip) archive ({err})", allowed) from None
    except Exception as err:  # noqa: BLE001 -- any failure to parse is a damaged file, named as such
        # numpy reads a file that is neither a zip nor a .npy as pickled data, and its advice to
        # load that "unsafely" is not shown to a reader of library files
        why = "neither a zip archive nor a .npy array" if "pickle" in str(err) else f"{type(err).__name__}: {err}"
        raise refuse("the file", f"truncated or not a .npz (zip) archive ({why})", allowed) from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise refuse("the file", f"a single array of shape {np.shape(z)}, not a .npz archive", allowed)
    with z:
        missing = [name for name in required if name not in z.files]
        if missing:
            raise refuse("missing arrays", missing, f"{allowed}, with {list(required)} (this file holds "
                         f"{sorted(z.files)})")
        arrays = {}
        for name in z.files:
            try:
                arrays[name] = z[name]
            except Exception as err:  # noqa: BLE001 -- a CRC, zlib, header or EOF error of one array
                raise refuse(f"array {name!r}", f"damaged ({type(err).__name__}: {err})", allowed) from None
    return arrays


def npz_json(arrays: dict[str, np.ndarray], key: str, refuse: Refuse) -> dict:
    """The JSON object stored as the 0-d text array ``arrays[key]`` (a file's header or meta); a
    missing key, another dtype or shape, text that is not JSON or JSON that is not an object
    raises ``refuse(key, found, "a JSON object ...")``."""
    allowed = "a JSON object stored as one text value"
    if key not in arrays:
        raise refuse("missing arrays", [key], f"{allowed} named {key!r}")
    a = arrays[key]
    if a.dtype.kind != "U" or a.shape != ():
        raise refuse(key, f"an array of dtype {a.dtype} and shape {a.shape}", allowed)
    text = str(a)
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise refuse(key, repr(text[:60]), allowed)
    return value
