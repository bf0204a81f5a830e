"""Grouping of multi-file models: sharded checkpoints with an index, and split GGUF files.

A folder with ``model.safetensors.index.json`` (or ``pytorch_model.bin.index.json``) and the shards its
``weight_map`` names is one logical model; so are ``name-00001-of-00003.gguf`` parts with their ``split.*``
keys. Each group gets one combined :class:`~lbom.model.ModelHeader` (parameters, tensors and dtype summed over
every part; the other facts from the first part) and findings for what does not add up: missing or unlisted
shards, tensors absent from their shard or duplicated across shards, a ``total_size`` that disagrees, split
numbering that does not match the file names. The index is read with the sidecar size cap.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lbom._formats.constants import DTYPE_ITEM_BYTES
from lbom._formats.gguf import R_QUANT_GUESSED
from lbom._formats.hf_sidecar import TextLoader, _read_capped
from lbom._formats.interface import FindingSink, Limits
from lbom._formats.lfs_pointer import FORMAT as LFS_POINTER_FORMAT
from lbom._records import dataclass
from lbom.model import FileDigest, FileEntry, Finding, JsonValue, ModelHeader, Severity, TensorTypeStat

if TYPE_CHECKING:
    from lbom.scan import ReadFile

R_INDEX = "LBOM-SHARD-001"
R_SHARD_MISSING = "LBOM-SHARD-002"
R_SHARD_UNLISTED = "LBOM-SHARD-003"
R_TENSOR_MISSING = "LBOM-SHARD-004"
R_TENSOR_UNLISTED = "LBOM-SHARD-005"
R_TENSOR_DUPLICATE = "LBOM-SHARD-006"
R_TOTAL_SIZE = "LBOM-SHARD-007"
R_SPLIT_MISSING = "LBOM-SHARD-008"
R_SPLIT_NUMBERING = "LBOM-SHARD-009"

INDEX_SUFFIXES = (".safetensors.index.json", ".bin.index.json")
_SHARD_NAME = re.compile(r"^(?P<stem>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})(?P<ext>\.[A-Za-z0-9]+)$")
_REPORTED_PER_RULE = 20
_MAX_SPLIT_COUNT = 100_000


@dataclass(frozen=True)
class ShardGroup:
    """One multi-file model: its combined header, its files (parts first, then the index) and group findings."""

    header: ModelHeader
    files: tuple[FileEntry, ...]
    path: str
    directory: str
    findings: tuple[Finding, ...]


class _Reporter:
    def __init__(self, file: str) -> None:
        self.sink = FindingSink(file)
        self.counts: Counter[str] = Counter()

    def add(
        self, rule: str, severity: Severity, message: str, location: str | None = None, remedy: str | None = None
    ) -> None:
        self.counts[rule] += 1
        if self.counts[rule] <= _REPORTED_PER_RULE:
            self.sink.add(rule, severity, message, location, remedy)
        elif self.counts[rule] == _REPORTED_PER_RULE + 1:
            self.sink.add(rule, severity, "further findings of this kind were left out", location)


def group_shards(
    read_files: list[ReadFile],
    directories: Mapping[str, set[str]],
    limits: Limits,
    read_text: TextLoader = _read_capped,
) -> tuple[list[ShardGroup], list[ReadFile]]:
    """Split ``read_files`` into multi-file groups and the files that stay single models."""
    by_directory: dict[str, list[ReadFile]] = {}
    for read_file in read_files:
        by_directory.setdefault(read_file.candidate.directory, []).append(read_file)
    groups: list[ShardGroup] = []
    claimed: set[int] = set()
    for directory, files in sorted(by_directory.items()):
        names = directories.get(directory)
        if names is None:
            continue
        by_name = {os.path.basename(f.candidate.relative_path): f for f in files}
        for index_name in sorted(n for n in names if n.endswith(INDEX_SUFFIXES)):
            group = _index_group(directory, index_name, names, by_name, claimed, limits, read_text)
            if group is not None:
                groups.append(group)
        groups.extend(_split_gguf_groups(directory, by_name, claimed))
    rest = [f for f in read_files if id(f) not in claimed]
    return groups, rest


def _is_pointer(read_file: ReadFile) -> bool:
    return read_file.header is not None and read_file.header.format == LFS_POINTER_FORMAT


def _entry(read_file: ReadFile) -> FileEntry:
    from lbom.scan import file_entry

    return file_entry(read_file, role="pointer" if _is_pointer(read_file) else "shard")


def _display(directory: str, read_files: list[ReadFile], name: str) -> tuple[str, str]:
    """Display and relative paths for a file next to ``read_files`` in ``directory``."""
    relative_dir = os.path.dirname(read_files[0].candidate.relative_path) if read_files else ""
    return os.path.join(directory, name), os.path.join(relative_dir, name) if relative_dir else name


def _index_entry(path: str, relative: str, text: str, parts: list[ReadFile]) -> FileEntry:
    import hashlib  # only for sharded models: start-up of the common scan stays without OpenSSL

    raw = text.encode("utf-8")
    algorithms = sorted({d.algorithm for part in parts for d in part.digests})
    digests = []
    for algorithm in algorithms:
        if algorithm in hashlib.algorithms_available:
            digests.append(FileDigest(algorithm, hashlib.new(algorithm, raw).hexdigest()))
    try:
        size = os.stat(path).st_size
    except OSError:
        size = len(raw)
    return FileEntry(path, relative, size, tuple(digests), format="index", role="index")


def _index_group(
    directory: str,
    index_name: str,
    names: set[str],
    by_name: dict[str, ReadFile],
    claimed: set[int],
    limits: Limits,
    read_text: TextLoader,
) -> ShardGroup | None:
    weights_ext = ".safetensors" if index_name.endswith(".safetensors.index.json") else ".bin"
    index_path = os.path.join(directory, index_name)
    report = _Reporter(index_path)
    text = read_text(index_path, limits, report.sink, index_name)
    weight_map: dict[str, str] = {}
    index_meta: dict[str, Any] = {}
    if text is not None:
        weight_map, index_meta = _parse_index(text, report)
    listed = sorted(set(weight_map.values()))
    parts = [by_name[n] for n in listed if n in by_name and id(by_name[n]) not in claimed]
    if not parts:
        return None  # nothing of this model was read (another model's index, or shards not scanned)
    for name in listed:
        if name not in by_name:
            if name in names:
                report.add(R_SHARD_MISSING, Severity.HIGH, f"shard {name} is listed in {index_name} but is not a "
                           "readable model file", name, "re-download the shard")  # fmt: skip
            else:
                report.add(R_SHARD_MISSING, Severity.HIGH, f"shard {name} is listed in {index_name} but missing",
                           name, "download the missing shard (e.g. git lfs pull, or hf download again)")  # fmt: skip
    stems = {m.group("stem") for m in (_SHARD_NAME.match(n) for n in listed) if m}
    for name, read_file in sorted(by_name.items()):
        match = _SHARD_NAME.match(name)
        if (
            match
            and match.group("stem") in stems
            and match.group("ext") == weights_ext
            and name not in listed
            and id(read_file) not in claimed
        ):
            report.add(R_SHARD_UNLISTED, Severity.MEDIUM, f"{name} looks like a shard of this model but "
                       f"{index_name} does not list it; loaders ignore it", name)  # fmt: skip
            parts.append(read_file)
    for part in parts:
        claimed.add(id(part))
    # Shards that are un-pulled LFS pointers carry their own finding; their tensors are simply unknown.
    real = [p for p in parts if not _is_pointer(p)]
    _check_tensors(weight_map, real, index_name, report)
    complete = len(listed) == len([n for n in listed if n in by_name]) and len(real) == len(parts)
    _check_total_size(index_meta, real, complete, report)
    # Without a name in the files, the model is named by build_model: the store's name for it, else the folder's.
    header = _combined_header(parts, _primary(real or parts))
    metadata = dict(header.metadata)
    metadata.update({f"index.{k}": v for k, v in sorted(index_meta.items()) if _json_safe(v)})
    metadata["shards.count"] = len(parts)
    header = dataclasses.replace(header, metadata=dict(sorted(metadata.items())))
    display, relative = _display(directory, parts, index_name)
    files = tuple(_entry(p) for p in _sorted_parts(parts))
    if text is not None:
        files += (_index_entry(display, relative, text, parts),)
    return ShardGroup(header, files, display, directory, report.sink.result())


def _json_safe(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _parse_index(text: str, report: _Reporter) -> tuple[dict[str, str], dict[str, Any]]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        report.add(R_INDEX, Severity.HIGH, f"index is not valid JSON: {str(exc)[:160]}")
        return {}, {}
    if not isinstance(document, dict) or not isinstance(document.get("weight_map"), dict):
        report.add(R_INDEX, Severity.HIGH, "index has no weight_map object")
        return {}, {}
    weight_map: dict[str, str] = {}
    for tensor, shard in document["weight_map"].items():
        if isinstance(shard, str) and "/" not in shard and "\\" not in shard and shard not in ("", ".", ".."):
            weight_map[str(tensor)] = shard
        else:
            report.add(R_INDEX, Severity.HIGH, f"weight_map entry for {tensor!r} is not a file name in this folder: "
                       f"{str(shard)[:80]!r}", f"tensor {tensor}")  # fmt: skip
    meta = document.get("metadata")
    return weight_map, meta if isinstance(meta, dict) else {}


def _check_tensors(weight_map: dict[str, str], parts: list[ReadFile], index_name: str, report: _Reporter) -> None:
    where: dict[str, list[str]] = {}
    for part in _sorted_parts(parts):
        assert part.header is not None
        shard = os.path.basename(part.candidate.relative_path)
        for info in part.header.tensors:
            where.setdefault(info.name, []).append(shard)
    read_shards = {os.path.basename(p.candidate.relative_path) for p in parts}
    for tensor, shard in sorted(weight_map.items()):
        found_in = where.get(tensor, [])
        if shard in read_shards and shard not in found_in:
            elsewhere = f"; it is in {', '.join(found_in)} instead" if found_in else ""
            report.add(R_TENSOR_MISSING, Severity.HIGH, f"tensor {tensor!r} is mapped to {shard} but that shard does "
                       f"not contain it{elsewhere}", f"tensor {tensor}", "the shards and the index do not match; "
                       "re-download the model")  # fmt: skip
    for tensor, shards in sorted(where.items()):
        if len(shards) > 1:
            report.add(R_TENSOR_DUPLICATE, Severity.HIGH, f"tensor {tensor!r} appears in {len(shards)} shards "
                       f"({', '.join(shards)}); which one loads depends on the loader", f"tensor {tensor}")  # fmt: skip
        if weight_map and tensor not in weight_map:
            report.add(R_TENSOR_UNLISTED, Severity.MEDIUM, f"tensor {tensor!r} in {shards[0]} is not in {index_name}; "
                       "loaders following the index skip it", f"tensor {tensor}")  # fmt: skip


def _tensor_bytes(header: ModelHeader) -> int | None:
    total = 0
    for tensor in header.tensors:
        if tensor.nbytes is not None:
            total += tensor.nbytes
        elif tensor.type_name in DTYPE_ITEM_BYTES:
            total += tensor.element_count * DTYPE_ITEM_BYTES[tensor.type_name]
        else:
            return None
    return total


def _check_total_size(index_meta: dict[str, Any], parts: list[ReadFile], complete: bool, report: _Reporter) -> None:
    declared = index_meta.get("total_size")
    if not complete or not isinstance(declared, int) or isinstance(declared, bool):
        return
    actual = 0
    for part in parts:
        assert part.header is not None
        size = _tensor_bytes(part.header)
        if size is None:
            return
        actual += size
    if actual != declared:
        report.add(
            R_TOTAL_SIZE,
            Severity.MEDIUM,
            f"index metadata.total_size is {declared:,} bytes but the shards' tensors take {actual:,}",
            "metadata.total_size",
            "the index was written for other shards",
        )


def _split_gguf_groups(directory: str, by_name: dict[str, ReadFile], claimed: set[int]) -> list[ShardGroup]:
    families: dict[tuple[str, int], list[tuple[int, ReadFile]]] = {}
    for name, read_file in sorted(by_name.items()):
        match = _SHARD_NAME.match(name)
        header = read_file.header
        if not match or match.group("ext").lower() != ".gguf" or id(read_file) in claimed or header is None:
            continue
        if header.format != "gguf":
            continue
        families.setdefault((match.group("stem"), int(match.group("count"))), []).append(
            (int(match.group("no")), read_file)
        )
    groups = []
    for (stem, count), members in sorted(families.items()):
        if count < 2 and len(members) < 2:
            continue
        members.sort(key=lambda item: item[0])
        parts = [read_file for _no, read_file in members]
        first_name = f"{stem}-00001-of-{count:05d}.gguf"
        display, _relative = _display(directory, parts, first_name)
        report = _Reporter(display)
        present = {no for no, _rf in members}
        missing = [no for no in range(1, min(count, _MAX_SPLIT_COUNT) + 1) if no not in present]
        for no in missing:
            report.add(R_SPLIT_MISSING, Severity.HIGH, f"split part {stem}-{no:05d}-of-{count:05d}.gguf is missing",
                       f"part {no}", "download every part; llama.cpp needs all of them")  # fmt: skip
        declared_tensors = None
        for no, read_file in members:
            assert read_file.header is not None
            meta = read_file.header.metadata
            name = os.path.basename(read_file.candidate.relative_path)
            split_no, split_count = meta.get("split.no"), meta.get("split.count")
            if split_count is not None and split_count != count:
                report.add(R_SPLIT_NUMBERING, Severity.MEDIUM, f"{name} says split.count={split_count} but its name "
                           f"says {count}", name)  # fmt: skip
            if split_no is not None and split_no != no - 1:
                report.add(R_SPLIT_NUMBERING, Severity.MEDIUM, f"{name} says split.no={split_no} but its name says "
                           f"part {no} (split.no counts from 0)", name)  # fmt: skip
            if isinstance(meta.get("split.tensors.count"), int):
                declared_tensors = meta["split.tensors.count"]
        actual_tensors = sum(rf.header.tensor_count or 0 for rf in parts if rf.header is not None)
        if not missing and declared_tensors is not None and declared_tensors != actual_tensors:
            report.add(R_SPLIT_NUMBERING, Severity.MEDIUM, f"split.tensors.count is {declared_tensors} but the parts "
                       f"hold {actual_tensors} tensors", "split.tensors.count")  # fmt: skip
        for part in parts:
            claimed.add(id(part))
        primary = next((rf for no, rf in members if no == 1), parts[0])
        header = _combined_header(parts, primary)
        if header.name is None:
            header = dataclasses.replace(header, name=stem)
        metadata = dict(header.metadata)
        metadata["shards.count"] = len(parts)
        header = dataclasses.replace(header, metadata=dict(sorted(metadata.items())))
        files = tuple(_entry(p) for p in parts)
        groups.append(ShardGroup(header, files, display, directory, report.sink.result()))
    return groups


def _sorted_parts(parts: list[ReadFile]) -> list[ReadFile]:
    return sorted(parts, key=lambda p: p.candidate.relative_path)


def _primary(parts: list[ReadFile]) -> ReadFile:
    return _sorted_parts(parts)[0]


# Findings that are expected on every part but the first of a split GGUF (gguf-split writes the metadata once).
_PRIMARY_ONLY_RULES = frozenset({R_QUANT_GUESSED})


def _combined_header(parts: list[ReadFile], primary: ReadFile) -> ModelHeader:
    """The primary part's facts, with counts and the dtype histogram summed over every part."""
    assert primary.header is not None
    per_type: dict[str, list[int]] = {}
    parameters = 0
    tensors = 0
    known = True
    findings: list[Finding] = []
    for part in _sorted_parts(parts):
        header = part.header
        assert header is not None
        findings.extend(f for f in header.findings if part is primary or f.rule_id not in _PRIMARY_ONLY_RULES)
        if header.parameter_count is None:
            known = False
        parameters += header.parameter_count or 0
        tensors += header.tensor_count or 0
        for stat in header.tensor_types:
            counts = per_type.setdefault(stat.type_name, [0, 0])
            counts[0] += stat.tensor_count
            counts[1] += stat.parameter_count
    stats = tuple(
        TensorTypeStat(name, c[0], c[1]) for name, c in sorted(per_type.items(), key=lambda i: (-i[1][1], i[0]))
    )
    dtype = (stats[0].type_name if len(stats) == 1 else "mixed") if stats else primary.header.dtype
    metadata: dict[str, JsonValue] = dict(primary.header.metadata)
    return dataclasses.replace(
        primary.header,
        parameter_count=parameters if known else None,
        tensor_count=tensors,
        tensor_types=stats,
        dtype=dtype,
        tensors=(),
        metadata=metadata,
        findings=tuple(findings),
        data_bytes_expected=None,
    )
