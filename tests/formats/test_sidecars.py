"""Hugging Face sidecars: facts, safe YAML, bounded JSON, and disagreements with the model file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

import lbom
from lbom._assemble import R_SIDECAR_DISAGREES
from lbom._formats.hf_sidecar import R_SIDECAR, read_sidecars
from lbom._formats.interface import DEFAULT_LIMITS, Limits
from tests.builders import write_gguf


def card(front: str) -> str:
    return f"---\n{front}\n---\n\n# Model\n"


def test_facts_from_all_three_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["LlamaForCausalLM"],
                "model_type": "llama",
                "max_position_embeddings": 8192,
                "vocab_size": 32000,
                "torch_dtype": "bfloat16",
                "transformers_version": "4.44.0",
                "quantization_config": {"quant_method": "awq", "bits": 4},
            }
        )
    )
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ x }}", "tokenizer_class": "T"}))
    (tmp_path / "README.md").write_text(card("license: mit\nbase_model: org/base\ntags: [a, b]\nlanguage: en"))
    facts = read_sidecars(str(tmp_path), DEFAULT_LIMITS)
    assert facts is not None
    assert facts.findings == ()
    assert (facts.architecture, facts.model_type, facts.context_length, facts.vocab_size) == (
        "LlamaForCausalLM",
        "llama",
        8192,
        32000,
    )
    assert facts.dtype == "bfloat16"
    assert facts.quantization_config == {"bits": 4, "quant_method": "awq"}
    assert facts.license == "mit" and facts.base_models == ("org/base",) and facts.tags == ("a", "b")
    assert facts.languages == ("en",)
    assert [t.text for t in facts.chat_templates] == ["{{ x }}"]


def test_yaml_python_tag_is_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "README.md").write_text(card(f"license: mit\nx: !!python/object/apply:os.system ['touch {marker}']"))
    facts = read_sidecars(str(tmp_path), DEFAULT_LIMITS)
    assert not marker.exists()
    assert facts is not None
    assert [f.rule_id for f in facts.findings] == [R_SIDECAR]
    assert "python/object/apply" in facts.findings[0].message
    assert facts.findings[0].severity.value == "medium"


def test_bad_sidecars_are_findings(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("[" * 100_000)
    (tmp_path / "tokenizer_config.json").write_text('["not", "an", "object"]')
    (tmp_path / "README.md").write_text(card("a: [" * 3000))
    facts = read_sidecars(str(tmp_path), DEFAULT_LIMITS)
    assert facts is not None
    assert len([f for f in facts.findings if f.rule_id == R_SIDECAR]) == 3


def test_json_sidecar_memory_bomb_is_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("[" + "{}," * 500_000 + "{}]")
    facts = read_sidecars(str(tmp_path), Limits(max_json_memory=16 * 2**20))
    assert facts is not None
    assert "not read" in facts.findings[0].message


def test_oversized_sidecar_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"x": "y" * 5000}))
    facts = read_sidecars(str(tmp_path), Limits(max_sidecar_bytes=1000))
    assert facts is not None and "cap" in facts.findings[0].message


def test_disagreement_between_header_and_config_is_a_finding(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf", tokens=40)  # llama, context 4096, 40 tokens
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "max_position_embeddings": 2048})
    )
    model = lbom.scan(str(tmp_path / "m.gguf"), hash=False).models[0]
    disagreements = [f for f in model.findings if f.rule_id == R_SIDECAR_DISAGREES]
    assert [f.location for f in disagreements] == ["context_length"]  # "llama" agrees with model_type
    assert model.context_length == 4096  # the model file wins


def test_dtype_disagreement_for_safetensors(tmp_path: Path) -> None:
    save_file({"w": np.zeros(4, np.float16)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"torch_dtype": "float32"}))
    model = lbom.scan(str(tmp_path), hash=False).models[0]
    assert model.dtype == "F16"
    assert [f.location for f in model.findings if f.rule_id == R_SIDECAR_DISAGREES] == ["dtype"]
    (tmp_path / "config.json").write_text(json.dumps({"torch_dtype": "torch.float16"}))
    model = lbom.scan(str(tmp_path), hash=False).models[0]
    assert not [f for f in model.findings if f.rule_id == R_SIDECAR_DISAGREES]


@pytest.mark.parametrize(
    ("card_base_model", "disagrees"),
    [
        ("foo/bar", True),
        ("meta-llama/Llama-3.1-8B", False),  # the repo the GGUF's repo_url names
        ("Llama-3.1-8B", False),  # its display name, spaces as dashes
        ("[other/model, meta-llama/Llama-3.1-8B]", False),  # any one in common is agreement
    ],
)
def test_base_model_disagreement_with_the_card_is_a_finding(
    tmp_path: Path, card_base_model: str, disagrees: bool
) -> None:
    base = {
        "general.base_model.count": 1,
        "general.base_model.0.name": "Llama 3.1 8B",
        "general.base_model.0.organization": "Meta Llama",
        "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.1-8B",
    }
    write_gguf(tmp_path / "m.gguf", extra=base)
    (tmp_path / "README.md").write_text(f"---\nbase_model: {card_base_model}\n---\n# m\n", encoding="utf-8")
    (model,) = lbom.scan(str(tmp_path), hash=False).models
    found = [f for f in model.findings if f.rule_id == R_SIDECAR_DISAGREES and f.location == "base_model"]
    assert bool(found) is disagrees, model.findings
    assert model.base_models[0].name == "Llama 3.1 8B"  # the model file's value wins either way
