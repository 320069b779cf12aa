"""Save an exact optimum once, load it later without solving again (paper section 4.5; notebook 09,
``benchmarks/bench_deep_rl.py``).

Solving the 66,066-state ``long_lead`` instance takes minutes and about 4 GiB (it stores every
state-action pair); evaluating a policy on it needs only one action per state. So the optimum's
table of joint actions is saved to an ``.npz`` file (no pickle) together with a fingerprint of
the model it belongs to, and loaded onto an *evaluation-only* model
(``build_model(..., with_pairs=False)``), where :func:`~.evaluate.evaluate_actions` re-computes
its exact value in seconds -- the loaded optimum is always re-evaluated, never trusted as a
number from a file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ...files import atomic_write, file_refusal, npz_json, read_npz
from .evaluate import PolicyValue, _checked_actions, evaluate_actions
from .model import MDPModel

__all__ = ["model_fingerprint", "save_policy_table", "load_policy_table"]

FORMAT = "mas_lib.planning.policy_table/1"


def model_fingerprint(model: MDPModel) -> str:
    """A short hash of everything that defines the model's states, actions and costs: the
    warehouses and links (costs, capacities, lead times), the demand's support and probabilities,
    the action grids, the unit and the discount -- the same in every process (no object
    addresses). Two models with the same fingerprint index states and actions identically."""
    cfg = model.config
    parts = [repr(cfg.warehouses), repr(cfg.links), bool(cfg.backorders), int(model.unit), float(model.gamma),
             [int(v) for v in model.state_shape], [int(v) for v in model.action_sizes],
             model.order_grid.tolist(), model.transfer_grid.tolist(),
             [s.tolist() for s in model.demand_support], [p.round(15).tolist() for p in model.demand_pmf]]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def save_policy_table(path: str | os.PathLike[str], model: MDPModel, actions: np.ndarray,
                      **meta: float | int | str) -> Path:
    """Save a table of joint action indices ``(S,)`` for ``model`` (e.g. ``Solution.policy``) to
    ``path`` (``.npz``, written atomically through :func:`mas_lib.files.atomic_write`). Every
    entry must be a joint action index in ``[0, n_actions)`` (checked before writing: a value
    the stored integer type cannot hold is refused, never wrapped); the table is stored as int32
    (int64 if the model has more than 2**31 joint actions). ``meta`` holds plain numbers or
    strings to keep with it (e.g. ``solve_seconds=205.3``); they are returned by
    :func:`load_policy_table`. Returns the path."""
    a = _checked_actions(model, actions, "save_policy_table.actions")
    for k, v in meta.items():
        if not isinstance(v, (int, float, str)) or isinstance(v, bool):
            raise ValueError(f"save_policy_table.{k} = {v!r} is not allowed; allowed: a number or a string")
    header = {"format": FORMAT, "fingerprint": model_fingerprint(model), "n_states": model.n_states,
              "n_actions": model.n_actions, "meta": meta}
    stored = np.int32 if model.n_actions <= np.iinfo(np.int32).max + 1 else np.int64
    path = Path(path)
    with atomic_write(path) as fh:
        np.savez_compressed(fh, actions=a.astype(stored), header=np.array(json.dumps(header)))
    return path


def load_policy_table(path: str | os.PathLike[str], model: MDPModel,
                      name: str = "optimal (loaded)") -> tuple[PolicyValue, dict]:
    """Load a table saved by :func:`save_policy_table` for ``model`` (which may be evaluation-only)
    and evaluate it exactly. Returns ``(PolicyValue, meta)``.

    Raises a ``ValueError`` naming the file, what it holds and what is allowed for: a damaged
    file (truncated, not a ``.npz``, a flipped byte, a missing array, a header that is not a JSON
    object -- :func:`mas_lib.files.read_npz`), another format, a table for another model
    (another fingerprint, state or action count), and a table that is not one joint action index
    per state (a float table -- never truncated to whole numbers --, another shape, an index out
    of range)."""
    path = Path(path)
    refuse = file_refusal("policy table file", path)
    allowed = "a .npz written by save_policy_table"
    arrays = read_npz(path, refuse, allowed, required=["header", "actions"])
    header = npz_json(arrays, "header", refuse)
    if header.get("format") != FORMAT:
        raise refuse("format", repr(header.get("format")), repr(FORMAT))
    want = model_fingerprint(model)
    if header.get("fingerprint") != want:
        raise ValueError(
            f"{path}: saved for model fingerprint {header.get('fingerprint')!r} ({header.get('n_states')} states, "
            f"{header.get('n_actions')} actions); allowed: {want!r} ({model.n_states} states, {model.n_actions} "
            "actions) -- the table belongs to another configuration, unit or discount"
        )
    meta = header.get("meta", {})
    if not isinstance(meta, dict):
        raise refuse("header meta", meta, "a JSON object of numbers and strings")
    try:
        actions = _checked_actions(model, arrays["actions"], "actions")
    except ValueError as err:
        raise ValueError(f"policy table file {str(path)!r}: {err}") from None
    value = evaluate_actions(model, actions, name=name)
    return value, dict(meta)
