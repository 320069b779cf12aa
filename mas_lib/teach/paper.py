"""The paper's section 4 scenario, its two-day replay, and an errata table (notebook 02).

Dong et al., "Cross-border E-commerce Inventory Multi-agent System Construction", section 4,
simulates two warehouses, A and B:

* A starts with 100 units and B with 150 (section 4.1);
* forecasts for the next two days are A: 80, 90 and B: 120, 100;
* "an order of 50 units" has been issued between them;
* the reward is ``c1 * satisfaction + c2 * inventory-cost reduction - c3 * transport cost`` with
  c1, c2, c3 = 1.0, 0.5, 0.2 (section 4.3);
* section 4.5 plays two days: day 1 A replenishes 20 and B 30; day 2 A ships 30 to B and B ships
  50 to A, and prints the terms and the reward of each warehouse.

**Our reading of the open order.** The paper says A issued an order of 50 units to B and leaves
the direction of the goods open. We read it as a *request*: A has asked B for 50 units, no goods
are moving yet (a :class:`mas_lib.sim.config.Request`, observed by B as ``requested_of_me``). On day
2 B ships exactly 50 units to A, which is how we read the fulfilment of that request.

**What we had to choose** (the paper is silent): capacity 500 units each, holding cost 1 money
per unit-day (so the inventory-cost term is in money), transport 0.5 money per unit (so B's
50-unit shipment costs the 25 the paper prints), no ordering cost, lost sales, lead times 0
("replenishment +20 (inventory becomes 120)" happens at once).

:func:`paper_config` (defined in :mod:`mas_lib.sim.scenarios`, re-exported here) builds the
scenario; :func:`replay` runs the two days in :class:`mas_lib.sim.env.MultiWarehouseEnv` and sets
them next to the paper's printed numbers; :func:`readings` searches a family of readings of the
reward terms for one that reproduces all four printed rewards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..sim.config import EnvConfig
from ..sim.env import MultiWarehouseEnv
from ..sim.scenarios import PAPER_C, PAPER_FORECAST, paper_config

__all__ = [
    "PAPER_C",
    "PAPER_FORECAST",
    "PAPER_ACTIONS",
    "PAPER_PRINTED",
    "paper_config",
    "replay",
    "errata",
    "readings",
    "inventory_arithmetic",
]

# The constants below are read-only (a tuple, a read-only array, read-only mappings): the printed
# numbers of the paper cannot be edited by accident from a notebook. The scenario itself --
# ``paper_config``, ``PAPER_C`` (c1, c2, c3 of section 4.5) and ``PAPER_FORECAST`` (section 4.1) --
# lives with every other network in :mod:`mas_lib.sim.scenarios` and is re-exported here.


def _frozen(mapping: dict) -> MappingProxyType:
    """A read-only view of ``mapping`` with every nested dict made read-only too."""
    return MappingProxyType({k: _frozen(v) if isinstance(v, dict) else v for k, v in mapping.items()})


#: actions of section 4.5 [units]: day -> warehouse -> the action mapping MultiWarehouseEnv.step
#: understands (``replenish``, ``transfer`` to the other warehouse); read-only
PAPER_ACTIONS = _frozen({
    1: {"A": {"replenish": 20, "transfer": {"B": 0}}, "B": {"replenish": 30, "transfer": {"A": 0}}},
    2: {"A": {"replenish": 0, "transfer": {"B": 30}}, "B": {"replenish": 0, "transfer": {"A": 50}}},
})


@dataclass(frozen=True)
class PrintedDay:
    """One line of the paper's section 4.5 worked example, exactly as printed."""

    day: int
    warehouse: str
    stock_before: int
    stock_after_action: int
    satisfaction: tuple[int, int]  # (served, demand) as printed, e.g. (80, 80)
    reduction: tuple[int, int]  # the "(x - y)" printed for inventory-cost reduction
    transport: float
    printed_reward: float

    @property
    def reduction_value(self) -> float:
        """The printed inventory-cost reduction ``x - y`` as a number [as printed, money]."""
        return float(self.reduction[0] - self.reduction[1])

    @property
    def satisfaction_value(self) -> float:
        """The printed satisfaction ``served / demand`` [-]."""
        return self.satisfaction[0] / self.satisfaction[1]


