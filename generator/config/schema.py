"""Turn plain YAML data into frozen dataclasses, checking every key, type and range.

Sections are ordinary dataclasses; a field's `metadata` may carry `min`, `max` and `choices`.
Errors name the full dotted key, e.g. `oip.steps: must be >= 1, got -3`.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, get_args, get_origin

from ..errors import UserError


class ConfigError(UserError):
    pass


def bounded(default: Any, *, min: float | None = None, max: float | None = None,
            choices: tuple | None = None, min_len: int | None = None, doc: str = "") -> Any:
    """A dataclass field with range, choice or (for lists) length limits checked at load time."""
    meta = {"min": min, "max": max, "choices": choices, "min_len": min_len, "doc": doc}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def build(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass `cls` from a mapping, naming the first offending key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{path}.{unknown[0]}" if path else str(unknown[0])
        raise ConfigError(f"{where}: unknown key (allowed: {', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, f in fields.items():
        if name in data:
            key = f"{path}.{name}" if path else name
            values[name] = _check_limits(_coerce(hints[name], data[name], key), f.metadata, key)
    return cls(**values)


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, key)
            except ConfigError as err:
                errors.append(err)
        raise errors[0]
    if origin is Literal:
        if value not in get_args(tp):
            allowed = ", ".join(repr(a) for a in get_args(tp))
            raise ConfigError(f"{key}: must be one of {allowed}, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {_kind(value)}")
        item = get_args(tp)[0] if get_args(tp) else Any
        items = [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {_kind(value)}")
        _, vt = get_args(tp)
        return {str(k): _coerce(vt, v, f"{key}.{k}") for k, v in value.items()}
    return _scalar(tp, value, key)


def _scalar(tp: Any, value: Any, key: str) -> Any:
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {_kind(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {_kind(value)}")
        if not math.isfinite(value):  # YAML's .nan and .inf would slip past every range check
            raise ConfigError(f"{key}: must be a finite number, got {value}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected text, got {_kind(value)}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")


def _check_limits(value: Any, meta: Any, key: str) -> Any:
    if meta.get("min_len") and isinstance(value, (list, tuple)) and len(value) < meta["min_len"]:
        raise ConfigError(f"{key}: needs at least {meta['min_len']} entr{'y' if meta['min_len'] == 1 else 'ies'}")
    items = value if isinstance(value, (list, tuple)) else [value]
    for v in items:
        if not isinstance(v, (int, float, str)) or isinstance(v, bool):
            continue
        if meta.get("choices") and v not in meta["choices"]:
            allowed = ", ".join(repr(c) for c in meta["choices"])
            raise ConfigError(f"{key}: must be one of {allowed}, got {v!r}")
        if isinstance(v, str):
            continue
        if meta.get("min") is not None and v < meta["min"]:
            raise ConfigError(f"{key}: must be >= {meta['min']}, got {v}")
        if meta.get("max") is not None and v > meta["max"]:
            raise ConfigError(f"{key}: must be <= {meta['max']}, got {v}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {bool: "true/false", int: "a whole number", float: "a number", str: f"text {value!r}",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def as_dict(obj: Any) -> Any:
    """Plain data for hashing and for showing the config on the site."""
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj
