"""One schedule for every setting that changes during training (notebook 05; the deep learners too).

Q-learning's exploration rate (paper 4.4-4.5: explore early, exploit late), DQN's epsilon and
PPO's annealed step sizes and entropy weight are all the same idea: a number that moves from
``start`` to ``end`` over the first ``over`` of training and then stays at ``end``. The shape
is ``"constant"`` (always ``start``, the paper's fixed epsilon), ``"linear"`` or
``"exponential"`` (geometric: the same factor every step; needs ``start`` and ``end`` of one
sign and nonzero).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validation import Validated, choice, not_allowed, number

__all__ = ["Schedule", "SHAPES"]

SHAPES = ("constant", "linear", "exponential")


@dataclass(frozen=True)
class Schedule(Validated):
    """``start`` at progress 0, ``end`` from progress ``over`` on (progress is the fraction of
    training done, in [0, 1]; values outside are held at the ends). ``schedule(progress)`` gives
    the setting as a ``float``; its unit is the setting's own (a probability for epsilon, a step
    size, an entropy weight)."""

    start: float = number()
    end: float = number()
    shape: str = choice("linear", SHAPES)
    over: float = number(1.0, low=0.0, low_inclusive=False, high=1.0)

    def _check_together(self) -> None:
        """The exponential shape needs ``start`` and ``end`` nonzero and of one sign."""
        if self.shape == "exponential" and not self.start * self.end > 0:
            raise not_allowed("Schedule(exponential).end", self.end,
                              f"a nonzero number of the same sign as start = {self.start!r}")

    def __call__(self, progress: float) -> float:
        if self.shape == "constant":
            return float(self.start)
        x = min(max(progress / self.over, 0.0), 1.0)
        if self.shape == "linear":
            return float(self.start + (self.end - self.start) * x)
        return float(self.start * (self.end / self.start) ** x)
