"""One set of validators for every configuration, argument and widget value in ``mas_lib``.

Every check raises an error whose message names the field, the value and what is allowed::

    ConfigError: WarehouseConfig('A').capacity = -5 is not allowed; allowed: a whole number >= 1 [units]

so a typo never turns into a silently strange simulation ("bad input gets a clear error and
loses nothing"). Each check *returns* the validated value (a whole number comes back as ``int``,
a number as ``float``), so callers write ``self.n = check_whole(n, "Thing.n", low=1)``.

This module is the bottom layer of the package: it imports nothing else from ``mas_lib``, and
every subpackage (simulation, data, forecasting, decisions, teaching) may use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = [
    "ConfigError",
    "check_number",
    "check_whole",
    "check_choice",
    "check_bool",
    "check_probability",
    "per_item",
    "not_allowed",
]


class ConfigError(ValueError):
    """An invalid configuration value: the message names the field, the value and what is allowed."""


def not_allowed(field: str, value, allowed: str, error: type[Exception] = ConfigError) -> Exception:
    """The error every check raises: ``"<field> = <value!r> is not allowed; allowed: <allowed>"``."""
    return error(f"{field} = {value!r} is not allowed; allowed: {allowed}")


_FLOAT_MAX = int(np.finfo(float).max)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _num(x) -> str:
    """A bound as people write it: whole numbers exactly (2147483647, not 2.14748e+09)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _bounds_text(low, high, low_inclusive: bool, high_inclusive: bool) -> str:
    if low is not None and high is not None:
        return f"in {'[' if low_inclusive else '('}{_num(low)}, {_num(high)}{']' if high_inclusive else ')'}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {_num(low)}"
    if high is not None:
        return f"{'<=' if high_inclusive else '<'} {_num(high)}"
    return ""


def check_number(
    value,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
    allow_inf: bool = False,
    unit: str = "",
    error: type[Exception] = ConfigError,
) -> float | int:
    """Check that ``value`` is a real number (not a bool), finite unless ``allow_inf``, whole if
    ``integer``, and within ``[low, high]`` (open ends with ``low_inclusive``/``high_inclusive``
    False). Returns it as ``int`` (``integer=True``) or ``float``; ``unit`` (e.g. ``"units"``,
    ``"days"``) is quoted in the message. Used by every config dataclass of the package."""
    ok = _is_real(value)
    whole = isinstance(value, (int, np.integer))  # exact: never NaN or infinite, may exceed a float
    if ok and not whole and math.isnan(value):
        ok = False
    if ok and not whole and not allow_inf and not math.isfinite(value):
        ok = False
    if ok and integer and not whole:
        ok = math.isfinite(value) and float(value).is_integer()
    if ok and whole and not integer and abs(int(value)) > _FLOAT_MAX:
        ok = False  # a whole number too large to be a float (e.g. 10**400)
    if ok and low is not None and (value < low or (not low_inclusive and value == low)):
        ok = False
    if ok and high is not None and (value > high or (not high_inclusive and value == high)):
        ok = False
    if not ok:
        kind = "a whole number" if integer else ("a number" if allow_inf else "a finite number")
        bounds = _bounds_text(low, high, low_inclusive, high_inclusive)
        text = f"{kind} {bounds}".strip() + (f" [{unit}]" if unit else "")
        raise not_allowed(field, value, text, error)
    if integer:
        return int(value)
    return float(value)


def check_whole(
    value,
    field: str,
    *,
    low: int | None = 0,
    high: int | None = None,
    unit: str = "",
    error: type[Exception] = ConfigError,
) -> int:
    """A whole number in ``[low, high]`` (``low`` defaults to 0); returns it as ``int``."""
    return int(check_number(value, field, low=low, high=high, integer=True, unit=unit, error=error))


def check_probability(value, field: str, *, error: type[Exception] = ConfigError) -> float:
    """A probability in [0, 1]; returns it as ``float``."""
    return float(check_number(value, field, low=0.0, high=1.0, error=error))


def check_choice(value, field: str, allowed: Iterable, *, error: type[Exception] = ConfigError):
    """``value`` must be one of ``allowed`` (compared with ``==``); returns it unchanged."""
    allowed = tuple(allowed)
    try:
        hit = value in allowed
    except TypeError:  # unhashable or incomparable
        hit = False
    if not hit:
        raise not_allowed(field, value, " | ".join(repr(a) for a in allowed), error)
    return value


def check_bool(value, field: str, *, error: type[Exception] = ConfigError) -> bool:
    """``True`` or ``False`` (numpy booleans accepted); 0/1 and strings are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise not_allowed(field, value, "True or False", error)
    return bool(value)


def per_item(
    value,
    n: int,
    field: str,
    *,
    low: float | None = None,
    unit: str = "",
    error: type[Exception] = ConfigError,
) -> np.ndarray:
    """One finite number per item (e.g. per warehouse), or one number for all: a float array of
    shape ``(n,)``. Raises naming the field if the shape does not broadcast or a value is not
    finite or below ``low``."""
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).astype(float)
    except (TypeError, ValueError):
        raise not_allowed(field, value, f"one number, or {n} numbers (one per item)", error) from None
    bad = ~np.isfinite(arr) if low is None else (~np.isfinite(arr) | (arr < low))
    if bad.any():
        bounds = f" >= {_num(low)}" if low is not None else ""
        raise not_allowed(field, value, f"finite numbers{bounds}" + (f" [{unit}]" if unit else ""), error)
    return arr
