"""The GGUF reader's header window: bytes read in place (LocalFileSource.readinto_at) into an anonymous mapping,
the same header whichever way a source delivers its bytes, and memory only for what was read."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from lbom._formats import gguf
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, LocalFileSource
from tests.builders import big_vocab_gguf


def test_readinto_at_reads_in_place_and_stops_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 40
    path.write_bytes(data)
    with LocalFileSource(str(path)) as source:
        buffer = bytearray(4096)
        assert source.readinto_at(100, memoryview(buffer)) == 4096
        assert bytes(buffer) == data[100:4196]
        tail = bytearray(500)
        assert source.readinto_at(len(data) - 200, memoryview(tail)) == 200
        assert bytes(tail[:200]) == data[-200:] and tail[200:] == bytearray(300)
        assert source.readinto_at(len(data) + 5, memoryview(bytearray(10))) == 0
        assert source.bytes_read == 4096 + 200


def test_readinto_at_without_preadv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"abcdefghij" * 100)
    monkeypatch.delattr(os, "preadv", raising=False)
    with LocalFileSource(str(path)) as source:
        buffer = bytearray(15)
        assert source.readinto_at(995, memoryview(buffer)) == 5
        assert bytes(buffer[:5]) == b"fghij"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return big_vocab_gguf(tmp_path_factory.mktemp("window") / "big.gguf", n_tokens=40_000, n_merges=20_000)


def test_in_place_and_copied_reads_give_the_same_header(big: Path) -> None:
    with LocalFileSource(str(big)) as source:
        in_place = gguf.read(source, DEFAULT_LIMITS)
    copied = gguf.read(BytesSource(big.read_bytes(), str(big)), DEFAULT_LIMITS)  # no readinto_at: read_at + copy
    assert in_place == copied
    assert in_place.vocab_size == 40_000 and not in_place.findings


def test_the_window_takes_memory_for_what_it_read_not_its_cap(tmp_path: Path) -> None:
    # A 200 MB file whose header is a few bytes: the window maps the whole 64 MiB cap, but only what is read
    # (1 MiB at first) may become resident.
    path = tmp_path / "sparse.gguf"
    with path.open("wb") as handle:
        handle.write(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (0).to_bytes(8, "little"))
        handle.truncate(200 * 1024 * 1024)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    with LocalFileSource(str(path)) as source:
        window = gguf._Window(source, DEFAULT_LIMITS.max_gguf_header_bytes)
        assert window.limit == DEFAULT_LIMITS.max_gguf_header_bytes and len(window.buf) == 1 << 20
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    # 256 pages were read; a window that touched its whole cap would take 16,384 faults.
    assert faults < 2_000, faults


def test_an_empty_file_has_an_empty_window(tmp_path: Path) -> None:
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with LocalFileSource(str(path)) as source:
        window = gguf._Window(source, DEFAULT_LIMITS.max_gguf_header_bytes)
        assert len(window.buf) == 0


def test_a_window_without_a_mapping_grows_as_it_reads(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under an address-space limit the mapping of the cap is refused: the reader then grows a bytearray.
    import mmap

    with LocalFileSource(str(big)) as source:
        expected = gguf.read(source, DEFAULT_LIMITS)

    def refused(*args: object, **kwargs: object) -> mmap.mmap:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(gguf.mmap, "mmap", refused)
    with LocalFileSource(str(big)) as source:
        assert gguf.read(source, DEFAULT_LIMITS) == expected
    assert gguf.read(BytesSource(big.read_bytes(), str(big)), DEFAULT_LIMITS) == expected


def test_readinto_at_fills_a_bytearray_too(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    with LocalFileSource(str(path)) as source:
        buffer = bytearray(4)
        assert source.readinto_at(3, buffer) == 4 and buffer == bytearray(b"3456")


@pytest.mark.skipif(not hasattr(os, "preadv"), reason="POSIX mappings")
def test_the_window_maps_private_memory_and_asks_for_huge_pages_when_large(monkeypatch: pytest.MonkeyPatch) -> None:
    import mmap

    calls: list[tuple[int, dict[str, object]]] = []
    advised: list[int] = []
    real_mmap = mmap.mmap

    class Recording(real_mmap):  # type: ignore[misc,valid-type]
        def __new__(cls, fileno: int, length: int, **kwargs: object) -> Recording:
            calls.append((length, kwargs))
            return super().__new__(cls, fileno, length, **kwargs)  # type: ignore[no-any-return]

        def madvise(self, option: int, *args: int) -> None:
            advised.append(option)
            if option == getattr(mmap, "MADV_HUGEPAGE", None) and len(advised) > 1:
                raise OSError(22, "Invalid argument")  # a kernel without transparent huge pages
            super().madvise(option, *args)

    monkeypatch.setattr(gguf.mmap, "mmap", Recording)
    large = gguf._anonymous_buffer(64 << 20)
    small = gguf._anonymous_buffer(1 << 20)
    refused = gguf._anonymous_buffer(8 << 20)  # madvise refused: the mapping is still used
    assert large is not None and small is not None and refused is not None
    for _, kwargs in calls:
        assert kwargs == {"flags": mmap.MAP_PRIVATE}  # not the shared default (MAP_ANONYMOUS comes with -1)
    huge = getattr(mmap, "MADV_HUGEPAGE", None)
    assert advised == ([huge, huge] if huge is not None else [])  # the 1 MiB window is not advised
    refused[:5] = b"hello"
    assert refused[:5] == b"hello"
