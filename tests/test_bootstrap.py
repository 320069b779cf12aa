"""gain_interval's bootstrap is scipy's (paired, percentile) and gives the interval of the
hand-written resampling it replaced, draw for draw with the same seed (notebook 04)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib.forecast import gain_interval


def _by_hand(a, b, n_boot, level, seed):
    pick = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    boot = 1.0 - a[pick].mean(axis=1) / b[pick].mean(axis=1)
    tail = (1.0 - level) / 2
    return np.quantile(boot, tail), np.quantile(boot, 1 - tail)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 2**31), level=st.sampled_from([0.8, 0.9, 0.95]))
def test_same_interval_as_the_resampling_it_replaced(n, seed, level):
    rng = np.random.default_rng(seed + 1)
    a = rng.gamma(2.0, 1.0, n) + 0.01
    b = a * rng.uniform(0.7, 1.6, n)
    g = gain_interval(pd.DataFrame({"m": a, "b": b}), "m", "b", n_boot=500, level=level, seed=seed)
    low, high = _by_hand(a, b, 500, level, seed)
    assert g["low"] == pytest.approx(low, rel=1e-12, abs=1e-12)
    assert g["high"] == pytest.approx(high, rel=1e-12, abs=1e-12)
    assert g["low"] <= g["gain"] + 1e-12 or g["gain"] <= g["high"] + 1e-12


def test_one_series_gives_a_point_interval():
    g = gain_interval(pd.DataFrame({"m": [0.8], "b": [1.0]}), "m", "b", n_boot=100)
    assert g["low"] == g["high"] == pytest.approx(0.2) and g["n_series"] == 1
