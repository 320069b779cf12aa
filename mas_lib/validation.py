"""One set of validators for every configuration, argument and widget value in ``mas_lib``.

Every check raises an error whose message names the field, the value and what is allowed::

    ConfigError: WarehouseConfig('A').capacity = -5 is not allowed; allowed: a whole number >= 1 [units]

so a typo never turns into a silently strange simulation ("bad input gets a clear error and
loses nothing"). Each check *returns* the validated value (a whole number comes back as ``int``,
a number as ``float``), so callers write ``self.n = check_whole(n, "Thing.n", low=1)``.

Configuration dataclasses declare their checks instead of writing them out: each field is made
by a helper that puts its check in the field's metadata, and the :class:`Validated` base runs
them all on construction (notebook 06 builds such configs by hand)::

    @dataclass(frozen=True)
    class Thing(Validated):
        days: int = whole(7, low=1, unit="days")        # Thing.days, stored as int
        rate: float = probability(0.1)                  # stored as float
        mode: str = choice("fast", ("fast", "slow"))
        limit: int | None = optional(whole(low=1))      # None, or a whole number >= 1

        def _check_together(self):                      # rules over several fields
            if self.mode == "slow" and self.days < 2:
                raise not_allowed("Thing.days", self.days, "at least 2 when mode='slow'")

This module is the bottom layer of the package: it imports nothing else from ``mas_lib``, and
every subpackage (simulation, data, forecasting, decisions, teaching) may use it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

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
    "Check",
    "checked",
    "number",
    "whole",
    "probability",
    "choice",
    "flag",
    "optional",
    "items",
    "as_given",
    "validate",
    "Validated",
]


class ConfigError(ValueError):
    """An invalid configuration value: the message names the field, the value and what is allowed."""


def not_allowed(field: str, value, allowed: str, error: type[Exception] = ConfigError) -> Exception:
    """The error every check raises: ``"<field> = <value!r> is not allowed; allowed: <allowed>"``.
    The parts are kept on the error too (``.field``, ``.value``, ``.allowed``), so a wrapper such
    as :func:`optional` can say what else is allowed."""
    err = error(f"{field} = {value!r} is not allowed; allowed: {allowed}")
    err.field, err.value, err.allowed = field, value, allowed
    return err


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


# ---------------------------------------------------------------------------------------------
# Declarative configuration: each dataclass field carries its check; one ``validate`` runs them.
# ---------------------------------------------------------------------------------------------

#: A field's check: ``check(value, field_name, error=ConfigError)`` returns the value as stored
#: (normalised: ``int``, ``float``, ``bool``, ``tuple``) or raises ``error`` naming the field.
Check = Callable[..., Any]

_MISSING: Any = dataclasses.MISSING


def checked(check: Check, default: Any = _MISSING, *, default_factory: Any = _MISSING, **kwargs) -> Any:
    """A dataclass ``field`` whose value ``check`` validates on construction (see :class:`Validated`).

    ``default`` / ``default_factory`` and the other keyword arguments (``compare``, ``repr``) are
    those of :func:`dataclasses.field`; the check is kept in ``metadata["check"]``."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"check": check}, **kwargs)


def _check_of(spec: Any) -> Check:
    """The check of a field made by one of the helpers (or a check itself)."""
    if isinstance(spec, dataclasses.Field):
        return spec.metadata["check"]
    return spec


def number(default: Any = _MISSING, *, low: float | None = None, high: float | None = None,
           low_inclusive: bool = True, high_inclusive: bool = True, allow_inf: bool = False,
           unit: str = "") -> Any:
    """A field holding a number (stored as ``float``), checked by :func:`check_number`."""
    def check(value, field, error=ConfigError):
        return check_number(value, field, low=low, high=high, low_inclusive=low_inclusive,
                            high_inclusive=high_inclusive, allow_inf=allow_inf, unit=unit, error=error)
    return checked(check, default)


def whole(default: Any = _MISSING, *, low: int | None = 0, high: int | None = None, unit: str = "") -> Any:
    """A field holding a whole number in ``[low, high]`` (stored as ``int``; ``low`` defaults to 0),
    e.g. ``whole(7, low=1, unit="days")``."""
    def check(value, field, error=ConfigError):
        return check_whole(value, field, low=low, high=high, unit=unit, error=error)
    return checked(check, default)


def probability(default: Any = _MISSING) -> Any:
    """A field holding a probability in [0, 1] (stored as ``float``)."""
    def check(value, field, error=ConfigError):
        return check_probability(value, field, error=error)
    return checked(check, default)


