"""The exact reference of an instance -- its model and its optimum -- built once per process and
shared by every caller: the benchmarks' sweep jobs, the deep-RL jobs, the messaging team job and
the Q-learning panel (paper section 4.5, beyond the paper: the yardstick).

Computing an optimum takes from a fraction of a second (``paper``) to minutes and gigabytes
(``long_lead`` in full), and many callers need the same one: every job of a sweep, every run of
the Q-learning panel. :func:`reference` keeps them in **one cache with one memory bound**
(:data:`REFERENCE_CACHE_BYTES`, least recently used first out). Whatever it hands out cannot
corrupt the cache: every array of the cached model and optimum (the cost and transition tables,
the grids, the sparse next-day matrices, the optimum's values and actions) is read-only --
writing raises ``ValueError: assignment destination is read-only``; copy an array to change it
-- and each call returns fresh model and value objects (with their own lists), so rebinding an
attribute changes only the caller's copy.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ...validation import check_number
from .evaluate import PolicyValue
from .model import MDPModel, model_for
from .solve import policy_iteration
from .store import load_policy_table

__all__ = ["reference", "clear_reference_cache", "REFERENCE_CACHE_BYTES", "read_only"]

#: Memory budget of the reference cache [bytes]; an entry larger than the budget is returned but not kept.
REFERENCE_CACHE_BYTES = 2 * 2**30

_CACHE: OrderedDict[tuple, tuple[MDPModel, PolicyValue, int]] = OrderedDict()
_LOCK = threading.Lock()


def read_only(obj):
    """Make every numpy array of ``obj`` read-only in place: an ndarray, a scipy sparse matrix (its
    data and index arrays), or a list or tuple of them; other values are left as they are."""
    if isinstance(obj, np.ndarray):
        obj.setflags(write=False)
    elif sp.issparse(obj):
        for a in (obj.data, getattr(obj, "indices", None), getattr(obj, "indptr", None)):
            if isinstance(a, np.ndarray):
                a.setflags(write=False)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            read_only(item)
    return obj


def _nbytes(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if sp.issparse(obj):
        return sum(a.nbytes for a in (obj.data, getattr(obj, "indices", None), getattr(obj, "indptr", None))
                   if isinstance(a, np.ndarray))
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(x) for x in obj)
    return 0


def _handout(obj):
    """A shallow copy of a cached object whose lists are new lists (of the same read-only arrays)."""
    new = copy.copy(obj)
    for key, value in vars(new).items():
        if isinstance(value, list):
            setattr(new, key, list(value))
    return new


def _build(instance, optimum_file: Path | None) -> tuple[MDPModel, PolicyValue]:
    if optimum_file is not None and optimum_file.exists():
        model = model_for(instance, with_pairs=False)
        value, _ = load_policy_table(optimum_file, model)
        return model, value
    model = model_for(instance)
    return model, policy_iteration(model)  # a Solution is the optimum's exact PolicyValue


def reference(instance, gamma: float | None = None,
              optimum_file: str | os.PathLike[str] | None = None) -> tuple[MDPModel, PolicyValue]:
    """The exact model of ``instance`` (an :class:`~mas_lib.decide.instances.Instance` or the name
    of one, see :func:`mas_lib.decide.get_instance`) and its optimum's exact value [money,
    money/day], built once per process (see the module docstring for the cache and why its
    results are read-only).

    ``gamma`` overrides the instance's discount factor (the Q-learning panel lets a student
    choose it). If ``optimum_file`` names an existing ``.npz`` saved by
    :func:`~mas_lib.decide.planning.save_policy_table`, an evaluation-only model is built and the
    saved table is re-evaluated exactly on it (the optimum is never trusted as a number from a
    file); otherwise the full model is built and solved by policy iteration (a
    :class:`~mas_lib.decide.planning.Solution`)."""
    if isinstance(instance, str):
        from ..instances import get_instance

        instance = get_instance(instance)
    if gamma is not None:
        gamma = check_number(gamma, "reference.gamma", low=0.0, high=1.0, low_inclusive=False,
                             high_inclusive=False)
        instance = dataclasses.replace(instance, gamma=gamma)
    path = None if optimum_file is None else Path(optimum_file).resolve()
    key = (instance, None if path is None or not path.exists() else (str(path), path.stat().st_mtime_ns))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is None:
        model, value = _build(instance, path)
        for obj in (model, value):
            for attr in vars(obj).values():
                read_only(attr)
        size = sum(_nbytes(a) for obj in (model, value) for a in vars(obj).values())
        hit = (model, value, size)
        with _LOCK:
            if size <= REFERENCE_CACHE_BYTES:
                _CACHE[key] = hit
                while sum(s for _, _, s in _CACHE.values()) > REFERENCE_CACHE_BYTES:
                    _CACHE.popitem(last=False)
    model, value, _ = hit
    model, value = _handout(model), _handout(value)
    if getattr(value, "model", None) is not None:  # a Solution refers to its model: the caller's copy
        value.model = model
    return model, value


def clear_reference_cache() -> None:
    """Forget every cached reference (e.g. to measure a solve's time again)."""
    with _LOCK:
        _CACHE.clear()
