"""Build the tiny example models in examples/models/ (a few KB each, real formats, random weights).

Run from the repository root: ``python examples/make_examples.py``. Needs the test extras (gguf, safetensors,
numpy). The output is deterministic: fixed seeds, fixed metadata, so re-running changes nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parent / "models"

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def make_gguf(path: Path) -> None:
    rng = np.random.default_rng(7)
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_name("TinyLlama Example Q4_K_M")
    writer.add_size_label("9K")
    writer.add_license("apache-2.0")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_context_length(2048)
    writer.add_embedding_length(256)
    writer.add_block_count(1)
    writer.add_feed_forward_length(256)
    writer.add_head_count(4)
    writer.add_vocab_size(32)
    writer.add_base_model_count(1)
    writer.add_base_model_name(0, "TinyLlama Base")
    writer.add_base_model_organization(0, "l-bom examples")
    writer.add_base_model_repo_url(0, "https://huggingface.co/l-bom/tinyllama-base")
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([f"tok{i}" for i in range(32)])
    writer.add_token_types([1] * 32)
    writer.add_chat_template(CHAT_TEMPLATE)
    # Quantized weights are stored as raw blocks: Q4_K is 144 bytes per 256 elements, Q6_K 210.
    q4k = rng.integers(0, 255, size=(16, 144), dtype=np.uint8)
    writer.add_tensor("blk.0.attn_q.weight", q4k, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    writer.add_tensor("blk.0.ffn_up.weight", q4k.copy(), raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    q6k = rng.integers(0, 255, size=(2, 210), dtype=np.uint8)
    writer.add_tensor("output.weight", q6k, raw_dtype=gguf.GGMLQuantizationType.Q6_K)
    writer.add_tensor("output_norm.weight", rng.standard_normal(256).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def make_safetensors(folder: Path) -> None:
    rng = np.random.default_rng(11)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        "model.embed_tokens.weight": rng.standard_normal((64, 16)).astype(np.float16),
        "model.layers.0.mlp.up_proj.weight": rng.standard_normal((32, 16)).astype(np.float16),
        "model.norm.weight": np.ones(16, dtype=np.float16),
    }
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["MistralForCausalLM"],
        "model_type": "mistral",
        "max_position_embeddings": 4096,
        "vocab_size": 64,
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "torch_dtype": "float16",
        "transformers_version": "4.44.0",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    tokenizer_config = {"tokenizer_class": "LlamaTokenizer", "chat_template": CHAT_TEMPLATE}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(
        "---\n"
        "license: mit\n"
        "base_model: l-bom/tiny-mistral-base\n"
        "tags:\n  - text-generation\n  - example\n"
        "language:\n  - en\n"
        "pipeline_tag: text-generation\n"
        "---\n\n"
        "# Tiny Mistral example\n\nA few-kilobyte model with random weights, made by examples/make_examples.py.\n",
        encoding="utf-8",
    )


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    make_gguf(ROOT / "tinyllama-q4_k_m.gguf")
    make_safetensors(ROOT / "tiny-mistral")
    for path in sorted(ROOT.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(ROOT.parent)}  {os.path.getsize(path):,} bytes")


if __name__ == "__main__":
    main()
