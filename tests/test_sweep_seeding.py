"""A serial sweep seeds each job and leaves the caller's generators as they were
(``mas_lib.scale.isolation.seeded``; the sweeps of notebooks 06 and 09).

This lives in a module of its own, with no Dask cluster in the process: a running scheduler's
periodic callbacks (Tornado's jitter) draw from Python's global ``random`` in their own thread,
so "the caller's generator is unchanged" cannot be observed while a cluster is up."""
from __future__ import annotations

import random
import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib import scale


def draws(x: int, seed: int) -> dict:
    """One draw from each legacy global generator, as a careless job would make."""
    return {"r": random.random(), "n": float(np.random.random())}  # noqa: NPY002 -- the legacy globals, on purpose


def test_no_other_thread_is_running_here():
    """The premise of this module: no event loop of a Dask cluster (whose periodic callbacks draw
    from the globals) is still running in this process. Idle pools such as Dask-Offload may stay."""
    names = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    assert not [n for n in names if "IO loop" in n], names


@settings(max_examples=15, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3, unique=True),
       caller_seed=st.integers(0, 2**31))
def test_a_serial_sweep_leaves_the_caller_s_generators_as_they_were(seeds, caller_seed):
    random.seed(caller_seed)
    np.random.seed(caller_seed)  # noqa: NPY002
    want_py, want_np = random.Random(caller_seed).random(), np.random.RandomState(caller_seed).random_sample()
    frame = scale.run_sweep(draws, {"x": [0]}, seeds=seeds, progress=False)
    assert random.random() == want_py
    assert np.random.random() == want_np  # noqa: NPY002
    assert frame["r"].tolist() == [random.Random(s).random() for s in seeds]
    assert frame["n"].tolist() == [np.random.RandomState(s).random_sample() for s in seeds]
