"""Every result object of the package has to_frame() (a tidy table) and summary() (a labelled series),
as the README promises; StepResult, one simulated day's arrays, is not a result of a run."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

RESULTS = [
    ("mas_lib.decide.deep.policy", "DeepResult"), ("mas_lib.decide.coordination.vdn", "DecentralisedResult"),
    ("mas_lib.data.cleaning", "CleaningResult"), ("mas_lib.teach.widgets", "ExperimentResult"),
    ("mas_lib.decide.planning.tuning", "TuningResult"), ("mas_lib.decide.rollout", "SimulationSummary"),
    ("mas_lib.decide.tabular.training", "TrainingResult"), ("mas_lib.decide.search", "SearchResult"),
    ("mas_lib.ops.twin", "TwinRun"), ("mas_lib.decide.planning.evaluate", "PolicyValue"),
    ("mas_lib.decide.planning.solve", "Solution"),
]


@pytest.mark.parametrize("module,name", RESULTS)
def test_result_classes_have_to_frame_and_summary(module, name):
    cls = getattr(importlib.import_module(module), name)
    assert callable(getattr(cls, "to_frame", None)) and callable(getattr(cls, "summary", None)), name


def test_decentralised_result_frames_and_series():
    from mas_lib.decide.coordination import train_decentralised
    from mas_lib.decide.instances import get_instance

    inst = get_instance("paper")
    res = train_decentralised(inst.config, method="vdn", steps=40, batch=8, gamma=inst.gamma, seed=0)
    assert isinstance(res.to_frame(), pd.DataFrame) and len(res.to_frame()) == len(res.curve)
    s = res.summary()
    assert s.name == "vdn" and s["transitions"] == res.transitions
    assert s["final mean daily cost"] == res.curve["team_cost"].iloc[-1]


def test_cleaning_summary_adds_up(retail_clean):
    s = retail_clean.summary()
    assert s["rows before"] - s["rows removed"] == s["rows after"] == len(retail_clean.frame)
    assert retail_clean.to_frame().equals(retail_clean.report)
