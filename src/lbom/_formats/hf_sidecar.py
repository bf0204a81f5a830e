"""Hugging Face sidecar files next to a model: config.json, tokenizer_config.json, README.md front matter.

Each file is read with a size cap, parsed safely (JSON; YAML with the safe loader, no arbitrary tags) and turned
into :class:`~lbom.model.SidecarFacts`. A sidecar that is too large, not JSON, or of the wrong shape is a finding,
never a crash.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from typing import Any

from lbom._formats.interface import DEFAULT_LIMITS, FindingSink, Limits
from lbom._formats.json_bounded import describe, load_json_bounded
from lbom.model import ChatTemplate, JsonValue, Severity, SidecarFacts

R_SIDECAR = "LBOM-SIDECAR-001"

_FRONT_MATTER_CAP = 256 * 1024
"""Characters of model-card YAML parsed (real front matter is a few KB; PyYAML builds large event trees)."""

SIDECAR_NAMES = ("config.json", "tokenizer_config.json", "README.md", "generation_config.json")

TextLoader = Callable[[str, Limits, FindingSink, str], "str | None"]
"""Reads a small text file (path, limits, sink, name) with the sidecar cap, or returns None after a finding.
Local scans read the file system (:func:`_read_capped`); remote scans fetch the file from the hub; confined
scans refuse files that lead outside their folders."""


def _read_capped(path: str, limits: Limits, sink: FindingSink, name: str) -> str | None:
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            # Hub snapshots are symlinks into blobs/; follow them, but only to regular files.
            try:
                fd = os.open(os.path.realpath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            except OSError as exc2:
                sink.add(R_SIDECAR, Severity.LOW, f"cannot read {name}: {exc2.strerror}", name)
                return None
        else:
            sink.add(R_SIDECAR, Severity.LOW, f"cannot read {name}: {exc.strerror}", name)
            return None
    try:
        import stat

        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            sink.add(R_SIDECAR, Severity.LOW, f"{name} is not a regular file", name)
            return None
        if st.st_size > limits.max_sidecar_bytes:
            sink.add(
                R_SIDECAR,
                Severity.LOW,
                f"{name} is {st.st_size:,} bytes, above the {limits.max_sidecar_bytes:,}-byte cap; not read",
                name,
            )
            return None
        data = os.read(fd, limits.max_sidecar_bytes + 1)
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        sink.add(R_SIDECAR, Severity.LOW, f"{name} is not UTF-8", name)
        return None


def _load_json(text: str, sink: FindingSink, name: str, limits: Limits) -> dict[str, Any] | None:
    parsed = load_json_bounded(text.encode("utf-8"), limits)
    if parsed.problem is not None:
        sink.add(R_SIDECAR, Severity.LOW, f"{name} not read: {parsed.problem}", name)
        return None
    if not isinstance(parsed.value, dict):
        sink.add(R_SIDECAR, Severity.LOW, f"{name} is {describe(parsed.value)}, not a JSON object", name)
        return None
    return parsed.value


def front_matter(text: str) -> str | None:
    """The YAML block between the leading '---' lines of a model card, if any."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, min(len(lines), 5000)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index])
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool))
    return ()


def _json_safe(value: Any, depth: int = 0) -> JsonValue:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if depth > 6:
        return str(value)[:200]
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value[:64]]
    return str(value)[:200]


def read_sidecars(
    directory: str,
    limits: Limits,
    present: set[str] | None = None,
    read_text: TextLoader | None = None,
) -> SidecarFacts | None:
    """Read the sidecar files in ``directory``. ``present`` (names known to exist) saves a listdir; ``read_text``
    replaces the capped file reader (a confined scan refuses files that lead outside its folders)."""
    names = present if present is not None else set(_safe_listdir(directory))
    found = [name for name in SIDECAR_NAMES if name in names]
    if not found:
        return None
    sink = FindingSink(directory)
    reader = read_text or _read_capped

    def load(name: str) -> str | None:
        return reader(os.path.join(directory, name), limits, sink, name)

    return sidecar_facts(names, load, sink, limits)


