"""Where stores are looked for: each tool's environment variables first, then its defaults under HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from lbom._stores import locate_stores, store_containing


def by_kind(environ: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for location in locate_stores(environ):
        found.setdefault(location.kind, []).append((location.path, location.origin))
    return found


def test_defaults_are_under_home(tmp_path: Path) -> None:
    home = str(tmp_path)
    found = by_kind({"HOME": home})
    assert found["huggingface"] == [(f"{home}/.cache/huggingface/hub", "default")]
    assert found["ollama"] == [(f"{home}/.ollama/models", "default")]
    assert found["llama.cpp"] == [(f"{home}/.cache/llama.cpp", "default")]
    assert [p for p, _ in found["lmstudio"]] == [f"{home}/.lmstudio/models", f"{home}/.cache/lm-studio/models"]


def test_environment_variables_win(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "HF_HUB_CACHE": "/x/hub",
        "HF_HOME": "/ignored",
        "OLLAMA_MODELS": "/y/models",
        "LLAMA_CACHE": "/z/cache",
    }
    found = by_kind(env)
    assert found["huggingface"] == [("/x/hub", "HF_HUB_CACHE")]
    assert found["ollama"] == [("/y/models", "OLLAMA_MODELS")]
    assert found["llama.cpp"] == [("/z/cache", "LLAMA_CACHE")]


def test_hf_home_and_xdg(tmp_path: Path) -> None:
    assert by_kind({"HOME": str(tmp_path), "HF_HOME": "/h"})["huggingface"] == [("/h/hub", "HF_HOME")]
    xdg = by_kind({"HOME": str(tmp_path), "XDG_CACHE_HOME": "/c"})
    assert xdg["huggingface"] == [("/c/huggingface/hub", "XDG_CACHE_HOME")]
    assert xdg["llama.cpp"] == [("/c/llama.cpp", "XDG_CACHE_HOME")]


def test_lmstudio_home_pointer(tmp_path: Path) -> None:
    (tmp_path / ".lmstudio-home-pointer").write_text("/data/lmstudio\n")
    paths = [p for p, _ in by_kind({"HOME": str(tmp_path)})["lmstudio"]]
    assert paths[0] == "/data/lmstudio/models"


def test_same_folder_twice_is_listed_once(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "c"), "LLAMA_CACHE": str(tmp_path / "c")}
    assert [s.kind for s in locate_stores(env)].count("llama.cpp") == 0


def test_store_containing_uses_real_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "real"
    (real / "pub" / "model").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    stores = [s for s in locate_stores({"HOME": str(tmp_path), "LLAMA_CACHE": str(link)}) if s.kind == "llama.cpp"]
    assert store_containing(str(real / "pub" / "model"), stores) == stores[0]
    assert store_containing(str(tmp_path), stores) is None
