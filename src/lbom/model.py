"""The typed, frozen data that every part of l-bom passes around.

Readers turn one file into a :class:`ModelHeader`; the scanner wraps files into :class:`FileEntry` objects,
assembles them into logical :class:`ModelArtifact` objects (one model may span many files) and returns a
:class:`ScanResult`. Renderers, the CLI, the GUI and the MCP server only ever consume these types.

Metadata values read from files stay JSON-safe (str/int/float/bool/None/list/dict); long arrays are kept as
previews (see :data:`ARRAY_PREVIEW_LEN`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from typing import Union

from lbom._records import dataclass

JsonValue = Union[str, int, float, bool, None, list["JsonValue"], dict[str, "JsonValue"]]
"""A value that ``json.dumps`` accepts as is."""

ARRAY_PREVIEW_LEN = 16
"""How many leading elements of a long array are kept in metadata previews."""


class Severity(str, enum.Enum):
    """How bad a finding is, ordered from harmless to critical."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True)
class Finding:
    """One thing worth telling the user about a file: a parse warning, a structural violation or a risk.

    ``rule_id`` is stable across releases (e.g. ``LBOM-GGUF-003``); ``location`` says where inside the file
    (a metadata key, a tensor name, ``offset 1234``); ``remedy`` says what to do about it.
    """

    rule_id: str
    severity: Severity
    message: str
    file: str | None = None
    location: str | None = None
    remedy: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "location": self.location,
            "remedy": self.remedy,
        }

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (-self.severity.rank, self.rule_id, self.file or "", self.location or "", self.message)


@dataclass(frozen=True)
class FileDigest:
    """A content digest: ``algorithm`` is a hashlib name (``sha256``, ``blake3``), ``hex`` is lowercase."""

    algorithm: str
    hex: str


@dataclass(frozen=True)
class TensorTypeStat:
    """How many tensors (and parameters) of one storage type a model has, e.g. ``Q4_K``: 96 tensors."""

    type_name: str
    tensor_count: int
    parameter_count: int

    def to_json(self) -> dict[str, JsonValue]:
        return {"type": self.type_name, "tensors": self.tensor_count, "parameters": self.parameter_count}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as declared by the file: name, storage type, shape and absolute byte extent in the file."""

    name: str
    type_name: str
    shape: tuple[int, ...]
    offset: int | None = None
    nbytes: int | None = None

    @property
    def element_count(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template carried by the model. Kept as text for analysis; never rendered."""

    name: str  # "default" or the suffix of tokenizer.chat_template.<name>
    source: str  # where it was found, e.g. "gguf:tokenizer.chat_template" or "tokenizer_config.json"
    text: str

    @property
    def sha256(self) -> str:
        from lbom._sha256 import sha256_hex

        return sha256_hex(self.text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class BaseModelRef:
    """A model this one was derived from (fine-tune, quantization, merge)."""

    name: str
    organization: str | None = None
    repo_url: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {"name": self.name, "organization": self.organization, "repo_url": self.repo_url}


@dataclass(frozen=True)
class ModelHeader:
    """Everything a format reader learned from one file's header, without touching the weights.

    Fields the format does not carry stay ``None``. ``metadata`` holds the file's own key/value pairs in a
    JSON-safe form; ``findings`` are what was malformed, inconsistent or dangerous, with locations.
    """

    format: str
    format_version: str | None = None
    architecture: str | None = None
    name: str | None = None
    parameter_count: int | None = None
    tensor_count: int | None = None
    quantization: str | None = None
    dtype: str | None = None
    context_length: int | None = None
    vocab_size: int | None = None
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    base_models: tuple[BaseModelRef, ...] = ()
    training_framework: str | None = None
    size_label: str | None = None
    tensor_types: tuple[TensorTypeStat, ...] = ()
    tensors: tuple[TensorInfo, ...] = ()
    chat_templates: tuple[ChatTemplate, ...] = ()
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    header_bytes_read: int = 0
    data_bytes_expected: int | None = None
    """Total bytes the tensor table says the file must hold (header + data), when the format lets us know."""


@dataclass(frozen=True)
class SourceIdentity:
    """Where a model came from, as far as its location tells: a model store, a hub repository, a URL."""

    kind: str  # "local", "huggingface-cache", "ollama", "lmstudio", "llama.cpp", "url", "huggingface"
    store_path: str | None = None
    repo_id: str | None = None
    revision: str | None = None
    file_path: str | None = None
    tag: str | None = None
    purl: str | None = None
    url: str | None = None
    expected_sha256: str | None = None
    """A digest the source vouches for (content-addressed blob name, hub LFS oid)."""
    aliases: tuple[str, ...] = ()
    """Other names the store gives the same content (more Ollama tags, other hub snapshots)."""

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "kind": self.kind,
            "store_path": self.store_path,
            "repo_id": self.repo_id,
            "revision": self.revision,
            "file_path": self.file_path,
            "tag": self.tag,
            "purl": self.purl,
            "url": self.url,
            "expected_sha256": self.expected_sha256,
            # Only store discovery sets aliases; leaving the key out otherwise keeps other documents unchanged.
            **({"aliases": list(self.aliases)} if self.aliases else {}),
        }


