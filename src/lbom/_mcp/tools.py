"""The MCP server's tools as plain library functions: confined to configured roots, bounded, JSON in and out.

Nothing here imports the MCP SDK: :mod:`lbom._mcp.server` only wires these functions to the protocol, so they are
tested directly too. Every tool takes the :class:`ServerConfig` and the call's arguments (already validated
against :data:`TOOLS`' input schemas) and returns a JSON-safe dict matching the tool's output schema, or raises
:class:`ToolRefused` with a message for the agent. Paths are resolved with ``realpath`` and must lie under one of
the roots; files reached through symlinks that leave the roots are never opened. The server never executes,
loads or writes model files: it only calls :func:`lbom.scan` (headers and streaming hashes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from lbom._records import dataclass
from lbom.errors import Error, ScanCancelled
from lbom.model import JsonValue, ScanResult
from lbom.scan import within

DEFAULT_MAX_FILES = 1000
DEFAULT_MAX_HASH_BYTES = 64 * 1024**3
DEFAULT_TIMEOUT = 600.0


class ToolRefused(Exception):
    """A call the server will not (or cannot) carry out; the message goes back to the agent as an error result."""


@dataclass(frozen=True)
class ServerConfig:
    """What the server may touch and how much one call may cost."""

    roots: tuple[str, ...]
    """Real (symlink-free) absolute paths; nothing outside them is opened."""
    max_files: int = DEFAULT_MAX_FILES
    """Files one call may open."""
    max_hash_bytes: int = DEFAULT_MAX_HASH_BYTES
    """Bytes one call may hash; a larger request is refused (ask for hash=false)."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one call may run."""
    policy_text: str | None = None
    """The server's policy (``--policy FILE``): used by check_model when the call gives none."""
    policy_name: str = "server policy"


def make_config(
    roots: Sequence[str],
    max_files: int = DEFAULT_MAX_FILES,
    max_hash_bytes: int = DEFAULT_MAX_HASH_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    policy_text: str | None = None,
    policy_name: str = "server policy",
) -> ServerConfig:
    real = []
    for root in roots:
        path = os.path.realpath(os.path.expanduser(root))
        if not os.path.isdir(path):
            raise ToolRefused(f"root {root!r} is not a directory")
        real.append(path)
    if not real:
        raise ToolRefused("no roots: give --root DIR")
    return ServerConfig(tuple(dict.fromkeys(real)), max_files, max_hash_bytes, timeout, policy_text, policy_name)


def default_roots() -> list[str]:
    """The model stores that exist on this machine (HF hub cache, Ollama, LM Studio, llama.cpp); else the cwd."""
    return _existing_store_paths() or [os.getcwd()]


def _existing_store_paths() -> list[str]:
    from lbom._stores import existing_stores

    return [location.path for location in existing_stores()]


def confine(config: ServerConfig, path: str) -> str:
    """The real path of ``path`` (absolute, or relative to the first root) if it lies under a root; else refuse."""
    if not isinstance(path, str) or not path or "\0" in path:
        raise ToolRefused("path must be a non-empty string")
    if "://" in path:
        raise ToolRefused(f"{path}: only local paths under the server's roots are accepted (no URLs)")
    expanded = path if os.path.isabs(path) else os.path.join(config.roots[0], path)
    real = os.path.realpath(expanded)
    if not any(within(real, root) for root in config.roots):
        raise ToolRefused(f"{path}: outside the allowed roots ({', '.join(config.roots)}); refused")
    if not os.path.exists(real):
        raise ToolRefused(f"{path}: no such file or directory")
    return real


@dataclass(frozen=True)
class _Plan:
    """What a tool call will scan, what it leaves out and how much it reads."""

    targets: list[str]
    """What to pass to scan: the path itself, or the confined files when some had to be left out."""
    skipped: list[str]
    total_bytes: int
    truncated: bool


