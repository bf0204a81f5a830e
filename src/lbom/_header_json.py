"""A parsed :class:`~lbom.model.ModelHeader` as JSON-safe data and back, exactly, for the persistent cache.

Encoding walks the dataclasses generically (enums as their values, tuples as lists); decoding is driven by the
dataclasses' type annotations, so a field another engineer adds to the model keeps round-tripping without a
change here. The cache still checks each round trip before trusting it (:func:`round_trips`), so a value this
codec cannot represent exactly (a tuple inside metadata, a NaN that never equals itself) is simply not cached.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import json
import types
import typing
from typing import Any

from lbom.model import JsonValue, ModelHeader

FORMAT_VERSION = 1
"""Bumped when the encoding changes shape; part of the cache context, so old entries are ignored."""


def header_to_json(header: ModelHeader) -> dict[str, JsonValue]:
    """``header`` as plain JSON data (dicts, lists, str, int, float, bool, None)."""
    encoded = _encode(header)
    assert isinstance(encoded, dict)
    return encoded


def header_from_json(data: dict[str, JsonValue]) -> ModelHeader:
    """The :class:`ModelHeader` that :func:`header_to_json` turned into ``data``."""
    header = _decode(ModelHeader, data)
    assert isinstance(header, ModelHeader)
    return header


def dumps_header(header: ModelHeader) -> str:
    """Compact, ASCII-only JSON text (lone surrogates from odd files survive as escapes)."""
    return json.dumps(header_to_json(header), ensure_ascii=True, separators=(",", ":"), allow_nan=True)


def loads_header(text: str) -> ModelHeader:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a cached header must be a JSON object")
    return header_from_json(data)


def round_trips(header: ModelHeader, text: str) -> bool:
    """True when ``text`` decodes back to a header equal to ``header`` in every field."""
    try:
        return loads_header(text) == header
    except (ValueError, TypeError, KeyError):
        return False


def _encode(value: object) -> JsonValue:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    if isinstance(value, (tuple, list)):
        return [_encode(item) for item in value]
    if isinstance(value, collections.abc.Mapping):
        return {str(key): _encode(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} for the cache")


@functools.cache
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _decode(annotation: Any, raw: Any) -> Any:
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(raw, dict):
            raise TypeError(f"expected an object for {annotation.__name__}")
        known = _field_types(annotation)
        # A field missing from old data keeps its default; unknown keys mean the data is not ours.
        if set(raw) - {name for name, _ in known}:
            raise KeyError(f"unknown fields for {annotation.__name__}")
        return annotation(**{name: _decode(hint, raw[name]) for name, hint in known if name in raw})
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(raw)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        if raw is None and type(None) in args:
            return None
        concrete = [arg for arg in args if arg is not type(None)]
        # One concrete type (``int | None``, ``tuple[X, ...] | None``) decodes as that type; a union of many
        # (JsonValue) is plain JSON already.
        return _decode(concrete[0], raw) if len(concrete) == 1 else raw
    if origin is tuple:
        if not isinstance(raw, list):
            raise TypeError("expected a list for a tuple")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in raw)
        return tuple(_decode(arg, item) for arg, item in zip(args, raw, strict=True))
    if origin is list:
        return [_decode(args[0], item) for item in raw] if args else list(raw)
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(raw, dict):
            raise TypeError("expected an object for a mapping")
        value_type = args[1] if len(args) == 2 else Any
        return {key: _decode(value_type, item) for key, item in raw.items()}
    return raw
