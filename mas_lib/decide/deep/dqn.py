r"""Deep Q-learning (DQN) on the batch core: where the Q-table becomes a network (paper 3.1.2(4); notebook 09).

The tabular update :math:`Q(s,a) \leftarrow Q(s,a) + \alpha(r + \gamma \max_{a'} Q(s',a') - Q(s,a))`
becomes a regression: a network :math:`Q_\theta(s, \cdot)` (central input -> one value per joint
action) is moved by Adam down the gradient of the squared TD error on minibatches

.. math:: L(\theta) = \tfrac12 \big(r + \gamma\, Q_{\bar\theta}(s', \arg\max_{a' \text{ feasible}} Q_\theta(s',a'))
          - Q_\theta(s,a)\big)^2

with the three ingredients of Mnih et al. (2015) and van Hasselt et al. (2016):

* a **replay buffer** (transitions are reused and decorrelated),
* a **target network** :math:`\bar\theta` (copied every ``target_every`` updates) in the target,
* **double DQN** (the online network picks :math:`a'`, the target network values it),

plus an epsilon schedule (linear decay) and **masking**: infeasible actions (shipping more than is
on hand) are never chosen, neither when acting nor in the ``argmax`` of the target. Rewards are
``-total cost * reward_scale`` (the cost the exact optimum minimises). ``B`` copies step together
through the one :func:`~mas_lib.decide.rollout.rollout` loop; episodes are truncated, not
terminated, so every transition bootstraps (also on the last day, from the final observation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...sim.config import EnvConfig
from ...sim.core import BatchCore
from ...sim.state import SystemState
from ...validation import (
    Validated,
    check_whole,
    flag,
    items,
    number,
    optional,
    probability,
    whole,
)
from ..rollout import rollout
from ..schedule import Schedule
from .features import ActionMasks, ObservationEncoder
from .nn import MLP, Adam, check_finite, clip_by_norm, single_thread
from .policy import Checkpoint, DeepResult, NetworkPolicy, RunSettings

__all__ = ["DQNConfig", "ReplayBuffer", "train_dqn", "dqn_targets"]


@dataclass(frozen=True)
class DQNConfig(RunSettings, Validated):
    """Every setting of a DQN run, validated on construction (notebook 09).

    Attributes:
        hidden: hidden layer sizes; activation: ``"relu"`` or ``"tanh"``.
        lr: Adam step size; clip: global gradient-norm limit (``None``: no clipping).
        gamma: discount per day, in [0, 1).
        days: simulated days per copy [days]; copies: environment copies ``B`` stepped together.
            Transitions = ``days * copies``.
        batch: minibatch size; updates_per_day: gradient steps per simulated day.
        buffer: replay capacity [transitions]; ``replay=False`` learns from each day's ``B``
            fresh transitions only (the "without replay" experiment of notebook 09).
        warmup: transitions collected before the first update.
        target_every: updates between copies of the online into the target network;
            ``target=False`` uses the online network in the target (no target network).
        double: double DQN.
        epsilon_start, epsilon_end, epsilon_decay: exploration, linear from start to end over the
            first ``epsilon_decay`` fraction of training.
        reward_scale: reward = ``-cost * reward_scale`` [1/money].
        episode_length: days per training episode (``None``: the config's); copies restart then.
        seed: initialisation, exploration and demand seed.
        log_every: days between learning-curve rows.
    """

    hidden: tuple[int, ...] = items((128, 128), whole(low=1), indexed=False)
    activation: str = "relu"
    lr: float = number(1e-3, low=0, low_inclusive=False)
    clip: float | None = optional(number(10.0, low=0, low_inclusive=False), say_none=False)
    gamma: float = number(0.95, low=0, high=1, high_inclusive=False)
    days: int = whole(2000, low=1)
    copies: int = whole(32, low=1)
    batch: int = whole(128, low=1)
    updates_per_day: int = whole(1, low=1)
    buffer: int = whole(100_000, low=1)
    replay: bool = flag(True)
    warmup: int = whole(2_000, low=0)
    target_every: int = whole(250, low=1)
    target: bool = flag(True)
    double: bool = flag(True)
    epsilon_start: float = probability(1.0)
    epsilon_end: float = probability(0.02)
    epsilon_decay: float = number(0.5, low=0, high=1, low_inclusive=False)
    reward_scale: float = number(1e-3, low=0, low_inclusive=False)
    episode_length: int | None = optional(whole(1000, low=2), say_none=False)
    seed: int = whole(0, low=0)
    log_every: int = whole(50, low=1)



class ReplayBuffer:
    """A ring buffer of transitions ``(x, a, r, x', mask')`` in preallocated numpy arrays
    (notebook 09): ``add`` a batch, ``sample`` uniformly with a Generator."""

    def __init__(self, capacity: int, n_features: int, n_actions: int):
        self.capacity = check_whole(capacity, "ReplayBuffer.capacity", low=1)
        self.x = np.zeros((capacity, n_features), dtype=np.float32)
        self.x2 = np.zeros((capacity, n_features), dtype=np.float32)
        self.a = np.zeros(capacity, dtype=np.int64)
        self.r = np.zeros(capacity, dtype=np.float32)
        self.mask2 = np.zeros((capacity, n_actions), dtype=bool)
        self.size = 0
        self.pos = 0

    def add(self, x, a, r, x2, mask2) -> None:
        """Store ``B`` transitions (overwriting the oldest when full)."""
        idx = (self.pos + np.arange(len(a))) % self.capacity
        self.x[idx], self.a[idx], self.r[idx], self.x2[idx], self.mask2[idx] = x, a, r, x2, mask2
        self.pos = int((self.pos + len(a)) % self.capacity)
        self.size = min(self.size + len(a), self.capacity)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """``n`` transitions drawn uniformly with replacement."""
        i = rng.integers(0, self.size, size=n)
        return self.x[i], self.a[i], self.r[i], self.x2[i], self.mask2[i]


def dqn_targets(online: MLP, target: MLP, r: np.ndarray, x2: np.ndarray, mask2: np.ndarray, gamma: float,
                double: bool = True) -> np.ndarray:
    """TD targets ``r + gamma * Q_target(s', a*)`` with ``a*`` the best *feasible* action of the
    online network (double DQN) or of the target network itself (plain DQN). Notebook 09."""
    q_t = target(x2)
    chooser = online(x2) if double else q_t
    a_star = np.argmax(np.where(mask2, chooser, -np.inf), axis=1)
    return r + gamma * q_t[np.arange(len(r)), a_star]


def train_dqn(config: EnvConfig, cfg: DQNConfig | None = None, checkpoint: Checkpoint | None = None,
             **changes) -> DeepResult:
    """Train a central DQN on ``cfg.copies`` copies of ``config`` (paper 3.1.2(4); notebook 09,
    ``benchmarks/bench_deep_rl.py``). ``changes`` override fields of ``cfg``; ``checkpoint`` is
    called as ``checkpoint(transitions, policy)`` with a frozen copy of the greedy policy at every
    learning-curve row (the benchmark measures the exact gap there).

    Every day: encode the copies' observations (:class:`ObservationEncoder`), act
    epsilon-greedily among the feasible joint actions, step the batch core through
    :func:`~mas_lib.decide.rollout.rollout`, store the ``B`` transitions, then take
    ``updates_per_day`` Adam steps on minibatches of the squared TD error. Raises
    :class:`~mas_lib.decide.deep.nn.NonFiniteError` naming the step if a reward, the loss or a
    weight turns NaN/inf. Returns a :class:`DeepResult` whose policy is the greedy network.
    """
    cfg = (cfg or DQNConfig()).replace(**changes)
    with single_thread():
        return _train_dqn(config, cfg, checkpoint)


def _train_dqn(config: EnvConfig, cfg: DQNConfig, checkpoint: Checkpoint | None) -> DeepResult:
    t0, c0 = time.perf_counter(), time.process_time()
    train_config = config if cfg.episode_length is None else config.replace(episode_length=cfg.episode_length)
    enc, masks = ObservationEncoder(config), ActionMasks(config)
    rng = np.random.default_rng(cfg.seed)
    net = MLP([enc.central_size, *cfg.hidden, masks.n_joint], cfg.activation, seed=cfg.seed, out_scale=0.1, dtype="float32")
    tgt = net.copy()
    opt = Adam(net.params, lr=cfg.lr)
    buf = ReplayBuffer(cfg.buffer if cfg.replay else cfg.copies, enc.central_size, masks.n_joint)
    B = cfg.copies
    now = {"day": 0, "updates": 0}
    epsilon = Schedule(cfg.epsilon_start, cfg.epsilon_end, "linear", cfg.epsilon_decay)
    rows, acc = [], {"cost": 0.0, "loss": 0.0, "n": 0, "nl": 0}

    def behave(state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        obs = enc.observe(state)
        x, m = enc.central_input(obs), masks.joint(enc.on_hand(obs))
        eps = epsilon(now["day"] / cfg.days)
        greedy = np.argmax(np.where(m, net(x), -np.inf), axis=1)
        # a uniformly random feasible action: argmax of random keys on the feasible set
        random = np.argmax(np.where(m, rng.random(m.shape), -1.0), axis=1)
        a = np.where(rng.random(B) < eps, random, greedy)
        now.update(x=x, a=a, eps=eps)
        return masks.decode_joint(a)

    core = BatchCore(train_config, batch_size=B)
    for step in rollout(core, behave, seed=cfg.seed, days=cfg.days):
        d = now["day"]
        cost = step.result.total_cost.sum(axis=1)
        r = -cost * cfg.reward_scale
        check_finite(r, "rewards", d)
        obs2 = enc.observe(step.next_state)
        buf.add(now["x"], now["a"], r, enc.central_input(obs2), masks.joint(enc.on_hand(obs2)))
        acc["cost"] += float(cost.mean())
        acc["n"] += 1
        if (buf.size >= min(cfg.warmup, buf.capacity)) and (cfg.replay or buf.size >= B):
            for _ in range(cfg.updates_per_day):
                if cfg.replay:
                    x, a, rr, x2, m2 = buf.sample(cfg.batch, rng)
                else:
                    x, a, rr, x2, m2 = buf.x, buf.a, buf.r, buf.x2, buf.mask2
                y = dqn_targets(net, tgt if cfg.target else net, rr, x2, m2, cfg.gamma, cfg.double)
                q, cache = net.forward(x)
                rows_ = np.arange(len(a))
                err = q[rows_, a] - y
                dq = np.zeros_like(q)
                dq[rows_, a] = err / len(a)
                grads, _ = clip_by_norm(net.backward(dq, cache), cfg.clip)
                loss = 0.5 * float(np.mean(err * err))
                check_finite(loss, "TD loss", d)
                opt.step(grads)
                now["updates"] += 1
                acc["loss"] += loss
                acc["nl"] += 1
                if cfg.target and now["updates"] % cfg.target_every == 0:
                    check_finite(net.params, "Q-network weights", d)
                    tgt.load_params(net)
        now["day"] += 1
        if now["day"] % cfg.log_every == 0 or now["day"] == cfg.days:
            rows.append({"transitions": now["day"] * B, "mean_daily_cost": acc["cost"] / acc["n"],
                         "loss": acc["loss"] / acc["nl"] if acc["nl"] else np.nan, "epsilon": now["eps"]})
            acc.update(cost=0.0, loss=0.0, n=0, nl=0)
            if checkpoint is not None:
                checkpoint(now["day"] * B, NetworkPolicy(config, [net.copy()], "q", name="DQN"))
    check_finite(net.params, "Q-network weights", cfg.days)
    policy = NetworkPolicy(config, [net], "q", name="DQN")
    return DeepResult(policy, pd.DataFrame(rows), cfg.transitions, time.perf_counter() - t0,
                      time.process_time() - c0, cfg, {"q": net})
