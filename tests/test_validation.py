"""The one set of validators (mas_lib.validation): messages name field, value and what is allowed."""

from __future__ import annotations

import numpy as np
import pytest

from mas_lib.validation import (
    ConfigError,
    check_bool,
    check_choice,
    check_number,
    check_probability,
    check_whole,
    per_item,
)


def test_numbers_and_whole_numbers():
    assert check_number(2, "x") == 2.0 and isinstance(check_number(2, "x"), float)
    assert check_whole(np.int64(3), "n") == 3 and isinstance(check_whole(3.0, "n"), int)
    assert check_whole(2**70, "seed") == 2**70  # huge ints are whole, not rounded through float
    with pytest.raises(ConfigError, match=r"^n = 2.5 is not allowed; allowed: a whole number >= 0$"):
        check_whole(2.5, "n")
    with pytest.raises(ConfigError, match=r"x = nan is not allowed; allowed: a finite number"):
        check_number(float("nan"), "x")
    with pytest.raises(ConfigError, match=r"x = True is not allowed"):
        check_number(True, "x")
    with pytest.raises(ConfigError, match=r"g = 1.0 is not allowed; allowed: a finite number in \[0, 1\)"):
        check_number(1.0, "g", low=0, high=1, high_inclusive=False)
    with pytest.raises(ValueError, match=r"seed = -1 is not allowed; allowed: a whole number in \[0, 2147483647\]"):
        check_whole(-1, "seed", high=2**31 - 1, error=ValueError)
    with pytest.raises(ConfigError, match=r"lead = 4 is not allowed; allowed: a whole number <= 3 \[days\]"):
        check_whole(4, "lead", low=None, high=3, unit="days")


def test_choices_bools_probabilities_and_per_item():
    assert check_choice("a", "k", ("a", "b")) == "a"
    with pytest.raises(ConfigError, match=r"k = 'c' is not allowed; allowed: 'a' \| 'b'"):
        check_choice("c", "k", ("a", "b"))
    with pytest.raises(ConfigError, match=r"k = \[1\] is not allowed"):
        check_choice([1], "k", ("a",))  # unhashable values are refused, not a TypeError
    assert check_bool(np.bool_(True), "f") is True
    with pytest.raises(ConfigError, match=r"f = 1 is not allowed; allowed: True or False"):
        check_bool(1, "f")
    assert check_probability(0.25, "p") == 0.25
    with pytest.raises(ConfigError, match=r"p = 1.5 is not allowed; allowed: a finite number in \[0, 1\]"):
        check_probability(1.5, "p")
    np.testing.assert_array_equal(per_item(2, 3, "s"), [2.0, 2.0, 2.0])
    with pytest.raises(ConfigError, match=r"s = \[1, 2\] is not allowed; allowed: one number, or 3 numbers"):
        per_item([1, 2], 3, "s")
    with pytest.raises(ConfigError, match=r"s = \[1, -2, 3\] is not allowed; allowed: finite numbers >= 0"):
        per_item([1, -2, 3], 3, "s", low=0)


def test_whole_numbers_too_large_for_a_float_get_the_clear_error():
    """10**400 used to escape as OverflowError from math.isnan; it is now judged exactly."""
    assert check_whole(10**400, "n") == 10**400                      # exact whole numbers are fine
    with pytest.raises(ConfigError, match=r"n = 1000.* is not allowed; allowed: a whole number in \[0, 5\]"):
        check_whole(10**400, "n", high=5)
    with pytest.raises(ConfigError, match=r"x = 1000.* is not allowed; allowed: a finite number"):
        check_number(10**400, "x")
    assert check_number(-(10**300), "x") == -1e300
