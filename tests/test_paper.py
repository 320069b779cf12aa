"""The paper's section 4 scenario, replay and errata: recomputed numbers are pinned here."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib import MultiWarehouseEnv
from mas_lib.teach.paper import PAPER_PRINTED, errata, paper_config, readings, replay


def test_scenario_matches_section_4_1():
    cfg = paper_config()
    env = MultiWarehouseEnv(cfg)
    obs, _ = env.reset(seed=0)
    labels = env.observation_labels("A")
    a = dict(zip(labels, obs["A"], strict=True))
    assert a["on_hand [units]"] == 100 and a["forecast_day+0 [units]"] == 80 and a["forecast_day+1 [units]"] == 90
    b = dict(zip(env.observation_labels("B"), obs["B"], strict=True))
    assert b["on_hand [units]"] == 150 and b["forecast_day+0 [units]"] == 120 and b["forecast_day+1 [units]"] == 100
    assert b["requested_of_me [units]"] == 50  # A's open order of 50 units, addressed to B
    assert (cfg.reward.c1, cfg.reward.c2, cfg.reward.c3) == (1.0, 0.5, 0.2)


def test_formula_on_the_papers_own_terms():
    t = replay()
    np.testing.assert_allclose(t["formula_on_paper_terms"], [11.0, 16.0, -4.0, -16.5])
    np.testing.assert_allclose(t["paper_printed_reward"], [1.5, 1.5, 1.0, 0.5])


def test_environment_replay_numbers():
    t = replay()
    # day 1: +20 / +30 at once, then demand 80 / 120 served
    assert t["env_stock_after_action"].tolist() == [120, 180, 60, 40]
    assert t["env_stock_end_of_day"].tolist() == [40, 60, 0, 0]
    np.testing.assert_allclose(t["env_satisfaction"], [1.0, 1.0, 60 / 90, 40 / 100])
    np.testing.assert_allclose(t["env_transport"], [0.0, 0.0, 15.0, 25.0])
    np.testing.assert_allclose(t["env_reward"], [31.0, 46.0, 60 / 90 + 20 - 3.0, 0.4 + 30 - 5.0])


def test_request_is_closed_by_bs_transfer():
    env = MultiWarehouseEnv(paper_config())
    env.reset(seed=0)
    from mas_lib.teach.paper import PAPER_ACTIONS

    env.step(PAPER_ACTIONS[1])
    assert env.core.requests[0].sum() == 50
    env.step(PAPER_ACTIONS[2])
    assert env.core.requests[0].sum() == 0


def test_errata_lists_all_four_rewards_and_the_stock_arithmetic():
    e = errata()
    rewards = e[e["item"].str.startswith("reward")]
    assert len(rewards) == 4
    assert "A 40, B 60" in set(e["recomputed"].astype(str))


def test_reading_search():
    r = readings()
    assert len(r) == 48
    full = r[r["matches"] == 4]
    # only one reading of the family reproduces all four printed rewards, and it is ad hoc
    assert full[["reduction reading", "transport reading"]].values.tolist() == [["clipped to [0, 1]", "divided by 10"]]
    as_printed = r[(r["reduction reading"] == "as printed") & (r["transport reading"] == "as printed")]
    assert int(as_printed["matches"].iloc[0]) == 0


@pytest.mark.parametrize("p", PAPER_PRINTED)
def test_printed_lines_are_transcribed(p):
    assert p.satisfaction_value == 1.0


def test_paper_constants_are_read_only():
    from dataclasses import FrozenInstanceError

    from mas_lib.teach.paper import PAPER_ACTIONS, PAPER_C, PAPER_FORECAST

    with pytest.raises(ValueError, match="read-only"):
        PAPER_FORECAST[0, 0] = 0.0
    assert not PAPER_FORECAST.flags.writeable
    with pytest.raises(TypeError):
        PAPER_ACTIONS[3] = {}
    with pytest.raises(TypeError):
        PAPER_ACTIONS[1]["A"] = {}
    with pytest.raises(TypeError):
        PAPER_ACTIONS[1]["A"]["replenish"] = 0
    with pytest.raises(TypeError):
        PAPER_ACTIONS[2]["B"]["transfer"]["A"] = 0
    with pytest.raises(TypeError):
        PAPER_PRINTED[0] = PAPER_PRINTED[1]
    with pytest.raises(FrozenInstanceError):
        PAPER_PRINTED[0].printed_reward = 11.0
    with pytest.raises(TypeError):
        PAPER_C[0] = 2.0
    assert isinstance(PAPER_PRINTED, tuple) and isinstance(PAPER_C, tuple)
    # read-only, yet still what the environment plays (the replay above uses them)
    assert PAPER_ACTIONS[2]["B"]["transfer"]["A"] == 50 and PAPER_FORECAST.tolist() == [[80, 120], [90, 100]]
