"""The one cache of exact references (mas_lib.decide.planning.reference), shared by the sweep jobs,
the deep-RL jobs, the messaging team job and the notebook 05 panel."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.decide import get_instance
from mas_lib.decide import planning as pl
from mas_lib.decide.planning import reference_cache as R
from mas_lib.validation import ConfigError


@pytest.fixture(autouse=True)
def _fresh_cache():
    R.clear_reference_cache()
    yield
    R.clear_reference_cache()


def test_built_once_and_handed_out_read_only():
    m1, v1 = pl.reference("paper")
    m2, v2 = pl.reference(get_instance("paper"))            # a name and its instance share the entry
    assert len(R._CACHE) == 1 and m1 is not m2 and v1 is not v2
    assert m1.cost_sa is m2.cost_sa                          # the same arrays, not rebuilt
    with pytest.raises(ValueError, match="read-only"):
        v1.values[0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        m1.cost_sa[0, 0] = 0.0
    v1.daily_cost = -1.0                                     # rebinding changes only the caller's copy
    assert pl.reference("paper")[1].daily_cost == pytest.approx(525.9976, abs=1e-3)
    assert v2.model is m2                                    # a Solution points at the caller's model


def test_the_same_optimum_as_solving_directly():
    model, value = pl.reference("paper")
    direct = pl.policy_iteration(pl.model_for(get_instance("paper")))
    assert value.daily_cost == direct.daily_cost
    np.testing.assert_array_equal(value.actions, direct.actions)


def test_gamma_is_part_of_the_key_and_validated():
    low = pl.reference("paper", gamma=0.9)[1].daily_cost
    assert low != pl.reference("paper")[1].daily_cost and len(R._CACHE) == 2
    with pytest.raises(ConfigError, match=r"reference.gamma = 1.5 is not allowed"):
        pl.reference("paper", gamma=1.5)


def test_one_memory_bound_evicts_the_least_recently_used(monkeypatch):
    pl.reference("paper")
    one = R._CACHE[next(iter(R._CACHE))][2]
    monkeypatch.setattr(R, "REFERENCE_CACHE_BYTES", int(1.5 * one))
    pl.reference("cross_border")
    assert [k[0].name for k in R._CACHE] == ["cross_border"]
    monkeypatch.setattr(R, "REFERENCE_CACHE_BYTES", one // 2)  # larger than the budget: returned, not kept
    R.clear_reference_cache()
    assert pl.reference("paper")[1].daily_cost > 0 and len(R._CACHE) == 0


def test_a_saved_optimum_is_re_evaluated_on_an_evaluation_only_model(tmp_path):
    model, best = pl.reference("paper")
    path = tmp_path / "paper_optimum.npz"
    pl.save_policy_table(path, model, best.actions)
    small, loaded = pl.reference("paper", optimum_file=path)
    assert small.cost_sa is None and loaded.daily_cost == pytest.approx(best.daily_cost, rel=1e-12)
