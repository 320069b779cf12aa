"""Exercises that grade themselves: ``check("05.1", answer)`` says right or wrong, with a hint,
without showing the answer (every notebook's ``## Exercises``; the student edition built by
:mod:`mas_lib.teach.editions` calls it after each exercise).

Each exercise of :data:`EXERCISES` stores what kind of value it expects (a number in money/day, a
yes/no, a name...), a tolerance and either

* a **salted hash** of the rounded answer (``digest``): the number is cut into bins of width
  ``tolerance`` and the hash of its bin is stored, so the answer never appears in plain text. An
  answer within ``tolerance`` of the reference is always accepted; one off by ``2 * tolerance`` or
  more is always refused (in between it depends on where the bins fall). With ``tolerance = 0``
  the value itself (a whole number, a name, yes/no) is hashed and must match exactly;
* or a **function that recomputes** the answer with the library (``recompute``), when it is cheap;
  the check then compares within ``tolerance``;
* or the marker ``kind="discussion"``: an open question; the check says so and gives the hint.

An unanswered exercise (``None`` or ``...``) says "not yet answered" and never raises; an answer of
the wrong kind is graded wrong with a message saying what was expected. Only an unknown exercise id
raises (:class:`~mas_lib.validation.ConfigError`, naming the ids that exist).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..validation import ConfigError, not_allowed

#: salt of every digest: changing it invalidates the table (``tests/test_grading.py`` rebuilds it)
SALT = "mas_lib-exercises-v1"
KINDS = ("number", "numbers", "text", "texts", "yesno", "discussion")
NOT_ANSWERED = "not yet answered"


@dataclass(frozen=True)
class Exercise:
    """One exercise question: ``id`` is ``"NN.k"`` (notebook NN, question k); ``expects`` says in
    words what to give (with units); ``hint`` is shown after a wrong answer and for a discussion."""

    id: str
    expects: str
    hint: str
    kind: str = "number"
    tolerance: float = 0.0
    digest: str | None = None
    recompute: Callable[[], Any] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise not_allowed(f"Exercise({self.id!r}).kind", self.kind, " | ".join(KINDS))
        graded = (self.digest is not None) + (self.recompute is not None)
        if self.kind == "discussion" and graded:
            raise not_allowed(f"Exercise({self.id!r}).digest", self.digest, "None for a discussion question")
        if self.kind != "discussion" and graded != 1:
            raise not_allowed(f"Exercise({self.id!r}).digest", self.digest,
                              "exactly one of digest and recompute for a graded question")
        if self.digest is not None and self.kind not in ("number", "text", "texts", "yesno"):
            raise not_allowed(f"Exercise({self.id!r}).kind", self.kind, "number | text | texts | yesno with a digest")


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`grade`: ``status`` is ``"correct"``, ``"wrong"``, ``"not yet answered"``
    or ``"discussion"``; ``message`` is the sentence :func:`check` prints."""

    exercise: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- canonical forms
def _norm_text(value: str) -> str:
    return " ".join(str(value).strip().lower().split())


def _yesno(value) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str) and _norm_text(value) in ("yes", "no", "true", "false"):
        return "yes" if _norm_text(value) in ("yes", "true") else "no"
    return None


def _real(value) -> float | None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _hash(exercise_id: str, token: str) -> str:
    return hashlib.sha256(f"{SALT}|{exercise_id}|{token}".encode()).hexdigest()


def _tokens(kind: str, tolerance: float, value) -> list[str] | None:
    """The tokens an answer may hash to (several for a number with a tolerance: its bin and the two
    neighbours); None when the value is not of the kind."""
    if kind == "number":
        x = _real(value)
        if x is None:
            return None
        if tolerance == 0:
            return [str(int(x)) if x.is_integer() else repr(x)]
        b = math.floor(x / tolerance)
        return [str(b + k) for k in (-1, 0, 1)]
    if kind == "text":
        return [_norm_text(value)] if isinstance(value, str) else None
    if kind == "texts":
        if isinstance(value, str) or not all(isinstance(v, str) for v in np.atleast_1d(np.asarray(value, dtype=object))):
            return None
        return ["|".join(sorted({_norm_text(v) for v in value}))]
    if kind == "yesno":
        yn = _yesno(value)
        return None if yn is None else [yn]
    return None


