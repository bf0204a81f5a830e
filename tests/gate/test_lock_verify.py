"""lock + verify: a lock pins files and facts; verify catches flipped bytes, renames, removed shards, new files."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

import lbom
from lbom._lock import parse_lock
from lbom.errors import InputError, UsageError
from tests.builders import write_gguf
from tests.gate.fixtures import flip_byte

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_lock_pins_files_and_facts(folder: Path) -> None:
    pinned = lbom.lock(folder)
    files = pinned.files()
    shards = [f"sharded/model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert set(shards) <= set(files)
    assert {"sharded/config.json", "sharded/README.md", "tiny-Q4_K_M.gguf"} <= set(files)
    gguf = files["tiny-Q4_K_M.gguf"]
    assert gguf.sha256 == hashlib.sha256((folder / "tiny-Q4_K_M.gguf").read_bytes()).hexdigest()
    assert gguf.size == (folder / "tiny-Q4_K_M.gguf").stat().st_size
    (model,) = [m for m in pinned.models if m.path == "tiny-Q4_K_M.gguf"]
    assert (model.format, model.architecture, model.quantization, model.license) == (
        "gguf",
        "llama",
        "Q4_K_M",
        "apache-2.0",
    )
    assert model.parameter_count == 128


def test_lock_text_is_toml_sorted_and_round_trips(folder: Path) -> None:
    text = lbom.lock(folder).to_toml()
    document = tomllib.loads(text)
    paths = [m["path"] for m in document["models"]]
    assert paths == sorted(paths)
    for model in document["models"]:
        assert [f["path"] for f in model["files"]] == sorted(f["path"] for f in model["files"])
    assert parse_lock(text) == lbom.lock(folder)
    assert lbom.lock(folder).to_toml() == text  # deterministic
    assert 'quantization = "Q4_K_M"' in text.splitlines()


def test_lock_strings_are_escaped(tmp_path: Path) -> None:
    odd = tmp_path / 'we"ird\\na\u00efve\x7f'
    odd.mkdir()
    write_gguf(odd / "m.gguf")
    text = lbom.lock(tmp_path).to_toml()
    assert parse_lock(text).models[0].path == 'we"ird\\na\u00efve\x7f/m.gguf'


def test_verify_passes_on_untouched_folder(folder: Path, lock_file: Path) -> None:
    result = lbom.verify(folder, lock=lock_file)
    assert result.ok, result.lines()
    assert result.files_checked == len(lbom.read_lock(lock_file).files())


def test_single_flipped_byte(folder: Path, lock_file: Path) -> None:
    flip_byte(folder / "sharded" / "model-00002-of-00003.safetensors")
    result = lbom.verify(folder, lock=lock_file)
    assert not result.ok
    (change,) = result.file_changes
    assert (change.kind, change.path) == ("changed", "sharded/model-00002-of-00003.safetensors")
    assert change.expected_size == change.actual_size


def test_renamed_file(folder: Path, lock_file: Path) -> None:
    os.rename(folder / "tiny-Q4_K_M.gguf", folder / "tiny-Q8_0.gguf")
    result = lbom.verify(folder, lock=lock_file)
    assert not result.ok
    (change,) = result.file_changes
    assert (change.kind, change.renamed_from, change.path) == ("renamed", "tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf")
    assert result.missing_models == ("tiny-Q4_K_M.gguf",)
    assert result.new_models == ("tiny-Q8_0.gguf",)


def test_removed_shard(folder: Path, lock_file: Path) -> None:
    os.remove(folder / "sharded" / "model-00003-of-00003.safetensors")
    result = lbom.verify(folder, lock=lock_file)
    assert not result.ok
    assert [(c.kind, c.path) for c in result.file_changes] == [("missing", "sharded/model-00003-of-00003.safetensors")]


def test_added_file(folder: Path, lock_file: Path) -> None:
    write_gguf(folder / "extra.gguf")
    result = lbom.verify(folder, lock=lock_file)
    assert [(c.kind, c.path) for c in result.file_changes] == [("new", "extra.gguf")]
    assert result.new_models == ("extra.gguf",)


def test_changed_identity_facts(folder: Path, lock_file: Path) -> None:
    write_gguf(folder / "tiny-Q4_K_M.gguf", file_type=7, extra={"general.license": "mit"})
    result = lbom.verify(folder, lock=lock_file)
    facts = {(c.fact, c.expected, c.actual) for c in result.fact_changes}
    assert facts == {("quantization", "Q4_K_M", "Q8_0"), ("license", "apache-2.0", "mit")}
    assert "fact:    tiny-Q4_K_M.gguf: quantization 'Q4_K_M' -> 'Q8_0'" in result.lines()


def test_swapped_sidecar(folder: Path, lock_file: Path) -> None:
    (folder / "sharded" / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n", encoding="utf-8")
    result = lbom.verify(folder, lock=lock_file)
    assert ("changed", "sharded/README.md") in {(c.kind, c.path) for c in result.file_changes}


def test_single_file_lock(folder: Path) -> None:
    target = folder / "tiny-Q4_K_M.gguf"
    pinned = lbom.lock(target)
    assert [f.path for f in pinned.files().values()] == ["tiny-Q4_K_M.gguf"]
    assert lbom.verify(target, lock=pinned).ok
    flip_byte(target)
    assert not lbom.verify(target, lock=pinned).ok


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("lock_version = 2\n", "lock_version"),
        ("lock_version = 1\n[[models]]\npath = 'a'\nformat = 'gguf'\nquantisation = 'Q4'\n", "quantisation"),
        (
            "lock_version = 1\n[[models]]\npath = 'a'\nformat = 'gguf'\n"
            "[[models.files]]\npath = 'a'\nsize = 1\nsha256 = 'xyz'\n",
            "sha256",
        ),
        ("lock_version = 1\n[[models]]\nformat = 'gguf'\n", "path"),
        ("lock_version = [", "TOML"),
    ],
)
def test_malformed_lock_is_a_usage_error(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_lock(text, "models.lock")


def test_missing_lock_is_an_input_error(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        lbom.verify(folder, lock=tmp_path / "nope.lock")


def test_verify_needs_exactly_one_reference(folder: Path) -> None:
    with pytest.raises(UsageError):
        lbom.verify(folder)


# --- SHA256SUMS ---------------------------------------------------------------------------------------------


def sums_for(folder: Path, names: list[str], binary: bool = False) -> str:
    marker = "*" if binary else " "
    return "".join(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()} {marker}{name}\n" for name in names)


ALL = [
    "tiny-Q4_K_M.gguf",
    "sharded/model-00001-of-00003.safetensors",
    "sharded/model-00002-of-00003.safetensors",
    "sharded/model-00003-of-00003.safetensors",
    "sharded/config.json",
    "sharded/README.md",
    "sharded/model.safetensors.index.json",
]


@pytest.mark.parametrize("binary", [False, True])
def test_sha256sums_pass(folder: Path, tmp_path: Path, binary: bool) -> None:
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_for(folder, ALL, binary), encoding="utf-8")
    result = lbom.verify(folder, sha256sums=sums)
    assert result.ok, result.lines()
    assert result.files_checked == len(ALL)


def test_sha256sums_failures(folder: Path, tmp_path: Path) -> None:
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_for(folder, ALL) + f"{'0' * 64}  ../outside.gguf\n", encoding="utf-8")
    flip_byte(folder / "sharded" / "model-00001-of-00003.safetensors")
    os.remove(folder / "sharded" / "model-00003-of-00003.safetensors")
    write_gguf(folder / "added.gguf")
    result = lbom.verify(folder, sha256sums=sums)
    assert [(c.kind, c.path) for c in result.file_changes] == [
        ("unsafe", "../outside.gguf"),
        ("missing", "sharded/model-00003-of-00003.safetensors"),
        ("changed", "sharded/model-00001-of-00003.safetensors"),
        ("new", "added.gguf"),
    ]


def test_sha256sums_escaped_and_bsd_lines(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    write_gguf(folder / "a\\b.gguf")
    write_gguf(folder / "c.gguf", file_type=7)
    digest_a = hashlib.sha256((folder / "a\\b.gguf").read_bytes()).hexdigest()
    digest_c = hashlib.sha256((folder / "c.gguf").read_bytes()).hexdigest()
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"\\{digest_a} *a\\\\b.gguf\nSHA256 (./c.gguf) = {digest_c.upper()}\n", encoding="utf-8")
    assert lbom.verify(folder, sha256sums=sums).ok


@pytest.mark.parametrize("text", ["not a checksum line\n", "abc123  file\n", ""])
def test_malformed_sha256sums(folder: Path, tmp_path: Path, text: str) -> None:
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError):
        lbom.verify(folder, sha256sums=sums)
