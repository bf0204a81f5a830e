"""Scan results built directly from lbom.model types, for the documents the example files cannot show."""

from __future__ import annotations

from lbom.model import (
    BaseModelRef,
    ChatTemplate,
    FileDigest,
    FileEntry,
    Finding,
    ModelArtifact,
    ModelHeader,
    ScanResult,
    Severity,
    SidecarFacts,
    SourceIdentity,
    TensorTypeStat,
)

GENERATED_AT = "2026-01-01T00:00:00Z"
VERSION = "0.3.0"


def digest(seed: str) -> tuple[FileDigest, ...]:
    import hashlib

    return (FileDigest("sha256", hashlib.sha256(seed.encode()).hexdigest()),)


def sharded_model() -> ModelArtifact:
    """A three-shard safetensors model from the Hugging Face hub, with a card, a base model and a purl."""
    files = tuple(
        FileEntry(
            path=f"models/llama/model-0000{i}-of-00003.safetensors",
            relative_path=f"llama/model-0000{i}-of-00003.safetensors",
            size=1000 + i,
            digests=digest(f"shard{i}"),
            format="safetensors",
            role="shard",
            header=ModelHeader(format="safetensors"),
        )
        for i in (1, 2, 3)
    )
    return ModelArtifact(
        name="Llama-3.1-8B-Instruct",
        path="models/llama",
        format="safetensors",
        files=files,
        architecture="LlamaForCausalLM",
        parameter_count=8_030_261_248,
        tensor_count=291,
        dtype="BF16",
        context_length=131072,
        vocab_size=128256,
        license="llama3.1",
        base_models=(BaseModelRef("meta-llama/Llama-3.1-8B"),),
        training_framework="pytorch",
        tensor_types=(TensorTypeStat("BF16", 291, 8_030_261_248),),
        chat_templates=(ChatTemplate("default", "tokenizer_config.json", "{{ messages }}"),),
        sidecars=SidecarFacts(
            architecture="LlamaForCausalLM",
            license="llama3.1",
            tags=("text-generation", "llama-3"),
            languages=("en", "de"),
            pipeline_tag="text-generation",
            files=("config.json", "README.md"),
        ),
        source=SourceIdentity(
            kind="huggingface",
            repo_id="meta-llama/Llama-3.1-8B-Instruct",
            revision="0e9e39f249a16976918f6564b8830bc894c89659",
            purl="pkg:huggingface/meta-llama/Llama-3.1-8B-Instruct@0e9e39f249a16976918f6564b8830bc894c89659",
        ),
    )


def warned_model() -> ModelArtifact:
    """A GGUF file with findings and a custom license given by name and link."""
    path = "models/q/model.gguf"
    findings = (
        Finding(
            "LBOM-GGUF-007",
            Severity.HIGH,
            "tensor blk.0.attn_q extends past the end of the file",
            path,
            "tensor blk.0.attn_q",
            "re-download the file",
        ),
        Finding(
            "LBOM-GGUF-002",
            Severity.LOW,
            "general.file_type is missing; quantization taken from tensors",
            path,
            "general.file_type",
        ),
    )
    return ModelArtifact(
        name="Quantized Thing",
        path=path,
        format="gguf",
        files=(FileEntry(path=path, relative_path="q/model.gguf", size=4096, digests=digest("q"), format="gguf"),),
        architecture="qwen2",
        parameter_count=494_032_768,
        quantization="Q4_K_M",
        dtype="mixed",
        context_length=32768,
        vocab_size=151936,
        license="other",
        license_name="Acme Research License v2",
        tensor_types=(TensorTypeStat("Q4_K", 168, 400_000_000), TensorTypeStat("Q6_K", 1, 94_032_768)),
        metadata={"general.organization": "Acme Labs"},
        findings=findings,
    )


def same_name_model(folder: str) -> ModelArtifact:
    """A model.safetensors in ``folder``: several of these must never share an id."""
    path = f"models/{folder}/model.safetensors"
    return ModelArtifact(
        name="model.safetensors",
        path=path,
        format="safetensors",
        files=(FileEntry(path=path, relative_path=f"{folder}/model.safetensors", size=10, digests=digest(folder)),),
        license="cc-by-nc-4.0",
    )


def bare_model() -> ModelArtifact:
    """A model about which almost nothing is known: no hash, no license, no architecture."""
    path = "bare.gguf"
    return ModelArtifact(
        name="",
        path=path,
        format="gguf",
        files=(FileEntry(path=path, relative_path="bare.gguf", size=0),),
    )


def hostile_model() -> ModelArtifact:
    """Names and values crafted to break ids, YAML, Markdown and tag-value."""
    path = "models/we ird/<b>evil</b>\n--- #x|y.gguf"
    return ModelArtifact(
        name="evil\n---\ntitle: pwned </text> | [x](javascript:alert(1)) \x1b[31m",
        path=path,
        format="gguf",
        files=(FileEntry(path=path, relative_path="we ird/evil.gguf", size=1, digests=digest("evil")),),
        architecture="llama\n# heading",
        license="My License: v1 </text>\nLicenseName: x",
        base_models=(BaseModelRef("base </text>", "Org\nX", "javascript:alert(1)"),),
        findings=(Finding("LBOM-X-001", Severity.MEDIUM, "bad </text> value\nPackageName: injected", path, "key\x00"),),
        sidecars=SidecarFacts(tags=("ok", "bad\ntag: x"), pipeline_tag="text-generation"),
    )


def result(*models: ModelArtifact, findings: tuple[Finding, ...] = ()) -> ScanResult:
    return ScanResult(
        models=models,
        roots=("models",),
        generated_at=GENERATED_AT,
        tool_version=VERSION,
        findings=findings,
    )


def edge_result() -> ScanResult:
    """Several models at once: sharded, warned, two same-named files, and a bare one; plus a scan finding."""
    scan_finding = Finding("LBOM-SCAN-001", Severity.LOW, "skipped: not a regular file (FIFO)", "models/fifo")
    return result(
        sharded_model(),
        warned_model(),
        same_name_model("a"),
        same_name_model("b"),
        bare_model(),
        findings=(scan_finding,),
    )