@dataclass(frozen=True)
class FileEntry:
    """One file on disk (or remote) that belongs to a model: identity, digests and its parsed header."""

    path: str
    """The path as the user would type it: the scanned root joined with the relative path."""
    relative_path: str
    size: int
    digests: tuple[FileDigest, ...] = ()
    format: str | None = None
    role: str = "weights"  # "weights", "shard", "sidecar", "pointer", "layer"
    header: ModelHeader | None = None
    source: SourceIdentity | None = None
    bytes_fetched: int | None = None
    """For remote files: how many bytes were actually transferred."""

    @property
    def sha256(self) -> str | None:
        for digest in self.digests:
            if digest.algorithm == "sha256":
                return digest.hex
        return None


@dataclass(frozen=True)
class SidecarFacts:
    """Facts from Hugging Face style files next to a model: config.json, tokenizer_config.json, README.md."""

    architecture: str | None = None
    model_type: str | None = None
    context_length: int | None = None
    vocab_size: int | None = None
    dtype: str | None = None
    transformers_version: str | None = None
    quantization_config: Mapping[str, JsonValue] | None = None
    license: str | None = None
    license_name: str | None = None
    base_models: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    tokenizer_class: str | None = None
    chat_templates: tuple[ChatTemplate, ...] = ()
    files: tuple[str, ...] = ()
    """Relative paths of the sidecar files that were read."""
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ModelArtifact:
    """One logical model: a single file, or all shards/parts of a sharded model, with its merged facts.

    The top-level facts are the model's (artifact wins over sidecars); ``files`` lists every file with its own
    size and digests; ``findings`` are everything found about the model, sorted by severity.
    """

    name: str
    path: str
    format: str
    files: tuple[FileEntry, ...]
    architecture: str | None = None
    parameter_count: int | None = None
    tensor_count: int | None = None
    quantization: str | None = None
    dtype: str | None = None
    context_length: int | None = None
    vocab_size: int | None = None
    license: str | None = None
    license_name: str | None = None
    base_models: tuple[BaseModelRef, ...] = ()
    training_framework: str | None = None
    size_label: str | None = None
    tensor_types: tuple[TensorTypeStat, ...] = ()
    chat_templates: tuple[ChatTemplate, ...] = ()
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    sidecars: SidecarFacts | None = None
    source: SourceIdentity | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def is_multi_file(self) -> bool:
        return len(self.files) > 1

    @property
    def sha256(self) -> str | None:
        """The single file's SHA-256, or ``None`` for multi-file models and unhashed scans."""
        return self.files[0].sha256 if len(self.files) == 1 else None

    @property
    def base_model(self) -> str | None:
        """The first base model's name, the earlier tool's single ``base_model`` field."""
        return self.base_models[0].name if self.base_models else None


@dataclass(frozen=True)
class ScanResult:
    """The result of one scan: the models found, plus findings about the scan itself (skipped entries...)."""

    models: tuple[ModelArtifact, ...]
    roots: tuple[str, ...]
    generated_at: str
    """ISO 8601 UTC timestamp; honours SOURCE_DATE_EPOCH."""
    tool_version: str
    findings: tuple[Finding, ...] = ()
    hashed: bool = True
    single_file: bool = False
    """True when the user scanned exactly one file: the JSON output is then one object, not a list."""
    confine_to: tuple[str, ...] = ()
    """The folders the scan was confined to (``ScanOptions.confine_to``); what builds on the result (a lock's
    tokenizer files) opens nothing outside them either."""

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        found = list(self.findings)
        for model in self.models:
            found.extend(model.findings)
        return tuple(sorted(found, key=Finding.sort_key))
