"""Format readers, one module per format, and the registry that picks one by magic bytes.

Adding a format = one new module with ``FORMAT``, ``sniff(head, filename)`` and ``read(source, limits)``, plus
one line in ``READERS``. Order matters only where magics could overlap: more specific readers come first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lbom._formats import gguf, keras, lfs_pointer, numpy, onnx, pickle, safetensors
from lbom._formats.interface import SNIFF_BYTES, ByteSource, Limits
from lbom.model import ModelHeader


@dataclass(frozen=True)
class ReaderEntry:
    format_name: str
    sniff: Callable[[bytes, str], bool]
    read: Callable[[ByteSource, Limits], ModelHeader]


READERS: tuple[ReaderEntry, ...] = (
    ReaderEntry(gguf.FORMAT, gguf.sniff, gguf.read),
    ReaderEntry(safetensors.FORMAT, safetensors.sniff, safetensors.read),
    ReaderEntry(lfs_pointer.FORMAT, lfs_pointer.sniff, lfs_pointer.read),
    ReaderEntry(keras.FORMAT, keras.sniff, keras.read),
    ReaderEntry(numpy.FORMAT, numpy.sniff, numpy.read),
    ReaderEntry(pickle.FORMAT, pickle.sniff, pickle.read),
    ReaderEntry(onnx.FORMAT, onnx.sniff, onnx.read),
)


def pick_reader(head: bytes, filename: str) -> ReaderEntry | None:
    """The first reader whose sniff accepts the file's first bytes, or None for an unknown file."""
    for entry in READERS:
        if entry.sniff(head, filename):
            return entry
    return None


__all__ = ["READERS", "SNIFF_BYTES", "ReaderEntry", "pick_reader"]
