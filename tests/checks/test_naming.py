"""Name/content checks on models built by hand (real-world counts) and on real GGUF files."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from lbom._checks import NO_CONTEXT, naming
from lbom.model import FileEntry, ModelArtifact, ModelHeader
from tests.builders import write_gguf


def model(
    filename: str,
    *,
    quantization: str | None = "Q4_K_M",
    parameters: int | None = 8_030_261_248,
    architecture: str | None = "llama",
    size_label: str | None = None,
    fmt: str = "gguf",
    dtype: str | None = None,
    metadata: dict[str, object] | None = None,
    files: int = 1,
) -> ModelArtifact:
    entries = tuple(FileEntry(path=f"models/{filename}", relative_path=filename, size=100) for _ in range(files))
    return ModelArtifact(
        name=filename,
        path=f"models/{filename}",
        format=fmt,
        files=entries,
        architecture=architecture,
        parameter_count=parameters,
        quantization=quantization,
        dtype=dtype,
        size_label=size_label,
        metadata=dict(metadata or {}),  # type: ignore[arg-type]
    )


def rules(artifact: ModelArtifact) -> list[str]:
    return sorted(f.rule_id for f in naming.check(artifact, NO_CONTEXT))


@pytest.mark.parametrize(
    ("filename", "actual"),
    [
        ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "Q8_0"),
        ("llama-3-8b.Q8_0.gguf", "Q4_K_M"),
        ("llama-3-8b-IQ4_XS.gguf", "Q4_K_S"),
        ("llama-3-8b-f16.gguf", "BF16"),
        ("llama-3-8b-Q4_K.gguf", "Q5_K_M"),
    ],
)
def test_quantization_claim_contradicted(filename: str, actual: str) -> None:
    found = naming.check(model(filename, quantization=actual), NO_CONTEXT)
    assert [f.rule_id for f in found] == [naming.R_NAME_QUANT]
    assert actual in found[0].message


@pytest.mark.parametrize(
    ("filename", "actual"),
    [
        ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("llama-3-8b.q8_0.gguf", "Q8_0"),
        ("llama-3-8b-Q4_K.gguf", "Q4_K_S"),
        ("Llama-3-8B-UD-Q4_K_XL.gguf", "Q4_K_M"),
        ("llama-3-8b-fp16.gguf", "F16"),
        ("llama-3-8b-Q4_K_M.gguf", "Q4_K"),  # inferred (no general.file_type): only the family is known
        ("llama-3-8b-instruct.gguf", "Q2_K"),  # no claim
    ],
)
def test_quantization_claim_consistent(filename: str, actual: str) -> None:
    assert rules(model(filename, quantization=actual)) == []


def test_safetensors_float_claim_uses_dtype() -> None:
    assert rules(model("llama-3-8b-bf16.safetensors", fmt="safetensors", quantization=None, dtype="F32")) == [
        naming.R_NAME_QUANT
    ]
    assert rules(model("llama-3-8b-bf16.safetensors", fmt="safetensors", quantization=None, dtype="BF16")) == []


@pytest.mark.parametrize(
    ("filename", "parameters"),
    [
        ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 494_032_768),  # a Qwen 0.5B under an 8B name
        ("qwen2.5-0.5b-instruct-q4_k_m.gguf", 7_615_616_512),
        ("SmolLM2-135M-Instruct-Q4_K_M.gguf", 1_711_376_384),
    ],
)
def test_size_claim_contradicted(filename: str, parameters: int) -> None:
    assert naming.R_NAME_SIZE in rules(model(filename, parameters=parameters, architecture=None))


@pytest.mark.parametrize(
    ("filename", "parameters"),
    [
        ("gemma-7b-it-Q4_K_M.gguf", 8_538_074_112),  # Gemma "7B" holds 8.5B parameters
        ("gemma-2-2b-it-Q4_K_M.gguf", 2_614_341_888),
        ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", 1_235_814_400),
        ("qwen2.5-1.5b-instruct-q4_k_m.gguf", 1_543_714_304),
        ("Mixtral-8x7B-Instruct-v0.1.Q4_K_M.gguf", 46_702_792_704),  # MoE names do not state the total
        ("Qwen3-30B-A3B-Q4_K_M.gguf", 30_532_122_624),  # A3B is the active count
        ("Phi-3-mini-128k-instruct-Q4_K_M.gguf", 3_821_079_552),  # 128k is a context length
    ],
)
def test_size_claim_consistent(filename: str, parameters: int) -> None:
    assert naming.R_NAME_SIZE not in rules(model(filename, parameters=parameters, architecture=None))


def test_one_shard_of_a_split_model_is_not_size_checked() -> None:
    partial = model("llama-3-70b-Q4_K_M-00001-of-00004.gguf", parameters=17_000_000_000, architecture=None)
    assert rules(partial) == []
    split = model("llama-3-70b-Q4_K_M.gguf", parameters=17_000_000_000, architecture=None, metadata={"split.count": 4})
    assert rules(split) == []


def test_projectors_and_adapters_borrow_names() -> None:
    assert rules(model("Qwen2.5-VL-7B-Instruct-mmproj-f16.gguf", parameters=675_000_000, quantization="F16")) == []
    lora = model(
        "llama-3-8b-lora-Q8_0.gguf", parameters=20_000_000, quantization="F16", metadata={"general.type": "adapter"}
    )
    assert rules(lora) == []


@pytest.mark.parametrize(
    ("filename", "architecture"),
    [
        ("Meta-Llama-3-8B-Instruct-Q4_K_M.gguf", "qwen2"),
        ("gemma-2-9b-it-Q4_K_M.gguf", "llama"),
        ("qwen2.5-7b.gguf", "gemma2"),
    ],
)
def test_architecture_claim_contradicted(filename: str, architecture: str) -> None:
    found = naming.check(model(filename, architecture=architecture, parameters=None), NO_CONTEXT)
    assert [f.rule_id for f in found] == [naming.R_NAME_ARCH]


@pytest.mark.parametrize(
    ("filename", "architecture"),
    [
        ("Mistral-7B-Instruct-v0.3.Q4_K_M.gguf", "llama"),  # llama.cpp converts Mistral to "llama"
        ("DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "qwen2"),
        ("DeepSeek-R1-Distill-Llama-8B-Q4_K_M.gguf", "llama"),
        ("phi-4-Q4_K_M.gguf", "phi3"),
        ("gemma-3-4b-it-Q4_K_M.gguf", "gemma3"),
        ("TinyLlama-1.1B-Chat-v1.0.Q4_K_M.gguf", "llama"),
        ("dolphin-2.9-llama3-8b.Q4_K_M.gguf", "llama"),
        ("Qwen2.5-7B-Instruct", "Qwen2ForCausalLM"),
    ],
)
def test_architecture_claim_consistent(filename: str, architecture: str) -> None:
    assert rules(model(filename, architecture=architecture, parameters=None)) == []


def test_generic_file_names_take_the_claim_from_the_folder() -> None:
    artifact = model("model.safetensors", fmt="safetensors", quantization=None, architecture="Qwen2ForCausalLM")
    artifact = ModelArtifact(
        **{
            **artifact.__dict__,
            "path": "Meta-Llama-3-8B/model.safetensors",
            "files": (FileEntry("Meta-Llama-3-8B/model.safetensors", "model.safetensors", 1),),
        }
    )
    assert rules(artifact) == [naming.R_NAME_ARCH]


@pytest.mark.parametrize(
    ("label", "far"), [("8B", False), ("8.0B", False), ("70B", True), ("0.5B", True), ("8x7B", False)]
)
def test_size_label(label: str, far: bool) -> None:
    found = rules(model("m.gguf", size_label=label))
    assert (naming.R_SIZE_LABEL in found) is far


def test_file_size_far_from_tensor_table() -> None:
    header = ModelHeader(format="gguf", data_bytes_expected=1_000_000)

    def with_size(size: int) -> list[str]:
        entry = FileEntry(path="m.gguf", relative_path="m.gguf", size=size, header=header)
        return rules(ModelArtifact(name="m", path="m.gguf", format="gguf", files=(entry,)))

    assert with_size(1_000_000) == []
    assert with_size(1_000_031) == []  # padding
    assert with_size(1_050_000) == []  # below 10 %
    assert with_size(2_000_000) == [naming.R_FILE_SIZE]
    assert with_size(500_000) == [naming.R_FILE_SIZE]


def test_real_gguf_with_appended_payload(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny-Q4_K_M.gguf")
    with path.open("ab") as handle:
        handle.write(b"\x90" * 200_000)
    (artifact,) = lbom.scan(path, hash=False).models
    assert naming.R_FILE_SIZE in {f.rule_id for f in artifact.findings}


def test_real_gguf_named_for_another_quantization(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "llama-Q4_K_M.gguf", file_type=7)
    (artifact,) = lbom.scan(path, hash=False).models
    assert artifact.quantization == "Q8_0"
    assert naming.R_NAME_QUANT in {f.rule_id for f in artifact.findings}
    good = write_gguf(tmp_path / "llama-Q8_0.gguf", file_type=7)
    (artifact,) = lbom.scan(good, hash=False).models
    assert naming.R_NAME_QUANT not in {f.rule_id for f in artifact.findings}
