"""JSON from untrusted files, parsed only when a cheap pre-scan shows the result stays small.

``json.loads`` turns each value into a Python object that costs 30-250 bytes, so a 30 MB header of ``[0,0,...]``
or ``[{},{},...]`` becomes hundreds of MB, and deep nesting exhausts the recursion limit. Before parsing, the
raw bytes are measured with ``bytes.count`` (C speed, no allocation): commas, colons and brackets bound the
number of values and containers, and the widest UTF-8 lead byte bounds the decoded text. Only input under the
caps in :class:`~lbom._formats.interface.Limits` is handed to the parser. Shared by the safetensors reader and
the Hugging Face sidecar reader.
"""

from __future__ import annotations

import json
from dataclasses import field
from typing import Any

from lbom._formats.interface import Limits
from lbom._records import dataclass

_OBJECT_COST = 100
_ARRAY_COST = 72
_VALUE_COST = 48
"""Rough bytes per parsed dict, list and value (CPython 3.10-3.13, 64-bit; a float or large int is 24-32 bytes plus
its slot), calibrated with tracemalloc: a 100,000-tensor header estimates 103 MiB and takes 79 MiB."""


@dataclass
class JsonResult:
    """The parsed value (``None`` when not parsed), why it was not, and duplicate keys seen."""

    value: Any = None
    problem: str | None = None
    too_large: bool = False
    duplicates: list[str] = field(default_factory=list)


def estimated_memory(raw: bytes) -> tuple[int, int]:
    """(values, estimated bytes of Python objects) that parsing ``raw`` would create, from counts alone.

    Counts include brackets and commas inside strings, so the estimate only errs on the large side.
    """
    objects = raw.count(b"{")
    arrays = raw.count(b"[")
    values = raw.count(b",") + raw.count(b":") + objects + arrays + 1
    if raw.isascii():
        width = 1
    elif any(raw.find(bytes([lead])) >= 0 for lead in range(0xF0, 0xF5)):
        width = 4  # one astral character makes a whole str 4 bytes per character
    else:
        width = 2
    # The text is held twice: the decoded document, and the strings parsed out of it.
    return values, objects * _OBJECT_COST + arrays * _ARRAY_COST + values * _VALUE_COST + 2 * len(raw) * width


def load_json_bounded(raw: bytes, limits: Limits, *, track_duplicates: bool = False) -> JsonResult:
    """Parse ``raw`` (UTF-8 JSON) if it fits the caps; otherwise say why not. Never raises for bad input."""
    if len(raw) > limits.max_json_header_bytes:
        return JsonResult(
            problem=f"{len(raw):,} bytes of JSON, above the {limits.max_json_header_bytes:,}-byte cap l-bom parses",
            too_large=True,
        )
    values, cost = estimated_memory(raw)
    if cost > limits.max_json_memory:
        return JsonResult(
            problem=f"about {values:,} JSON values; parsing them would take about {cost // 2**20:,} MiB, above the "
            f"{limits.max_json_memory // 2**20:,} MiB l-bom allows",
            too_large=True,
        )
    result = JsonResult()
    hook = None
    if track_duplicates:
        duplicates = result.duplicates

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            obj: dict[str, Any] = {}
            for key, value in pairs:
                if key in obj and len(duplicates) < 20:
                    duplicates.append(key)
                obj[key] = value
            return obj

    try:
        text = raw.decode("utf-8")
        result.value = json.loads(text, object_pairs_hook=hook)
    except UnicodeDecodeError as exc:
        result.problem = f"not valid UTF-8 at byte {exc.start}"
    except RecursionError:
        result.problem = "nested too deeply"
    except ValueError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        result.problem = f"not valid JSON: {message[:200]}"
    return result


def describe(value: Any) -> str:
    """A short, non-recursive description of a parsed JSON value for messages (never a deep repr)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:40] + "..."
    if isinstance(value, str):
        return json.dumps(value[:60]) + ("..." if len(value) > 60 else "")
    if isinstance(value, list):
        if len(value) <= 8 and all(isinstance(v, (int, float, str, bool)) or v is None for v in value):
            return "[" + ", ".join(describe(v) for v in value) + "]"
        return f"a list of {len(value)} values"
    if isinstance(value, dict):
        return f"an object with {len(value)} keys"
    return type(value).__name__