def _plan(config: ServerConfig, paths: Sequence[str], *, hashing: bool, allow_truncate: bool) -> _Plan:
    """Discover the files under ``paths``, drop those that escape the roots, and enforce the per-call bounds."""
    from lbom.scan import discover

    found = discover(list(paths))
    confined = []
    skipped = []
    for candidate in found.candidates:
        real = os.path.realpath(candidate.real_path)
        if any(within(real, root) for root in config.roots):
            confined.append(candidate)
        else:
            skipped.append(candidate.display_path)
    truncated = False
    if len(confined) > config.max_files:
        if not allow_truncate:
            raise ToolRefused(
                f"{len(confined):,} files under {', '.join(paths)}: more than the {config.max_files:,} one call may "
                "open; ask for a sub-folder"
            )
        confined = confined[: config.max_files]
        truncated = True
    total = sum(c.size for c in confined)
    if hashing and total > config.max_hash_bytes:
        raise ToolRefused(
            f"hashing {total:,} bytes exceeds the server's {config.max_hash_bytes:,}-byte limit per call; call again "
            "with hash=false, or on a smaller path"
        )
    if skipped or truncated:
        return _Plan([c.display_path for c in confined], skipped, total, truncated)
    return _Plan(list(paths), skipped, total, truncated)


def _deadline_scan(config: ServerConfig, targets: list[str], hashing: bool, rehash: bool = False) -> ScanResult:
    """A confined scan that stops at the server's time limit. ``rehash`` for verification: a digest taken from the
    scan cache says nothing about the bytes now."""
    from lbom.scan import ProgressEvent, ScanOptions, scan

    deadline = time.monotonic() + config.timeout

    def check_deadline(_event: ProgressEvent) -> None:
        if time.monotonic() > deadline:
            raise ToolRefused(f"the call ran past the server's {config.timeout:g}-second limit and was stopped")

    if not targets:
        raise ToolRefused("no readable files under the allowed roots")

    def past_deadline() -> bool:
        return time.monotonic() > deadline

    options = ScanOptions(
        hash=hashing, progress=check_deadline, cancel=past_deadline, confine_to=tuple(config.roots), rehash=rehash
    )
    try:
        return scan(targets, options=options)
    except ScanCancelled:
        # Polled between files and inside every hashed chunk: the work itself stops, not just the answer.
        raise ToolRefused(f"the call ran past the server's {config.timeout:g}-second limit and was stopped") from None
    except Error as exc:
        raise ToolRefused(exc.diagnostics()) from None


def _documents(result: ScanResult) -> list[JsonValue]:
    from lbom._render.json import model_document

    return [model_document(model, result) for model in result.models]


def scan_model(config: ServerConfig, arguments: dict[str, Any]) -> dict[str, JsonValue]:
    path = confine(config, arguments["path"])
    hashing = bool(arguments.get("hash", True))
    plan = _plan(config, [path], hashing=hashing, allow_truncate=False)
    result = _deadline_scan(config, plan.targets, hashing)
    if not result.models:
        not_models = "; ".join(f.message for f in result.findings) or "no model files found"
        raise ToolRefused(f"{arguments['path']}: {not_models}")
    return {
        "path": path,
        "hashed": result.hashed,
        "models": _documents(result),
        "findings": [f.to_json() for f in result.all_findings],
        "skipped_outside_roots": list(plan.skipped),
    }


def verify_model(config: ServerConfig, arguments: dict[str, Any]) -> dict[str, JsonValue]:
    path = confine(config, arguments["path"])
    if "lock" in arguments:
        return _verify_lock(config, path, confine(config, arguments["lock"]))
    expected = arguments["sha256"].lower()
    plan = _plan(config, [path], hashing=True, allow_truncate=False)
    result = _deadline_scan(config, plan.targets, True, rehash=True)
    files = [entry for model in result.models for entry in model.files]
    if len(files) != 1 or len(result.models) != 1:
        raise ToolRefused(
            f"{arguments['path']}: sha256 verification needs exactly one model file, found {len(files)}; "
            "use a lock file for folders"
        )
    actual = files[0].sha256
    detail: dict[str, JsonValue] = {
        "kind": "match" if actual == expected else "changed",
        "path": files[0].path,
        "expected_sha256": expected,
        "actual_sha256": actual,
        "actual_size": files[0].size,
    }
    return {"path": path, "method": "sha256", "match": actual == expected, "files_checked": 1, "details": [detail]}


