"""Name/content checks: does the file name (and the header's own size label) tell the truth about the content?

A file called ``llama-3-8b-instruct-Q4_K_M.gguf`` that holds a Q8_0 Qwen with 0.5B parameters is the classic
swapped or mislabelled artifact. The name is compared with what the header says (quantization, architecture)
and with the parameter count summed from the tensor table; the file size is compared with what the tensor
table implies. Tolerances are generous, because published names round (Gemma "7B" has 8.5B parameters).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from lbom.model import Finding, ModelArtifact, Severity

if TYPE_CHECKING:
    from lbom._checks import CheckContext

R_NAME_QUANT = "LBOM-NAME-001"
R_NAME_SIZE = "LBOM-NAME-002"
R_NAME_ARCH = "LBOM-NAME-003"
R_SIZE_LABEL = "LBOM-NAME-004"
R_FILE_SIZE = "LBOM-SIZE-001"

SIZE_TOLERANCE = 1.5
"""A size claim is 'far' when the real count is more than 1.5x above or below it."""

FILE_SIZE_TOLERANCE = 0.10
FILE_SIZE_MIN_DIFF = 64 * 1024
"""The file must differ from what the tensor table implies by both 10 % and 64 KiB to be 'far'."""

# Quantization names as users write them in file names (llama_ftype names plus common float spellings).
_QUANT_RE = re.compile(
    r"(?<![a-z0-9])("
    r"iq[1-4]_(?:xxs|xs|s|m|nl)|q[2-6]_k(?:_(?:xl|s|m|l))?|q[4-8]_[01]|tq[12]_0|mxfp4(?:_moe)?|bf16|fp16|f16|fp32|f32"
    r")(?![a-z0-9])"
)
_SIZE_RE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([kmbt])(?![a-z0-9])")
_MOE_SIZE_RE = re.compile(r"(?<![a-z0-9.])\d+x\d+(?:\.\d+)?[kmbt](?![a-z0-9])")
_SHARD_RE = re.compile(r"-(\d{5})-of-(\d{5})(?![0-9])")
_GENERIC_NAME_RE = re.compile(r"(?:model|pytorch_model|consolidated|weights)(?:[-.]\d+(?:-of-\d+)?)?")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_FLOAT_SPELLINGS = {"FP16": "F16", "FP32": "F32"}

# Family names as they appear in file names -> architectures (llama.cpp ids and HF class-name stems) that
# legitimately carry them. Mistral and Mixtral GGUFs use llama.cpp's "llama" architecture; Phi-4 uses "phi3".
_FAMILIES: dict[str, tuple[str, ...]] = {
    "llama": ("llama",),
    "codellama": ("llama",),
    "mistral": ("llama", "mistral"),
    "mixtral": ("llama", "mixtral"),
    "qwen": ("qwen",),
    "qwq": ("qwen",),
    "gemma": ("gemma",),
    "phi": ("phi",),
    "falcon": ("falcon",),
    "starcoder": ("starcoder",),
    "gpt2": ("gpt2",),
    "mamba": ("mamba",),
    "bloom": ("bloom",),
    "olmo": ("olmo",),
    "deepseek": ("deepseek",),
    "granite": ("granite",),
    "internlm": ("internlm",),
    "baichuan": ("baichuan",),
    "stablelm": ("stablelm",),
    "t5": ("t5",),
}
_FAMILY_TOKEN_RE = re.compile(r"[a-z]+[0-9]*")


def check(model: ModelArtifact, context: CheckContext) -> list[Finding]:
    found: list[Finding] = []
    for entry in model.files:
        if entry.role not in ("weights", "shard"):
            continue
        found.extend(_file_size(entry.path, entry.size, entry.header.data_bytes_expected if entry.header else None))
    if not model.files:
        return found
    main = model.files[0]
    stem = _stem(main.path)
    if _is_auxiliary(stem, model):
        return found
    complete = _is_complete(model, stem)
    found.extend(_quantization_claim(model, stem, main.path))
    if complete:
        found.extend(_size_claim(model, stem, main.path))
        found.extend(_size_label(model, main.path))
    found.extend(_architecture_claim(model, stem, main.path))
    return found


def _stem(path: str) -> str:
    """The name that makes claims: the file name, or the folder's for generic names (model.safetensors)."""
    name = os.path.basename(path).lower()
    for suffix in (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".npz", ".npy"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if _GENERIC_NAME_RE.fullmatch(name):
        folder = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
        return folder + "-" + name
    return name


def _is_auxiliary(stem: str, model: ModelArtifact) -> bool:
    """Projectors, adapters and draft heads borrow their parent model's name but not its size or type."""
    if any(word in stem for word in ("mmproj", "lora", "adapter", "projector", "draft", "imatrix")):
        return True
    kind = model.metadata.get("general.type")
    return isinstance(kind, str) and kind.lower() in ("adapter", "mmproj", "clip")


def _is_complete(model: ModelArtifact, stem: str) -> bool:
    """False for one shard of a split model scanned alone: its parameter count is only part of the model."""
    match = _SHARD_RE.search(stem)
    if match is not None and int(match.group(2)) > len(model.files):
        return False
    split_count = model.metadata.get("split.count")
    return not (isinstance(split_count, int) and split_count > len(model.files))


def _normal_quant(text: str) -> str:
    upper = text.upper()
    return _FLOAT_SPELLINGS.get(upper, upper)


def _quant_matches(claim: str, actual: str) -> bool:
    if claim == actual:
        return True
    if claim == "F32" and actual == "ALL_F32":
        return True
    # "Q4_K" names the family (Q4_K_S/Q4_K_M); "Q4_K_XL" (Unsloth dynamic) sits on a Q4_K base.
    family = claim.removesuffix("_XL")
    if actual.startswith(family + "_") or actual == family:
        return True
    # An inferred quantization (no general.file_type) only knows the family.
    return claim.startswith(actual + "_")


def _quantization_claim(model: ModelArtifact, stem: str, path: str) -> list[Finding]:
    claims = {_normal_quant(m.group(1)) for m in _QUANT_RE.finditer(stem)}
    if not claims:
        return []
    actuals = {a for a in (model.quantization, model.dtype) if a and a not in ("mixed", "GUESSED")}
    if model.quantization is None and model.format != "gguf":
        # Unquantized checkpoints: only a float claim (f16/bf16/f32) can be compared, with the dtype.
        claims = {c for c in claims if c in ("F16", "BF16", "F32")}
    if not actuals or not claims:
        return []
    if any(_quant_matches(claim, actual) for claim in claims for actual in actuals):
        return []
    claim_text = "/".join(sorted(claims))
    actual_text = model.quantization or model.dtype
    return [
        Finding(
            R_NAME_QUANT,
            Severity.MEDIUM,
            f"file name says {claim_text} but the header says {actual_text}",
            path,
            "general.file_type" if model.format == "gguf" else "quantization",
            "check which file this really is; rename it or replace it with the file you meant to ship",
        )
    ]


def parse_size(text: str) -> float | None:
    """'8B' -> 8e9, '1.5b' -> 1.5e9, '135M' -> 1.35e8; None for anything else (including MoE '8x7B')."""
    match = _SIZE_RE.fullmatch(text.strip().lower())
    if match is None:
        return None
    return float(match.group(1)) * _SCALE[match.group(2)]


def _far(actual: int, claimed: float) -> bool:
    return claimed > 0 and (actual > claimed * SIZE_TOLERANCE or actual * SIZE_TOLERANCE < claimed)


def _human(count: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g}{unit}"
    return str(int(count))


def _size_claim(model: ModelArtifact, stem: str, path: str) -> list[Finding]:
    actual = model.parameter_count
    if not actual:
        return []
    # Mixture-of-experts names ("8x7B") and active-parameter tags ("A3B") do not state the total.
    cleaned = _MOE_SIZE_RE.sub(" ", stem)
    claims = [float(m.group(1)) * _SCALE[m.group(2)] for m in _SIZE_RE.finditer(cleaned)]
    claims = [c for c in claims if c >= 1e6]
    if not claims or not all(_far(actual, c) for c in claims):
        return []
    return [
        Finding(
            R_NAME_SIZE,
            Severity.MEDIUM,
            f"file name says {_human(claims[0])} parameters but the tensor table holds {_human(actual)} ({actual:,})",
            path,
            "parameter count",
            "check which model this really is; rename it or replace it with the file you meant to ship",
        )
    ]


def _size_label(model: ModelArtifact, path: str) -> list[Finding]:
    label = model.size_label
    actual = model.parameter_count
    if not label or not actual:
        return []
    claimed = parse_size(label)
    if claimed is None or not _far(actual, claimed):
        return []
    return [
        Finding(
            R_SIZE_LABEL,
            Severity.LOW,
            f"general.size_label is {label!r} but the tensor table holds {_human(actual)} parameters ({actual:,})",
            path,
            "key general.size_label",
            "the metadata was copied from another model or edited; fix general.size_label or re-convert",
        )
    ]


def _family_claims(stem: str) -> set[str]:
    found = set()
    for token in _FAMILY_TOKEN_RE.findall(stem):
        letters = token.rstrip("0123456789")
        if token in _FAMILIES:
            found.add(token)
        elif letters in _FAMILIES:
            found.add(letters)
    return found


def _architecture_claim(model: ModelArtifact, stem: str, path: str) -> list[Finding]:
    if not model.architecture:
        return []
    actual = model.architecture.lower().replace("-", "").replace("_", "")
    claims = _family_claims(stem)
    if not claims:
        return []
    allowed = {arch for family in claims for arch in _FAMILIES[family]}
    if any(actual.startswith(arch) for arch in allowed):
        return []
    return [
        Finding(
            R_NAME_ARCH,
            Severity.MEDIUM,
            f"file name says {'/'.join(sorted(claims))} but the header's architecture is {model.architecture!r}",
            path,
            "general.architecture" if model.format == "gguf" else "architecture",
            "check which model this really is; rename it or replace it with the file you meant to ship",
        )
    ]


def _file_size(path: str, size: int, expected: int | None) -> list[Finding]:
    if expected is None or expected <= 0:
        return []
    difference = size - expected
    if abs(difference) < FILE_SIZE_MIN_DIFF or abs(difference) < expected * FILE_SIZE_TOLERANCE:
        return []
    if difference > 0:
        message = (
            f"file is {size:,} bytes but its tensor table accounts for {expected:,}: "
            f"{difference:,} unexplained bytes ({difference / expected:.0%} extra)"
        )
    else:
        message = f"file is {size:,} bytes but its tensor table needs {expected:,}: {-difference:,} bytes missing"
    return [
        Finding(
            R_FILE_SIZE,
            Severity.MEDIUM,
            message,
            path,
            f"offset {expected}",
            "compare the file with its published SHA-256 and re-download it",
        )
    ]
