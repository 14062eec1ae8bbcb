"""Values that come from outside (the trigger form, the environment, a connection's extras), declared once.

Each field of a settings dataclass carries a ``Spec`` in its metadata: description, bounds, allowed values,
and where the value comes from (a form section, an environment variable). One parser turns an outside value
(a form's JSON, an environment string) into the field's type, and its error names the field and what it
wanted, e.g. ``option batch_size must be an integer, got 'abc'``, without echoing a secret.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

_KEY = "spec"
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclasses.dataclass(frozen=True)
class Spec:
    description: str
    title: str = ""
    section: str | None = None  # on the trigger form, in this section; None: not on the form
    minimum: float | None = None
    maximum: float | None = None
    choices: Mapping[str, str] | None = None  # the allowed values, each with how the form shows it
    env: str | None = None  # the environment variable that sets it for the whole deployment
    secret: bool = False  # an error never repeats the value


def declare(default: Any = dataclasses.MISSING, description: str = "", *,
            default_factory: Callable[[], Any] | None = None, **spec: Any) -> Any:
    """A dataclass field with its ``Spec``; without a default (and factory) the value is required."""
    metadata = {_KEY: Spec(description, **spec)}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def specs(cls: type) -> dict[str, Spec]:
    """The declared fields of a dataclass, in field order."""
    return {f.name: f.metadata[_KEY] for f in dataclasses.fields(cls) if _KEY in f.metadata}


def default(cls: type, name: str) -> Any:
    """A field's declared default (MISSING when the field is required)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


@cache
def _types(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def given(raw: Any) -> bool:
    """False for what stands for "not set": None, the empty string (a form's cleared field, an empty
    environment variable) and an empty list. 0 and False are values."""
    return raw is not None and raw != "" and raw != [] and raw != ()


def parse(cls: type, name: str, raw: Any, label: str) -> Any:
    """``raw`` as field ``name`` of ``cls``: converted to its type and checked against its spec. ``label``
    names the value in the error (``option batch_size``, ``AJERA_CRM_POISON_AFTER``)."""
    spec = specs(cls).get(name) or Spec("")
    value = _convert(_types(cls)[name], raw, label, spec)
    check(spec, value, label)
    return value


def check(spec: Spec, value: Any, label: str) -> None:
    """Bounds and allowed values (each element of a list); ValueError naming ``label`` otherwise."""
    values = value if isinstance(value, (list, tuple)) else [value]
    for item in values:
        if item is None:
            continue
        if spec.choices is not None and item not in spec.choices:
            raise ValueError(f"{label} must be one of {', '.join(spec.choices)}{_got(item, spec)}")
        if spec.minimum is not None and isinstance(item, (int, float)) and item < spec.minimum:
            raise ValueError(f"{label} must be at least {_number(spec.minimum)}{_got(item, spec)}")
        if spec.maximum is not None and isinstance(item, (int, float)) and item > spec.maximum:
            raise ValueError(f"{label} must be at most {_number(spec.maximum)}{_got(item, spec)}")


def check_all(instance: Any, label: Callable[[str], str]) -> None:
    """``check`` every declared field of a dataclass instance (its ``__post_init__``)."""
    for name, spec in specs(type(instance)).items():
        check(spec, getattr(instance, name), label(name))


def build(cls: type, values: Mapping[str, Any], label: Callable[[str], str],
          fixed: Mapping[str, Any] | None = None) -> Any:
    """An instance of ``cls`` from outside ``values`` (unset ones keep their default; a required one
    missing is an error naming it), plus ``fixed`` values already of the right type."""
    kwargs: dict[str, Any] = dict(fixed or {})
    for name, spec in specs(cls).items():
        raw = values.get(name)
        if given(raw):
            kwargs[name] = parse(cls, name, raw, label(name))
        elif default(cls, name) is dataclasses.MISSING and name not in kwargs:
            raise ValueError(f"{label(name)} is required" + (f": {spec.description}" if spec.description else ""))
    return cls(**kwargs)


def from_env(cls: type, environ: Mapping[str, str]) -> dict[str, Any]:
    """The fields of ``cls`` set by their environment variable, parsed (the unset ones are left out)."""
    return {name: parse(cls, name, environ[spec.env], spec.env)
            for name, spec in specs(cls).items() if spec.env and given(environ.get(spec.env))}


def _convert(kind: Any, raw: Any, label: str, spec: Spec) -> Any:
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, UnionType):  # X | None
        if not given(raw) and NoneType in args:
            return None
        (inner,) = [a for a in args if a is not NoneType]
        return _convert(inner, raw, label, spec)
    if origin is Literal:
        return _convert(str, raw, label, spec)  # ``check`` holds it to the choices
    if origin is tuple:
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, (list, tuple)):
            raise ValueError(f"{label} must be a list{_got(raw, spec)}")
        return tuple(_convert(args[0], item.strip() if isinstance(item, str) else item, label, spec)
                     for item in items)
    convert = _CONVERTERS.get(origin or kind)
    if convert is None:
        return raw  # a type no outside value is parsed into (a dict of extras): taken as given
    try:
        return convert(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be {_WANTED[origin or kind]}{_got(raw, spec)}") from None


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if isinstance(raw, (int, str)) and text in _TRUE + _FALSE:
        return text in _TRUE
    raise ValueError(raw)


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise TypeError(raw)
    number = float(raw) if isinstance(raw, (str, float)) else raw
    if not isinstance(number, (int, float)) or number != int(number):
        raise ValueError(raw)
    return int(number)


def _to_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise TypeError(raw)
    return float(raw)


def _to_str(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw


def _to_datetime(raw: Any) -> datetime:
    return raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)


_CONVERTERS: dict[Any, Callable[[Any], Any]] = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str,
                                               datetime: _to_datetime}
_WANTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
           datetime: "an ISO date and time"}


def _got(value: Any, spec: Spec) -> str:
    return " (the value is secret: not shown)" if spec.secret else f", got {value!r}"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