def _verify_lock(config: ServerConfig, path: str, lock_path: str) -> dict[str, JsonValue]:
    """Compare a bounded, confined re-scan of ``path`` with the lock file (the gate's lock comparison)."""
    from lbom._lock import read_lock
    from lbom._verify import verify_scan

    try:
        expected = read_lock(lock_path)
    except Error as exc:
        raise ToolRefused(exc.diagnostics()) from None
    plan = _plan(config, [path], hashing=True, allow_truncate=False)
    result = _deadline_scan(config, plan.targets, True, rehash=True)
    try:
        outcome = verify_scan(expected, result, path)
    except Error as exc:
        raise ToolRefused(exc.diagnostics()) from None
    details: list[JsonValue] = [{"kind": "missing-model", "path": p} for p in outcome.missing_models]
    details += [{"kind": "new-model", "path": p} for p in outcome.new_models]
    details += [change.to_json() for change in outcome.file_changes]
    details += [{"kind": "fact", **change.to_json()} for change in outcome.fact_changes]
    return {
        "path": path,
        "method": "lock",
        "match": outcome.ok,
        "files_checked": outcome.files_checked,
        "details": details,
    }


def check_model(config: ServerConfig, arguments: dict[str, Any]) -> dict[str, JsonValue]:
    from lbom._policy import check, parse_policy

    path = confine(config, arguments["path"])
    text = arguments.get("policy", config.policy_text)
    if text is None:
        raise ToolRefused("check_model needs a policy: pass 'policy' (TOML text), or start the server with --policy")
    try:
        policy = parse_policy(text, "policy argument" if "policy" in arguments else config.policy_name)
    except Error as exc:
        raise ToolRefused(exc.diagnostics()) from None
    hashing = bool(arguments.get("hash", True))
    plan = _plan(config, [path], hashing=hashing, allow_truncate=False)
    outcome = check(_deadline_scan(config, plan.targets, hashing), policy)
    return {"path": path, **outcome.to_json()}


def list_models(config: ServerConfig, arguments: dict[str, Any]) -> dict[str, JsonValue]:
    plan = _plan(config, list(config.roots), hashing=False, allow_truncate=True)
    result = _deadline_scan(config, plan.targets, False) if plan.targets else None
    models: list[JsonValue] = []
    for model in result.models if result is not None else ():
        models.append(
            {
                "path": model.path,
                "name": model.name,
                "format": model.format,
                "size": model.total_size,
                "files": len(model.files),
                "architecture": model.architecture,
                "parameter_count": model.parameter_count,
                "quantization": model.quantization,
                "findings": len(model.findings),
            }
        )
    return {
        "roots": list(config.roots),
        "models": models,
        "truncated": plan.truncated,
        "skipped_outside_roots": list(plan.skipped),
    }


ToolFunction = Callable[[ServerConfig, dict[str, Any]], dict[str, JsonValue]]