def choice(default: Any, options: Iterable) -> Any:
    """A field holding one of ``options`` (stored unchanged)."""
    options = tuple(options)

    def check(value, field, error=ConfigError):
        return check_choice(value, field, options, error=error)
    return checked(check, default)


def flag(default: Any = _MISSING) -> Any:
    """A field holding ``True`` or ``False`` (stored as ``bool``)."""
    def check(value, field, error=ConfigError):
        return check_bool(value, field, error=error)
    return checked(check, default)


def optional(inner: Any, *, say_none: bool = True) -> Any:
    """``None`` or what ``inner`` (a field made by a helper) allows; the default is ``inner``'s, or
    ``None`` if it has none. A refusal says ``"allowed: None or ..."`` (``say_none=False`` keeps
    ``inner``'s message as it is)."""
    each = _check_of(inner)

    def check(value, field, error=ConfigError):
        if value is None:
            return None
        try:
            return each(value, field, error=error)
        except ConfigError as err:
            if not say_none or not hasattr(err, "allowed"):
                raise
            raise not_allowed(field, value, f"None or {err.allowed}", type(err)) from None
    default = inner.default if isinstance(inner, dataclasses.Field) else _MISSING
    return checked(check, None if default is _MISSING else default)


def items(default: Any, each: Any, *, indexed: bool = True) -> Any:
    """A field holding a sequence, stored as a ``tuple`` whose entries ``each`` (a field made by a
    helper, or a check) validates. An entry is named ``field[k]`` (``indexed=False``: ``field``)."""
    one = _check_of(each)

    def check(value, field, error=ConfigError):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise not_allowed(field, value, "a sequence", error)
        return tuple(one(v, f"{field}[{k}]" if indexed else field, error=error) for k, v in enumerate(value))
    return checked(check, default)


def as_given(inner: Any) -> Any:
    """A field that ``inner`` (a field made by a helper) checks but that keeps the value as given
    (for a value shown in a report as the user wrote it, e.g. ``1000`` and not ``1000.0``)."""
    each = _check_of(inner)

    def check(value, field, error=ConfigError):
        each(value, field, error=error)
        return value
    return checked(check, inner.default if isinstance(inner, dataclasses.Field) else _MISSING)


def _owner(obj) -> str:
    """How messages name the object: its ``_owner()`` if it has one, else ``ClassName('name')``
    for a class with a ``name`` field, else ``ClassName``."""
    own = getattr(obj, "_owner", None)
    if own is not None:
        return own()
    cls = type(obj).__name__
    return f"{cls}({obj.name!r})" if "name" in {f.name for f in dataclasses.fields(obj)} else cls


def validate(obj) -> None:
    """Run the check of every field of the dataclass instance ``obj`` (in field order), store
    each normalised value, then run ``obj._check_together()`` if it exists (rules over several
    fields; it may return a mapping of derived values to store, e.g. a default taken from
    another field). Fields without a check are left alone. A field is named
    ``Owner.field`` (see :func:`_owner`; the ``name`` field itself is ``ClassName.name``; an
    empty owner names the bare field, as for the keyword arguments of a function), and
    errors are raised as ``type(obj)._error`` (default :class:`ConfigError`).

    Works for frozen and plain dataclasses: values are stored with ``object.__setattr__``, the
    one place in the package that writes to a frozen configuration."""
    error = getattr(type(obj), "_error", ConfigError)
    cls = type(obj).__name__
    for f in dataclasses.fields(obj):
        check = f.metadata.get("check")
        if check is None:
            continue
        owner = cls if f.name == "name" else _owner(obj)
        label = f"{owner}.{f.name}" if owner else f.name
        object.__setattr__(obj, f.name, check(getattr(obj, f.name), label, error=error))
    together = getattr(obj, "_check_together", None)
    derived = together() if together is not None else None
    for name, value in (derived or {}).items():
        object.__setattr__(obj, name, value)


class Validated:
    """Base of a validated configuration dataclass: its ``__post_init__`` is :func:`validate`.

    Subclasses declare each field with :func:`number`, :func:`whole`, :func:`choice`, ... and may
    define ``_check_together(self)`` (cross-field rules; returns ``None`` or a mapping of derived
    values), ``_owner(self)`` (how messages name the object) and ``_error`` (the error class)."""

    _error: ClassVar[type[Exception]] = ConfigError

    def __post_init__(self) -> None:
        validate(self)