def digest_of(exercise_id: str, kind: str, tolerance: float, value) -> str:
    """The digest stored for a reference ``value`` (how :data:`EXERCISES` was built; a teacher adds
    an exercise with it): the hash of the value's bin of width ``tolerance`` (or of the exact value)."""
    if kind == "number" and tolerance > 0:
        x = _real(value)
        if x is None:
            raise not_allowed(f"{exercise_id} reference", value, "a finite number")
        return _hash(exercise_id, str(math.floor(x / tolerance)))
    tokens = _tokens(kind, tolerance, value)
    if tokens is None:
        raise not_allowed(f"{exercise_id} reference", value, f"a value of kind {kind!r}")
    return _hash(exercise_id, tokens[0])


def _close(kind: str, tolerance: float, answer, reference) -> bool | None:
    """Compare with a recomputed reference; None when the answer is not of the kind."""
    if kind == "number":
        x = _real(answer)
        return None if x is None else abs(x - float(reference)) <= tolerance
    if kind == "numbers":
        try:
            a = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return None
        ref = np.asarray(reference, dtype=float)
        if a.shape != ref.shape or not np.all(np.isfinite(a)):
            return None
        return bool(np.all(np.abs(a - ref) <= tolerance))
    tokens = _tokens(kind, tolerance, answer)
    return None if tokens is None else tokens == _tokens(kind, tolerance, reference)


# --------------------------------------------------------------------------- recomputed answers
def _lost_on_day_two() -> list[int]:
    """00.1: units lost by A and B on a day with no orders after the paper's day-1 orders [units]."""
    from ..sim.env import MultiWarehouseEnv
    from ..sim.scenarios import paper_config

    env = MultiWarehouseEnv(paper_config(reward="cost"))
    env.reset(seed=0)
    env.step({"A": {"replenish": 20}, "B": {"replenish": 30}})
    _, _, _, _, infos = env.step({"A": {}, "B": {}})
    return [int(infos[a]["lost"]) for a in ("A", "B")]


def _stock_b_day_two_in_transit() -> float:
    """02.1: B's stock at the start of day 2 when the open order is 50 units travelling A -> B [units]."""
    from ..sim.config import InTransit
    from .paper import paper_config, replay

    cfg = paper_config().replace(requests=(), in_transit=(InTransit("A", "B", 50, days=1),))
    table = replay(cfg, seed=0)
    return float(table[table["day"] == 2].set_index("warehouse").loc["B", "env_stock_before"])


def _newsvendor_level_penalty_40() -> float:
    """06.1: the newsvendor order-up-to level for Poisson(60) demand in steps of 10 with lost-sale
    penalty 40, holding 1, order cost 1 and discount 0.9 (the warm-up of the optimum notebook) [units]."""
    from ..sim.demand import DiscreteIIDDemand

    demand = DiscreteIIDDemand.poisson([60.0], unit=10)
    ratio = (40.0 - 1.0) / (40.0 + 1.0 - 0.9)
    return float(demand.support[0][np.argmax(np.cumsum(demand.pmf[0]) >= ratio)])


def _visits_lead_three() -> float:
    """09.1: visits per central Q-table entry that 20 million transitions give with replenishment
    lead time 3 days [visits/entry]."""
    from ..decide.deep import long_lead_instance

    inst = long_lead_instance(replenish_lead=3)
    return 20e6 / (inst.n_states * inst.n_actions)