_FINDING: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rule_id": {"type": "string"},
        "severity": {"type": "string", "enum": ["info", "low", "medium", "high", "critical"]},
        "message": {"type": "string"},
        "file": {"type": ["string", "null"]},
        "location": {"type": ["string", "null"]},
        "remedy": {"type": ["string", "null"]},
    },
    "required": ["rule_id", "severity", "message"],
}
_HASH = {"type": "boolean", "default": True, "description": "Compute SHA-256 of every file."}
_PATH = {
    "type": "string",
    "minLength": 1,
    "description": "A model file or folder: absolute, or relative to the first root. Must lie under a root.",
}


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool: its name, title, description, input and output schemas and function."""

    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    function: ToolFunction


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "scan_model",
        "Scan a model",
        "Read a local model file or folder (GGUF, safetensors, ...) from its headers, without loading or executing "
        "it, and return its l-bom document(s): format, architecture, parameters, quantization, license, base "
        "model, chat templates, SHA-256, and findings about anything malformed or dangerous.",
        {
            "type": "object",
            "properties": {
                "path": _PATH,
                "hash": _HASH,
            },
            "required": ["path"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "hashed": {"type": "boolean"},
                "models": {"type": "array", "items": {"type": "object"}},
                "findings": {"type": "array", "items": _FINDING},
                "skipped_outside_roots": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["path", "hashed", "models", "findings", "skipped_outside_roots"],
        },
        scan_model,
    ),
    ToolSpec(
        "verify_model",
        "Verify a model against a digest or a lock file",
        "Hash a local model file and compare it with an expected SHA-256, or re-scan a model file or folder and "
        "compare it with an l-bom lock file (models.lock). match=true only when nothing differs; details list "
        "every changed, missing, new or renamed file and changed fact.",
        {
            "type": "object",
            "properties": {
                "path": _PATH,
                "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "description": "Expected SHA-256."},
                "lock": {
                    "type": "string",
                    "minLength": 1,
                    "description": "An l-bom lock file (l-bom lock) under a root, absolute or relative to the first.",
                },
            },
            "required": ["path"],
            "oneOf": [{"required": ["sha256"]}, {"required": ["lock"]}],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "method": {"type": "string", "enum": ["sha256", "lock"]},
                "match": {"type": "boolean"},
                "files_checked": {"type": "integer"},
                "details": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]},
                },
            },
            "required": ["path", "method", "match", "files_checked", "details"],
        },
        verify_model,
    ),
    ToolSpec(
        "check_model",
        "Check a model against a policy",
        "Scan a local model file or folder and check it against an l-bom policy (TOML: [formats], [licenses], "
        "[findings] fail_on/ignore, [require] fields, [[overrides]]). passed=true only without violations and "
        "without findings at or above fail_on. Without 'policy', the server's --policy is used.",
        {
            "type": "object",
            "properties": {
                "path": _PATH,
                "policy": {"type": "string", "minLength": 1, "description": "Policy TOML text."},
                "hash": _HASH,
            },
            "required": ["path"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "policy": {"type": "string"},
                "passed": {"type": "boolean"},
                "models_checked": {"type": "integer"},
                "violations": {"type": "array", "items": _FINDING},
                "failing_findings": {"type": "array", "items": _FINDING},
                "ignored": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["path", "passed", "models_checked", "violations", "failing_findings", "ignored"],
        },
        check_model,
    ),
    ToolSpec(
        "list_models",
        "List models",
        "List the models under the server's configured roots (headers only, no hashing).",
        {"type": "object", "properties": {}, "additionalProperties": False},
        {
            "type": "object",
            "properties": {
                "roots": {"type": "array", "items": {"type": "string"}},
                "models": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "path": {"type": "string"},
                            "name": {"type": "string"},
                            "format": {"type": "string"},
                            "size": {"type": "integer"},
                            "files": {"type": "integer"},
                            "architecture": {"type": ["string", "null"]},
                            "parameter_count": {"type": ["integer", "null"]},
                            "quantization": {"type": ["string", "null"]},
                            "findings": {"type": "integer"},
                        },
                        "required": ["path", "name", "format", "size", "files"],
                    },
                },
                "truncated": {"type": "boolean"},
                "skipped_outside_roots": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["roots", "models", "truncated", "skipped_outside_roots"],
        },
        list_models,
    ),
)


def tool_named(name: str) -> ToolSpec | None:
    return next((tool for tool in TOOLS if tool.name == name), None)


def check_arguments(arguments: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """Why ``arguments`` break ``schema``, or None. Covers exactly the keywords the tool schemas use (flat
    objects of strings and booleans: type, properties, required, additionalProperties, minLength, pattern, and
    oneOf of required-alternatives), so
    the server does not pay for importing a general validator on every start; a differential test compares it
    with ``jsonschema``."""
    import re

    properties: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in arguments:
            return f"'{name}' is a required property"
    alternatives = schema.get("oneOf")
    if alternatives is not None:
        satisfied = [alt for alt in alternatives if all(name in arguments for name in alt["required"])]
        if len(satisfied) != 1:
            names = " or ".join(repr(alt["required"][0]) for alt in alternatives)
            return f"give exactly one of {names}"
    for name, value in arguments.items():
        spec = properties.get(name)
        if spec is None:
            if schema.get("additionalProperties", True) is False:
                return f"unexpected property '{name}'"
            continue
        kind = spec.get("type")
        if kind == "boolean" and not isinstance(value, bool):
            return f"'{name}' must be a boolean"
        if kind == "string":
            if not isinstance(value, str):
                return f"'{name}' must be a string"
            if len(value) < spec.get("minLength", 0):
                return f"'{name}' is too short"
            pattern = spec.get("pattern")
            if pattern is not None and re.search(pattern, value) is None:
                return f"'{name}' does not match {pattern!r}"
    return None


def call_tool(config: ServerConfig, name: str, arguments: dict[str, Any] | None) -> dict[str, JsonValue]:
    """Validate ``arguments`` against the tool's input schema and run it. Raises ToolRefused for anything wrong."""
    tool = tool_named(name)
    if tool is None:
        raise ToolRefused(f"unknown tool {name!r}")
    args = dict(arguments or {})
    problem = check_arguments(args, tool.input_schema)
    if problem is not None:
        raise ToolRefused(f"invalid arguments for {name}: {problem}")
    return tool.function(config, args)