#: the four printed lines of section 4.5
PAPER_PRINTED = (
    PrintedDay(1, "A", 100, 120, (80, 80), (20, 0), 0.0, 1.5),
    PrintedDay(1, "B", 150, 180, (120, 120), (30, 0), 0.0, 1.5),
    PrintedDay(2, "A", 120, 140, (90, 90), (0, 10), 0.0, 1.0),
    PrintedDay(2, "B", 180, 160, (100, 100), (0, 25), 25.0, 0.5),
)


def replay(config: EnvConfig | None = None, seed: int = 0) -> pd.DataFrame:
    """Play section 4.5's two days in the environment, next to the paper's printed numbers.

    One row per (day, warehouse) with: the paper's stock after the action and ours, the three
    reward terms as the paper prints them and as the environment computes them, the reward the
    formula gives with the paper's terms (``formula_on_paper_terms``), the reward the paper
    prints, and the environment's reward. Stock in units, costs in money. Notebook 02; paper
    section 4.5.
    """
    config = config or paper_config()
    c1, c2, c3 = config.reward.c1, config.reward.c2, config.reward.c3
    env = MultiWarehouseEnv(config)
    env.reset(seed=seed)
    rows = []
    for day in (1, 2):
        start = {a: int(env.core.on_hand[0, i]) for i, a in enumerate(env.possible_agents)}
        requests_before = int(env.core.requests[0].sum())
        _, rewards, _, _, infos = env.step(PAPER_ACTIONS[day])
        for p in (p for p in PAPER_PRINTED if p.day == day):
            i = config.index(p.warehouse)
            info = infos[p.warehouse]
            after_action = start[p.warehouse] + info["ordered"] - info["shipped_out"] + info["received_transfers"]
            formula = c1 * p.satisfaction_value + c2 * p.reduction_value - c3 * p.transport
            rows.append({
                "day": day, "warehouse": p.warehouse,
                "paper_stock_before": p.stock_before, "env_stock_before": start[p.warehouse],
                "paper_stock_after_action": p.stock_after_action, "env_stock_after_action": after_action,
                "env_stock_end_of_day": int(info["on_hand"]),
                "paper_satisfaction": p.satisfaction_value, "env_satisfaction": info["satisfaction"],
                "paper_reduction": p.reduction_value, "env_reduction": info["inventory_cost_reduction"],
                "paper_transport": p.transport, "env_transport": info["transport_cost"],
                "formula_on_paper_terms": round(formula, 6), "paper_printed_reward": p.printed_reward,
                "env_reward": rewards[p.warehouse],
                "open_requests_before": requests_before if i == config.index("B") else 0,
            })
    return pd.DataFrame(rows)


