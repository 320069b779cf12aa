"""The greedy policy of learned Q-tables, and its safe ``.npz`` file (paper 4.4-4.5).

:class:`QPolicy` is a :class:`~mas_lib.decide.policies.Policy` like every baseline, so it runs in
the one rollout loop, the PettingZoo environment and the exact evaluator of
:mod:`mas_lib.decide.planning` (what ``train(...).policy`` returns). :meth:`QPolicy.save`
writes atomically and without pickle; :meth:`QPolicy.load` refuses a file that does not fit the
environment (wrong warehouses, grids, table shapes, NaN values, visit counts) with an error that
names the file, the array, what it found and what is allowed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...files import atomic_write, file_refusal, npz_json, read_npz
from ...sim.config import EnvConfig
from ...sim.state import SystemState
from ..policies import Policy
from .encoding import ActionTable, StateEncoder

__all__ = ["QPolicy"]

FORMAT = "mas_lib.QPolicy/1"
#: The keys of the ``meta`` header :meth:`QPolicy.save` writes (every one is needed to load).
_META_KEYS = ("format", "encoder", "label", "double", "n_learners", "config")


def _config_fingerprint(config: EnvConfig) -> dict:
    return {
        "names": config.names,
        "capacity": [w.capacity for w in config.warehouses],
        "lead_time": [w.lead_time for w in config.warehouses],
        "order_grid": list(config.order_grid or ()),
        "transfer_grid": list(config.transfer_grid or ()),
        "links": [[lk.source, lk.target, lk.lead_time, lk.bidirectional] for lk in config.links],
    }


class QPolicy(Policy):
    """The greedy policy of learned Q-tables (paper 4.4-4.5): a
    :class:`mas_lib.decide.policies.Policy`, so it runs in :func:`mas_lib.decide.rollout.simulate`,
    :class:`mas_lib.sim.env.MultiWarehouseEnv` and the exact evaluator of
    :mod:`mas_lib.decide.planning` like any baseline (what ``train(...).policy`` returns).

    ``tables[k]`` is learner ``k``'s table ``(encoder.sizes[k], n_actions_k)`` in the unit of the
    training reward (money for the cost reward); infeasible actions hold ``-inf``. With double
    Q-learning ``tables2`` holds the second tables and the policy is greedy with respect to their
    sum. ``visits`` counts the updates per entry.
    """

    name = "Q-learning"

    def __init__(
        self,
        config: EnvConfig,
        encoder: StateEncoder,
        tables: list[np.ndarray],
        tables2: list[np.ndarray] | None = None,
        visits: list[np.ndarray] | None = None,
        label: str = "",
    ):
        super().__init__(config, round_to=1)
        self.encoder = encoder
        self.actions = ActionTable(config)
        self.tables = tables
        self.tables2 = tables2
        self.visits = visits if visits is not None else [np.zeros(t.shape, dtype=np.int64) for t in tables]
        self.label = label
        self.form = encoder.form

    def values(self, learner: int = 0) -> np.ndarray:
        """The table the policy is greedy on (the sum of both tables for double Q-learning)."""
        if self.tables2 is None:
            return self.tables[learner]
        return self.tables[learner] + self.tables2[learner]

    def greedy_actions(self, states: np.ndarray) -> np.ndarray:
        """Per-learner greedy action indices ``(B, n_learners)`` for state indices ``(B, n_learners)``."""
        return np.stack([np.argmax(self.values(k)[states[:, k]], axis=1) for k in range(states.shape[1])], axis=1)

    def warehouse_actions(self, learner_actions: np.ndarray) -> np.ndarray:
        """Learner actions ``(B, n_learners)`` -> per-warehouse action indices ``(B, N)``."""
        return self.actions.to_warehouse(learner_actions, self.form)

    def act(self, state: SystemState) -> tuple[np.ndarray, np.ndarray]:
        """Greedy batch action: ``(replenish (B,N), transfer (B,N,N))`` [units]."""
        s = self.encoder.encode(state)
        return self.actions.decode(self.warehouse_actions(self.greedy_actions(s)))

    def describe(self) -> str:
        """The training settings in one line (or the form)."""
        return self.label or f"form={self.form}"

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the tables, visit counts and settings to a ``.npz`` file (no pickle) and return
        its path (``.npz`` is appended if missing).

        The write is atomic: the file is written to a temporary file in the same folder and then
        moved onto ``path`` with :func:`os.replace`, so a crash never leaves a half-written file
        where a good policy was."""
        path = Path(path)
        target = path if path.suffix == ".npz" else path.with_name(path.name + ".npz")
        meta = {
            "format": FORMAT, "encoder": self.encoder.settings(), "label": self.label,
            "double": self.tables2 is not None, "n_learners": len(self.tables),
            "config": _config_fingerprint(self.config),
        }
        arrays = {"meta": np.array(json.dumps(meta))}
        for k, t in enumerate(self.tables):
            arrays[f"q_{k}"] = t
            arrays[f"n_{k}"] = self.visits[k]
            if self.tables2 is not None:
                arrays[f"q2_{k}"] = self.tables2[k]
        with atomic_write(target, "wb") as f:
            np.savez_compressed(f, **arrays)
        return target

    @classmethod
    def load(cls, path: str | Path, config: EnvConfig) -> QPolicy:
        """Read a policy written by :meth:`save` for the same ``config``.

        Checked, each with a ``ValueError`` naming the file, the array, what was found and what
        is allowed: the file itself (truncated, not a ``.npz``, a damaged byte, missing arrays:
        :func:`mas_lib.files.read_npz`); the ``meta`` header (a JSON object with every key
        :meth:`save` writes, each of its type, the encoder's settings valid); the format; the
        environment (warehouses, capacities, lead times, action grids and links must match);
        every table ``q_k`` (and ``q2_k``) has the shape ``(states, actions)`` of learner ``k``
        and holds only finite numbers or ``-inf`` (infeasible actions), never NaN or ``+inf``;
        every visit count ``n_k`` has the same shape and holds whole numbers >= 0."""
        path = Path(path)
        refuse = file_refusal("QPolicy file", path)
        z = read_npz(path, refuse, "a .npz written by QPolicy.save", required=["meta"])
        meta = npz_json(z, "meta", refuse)
        missing = [k for k in _META_KEYS if k not in meta]
        if missing:
            raise refuse("meta", f"without {missing}", f"a JSON object with the keys {list(_META_KEYS)}")
        if meta["format"] != FORMAT:
            raise refuse("meta format", repr(meta["format"]), repr(FORMAT))
        if meta["config"] != _config_fingerprint(config):
            raise ValueError(
                f"QPolicy file {str(path)!r}: the policy was learned for a different environment: "
                f"{meta['config']} != {_config_fingerprint(config)}"
            )
        if not isinstance(meta["double"], bool):
            raise refuse("meta double", repr(meta["double"]), "true or false")
        if not isinstance(meta["label"], str):
            raise refuse("meta label", repr(meta["label"]), "a string")
        if not isinstance(meta["n_learners"], int) or isinstance(meta["n_learners"], bool):
            raise refuse("meta n_learners", repr(meta["n_learners"]), "a whole number (the learners of the form)")
        try:
            encoder = StateEncoder(config, **meta["encoder"])
        except (TypeError, ValueError) as err:
            raise refuse("meta encoder", repr(meta["encoder"]),
                         f"the settings of a StateEncoder (StateEncoder.settings(): {err})") from None
        n_actions = ActionTable(config).learner_sizes(encoder.form)
        if meta["n_learners"] != encoder.n_learners:
            raise refuse("n_learners", meta["n_learners"], f"{encoder.n_learners} (form {encoder.form!r})")
        names = [f"q_{k}" for k in range(encoder.n_learners)] + [f"n_{k}" for k in range(encoder.n_learners)]
        if meta["double"]:
            names += [f"q2_{k}" for k in range(encoder.n_learners)]
        missing = [n for n in names if n not in z]
        if missing:
            raise refuse("missing arrays", missing, f"all of {names}")
        arrays = {n: z[n] for n in names}
        for k in range(encoder.n_learners):
            shape = (encoder.sizes[k], n_actions[k])
            for name in (f"q_{k}", f"q2_{k}", f"n_{k}"):
                if name not in arrays:
                    continue
                a = arrays[name]
                if a.shape != shape:
                    raise refuse(f"{name}.shape", a.shape,
                                 f"{shape} (learner {k}: {shape[0]} states x {shape[1]} actions)")
                if name.startswith("n_"):
                    if a.dtype.kind not in "iu" or (a.size and a.min() < 0):
                        found = f"dtype {a.dtype}, min {a.min() if a.size else None}"
                        raise refuse(name, found, "whole numbers >= 0 (visit counts)")
                    continue
                bad = np.isnan(a) | (a == np.inf) if a.dtype.kind == "f" else None
                if bad is None:
                    raise refuse(f"{name}.dtype", a.dtype, "a float array")
                if bad.any():
                    first = tuple(int(i) for i in np.argwhere(bad)[0])
                    raise refuse(name, f"{int(bad.sum())} NaN or +inf value(s), the first at {first}",
                                 "finite numbers, or -inf for infeasible actions")
        k_range = range(encoder.n_learners)
        tables = [arrays[f"q_{k}"] for k in k_range]
        visits = [arrays[f"n_{k}"] for k in k_range]
        tables2 = [arrays[f"q2_{k}"] for k in k_range] if meta["double"] else None
        return cls(config, encoder, tables, tables2, visits, label=meta["label"])
