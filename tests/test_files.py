"""Atomic writes (mas_lib.files): a write is all or nothing, and the temporaries of killed writes
are cleaned up on the next write of the same target -- never those of a live writer or of
another target."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import files
from mas_lib.files import atomic_write

#: A child process that starts a write of ``target`` and is killed (SIGKILL) half way through.
KILLED_WRITER = """
import os, signal, sys
from mas_lib.files import atomic_write
with atomic_write(sys.argv[1], "wb") as fh:
    fh.write(b"x" * 100_000)
    fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def _killed_write(target: Path) -> list[Path]:
    """Run a writer of ``target`` that is killed mid-write; returns the temporaries it left."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()
    return _temporaries(target.parent)


def test_a_write_replaces_the_target_and_a_failed_write_leaves_it(tmp_path):
    target = tmp_path / "sub" / "r.csv"
    with atomic_write(target, "w") as fh:
        fh.write("a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    with pytest.raises(RuntimeError), atomic_write(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "a,b\n1,2\n" and _temporaries(target.parent) == []
    with pytest.raises(ValueError, match="mode = 'a' is not allowed"), atomic_write(target, "a"):
        pass


def test_a_killed_write_leaves_the_target_and_the_next_write_removes_its_temporary(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"good")
    left = _killed_write(target)
    assert len(left) == 1 and left[0].stat().st_size == 100_000  # what a killed process leaves behind
    assert target.read_bytes() == b"good"
    with atomic_write(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"
    assert _temporaries(tmp_path) == []  # the dead writer's temporary is gone


def test_live_writers_and_other_targets_keep_their_temporaries(tmp_path):
    target, other = tmp_path / "a.npz", tmp_path / "a.npz.bak"
    dead_other = _killed_write(other)  # a dead writer of another target: not ours to remove
    with atomic_write(target) as outer:  # a live writer of the same target (this process)
        outer.write(b"outer")
        mine = [p for p in _temporaries(tmp_path) if p not in dead_other]
        with atomic_write(target) as inner:
            inner.write(b"inner")
        assert all(p.exists() for p in mine + dead_other)
    assert target.read_bytes() == b"outer"
    assert _temporaries(tmp_path) == dead_other


def test_temporaries_without_a_pid_are_removed_only_when_old(tmp_path):
    """Earlier versions named temporaries ``.<name>.<8 random characters>.tmp`` (no pid): such
    a file counts as stale only once it has not been written for STALE_SECONDS."""
    target = tmp_path / "t.csv.gz"
    fresh, old = tmp_path / ".t.csv.gz.ab12cd_3.tmp", tmp_path / ".t.csv.gz.zz99yy00.tmp"
    fresh.write_bytes(b"1")
    old.write_bytes(b"2")
    past = time.time() - files.STALE_SECONDS - 60
    os.utime(old, (past, past))
    assert files.stale_temporaries(target) == [old]
    with atomic_write(target) as fh:
        fh.write(b"x")
    assert fresh.exists() and not old.exists()


@settings(max_examples=60, deadline=None)
@given(name=st.text(alphabet="abc.-_0123456789", min_size=1, max_size=12),
       other=st.text(alphabet="abc.-_0123456789", min_size=1, max_size=12))
def test_the_temporary_of_one_target_never_counts_as_another_targets(tmp_path_factory, name, other):
    """Whatever the two names, a dead writer's temporary of ``other`` is never removed when
    ``name`` is written (the pattern is ``.<name>.<pid>-<8 characters>.tmp``, the tail has no dot)."""
    if name == other or name in (".", "..") or other in (".", ".."):
        return
    folder = tmp_path_factory.mktemp("names")
    dead_pid = 2**22 + 12345  # above the kernel's pid_max: never a running process
    theirs = folder / f".{other}.{dead_pid}-abcd1234.tmp"
    ours = folder / f".{name}.{dead_pid}-abcd1234.tmp"
    theirs.write_bytes(b"")
    ours.write_bytes(b"")
    assert files.stale_temporaries(folder / name) == [ours]