# --------------------------------------------------------------------------- the table
_MONEY = "a number in money/day"
EXERCISES: dict[str, Exercise] = {e.id: e for e in (
    Exercise("00.1", "a list of two whole numbers [units]: the units lost by A and by B on that day",
             "Lost sales = demand - stock on hand when there is no backlog; read infos[a]['lost'] after env.step.",
             kind="numbers", recompute=_lost_on_day_two),
    Exercise("00.2", "a text: the label of the observation entry (as env.observation_labels gives it)",
             "Zip env.observation_labels('B') with obs['B'] and look for the entry that is 50.",
             kind="text", digest="30ae94100d11f18e7c1bbec8a69260cedcd316710b5ff4a393b9442c8496ad78"),
    Exercise("01.1", _MONEY + ": the daily cost of the fixed order of 100 units/day (compare's daily_cost)",
             "FixedOrderQuantity(cfg, quantity=100) evaluated with compare(cfg, {...}, seed=SEED).",
             tolerance=5.0, digest="456894313a5c077fcbe9b6ec123c0141f8f6f62ddd984e572205cec147195604"),
    Exercise("01.2", _MONEY + ": the daily cost of 'together' (TransferRule keep=1) with transfer_cost=8",
             "Rebuild problem 3's config with transfer_cost=8.0 and compare alone against Combined(alone, TransferRule(...)).",
             tolerance=10.0, digest="78d379321830cb4ad8295aacfde5fed275051aa787175729de0e70bf1d13b016"),
    Exercise("01.3", "a number [units]: the cheapest safety stock on a 5-unit grid with shortage_cost=20",
             "Sweep ForecastBaseStock(cfg, safety=s) for s in range(0, 61, 5) with simulate(..., warmup=5).",
             digest="5c136be42dfd72f0de8bfe90e62e6f15376c6d7f4d8bea8a8358849e617d4756"),
    Exercise("02.1", "a number [units]: B's stock at the start of day 2",
             "The 50 units in transit arrive at the start of day 2; look at env_stock_before of paper.replay.",
             recompute=_stock_b_day_two_in_transit),
    Exercise("02.2", "a list of texts: the reward terms that remain, from 'satisfaction', 'inventory', 'transport'",
             "The reward is c1*satisfaction + c2*inventory-cost reduction - c3*transport; set a weight to 0.",
             kind="texts", digest="785c21c3529adc3c1c7af9655cd13457e95ff91a1a89960a3c933741819715db"),
    Exercise("02.3", "a number [units]: the safety stock with the lowest daily cost on range(0, 81, 5)",
             "grid_search(...) returns the levels sorted best first.", digest="082aea757f45709dc0281fc437e703f29df1f2e311003246e96e33e14ed51de3"),
    Exercise("03.1", "a number [units]: how many units come back with outliers='keep' (real data)",
             "Compare kept.frame['quantity'].sum() with res.frame['quantity'].sum().",
             tolerance=3000.0, digest="6e924208adeba67b6e7b614bc678cc21eb702e92d311464d6f5260315ffc2bb1"),
    Exercise("03.2", "a number, a share in [0, 1]: the share of clean units without a customer number (real data)",
             "res.frame['customer_id'].isna() marks the anonymous lines; weigh them by quantity.",
             tolerance=0.005, digest="ade70baa1ee099e5dc5f11b81e658bfe6ad18d2a92e36af9ee6adc8acadf64d0"),
    Exercise("03.3", "a text: the overseas country with the most days with a sale (as spelt in the data)",
             "D.daily_demand(res, by=('country',)), keep units > 0, count dates per country, drop the UK.",
             kind="text", digest="b2ffbfbe50b5a04bc354270772e16a1932a1a0b13be0014d4e48636dd2210d51"),
    Exercise("04.1", "a text: the model whose mean MASE rises most with the mean as point (as the leaderboard names it)",
             "Join fc.leaderboard(bt) and fc.leaderboard(bt, point='mean') on the model and subtract.",
             kind="text", digest="f6c87a952f86af4e33230cff67a5e0aa8e170982787262b1fec6ebb445ad76ba"),
    Exercise("04.2", "yes or no: does including closed days change the ranking?",
             "fc.leaderboard(bt, include_closed=True); compare the order of the models, not the numbers.",
             kind="yesno", digest="7436ba9dcf08992fa57fdefc8ffb7799747279bb263f7721225ed8c017cc2c83"),
    Exercise("04.3", "a number [units/day]: Croston's mean error (forecast - true_mean) on open days",
             "Merge the backtest with the generator's true_mean on series and date, keep open days.",
             tolerance=0.2, digest="7f5a3ba86d9f1f19707ad4dc942f531e327f53689b96d5813496fe128d626135"),
    Exercise("04.4", "a number [units]: the 95 % safety stock over 3 days of perfect forecasts on all days",
             "fc.safety_stock(d_int['units'] - d_int['true_mean'], 0.95, 3).",
             tolerance=2.0, digest="0905b213dea05bee67be4b31a4fd4b9e2faf5e9eae5661d107be5a8d0a1858f3"),
    Exercise("05.1", "a number [%]: the gap to the optimum of the double Q-learner",
             "planning.gap(planning.evaluate_policy(model, res.policy), optimum); each table sees half the samples.",
             tolerance=5.0, digest="7e60d447c8b62125ebd05c40a74d8861294f4914d149c2a178d830199fd317ac"),
    Exercise("05.2", "a discussion (no value to check)",
             "Count the actions: ActionTable(cfg).sizes for one warehouse, their product for the central learner; "
             "how long does trying each untried action once take?", kind="discussion"),
    Exercise("05.3", "a number [units]: the mean stock on hand of the c3 = 5 learner",
             "run_experiment(c1=100, c3=5, steps=300, schedule='decaying', epsilon=0.02); read its kpis.",
             tolerance=2.0, digest="96253ab316c9ca358489703bf8a6da0e17b749e621e4f50180b3b5a3f67c18b5"),
    Exercise("06.1", "a number [units]: the newsvendor order-up-to level S* for penalty 40",
             "The fractile is (p - c)/(p + h - gamma c); take the first demand level whose CDF reaches it.",
             recompute=_newsvendor_level_penalty_40),
    Exercise("06.2", "a number [%]: the gap of DoNothing on the paper instance",
             "pl.gap(pl.evaluate_policy(models['paper'], DoNothing(cfg)), optima['paper']).",
             tolerance=20.0, digest="dc0466512293483d2a8a249112f5c65401561d2f0ea49ca4899dd4e209f5c67e"),
    Exercise("06.3", "a discussion (no value to check)",
             "Compare what one step of each method does: an exact evaluation of a policy, or one contraction by gamma.",
             kind="discussion"),
    Exercise("06.4", "a number [%]: the value of transfers (saving against no transfers) with link lead time 1",
             "Rebuild the model with dataclasses.replace(link, lead_time=1) and compare start values.",
             tolerance=0.1, digest="50940f34c98184b50f83218fdd09ca778c7e2ae79c523f620fbd5d103e42081e"),
    Exercise("06.5", "a number [%]: how much lower the optimal cost is on the 10-unit grids",
             "Compare start_value of policy_iteration on the coarse and the fine model.",
             tolerance=0.3, digest="7b8fbf2bb603f32bdd4a40823dda9b0b14e808ed9b06644b78ee32ed268c35fd"),
    Exercise("07.1", _MONEY + ": the daily cost of the negotiated protocol with cover=2.0, keep=1.0",
             "simulate(net, proto, episodes=8, seed=SEED).daily_cost, on regional_network(lead_time=4).",
             tolerance=5.0, digest="92d229f39c3fa245398990bd0ab74762de43d34f27cf68b9ff72c4c160ff4477"),
    Exercise("07.2", _MONEY + ": the daily cost of the central coordinator with drop_rate=0.5",
             "CentralCoordinator(net, replenish=regional_replenishment(net, -0.5), drop_rate=0.5), 8 episodes.",
             tolerance=3.0, digest="6cdd3de568cfc091d7765fec3b2ab5d3255a498abdd1b74c94862e7c03b1ddcc"),
    Exercise("07.3", "a list of texts: the rules (as allocation_study names them) that give the optimal split",
             "Compare each rule's allocation with the 'exact optimum' row.", kind="texts", digest="732942dee0afd068178ad99aa8975f9c37282f56273d1026e9b220f07db5ffde"),
    Exercise("07.4", "a discussion (no value to check)",
             "What does one message of CoordinatedPair hold, and what must a middle warehouse send on a chain?",
             kind="discussion"),
    Exercise("08.1", "a number, a share in [0, 1]: the (s, S) fill rate at a 99 % service level (real data)",
             "ops.scheduled_forecasts(data, 'weekly', service_level=0.99), then ops.run_twin(...).summary().",
             tolerance=0.005, digest="c23ce23cdbef2b0b18605f7942491909f975a37934982c9a48590d7b3d83182b"),
    Exercise("08.2", "a whole number: the refits of the drift strategy with threshold 20 (real data)",
             "ops.scheduled_forecasts(data, 'drift', detector_settings={'threshold': 20.0}).n_refits.", digest="5e8e5f419980fc097b51a29033a1ecdb0c94bcd188c7eb3bc6683ce8b94aec6f"),
    Exercise("08.3", "yes or no: does the network cost go down with ROW by air?",
             "Replace ROW's lead_time and order_unit_cost, rebuild TwinData and compare total cost.",
             kind="yesno", digest="6c1dc23e98bfab6835712a38b14311afa9cce6680a7a895c75cc6fc3cc2433da"),
    Exercise("09.1", "a number [visits/entry]: visits per Q-table entry from 20 million transitions",
             "long_lead_instance(replenish_lead=3): entries = n_states * n_actions.",
             tolerance=5e-5, recompute=_visits_lead_three),
    Exercise("09.2", "yes or no: does it still learn without the baseline?",
             "Run the toy with w = r and with w = r - r.mean() and compare the final P(better action).",
             kind="yesno", digest="54cf28a2b294343516a76f837477d0a07e8adaa8d2dedb4e3bf6459a369c3cd0"),
    Exercise("09.3", "a number [%]: the gap of REINFORCE with horizon 100 at section 5's budget",
             "pl.gap(pl.evaluate_policy(model, res.policy), optimum).", tolerance=5.0, digest="0e84a7a590232a18e3b4d06a6b054e53786a89352b59503ed416cf23b7080444"),
    Exercise("09.4", "a text: the name of the error class that load raises",
             "Wrap the load in try/except Exception as err and look at type(err).__name__.",
             kind="text", digest="6e570b04a7fdd81ed64dd7b0f927b3e667aa8199aa978fcf274db613e65410e6"),
)}


