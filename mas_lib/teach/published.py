"""Published benchmark results that notebooks show, shipped with the package (notebook 09, section 8).

Some figures cost more than a notebook may spend: PPO at 1.5 M transitions with three seeds, the
exact optimum of a 66,066-state instance. The benchmark computes them; a snapshot of its output
lives in ``mas_lib/teach/published_results/`` as package data, with a ``PROVENANCE.json`` that
says which command and commit produced each file. A notebook loads them with :func:`published`
(never from ``benchmarks/results``, which a benchmark re-run rewrites and which does not exist in
an installed package), and :func:`provenance` says where a file came from. The snapshot changes
only when ``benchmarks/bench_deep_rl.py --publish`` copies a new run in.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["published", "published_path", "provenance", "PUBLISHED_FILES"]

_FOLDER = "published_results"


def _folder() -> Path:
    return Path(str(resources.files("mas_lib.teach").joinpath(_FOLDER)))


def _manifest() -> dict:
    return json.loads((_folder() / "PROVENANCE.json").read_text(encoding="utf-8"))


PUBLISHED_FILES: tuple[str, ...] = tuple(sorted(_manifest()["files"]))


def published_path(name: str) -> Path:
    """The path of the shipped file ``name`` (one of :data:`PUBLISHED_FILES`), e.g. for
    :func:`mas_lib.decide.planning.load_policy_table`. An unknown name raises ``KeyError``
    naming the value and the files shipped."""
    if name not in PUBLISHED_FILES:
        raise KeyError(f"published result {name!r} is not shipped; allowed: {', '.join(PUBLISHED_FILES)}")
    return _folder() / name


def published(name: str) -> pd.DataFrame | dict:
    """A shipped result: a ``.csv`` file as a DataFrame, a ``.json`` file as its parsed object
    (what each holds is described by :func:`provenance`). Other files (the ``.npz`` tables) are
    read by their own loaders from :func:`published_path`."""
    path = published_path(name)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    raise ValueError(f"published({name!r}): not a table; allowed: the .csv and .json files "
                     f"{', '.join(n for n in PUBLISHED_FILES if n.endswith(('.csv', '.json')))} "
                     "(use published_path for the others)")


def provenance(name: str) -> dict:
    """Where the shipped file ``name`` came from: ``command``, ``commit``, ``date`` and ``what``."""
    published_path(name)
    return dict(_manifest()["files"][name])


def _git_commit() -> str:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def publish(source_dir: str | Path, names: tuple[str, ...] | list[str], command: str,
            commit: str | None = None, date: str | None = None) -> None:
    """Copy the benchmark outputs ``names`` from ``source_dir`` into the shipped snapshot and record
    their provenance: the ``command``, the ``commit`` (default: the checkout's ``git`` HEAD) and
    the ``date`` (default: today). The benchmarks' ``--publish`` flag calls it. Every file and the
    manifest are written through :func:`mas_lib.files.atomic_write`; a missing source file raises
    ``FileNotFoundError`` before anything is copied."""
    import time

    from ..files import atomic_write

    commit = commit or _git_commit()
    date = date or time.strftime("%Y-%m-%d")
    source_dir = Path(source_dir)
    missing = [n for n in names if not (source_dir / n).is_file()]
    if missing:
        raise FileNotFoundError(f"publish: {', '.join(missing)} not found in {source_dir}")
    manifest = _manifest()
    for n in names:
        with atomic_write(_folder() / n, "wb") as f:
            f.write((source_dir / n).read_bytes())
        entry = manifest["files"].setdefault(n, {"what": ""})
        entry.update(command=command, commit=commit, date=date)
    with atomic_write(_folder() / "PROVENANCE.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