def sidecar_facts(
    names: Collection[str],
    load: Callable[[str], str | None],
    sink: FindingSink,
    limits: Limits = DEFAULT_LIMITS,
) -> SidecarFacts:
    """Facts from the sidecars among ``names``. ``load(name)`` returns the file's text, or None after adding a
    finding to ``sink``; local scans read files, remote scans fetch them (both capped)."""
    facts: dict[str, Any] = {}
    templates: list[ChatTemplate] = []
    read_files: list[str] = []
    if "config.json" in names:
        text = load("config.json")
        config = _load_json(text, sink, "config.json", limits) if text is not None else None
        if config is not None:
            read_files.append("config.json")
            _config_facts(config, facts)
    if "tokenizer_config.json" in names:
        text = load("tokenizer_config.json")
        tok = _load_json(text, sink, "tokenizer_config.json", limits) if text is not None else None
        if tok is not None:
            read_files.append("tokenizer_config.json")
            facts["tokenizer_class"] = _str_or_none(tok.get("tokenizer_class"))
            templates.extend(_templates(tok.get("chat_template"), sink))
    if "README.md" in names:
        text = load("README.md")
        if text is not None:
            read_files.append("README.md")
            _card_facts(text, facts, sink, limits)
    return SidecarFacts(
        architecture=facts.get("architecture"),
        model_type=facts.get("model_type"),
        context_length=facts.get("context_length"),
        vocab_size=facts.get("vocab_size"),
        dtype=facts.get("dtype"),
        transformers_version=facts.get("transformers_version"),
        quantization_config=facts.get("quantization_config"),
        license=facts.get("license"),
        license_name=facts.get("license_name"),
        base_models=facts.get("base_models", ()),
        tags=facts.get("tags", ()),
        languages=facts.get("languages", ()),
        pipeline_tag=facts.get("pipeline_tag"),
        tokenizer_class=facts.get("tokenizer_class"),
        chat_templates=tuple(templates),
        files=tuple(read_files),
        findings=sink.result(),
    )


def _safe_listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def _config_facts(config: dict[str, Any], facts: dict[str, Any]) -> None:
    archs = config.get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str):
        facts["architecture"] = archs[0]
    facts["model_type"] = _str_or_none(config.get("model_type"))
    nested = config.get("text_config")
    text_config: dict[str, Any] = nested if isinstance(nested, dict) else {}
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx"):
        value = _int_or_none(config.get(key)) or _int_or_none(text_config.get(key))
        if value:
            facts["context_length"] = value
            break
    facts["vocab_size"] = _int_or_none(config.get("vocab_size")) or _int_or_none(text_config.get("vocab_size"))
    facts["dtype"] = _str_or_none(config.get("torch_dtype")) or _str_or_none(config.get("dtype"))
    facts["transformers_version"] = _str_or_none(config.get("transformers_version"))
    quant = config.get("quantization_config")
    if isinstance(quant, dict):
        safe = _json_safe(quant)
        facts["quantization_config"] = safe if isinstance(safe, dict) else None


def _templates(value: Any, sink: FindingSink) -> list[ChatTemplate]:
    if isinstance(value, str):
        return [ChatTemplate("default", "tokenizer_config.json", value)]
    if isinstance(value, list):
        # The named-template form: [{"name": "default", "template": "..."}, ...]
        result = []
        for item in value[:32]:
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                result.append(ChatTemplate(str(item.get("name", "default")), "tokenizer_config.json", item["template"]))
        return result
    if value is not None:
        sink.add(
            R_SIDECAR,
            Severity.LOW,
            "chat_template in tokenizer_config.json is neither text nor a list",
            "tokenizer_config.json",
        )
    return []


def _card_facts(text: str, facts: dict[str, Any], sink: FindingSink, limits: Limits) -> None:
    block = front_matter(text)
    if block is None:
        return
    if len(block) > _FRONT_MATTER_CAP:
        sink.add(
            R_SIDECAR,
            Severity.LOW,
            f"README.md front matter is {len(block):,} characters, above the {_FRONT_MATTER_CAP:,} l-bom parses",
            "README.md",
        )
        return
    import yaml

    try:
        # The safe loader builds only plain data: a tag such as !!python/object/apply is an error, not a call.
        card = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sink.add(
            R_SIDECAR,
            Severity.MEDIUM if "python/" in str(exc) else Severity.LOW,
            f"README.md front matter is not plain YAML: {problem[:160]}",
            "README.md",
            "model cards hold plain data; a Python tag in one is an attempt to run code in tools that load it unsafely",
        )
        return
    except RecursionError:
        sink.add(R_SIDECAR, Severity.LOW, "README.md front matter is nested too deeply", "README.md")
        return
    if not isinstance(card, dict):
        return
    license_value = card.get("license")
    if isinstance(license_value, list):
        license_value = license_value[0] if license_value else None
    facts["license"] = _str_or_none(license_value)
    facts["license_name"] = _str_or_none(card.get("license_name"))
    facts["base_models"] = _str_list(card.get("base_model"))[:64]
    facts["tags"] = _str_list(card.get("tags"))[:256]
    facts["languages"] = _str_list(card.get("language"))[:256]
    facts["pipeline_tag"] = _str_or_none(card.get("pipeline_tag"))
