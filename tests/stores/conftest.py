"""Every store test runs against fake stores in a temporary HOME; the real home is never read."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def stores_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for variable in ("HF_HOME", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "USERPROFILE"):
        monkeypatch.delenv(variable, raising=False)
    paths = {
        "home": home,
        "hf": tmp_path / "hf-cache",
        "ollama": tmp_path / "ollama-models",
        "llama": tmp_path / "llama-cache",
        "lmstudio": home / ".lmstudio" / "models",
    }
    monkeypatch.setenv("HF_HUB_CACHE", str(paths["hf"]))
    monkeypatch.setenv("OLLAMA_MODELS", str(paths["ollama"]))
    monkeypatch.setenv("LLAMA_CACHE", str(paths["llama"]))
    return paths