def errata(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every place where the paper's section 4.5 disagrees with its own formula or arithmetic.

    Returns a frame with ``item``, ``paper`` (what is printed), ``recomputed`` (what the paper's
    own numbers give) and ``explanation`` (stock in units, costs in money). Notebook 02 shows
    it; tests pin the recomputed values. Paper section 4.5.
    """
    table = replay() if table is None else table
    rows = []
    for r in table.itertuples():
        if not np.isclose(r.formula_on_paper_terms, r.paper_printed_reward):
            rows.append({
                "item": f"reward of {r.warehouse} on day {r.day}",
                "paper": r.paper_printed_reward,
                "recomputed": r.formula_on_paper_terms,
                "explanation": (
                    f"{PAPER_C[0]}*{r.paper_satisfaction:g} + {PAPER_C[1]}*({r.paper_reduction:g}) "
                    f"- {PAPER_C[2]}*{r.paper_transport:g} = {r.formula_on_paper_terms:g}, not "
                    f"{r.paper_printed_reward:g}"
                ),
            })
    for item in inventory_arithmetic():
        rows.append(item)
    return pd.DataFrame(rows)


def inventory_arithmetic() -> list[dict]:
    """The stock arithmetic of section 4.5 checked against itself: a list of errata rows (stock
    in units, costs in money), part of :func:`errata`."""
    out = []
    a1, b1 = PAPER_PRINTED[0], PAPER_PRINTED[1]
    fa, fb = PAPER_FORECAST[0]
    out.append({
        "item": "stock at the start of day 2",
        "paper": f"A {PAPER_PRINTED[2].stock_before}, B {PAPER_PRINTED[3].stock_before}",
        "recomputed": f"A {a1.stock_after_action - fa:g}, B {b1.stock_after_action - fb:g}",
        "explanation": (
            "day 1's demand (80 at A, 120 at B) is counted as fully satisfied but never taken out "
            "of stock: day 2 starts from the post-replenishment stock"
        ),
    })
    out.append({
        "item": "transport cost of A's 30-unit transfer on day 2",
        "paper": 0.0,
        "recomputed": "15 at B's implied rate (25 / 50 units = 0.5 per unit)",
        "explanation": "B's 50-unit transfer is charged 25 but A's 30-unit transfer is free",
    })
    out.append({
        "item": "inventory-cost reduction terms",
        "paper": "(20 - 0), (30 - 0), (0 - 10), (0 - 25)",
        "recomputed": "no stock or cost quantity of the example equals these differences",
        "explanation": (
            "a replenishment of 20 units is scored as a *reduction* of +20, and the day-2 values "
            "10 and 25 match no stock change (A goes 120 -> 140, B 180 -> 160)"
        ),
    })
    return out


_REDUCTION_READINGS = MappingProxyType({
    "as printed": lambda x, f: x,
    "sign": lambda x, f: np.sign(x),
    "clipped to [0, 1]": lambda x, f: np.clip(x, 0, 1),
    "positive part": lambda x, f: np.maximum(x, 0),
    "divided by 10": lambda x, f: x / 10,
    "divided by 100": lambda x, f: x / 100,
    "divided by the forecast": lambda x, f: x / f,
    "left out": lambda x, f: 0.0 * x,
})
_TRANSPORT_READINGS = MappingProxyType({
    "as printed": lambda x: x,
    "divided by 10": lambda x: x / 10,
    "divided by 100": lambda x: x / 100,
    "sign": lambda x: np.sign(x),
    "clipped to [0, 1]": lambda x: np.clip(x, 0, 1),
    "left out": lambda x: 0.0 * x,
})


def readings() -> pd.DataFrame:
    """Search a family of readings of the reward terms for ones that give the printed rewards.

    Each reading transforms the printed inventory-cost reduction (8 ways) and transport cost
    (6 ways) before applying ``c1 * satisfaction + c2 * reduction - c3 * transport``. Returns one
    row per reading with the four rewards it gives, how many of the four printed values
    (1.5, 1.5, 1.0, 0.5) it reproduces, sorted best first. Notebook 02 discusses the result;
    paper sections 4.3 and 4.5.
    """
    c1, c2, c3 = PAPER_C
    sat = np.array([p.satisfaction_value for p in PAPER_PRINTED])
    red = np.array([p.reduction_value for p in PAPER_PRINTED])
    tra = np.array([p.transport for p in PAPER_PRINTED])
    fc = np.array([PAPER_FORECAST[p.day - 1, 0 if p.warehouse == "A" else 1] for p in PAPER_PRINTED])
    printed = np.array([p.printed_reward for p in PAPER_PRINTED])
    rows = []
    for (rn, rf), (tn, tf) in itertools.product(_REDUCTION_READINGS.items(), _TRANSPORT_READINGS.items()):
        values = c1 * sat + c2 * rf(red, fc) - c3 * tf(tra)
        hits = np.isclose(values, printed)
        rows.append({
            "reduction reading": rn, "transport reading": tn,
            **{f"{p.warehouse} day {p.day}": round(float(v), 4) for p, v in zip(PAPER_PRINTED, values, strict=True)},
            "matches": int(hits.sum()),
        })
    return pd.DataFrame(rows).sort_values("matches", ascending=False, kind="stable").reset_index(drop=True)
