"""MultiWarehouseEnv.render() (the ansi day table) and .state() (the global state vector)."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib import MultiWarehouseEnv
from mas_lib.teach.paper import PAPER_ACTIONS, paper_config


def test_render_ansi_lists_every_warehouse_and_the_days_demand():
    env = MultiWarehouseEnv(paper_config(), render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.splitlines()[0] == "day 0"
    assert "A: on hand 100" in text and "B: on hand 150" in text
    for day, demand in ((1, {"A": 80, "B": 120}), (2, {"A": 90, "B": 100})):
        _, _, _, _, infos = env.step(PAPER_ACTIONS[day])
        lines = env.render().splitlines()
        assert lines[0] == f"day {day}"
        rows = {line.split()[0]: line.split() for line in lines[2:]}
        assert set(rows) == {"A", "B"}
        for name, d in demand.items():
            assert int(rows[name][1]) == d == infos[name]["demand"]
            assert int(rows[name][4]) == infos[name]["on_hand"]


def test_render_is_none_without_render_mode_and_refuses_unknown_modes():
    env = MultiWarehouseEnv(paper_config())
    env.reset(seed=0)
    assert env.render() is None
    env.step(PAPER_ACTIONS[1])
    assert env.render() is None
    with pytest.raises(ValueError, match="render_mode = 'human' is not allowed"):
        MultiWarehouseEnv(paper_config(), render_mode="human")


def test_state_is_the_concatenation_of_every_agents_observation():
    env = MultiWarehouseEnv(paper_config(episode_length=3))
    obs, _ = env.reset(seed=3)
    sizes = [env.observation_space(a).shape[0] for a in env.possible_agents]
    for day in (1, 2, None):
        state = env.state()
        assert state.shape == (sum(sizes),)
        np.testing.assert_array_equal(state, np.concatenate([obs[a] for a in env.possible_agents]))
        if day is not None:
            obs, *_ = env.step(PAPER_ACTIONS[day])
    # the on-hand entries are where each agent's observation puts them
    offset = 0
    for a, n in zip(env.possible_agents, sizes, strict=True):
        i = env.observation_labels(a).index("on_hand [units]")
        assert env.state()[offset + i] == env.core.on_hand[0, env.possible_agents.index(a)]
        offset += n
