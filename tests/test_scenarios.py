"""The one home of scenario networks (mas_lib.sim.scenarios): every named scenario builds, equals
what the old builders produced before the networks were moved there, and the registry's errors
name what is allowed.

"What the old builders produced" is pinned as a fingerprint: a hash of every compared dataclass
field, recursively, and of the demand process's state (demand processes have no ``__eq__``, so
two equal configurations are not ``==``). The fingerprints below were computed with the builders
in their old homes (``teach.paper``, ``teach.problems``, ``decide.instances``,
``decide.deep.instances``, ``messaging.networks``, ``messaging.allocation``, ``ops.network``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping

import numpy as np
import pytest

from mas_lib.decide.deep.instances import long_lead_instance
from mas_lib.decide.instances import INSTANCES, cross_border_instance, paper_instance
from mas_lib.messaging.allocation import hub_network
from mas_lib.messaging.networks import regional_network
from mas_lib.ops.network import TwinLink, TwinNetwork, TwinWarehouse, default_network
from mas_lib.sim import EnvConfig
from mas_lib.sim import scenarios as S
from mas_lib.teach.paper import paper_config
from mas_lib.teach.problems import two_warehouses


def canon(obj):
    """A JSON-able, order-preserving description of ``obj`` (dataclasses field by field)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = dataclasses.fields(obj)
        return [type(obj).__name__, {f.name: canon(getattr(obj, f.name)) for f in fields if f.compare}]
    if isinstance(obj, np.ndarray):
        return ["ndarray", str(obj.dtype), list(obj.shape), canon(obj.tolist())]
    if isinstance(obj, Mapping):
        return {str(k): canon(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canon(v) for v in obj]
    if isinstance(obj, np.generic):
        return canon(obj.item())
    if isinstance(obj, float):
        return repr(obj)
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    return [type(obj).__name__, {k: canon(v) for k, v in sorted(vars(obj).items())}]  # a demand process


def fingerprint(obj) -> str:
    return hashlib.sha256(json.dumps(canon(obj), sort_keys=True).encode()).hexdigest()[:16]


#: the old builders' output before the move (call -> fingerprint)
BEFORE = {
    "paper_config()": "a374e1f573592655",
    "paper_config(episode_length=30, noise_sd=5.0, reward='cost', lead_time=1)": "199ba23b5841bf20",
    "two_warehouses([80.0, 120.0], lead_time=2)": "36475e8b83a867fb",
    "two_warehouses([100.0, 100.0], lead_time=5, initial=(50, 1000), capacity=1200, episode_length=40)":
        "ad4b72be1858a77a",
    "paper_instance()": "17fb39f8343c8e4c",
    "paper_instance(transfers=False)": "c928392e285c0d40",
    "cross_border_instance()": "a57c67ad0b6b6c1d",
    "cross_border_instance(transfers=False, episode_length=50)": "56b7d6805793865b",
    "long_lead_instance()": "4f86e42000f111bb",
    "long_lead_instance(3, 2, 80)": "2000704aaf960b33",
    "regional_network()": "d87b380dfb85f66f",
    "regional_network(lead_time=2, episode_length=60, transfer_lead=1)": "54371562bf809e53",
    "hub_network()": "e2a1a323c82c93c9",
    "hub_network(supply=200, lead_time=3, episode_length=50)": "d3f88177eb257d58",
    "default_network()": "1c8567392231966c",
}

#: the configurations teach.problems built inline before the move, by scenario name
BEFORE_PROBLEMS = {
    "flexibility": "e3657bd6ab73f8c7",
    "information": "a7032a0537ca51fc",
    "single_vs_joint": "ad4b72be1858a77a",
    "risk_tradeoff": "36475e8b83a867fb",
}

NAMESPACE = {
    "paper_config": paper_config, "two_warehouses": two_warehouses, "paper_instance": paper_instance,
    "cross_border_instance": cross_border_instance, "long_lead_instance": long_lead_instance,
    "regional_network": regional_network, "hub_network": hub_network, "default_network": default_network,
}


@pytest.mark.parametrize("call", list(BEFORE))
def test_old_entry_points_build_what_they_built_before(call):
    assert fingerprint(eval(call, dict(NAMESPACE))) == BEFORE[call]


#: registry name -> what it must equal (built through the old entry points, pinned above)
OLD_BUILDER = {
    "section4": lambda: paper_config(),
    "paper": lambda: paper_instance().config,
    "cross_border": lambda: cross_border_instance().config,
    "long_lead": lambda: long_lead_instance().config,
    "regional": lambda: regional_network(),
    "hub": lambda: hub_network(),
}


def test_the_registry_covers_every_scenario():
    assert set(S.SCENARIOS) == set(OLD_BUILDER) | set(BEFORE_PROBLEMS) | {"twin"}
    for name, line in S.SCENARIOS.items():
        assert isinstance(line, str) and line.strip() and "\n" not in line, name
    with pytest.raises(TypeError):
        S.SCENARIOS["mine"] = "a scenario of my own"  # read-only


@pytest.mark.parametrize("name", list(OLD_BUILDER))
def test_each_scenario_equals_its_old_builder(name):
    built = S.scenario(name)
    assert isinstance(built, EnvConfig)
    assert fingerprint(built) == fingerprint(OLD_BUILDER[name]())
    assert built.warehouses == OLD_BUILDER[name]().warehouses and built.links == OLD_BUILDER[name]().links


@pytest.mark.parametrize("name", list(BEFORE_PROBLEMS))
def test_section_2_scenarios_equal_the_configs_built_inline_before(name):
    assert fingerprint(S.scenario(name)) == BEFORE_PROBLEMS[name]


def test_the_twin_scenario_is_the_data_of_the_default_network():
    data = S.scenario("twin")
    net = TwinNetwork(warehouses=tuple(TwinWarehouse(**w) for w in data["warehouses"]),
                      links=tuple(TwinLink(**link) for link in data["links"]),
                      holding_cost=data["holding_cost"], shortage_cost=data["shortage_cost"])
    assert net == default_network()
    assert fingerprint(net) == BEFORE["default_network()"]
    with pytest.raises(TypeError):
        data["warehouses"][0]["lead_time"] = 1  # the numbers cannot be edited by accident


def test_options_reach_the_builder_and_change_the_fingerprint():
    assert fingerprint(S.scenario("hub", supply=200, lead_time=3, episode_length=50)) == BEFORE[
        "hub_network(supply=200, lead_time=3, episode_length=50)"]
    assert fingerprint(S.scenario("long_lead", replenish_lead=3, transfer_lead=2, episode_length=80)) == fingerprint(
        long_lead_instance(3, 2, 80).config)
    assert fingerprint(S.scenario("regional", lead_time=3)) != BEFORE["regional_network()"]


def test_the_benchmark_instances_wrap_the_scenarios():
    for name in INSTANCES:
        assert fingerprint(INSTANCES[name].config) == fingerprint(S.scenario(name))


def test_old_names_are_the_new_objects():
    from mas_lib.decide.instances import COSTS
    from mas_lib.messaging import networks
    from mas_lib.ops import network
    from mas_lib.teach import paper, problems

    assert paper.paper_config is S.paper_config and paper.PAPER_FORECAST is S.PAPER_FORECAST
    assert paper.PAPER_C is S.PAPER_C and problems.two_warehouses is S.two_warehouses
    assert networks.regional_network is S.regional_network and networks.REGIONAL_MEANS is S.REGIONAL_MEANS
    assert hub_network is S.hub_network and network.EUROPE is S.EUROPE and COSTS is S.BENCHMARK_COSTS


def test_an_unknown_name_names_the_allowed_ones():
    with pytest.raises(KeyError) as err:
        S.scenario("papr")
    message = str(err.value)
    assert "'papr'" in message and "not known" in message
    assert all(name in message for name in S.SCENARIOS)


def test_an_unknown_option_names_the_allowed_ones():
    with pytest.raises(TypeError, match=r"'hub' has no option\(s\) \['suply'\]; allowed: \['supply'"):
        S.scenario("hub", suply=200)
    with pytest.raises(TypeError, match="allowed: none"):
        S.scenario("twin", products=3)
    with pytest.raises(ValueError, match="hub_network.supply"):  # the builder's own checks still apply
        S.scenario("hub", supply=0)
