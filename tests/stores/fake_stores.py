"""Fake model stores with the real on-disk layouts, built in temporary folders.

Hugging Face hub cache: ``models--org--name/{blobs,refs,snapshots}`` with relative symlinks from snapshots into
blobs, LFS blobs named by their SHA-256 and small files by their git blob SHA-1. Ollama: ``manifests/<registry>/
<namespace>/<model>/<tag>`` JSON (schemaVersion 2, docker manifest media type, a config and layers with the
``application/vnd.ollama.image.*`` media types) and ``blobs/sha256-<hex>`` named by the SHA-256 of their content.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import click
from click.testing import CliRunner

from lbom._cli import main
from tests.builders import gguf_string, raw_gguf

OLLAMA_MODEL = "application/vnd.ollama.image.model"
OLLAMA_TEMPLATE = "application/vnd.ollama.image.template"
OLLAMA_PARAMS = "application/vnd.ollama.image.params"
OLLAMA_LICENSE = "application/vnd.ollama.image.license"
OLLAMA_SYSTEM = "application/vnd.ollama.image.system"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tiny_gguf(name: str, license_id: str | None = None) -> bytes:
    """A small valid GGUF (no tensors) whose bytes differ by ``name``: fast enough for thousands of entries."""
    kvs = [("general.architecture", 8, gguf_string("llama")), ("general.name", 8, gguf_string(name))]
    if license_id is not None:
        kvs.append(("general.license", 8, gguf_string(license_id)))
    return raw_gguf(kvs)


def add_hf_file(
    cache: Path,
    repo_id: str,
    commit: str,
    rel: str,
    content: bytes,
    *,
    lfs: bool = True,
    ref: str | None = "main",
) -> Path:
    """Put ``content`` in the hub cache as huggingface_hub does; returns the snapshot path."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    blob_name = sha256(content) if lfs else git_blob_sha1(content)
    blob = repo / "blobs" / blob_name
    blob.parent.mkdir(parents=True, exist_ok=True)
    if not blob.exists():
        blob.write_bytes(content)
    link = repo / "snapshots" / commit / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(blob, link.parent))
    if ref is not None:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return link


def ollama_blob(root: Path, content: bytes) -> dict[str, object]:
    digest = sha256(content)
    path = root / "blobs" / f"sha256-{digest}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(content)
    return {"digest": f"sha256:{digest}", "size": len(content)}


def add_ollama_model(
    root: Path,
    model: str,
    tag: str,
    gguf: bytes,
    layers: dict[str, bytes] | None = None,
    *,
    namespace: str = "library",
    registry: str = "registry.ollama.ai",
) -> Path:
    """A pulled Ollama model: blobs plus its manifest; returns the manifest path."""
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    config = json.dumps({"model_format": "gguf", "model_family": "llama", "file_type": "Q4_0"}).encode()
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, **ollama_blob(root, config)},
        "layers": [{"mediaType": OLLAMA_MODEL, **ollama_blob(root, gguf)}]
        + [{"mediaType": media, **ollama_blob(root, data)} for media, data in (layers or {}).items()],
    }
    manifest = root / "manifests" / registry / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(document))
    return manifest


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``root`` with its size and mtime (links not followed): to prove nothing was written."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            state[path] = (st.st_size, st.st_mtime_ns)
    return state


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def _entry_point(args: tuple[str, ...]) -> None:
    main(list(args))


def run_cli(*args: str) -> tuple[int, str, str]:
    """``l-bom ARGS`` through the real entry point (error mapping, exit codes): (exit code, stdout, stderr)."""
    result = CliRunner().invoke(_entry_point, list(args))
    return result.exit_code, result.stdout, result.stderr
