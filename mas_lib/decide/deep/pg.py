r"""Policy gradients: REINFORCE with a baseline and PPO-clip, with one actor per warehouse and a
centralised critic (paper 3.1.2(4), 3.1.1(4); notebook 09).

Each warehouse ``i`` has its own actor network :math:`\pi_i(a_i \mid o_i)` (its input: its own
stock features and its neighbours', :meth:`ObservationEncoder.agent_inputs`); the joint policy is
their product, so :math:`\log\pi(a\mid s) = \sum_i \log\pi_i(a_i\mid o_i)`. A critic
:math:`V_\phi(s)` sees the central input -- *centralised training, decentralised execution*: the
critic is only needed while learning, the greedy actors act alone.

The policy-gradient theorem gives :math:`\nabla_\theta J = E[\sum_t \nabla_\theta \log\pi(a_t\mid s_t)\, A_t]`;
for a softmax head the gradient of :math:`\log\pi_i(a_i)` w.r.t. its logits is
``onehot(a_i) - softmax`` (over the feasible actions; infeasible ones are masked to probability 0).

* ``method="reinforce"``: :math:`A_t = G_t - V_\phi(s_t)` with :math:`G_t` the discounted return to
  the end of the training episode (Monte Carlo), one gradient step per batch of episodes;
* ``method="ppo"``: advantages by GAE(:math:`\lambda`) from the critic (bootstrapping at the end of
  a segment and at truncation), several epochs of minibatch steps on the clipped surrogate
  :math:`\min(\rho A, \mathrm{clip}(\rho, 1\pm\epsilon) A)` with :math:`\rho = \pi/\pi_{old}`, plus an
  entropy bonus.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...sim.config import EnvConfig
from ...sim.core import BatchCore
from ...sim.state import SystemState
from ...validation import Validated, choice, flag, items, number, optional, whole
from ..rollout import rollout
from ..schedule import Schedule
from .features import ActionMasks, ObservationEncoder
from .nn import MLP, Adam, check_finite, clip_by_norm, log_softmax, single_thread
from .policy import Checkpoint, DeepResult, NetworkPolicy, RunSettings

__all__ = ["PGConfig", "train_pg", "policy_gradient_logits", "gae", "linear_schedule"]

METHODS = ("ppo", "reinforce")


@dataclass(frozen=True)
class PGConfig(RunSettings, Validated):
    """Every setting of a policy-gradient run, validated on construction (notebook 09).

    Attributes:
        method: ``"ppo"`` (PPO-clip with GAE) or ``"reinforce"`` (Monte Carlo returns, baseline).
        actor_hidden, critic_hidden: hidden sizes; activation: ``"tanh"`` or ``"relu"``.
        lr_actor, lr_critic: Adam step sizes; clip: gradient-norm limit per network.
        gamma: discount per day; lam: GAE lambda (PPO).
        days: simulated days per copy; copies: copies ``B``; horizon: days per update segment
            (REINFORCE: one training episode, so returns run to its end).
        epochs, minibatch: PPO passes over a segment and minibatch size; clip_ratio: PPO epsilon.
        entropy: weight of the entropy bonus (at the start of the run).
        entropy_end: if set, the entropy weight falls linearly from ``entropy`` to this value over
            the run: explore widely early, commit late. On ``cross_border`` a large early bonus is
            what lets the two actors find the coordinated policy (one warehouse orders, a transfer
            feeds the other) instead of both ordering (``benchmarks/bench_deep_rl.py``).
        anneal_lr: step sizes fall linearly to 0 over the run (as in CleanRL's PPO).
        reward_scale: reward = ``-cost * reward_scale`` [1/money].
        episode_length: days per training episode (``None``: the config's).
        seed, log_every: seed; days between learning-curve rows.
    """

    method: str = choice("ppo", METHODS)
    actor_hidden: tuple[int, ...] = items((64, 64), whole(low=1), indexed=False)
    critic_hidden: tuple[int, ...] = items((128, 128), whole(low=1), indexed=False)
    activation: str = "tanh"
    lr_actor: float = number(1e-3, low=0, low_inclusive=False)
    lr_critic: float = number(3e-3, low=0, low_inclusive=False)
    clip: float | None = optional(number(1.0, low=0, low_inclusive=False), say_none=False)
    gamma: float = number(0.95, low=0, high=1, high_inclusive=False)
    lam: float = number(0.95, low=0, high=1)
    days: int = whole(4000, low=1)
    copies: int = whole(64, low=1)
    horizon: int = whole(25, low=1)
    epochs: int = whole(4, low=1)
    minibatch: int = whole(512, low=1)
    clip_ratio: float = number(0.2, low=0, low_inclusive=False)
    entropy: float = number(0.003, low=0)
    reward_scale: float = number(1e-3, low=0, low_inclusive=False)
    episode_length: int | None = optional(whole(1000, low=2), say_none=False)
    seed: int = whole(0, low=0)
    log_every: int = whole(100, low=1)
    anneal_lr: bool = flag(False)
    entropy_end: float | None = optional(number(low=0), say_none=False)



def linear_schedule(start: float, end: float, day: int, days: int) -> float:
    """A setting that moves linearly from ``start`` (day 0) to ``end`` (day ``days``): the
    step sizes of ``PGConfig.anneal_lr`` (to 0, CleanRL's convention) and the entropy weight of
    ``PGConfig.entropy_end`` (``benchmarks/bench_deep_rl.py``): a linear
    :class:`~mas_lib.decide.schedule.Schedule` at progress ``day / days``."""
    return Schedule(start, end)(day / days)


def policy_gradient_logits(logits: np.ndarray, mask: np.ndarray, actions: np.ndarray,
                           weights: np.ndarray) -> np.ndarray:
    """Gradient w.r.t. the logits of ``-mean(weights * log pi(actions))`` for a masked softmax:
    ``-(onehot(a) - softmax) * w / M``. The heart of REINFORCE and of the actor update; notebook 09
    derives it on a two-action toy."""
    p = np.exp(log_softmax(logits, mask))
    g = -p
    g[np.arange(len(actions)), actions] += 1.0
    return -(g * weights[:, None]) / len(actions)


def gae(rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray, cut: np.ndarray, gamma: float,
        lam: float) -> np.ndarray:
    """Generalised advantage estimates ``(T, B)`` (Schulman et al. 2016). ``next_values[t]`` is
    ``V`` of the state after day ``t``; ``cut[t]`` is True where the chain of advantages stops
    (the last day of a segment or of a truncated episode: bootstrap from ``next_values``, do not
    add later advantages). ``lam=1`` with zero ``next_values`` at the cuts gives Monte Carlo
    returns minus the baseline. Notebook 09."""
    T = len(rewards)
    adv = np.zeros_like(values)
    nxt = np.zeros_like(values[0])
    for t in range(T - 1, -1, -1):
        nxt = np.where(cut[t], 0.0, nxt)
        delta = rewards[t] + gamma * next_values[t] - values[t]
        nxt = delta + gamma * lam * nxt
        adv[t] = nxt
    return adv


def _entropy_grad(logp: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entropy ``H (M,)`` of masked softmax rows and ``dH/dlogits``."""
    p = np.exp(logp)
    lp = np.where(mask, logp, 0.0)
    H = -(p * lp).sum(axis=1)
    return H, -p * (lp + H[:, None])


def train_pg(config: EnvConfig, cfg: PGConfig | None = None, checkpoint: Checkpoint | None = None,
             **changes) -> DeepResult:
    """Train per-warehouse actors and a centralised critic on ``cfg.copies`` copies of ``config``
    with REINFORCE-with-baseline or PPO-clip (paper 3.1.2(4); notebook 09,
    ``benchmarks/bench_deep_rl.py``). ``changes`` override fields of ``cfg``; ``checkpoint`` is
    called as ``checkpoint(transitions, policy)`` with a frozen copy of the greedy policy at every
    learning-curve row (the benchmark measures the exact gap there).

    Every ``horizon`` days of the one :func:`~mas_lib.decide.rollout.rollout` stream the actors'
    samples are turned into advantages and the networks take Adam steps. Raises
    :class:`~mas_lib.decide.deep.nn.NonFiniteError` naming the step if a reward, a loss or a weight
    turns NaN/inf. Returns a :class:`DeepResult` whose policy plays each actor's most likely
    feasible action (decentralised execution).
    """
    cfg = (cfg or PGConfig()).replace(**changes)
    with single_thread():
        return _train_pg(config, cfg, checkpoint)


class _Segment:
    """The samples of ``horizon`` days of ``B`` copies."""

    def __init__(self):
        self.inputs, self.masks, self.actions, self.central, self.rewards = [], [], [], [], []
        self.next_central, self.cut = [], []

    def __len__(self) -> int:
        return len(self.rewards)


def _train_pg(config: EnvConfig, cfg: PGConfig, checkpoint: Checkpoint | None) -> DeepResult:
    t0, c0 = time.perf_counter(), time.process_time()
    ep_len = cfg.horizon if cfg.method == "reinforce" else cfg.episode_length
    train_config = config if ep_len is None else config.replace(episode_length=ep_len)
    enc, masks = ObservationEncoder(config), ActionMasks(config)
    N, B = enc.N, cfg.copies
    rng = np.random.default_rng(cfg.seed)
    actors = [MLP([enc.agent_sizes[i], *cfg.actor_hidden, masks.sizes[i]], cfg.activation, seed=cfg.seed * 101 + i,
                  out_scale=0.01, dtype="float32") for i in range(N)]
    critic = MLP([enc.central_size, *cfg.critic_hidden, 1], cfg.activation, seed=cfg.seed * 101 + N, dtype="float32")
    opt_a = [Adam(a.params, lr=cfg.lr_actor) for a in actors]
    opt_c = Adam(critic.params, lr=cfg.lr_critic)
    seg = _Segment()
    name = "PPO" if cfg.method == "ppo" else "REINFORCE"
    rows, acc = [], {"cost": 0.0, "n": 0, "H": [], "vloss": []}
    now = {"day": 0}
    ent = {"w": cfg.entropy}

    def behave(state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        obs = enc.observe(state)
        xs, ms = enc.agent_inputs(obs), masks.per_warehouse(enc.on_hand(obs))
        acts = []
        for actor, x, m in zip(actors, xs, ms, strict=True):
            p = np.exp(log_softmax(actor(x), m))
            u = rng.random((B, 1))
            acts.append(np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1))
        a = np.stack(acts, axis=1)
        seg.inputs.append(xs)
        seg.masks.append(ms)
        seg.actions.append(a)
        seg.central.append(enc.central_input(obs))
        return masks.net.decode_discrete(a)

    def update(step_no: int) -> None:
        start = step_no - len(seg)  # the day this segment began
        if cfg.anneal_lr:
            for o in opt_a:
                o.lr = linear_schedule(cfg.lr_actor, 0.0, start, cfg.days)
            opt_c.lr = linear_schedule(cfg.lr_critic, 0.0, start, cfg.days)
        if cfg.entropy_end is not None:
            ent["w"] = linear_schedule(cfg.entropy, cfg.entropy_end, start, cfg.days)
        T = len(seg)
        cen = np.concatenate(seg.central)
        values = critic(cen)[:, 0].reshape(T, B)
        if cfg.method == "reinforce":
            nextv = np.zeros((T, B))
            lam = 1.0
        else:
            nextv = critic(np.concatenate(seg.next_central))[:, 0].reshape(T, B)
            lam = cfg.lam
        cut = np.array(seg.cut)
        cut[-1] = True
        adv = gae(np.array(seg.rewards), values, nextv, cut, cfg.gamma, lam)
        target = (adv + values).reshape(-1)
        adv = adv.reshape(-1)
        xs = [np.concatenate([seg.inputs[t][i] for t in range(T)]) for i in range(N)]
        ms = [np.concatenate([seg.masks[t][i] for t in range(T)]) for i in range(N)]
        acts = np.concatenate(seg.actions)
        M = len(adv)
        old_logp = sum(log_softmax(actors[i](xs[i]), ms[i])[np.arange(M), acts[:, i]] for i in range(N))
        epochs, mb = (1, M) if cfg.method == "reinforce" else (cfg.epochs, cfg.minibatch)
        for _ in range(epochs):
            order = rng.permutation(M)
            for lo in range(0, M, mb):
                idx = order[lo:lo + mb]
                A = adv[idx]
                if cfg.method == "ppo":
                    A = (A - A.mean()) / (A.std() + 1e-8)
                outs = [actors[i].forward(xs[i][idx]) for i in range(N)]
                logps = [log_softmax(o, ms[i][idx]) for i, (o, _) in enumerate(outs)]
                logp = sum(lp[np.arange(len(idx)), acts[idx, i]] for i, lp in enumerate(logps))
                if cfg.method == "ppo":
                    ratio = np.exp(logp - old_logp[idx])
                    active = np.where(A >= 0, ratio < 1 + cfg.clip_ratio, ratio > 1 - cfg.clip_ratio)
                    w = np.where(active, ratio * A, 0.0)
                else:
                    w = A
                for i, (o, cache) in enumerate(outs):
                    g = policy_gradient_logits(o, ms[i][idx], acts[idx, i], w)
                    H, dH = _entropy_grad(logps[i], ms[i][idx])
                    g = g - ent["w"] * dH / len(idx)
                    grads, _ = clip_by_norm(actors[i].backward(g.astype(np.float32), cache), cfg.clip)
                    opt_a[i].step(grads)
                    acc["H"].append(float(H.mean()))
                v, vc = critic.forward(cen[idx])
                err = v[:, 0] - target[idx]
                vloss = 0.5 * float(np.mean(err * err))
                check_finite(vloss, "critic loss", step_no)
                grads, _ = clip_by_norm(critic.backward((err / len(idx))[:, None].astype(np.float32), vc), cfg.clip)
                opt_c.step(grads)
                acc["vloss"].append(vloss)
        check_finite([p for a in actors for p in a.params] + critic.params, "network weights", step_no)

    core = BatchCore(train_config, batch_size=B)
    for step in rollout(core, behave, seed=cfg.seed, days=cfg.days):
        cost = step.result.total_cost.sum(axis=1)
        r = -cost * cfg.reward_scale
        check_finite(r, "rewards", now["day"])
        seg.rewards.append(r)
        seg.next_central.append(enc.central_input(enc.observe(step.next_state)))
        seg.cut.append(bool(step.truncated))
        acc["cost"] += float(cost.mean())
        acc["n"] += 1
        now["day"] += 1
        if len(seg) == cfg.horizon or now["day"] == cfg.days:
            update(now["day"])
            seg = _Segment()
        if now["day"] % cfg.log_every == 0 or now["day"] == cfg.days:
            rows.append({"transitions": now["day"] * B, "mean_daily_cost": acc["cost"] / max(acc["n"], 1),
                         "entropy": float(np.mean(acc["H"])) if acc["H"] else np.nan,
                         "critic_loss": float(np.mean(acc["vloss"])) if acc["vloss"] else np.nan})
            acc.update(cost=0.0, n=0, H=[], vloss=[])
            if checkpoint is not None:
                checkpoint(now["day"] * B, NetworkPolicy(config, [a.copy() for a in actors], "actors", name=name))
    policy = NetworkPolicy(config, actors, "actors", name=name)
    nets = {f"actor_{enc.spec.agents[i]}": a for i, a in enumerate(actors)} | {"critic": critic}
    return DeepResult(policy, pd.DataFrame(rows), cfg.transitions, time.perf_counter() - t0,
                      time.process_time() - c0, cfg, nets)
