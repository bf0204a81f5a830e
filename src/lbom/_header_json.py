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
from collections.abc import Callable
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


def _decode(annotation: Any, raw: Any) -> Any:
    return _decoder(annotation)(raw)


_Decoder = Callable[[Any], Any]


def _plain(raw: Any) -> Any:
    return raw


@functools.cache
def _decoder(annotation: Any) -> _Decoder:
    """A decoding function for one annotation, built once: headers are decoded by the thousand on warm scans."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass_decoder(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        concrete = [arg for arg in args if arg is not type(None)]
        # One concrete type (``int | None``, ``tuple[X, ...] | None``) decodes as that type; a union of many
        # (JsonValue) is plain JSON already.
        if len(concrete) != 1:
            return _plain
        inner = _decoder(concrete[0])
        if inner is _plain:
            return _plain
        return lambda raw: None if raw is None else inner(raw)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda raw: tuple(map(item, _list(raw)))
        items = tuple(_decoder(arg) for arg in args)
        return lambda raw: tuple(d(v) for d, v in zip(items, _list(raw), strict=True))
    if origin is list:
        item = _decoder(args[0]) if args else _plain
        return lambda raw: [item(v) for v in _list(raw)]
    if origin in (dict, collections.abc.Mapping):
        value = _decoder(args[1]) if len(args) == 2 else _plain
        return lambda raw: {key: value(item) for key, item in _dict(raw).items()}
    return _plain


def _dataclass_decoder(cls: type) -> _Decoder:
    hints = typing.get_type_hints(cls)
    fields = tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls))
    names = frozenset(name for name, _ in fields)

    def decode(raw: Any) -> Any:
        data = _dict(raw)
        # A field missing from old data keeps its default; unknown keys mean the data is not ours.
        if not names.issuperset(data):
            raise KeyError(f"unknown fields for {cls.__name__}")
        return cls(**{name: d(data[name]) for name, d in fields if name in data})

    return decode


def _list(raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise TypeError("expected a JSON list")
    return raw


def _dict(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TypeError("expected a JSON object")
    return raw
