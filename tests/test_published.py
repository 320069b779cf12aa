"""The benchmark snapshot shipped with the package (mas_lib.teach.published, notebook 09)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mas_lib.decide import planning as pl
from mas_lib.decide.deep import long_lead_instance
from mas_lib.teach import published as P

ROOT = Path(__file__).resolve().parents[1]


def test_every_shipped_file_is_there_with_its_provenance():
    assert set(P.PUBLISHED_FILES) == {"coordination.json", "deep_rl.csv", "deep_rl_curve.csv", "deep_rl_solve.csv",
                                     "long_lead_optimum.npz", "system_strategy_sets.csv"}
    assert isinstance(P.published("coordination.json")["learners"], list)
    for name in P.PUBLISHED_FILES:
        assert P.published_path(name).is_file()
        assert {"command", "commit", "date", "what"} <= set(P.provenance(name))
    runs = P.published("deep_rl.csv")
    assert {"instance", "learner", "seed", "gap_pct"} <= set(runs.columns)
    assert (runs["gap_pct"] >= 0).all()


def test_shipped_strategy_table_covers_the_four_product_sets():
    """The twin's strategy table notebook 08 shows: every named set x policy x strategy, with the
    saving against never retraining inside its bootstrap interval over 20 products."""
    from mas_lib import ops

    t = P.published("system_strategy_sets.csv")
    assert list(t["set"].unique()) == list(ops.PRODUCT_SETS)
    assert len(t) == len(ops.PRODUCT_SETS) * 2 * len(ops.STRATEGIES) and (t["products"] == ops.SET_SIZE).all()
    assert ((t["saving low"] <= t["saving"] + 1e-9) & (t["saving"] <= t["saving high"] + 1e-9)).all()
    assert (t.loc[t["strategy"] == "never", ["saving", "saving low", "saving high"]] == 0).all().all()
    cheap = ops.StrategyTables(t, pd.DataFrame()).cheapest()
    assert len(cheap) == len(ops.PRODUCT_SETS) * 2 and set(cheap["cheapest"]) <= set(ops.STRATEGIES)


def test_unknown_or_non_table_names_are_clear_errors():
    with pytest.raises(KeyError, match="'nope.csv' is not shipped; allowed: coordination.json, deep_rl.csv"):
        P.published("nope.csv")
    with pytest.raises(ValueError, match="not a table"):
        P.published("long_lead_optimum.npz")


def test_shipped_optimum_loads_onto_the_evaluation_only_model():
    model = pl.model_for(long_lead_instance(), with_pairs=False)
    value, meta = pl.load_policy_table(P.published_path("long_lead_optimum.npz"), model)
    solved = P.published("deep_rl_solve.csv").set_index("instance").loc["long_lead", "optimum_daily_cost"]
    assert abs(value.daily_cost - solved) < 0.01
    assert np.isfinite(value.daily_cost) and "solve_seconds" in meta


def test_package_data_is_declared_for_an_installed_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"mas_lib.teach" = ["published_results/*"]' in text


def test_no_notebook_reads_the_benchmark_folder():
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert "benchmarks/results" not in nb.read_text(), nb.name


def test_publish_copies_and_records_provenance(tmp_path, monkeypatch):
    snap = tmp_path / "snapshot"
    shutil.copytree(P._folder(), snap)
    monkeypatch.setattr(P, "_folder", lambda: snap)
    src = tmp_path / "run"
    src.mkdir()
    pd.DataFrame({"instance": ["paper"], "learner": ["PPO"], "seed": [0], "gap_pct": [1.5]}).to_csv(
        src / "deep_rl.csv", index=False)
    with pytest.raises(FileNotFoundError, match="deep_rl_curve.csv not found"):
        P.publish(src, ["deep_rl.csv", "deep_rl_curve.csv"], command="c", commit="abc", date="2026-12-03")
    assert P.published("deep_rl.csv")["gap_pct"].iloc[0] != 1.5      # nothing copied before the check
    P.publish(src, ["deep_rl.csv"], command="bench --publish", commit="abc1234", date="2026-12-03")
    assert P.published("deep_rl.csv")["gap_pct"].tolist() == [1.5]
    meta = json.loads((snap / "PROVENANCE.json").read_text())["files"]["deep_rl.csv"]
    assert meta["commit"] == "abc1234" and meta["what"]              # the description is kept