# --------------------------------------------------------------------------- checking
def _unanswered(answer) -> bool:
    return answer is None or answer is Ellipsis


def grade(exercise_id: str, answer: Any) -> Verdict:
    """Grade ``answer`` to exercise ``exercise_id`` (e.g. ``"05.1"``) without revealing the
    reference. Raises :class:`~mas_lib.validation.ConfigError` only for an unknown id."""
    if exercise_id not in EXERCISES:
        raise not_allowed("exercise", exercise_id, "one of " + ", ".join(EXERCISES), ConfigError)
    ex = EXERCISES[exercise_id]
    head = f"Exercise {ex.id}"
    if ex.kind == "discussion":
        return Verdict(ex.id, "discussion", f"{head} is a discussion question: nothing to check. Hint: {ex.hint}")
    if _unanswered(answer):
        return Verdict(ex.id, NOT_ANSWERED, f"{head}: {NOT_ANSWERED} (expected {ex.expects}).")
    if ex.recompute is not None:
        ok = _close(ex.kind, ex.tolerance, answer, ex.recompute())
    else:
        tokens = _tokens(ex.kind, ex.tolerance, answer)
        ok = None if tokens is None else any(_hash(ex.id, t) == ex.digest for t in tokens)
    if ok is None:
        return Verdict(ex.id, "wrong", f"{head}: {answer!r} is not the kind of value expected; expected {ex.expects}.")
    if ok:
        within = f" (within {ex.tolerance:g})" if ex.tolerance else ""
        return Verdict(ex.id, "correct", f"{head}: correct{within}.")
    return Verdict(ex.id, "wrong", f"{head}: {answer!r} is not right; expected {ex.expects}. Hint: {ex.hint}")


def check(exercise_id: str, answer: Any) -> None:
    """Print the verdict of :func:`grade` for a student (right/wrong, a hint, or "not yet
    answered"); the cell a student edition puts after each exercise. Use :func:`grade` to get the
    :class:`Verdict` itself."""
    print(grade(exercise_id, answer).message)
