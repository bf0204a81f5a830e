"""Fixtures the gate tests share: the model folder of tests/gate/fixtures.py, and a lock file made from it."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from tests.gate.fixtures import make_model_folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A GGUF and a sharded safetensors model with sidecars (a test module may override it)."""
    return make_model_folder(tmp_path / "models")


@pytest.fixture
def lock_file(folder: Path, tmp_path: Path) -> Path:
    """``folder`` locked as it is now."""
    path = tmp_path / "models.lock"
    path.write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    return path
