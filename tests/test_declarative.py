"""The declarative layer of mas_lib.validation: fields that carry their checks, one ``validate``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mas_lib.validation import (
    ConfigError,
    Validated,
    as_given,
    checked,
    choice,
    flag,
    items,
    not_allowed,
    number,
    optional,
    probability,
    validate,
    whole,
)


class Oops(ConfigError):
    """A subclass error, as MessageError is."""


@dataclass(frozen=True)
class Knobs(Validated):
    """One field per helper, with a cross-field rule and a derived default."""

    days: int = whole(7, low=1, unit="days")
    rate: float = probability(0.1)
    cost: float = number(2, low=0, low_inclusive=False, unit="money")
    mode: str = choice("fast", ("fast", "slow"))
    verbose: bool = flag(False)
    limit: int | None = optional(whole(low=1))
    grid: tuple[int, ...] = items((0, 1), whole())
    shown: float = as_given(number(1000, low=0))
    most: int | None = None

    def _check_together(self):
        if self.mode == "slow" and self.days < 2:
            raise not_allowed("Knobs.days", self.days, "at least 2 when mode='slow'")
        return {"most": self.days} if self.most is None else None


@dataclass
class Named(Validated):
    """A plain (not frozen) dataclass with a ``name``: messages say ``Named('x').size``."""

    name: str
    size: int = whole(1, low=1)
    note: str = ""  # no check: left alone


@dataclass(frozen=True)
class Labelled(Validated):
    """Its own owner label and error class (as the messages of mas_lib.messaging)."""

    day: int = whole(0, unit="days")
    _error = Oops

    def _owner(self) -> str:
        return f"Labelled(day {self.day})"


def test_defaults_are_normalised_and_derived_values_stored():
    k = Knobs()
    assert (k.days, k.rate, k.cost, k.mode, k.verbose, k.limit, k.grid, k.shown, k.most) == (
        7, 0.1, 2.0, "fast", False, None, (0, 1), 1000, 7)
    assert type(k.cost) is float and type(k.days) is int and type(k.shown) is int  # as_given keeps 1000
    k = Knobs(days=np.int64(3), rate=1, verbose=np.bool_(True), limit=5.0, grid=[0, 2.0])
    assert (k.days, k.rate, k.verbose, k.limit, k.grid) == (3, 1.0, True, 5, (0, 2))
    assert type(k.days) is int and type(k.rate) is float and type(k.grid) is tuple and type(k.limit) is int
    assert dataclasses.replace(k, days=4).most == 3  # replace validates again; most is now given


@pytest.mark.parametrize("changes, message", [
    ({"days": 0}, r"^Knobs\.days = 0 is not allowed; allowed: a whole number >= 1 \[days\]$"),
    ({"rate": 1.5}, r"^Knobs\.rate = 1\.5 is not allowed; allowed: a finite number in \[0, 1\]$"),
    ({"cost": 0}, r"^Knobs\.cost = 0 is not allowed; allowed: a finite number > 0 \[money\]$"),
    ({"mode": "slwo"}, r"^Knobs\.mode = 'slwo' is not allowed; allowed: 'fast' \| 'slow'$"),
    ({"verbose": 1}, r"^Knobs\.verbose = 1 is not allowed; allowed: True or False$"),
    ({"limit": 0}, r"^Knobs\.limit = 0 is not allowed; allowed: None or a whole number >= 1$"),
    ({"grid": (0, -1)}, r"^Knobs\.grid\[1\] = -1 is not allowed; allowed: a whole number >= 0$"),
    ({"grid": 3}, r"^Knobs\.grid = 3 is not allowed; allowed: a sequence$"),
    ({"shown": -1}, r"^Knobs\.shown = -1 is not allowed"),
    ({"mode": "slow", "days": 1}, r"^Knobs\.days = 1 is not allowed; allowed: at least 2 when mode='slow'$"),
])
def test_each_helper_refuses_naming_field_value_and_what_is_allowed(changes, message):
    with pytest.raises(ConfigError, match=message):
        Knobs(**changes)


def test_plain_dataclass_owner_label_and_error_class():
    n = Named("x", size=2.0)
    assert n.size == 2 and type(n.size) is int and n.note == ""
    n.size = 0  # not frozen: assignment is free, validate() checks again on demand
    with pytest.raises(ConfigError, match=r"^Named\('x'\)\.size = 0 is not allowed"):
        validate(n)
    with pytest.raises(Oops, match=r"^Labelled\(day -1\)\.day = -1 is not allowed; allowed: a whole number >= 0 \[days\]$"):
        Labelled(day=-1)
    err = pytest.raises(ConfigError, Named, "x", size=0).value
    assert (err.field, err.value, err.allowed) == ("Named('x').size", 0, "a whole number >= 1")


def test_optional_keeps_a_default_and_can_keep_the_inner_message():
    @dataclass(frozen=True)
    class Clip(Validated):
        clip: float | None = optional(number(10.0, low=0, low_inclusive=False), say_none=False)

    assert Clip().clip == 10.0 and Clip(None).clip is None
    with pytest.raises(ConfigError, match=r"^Clip\.clip = 0 is not allowed; allowed: a finite number > 0$"):
        Clip(0)


def test_a_custom_check_gets_the_error_class():
    def even(value, field, error=ConfigError):
        if value % 2:
            raise not_allowed(field, value, "an even number", error)
        return value

    @dataclass(frozen=True)
    class Even(Validated):
        n: int = checked(even, 0)
        _error = Oops

    with pytest.raises(Oops, match=r"^Even\.n = 3 is not allowed; allowed: an even number$"):
        Even(3)


@given(st.integers(min_value=1, max_value=10**6), st.floats(min_value=0, max_value=1))
def test_valid_values_round_trip(days, rate):
    k = Knobs(days=days, rate=rate, grid=tuple(range(days % 5)))
    assert (k.days, k.rate, k.grid) == (days, rate, tuple(range(days % 5)))
    assert dataclasses.replace(k) == k


@given(st.one_of(st.integers(max_value=0), st.floats().filter(lambda x: not (x >= 1 and float(x).is_integer())),
                 st.text(max_size=3), st.booleans(), st.none()))
def test_invalid_values_raise_naming_field_and_value(value):
    with pytest.raises(ConfigError) as info:
        Knobs(days=value)
    assert str(info.value).startswith(f"Knobs.days = {value!r} is not allowed; allowed: ")
