"""Format readers, one module per format, and the registry that picks one by magic bytes.

Adding a format = one new module with ``FORMAT``, ``sniff(head, filename)`` and ``read(source, limits)``, plus
one line in ``READERS``. Order matters only where magics could overlap: more specific readers come first.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from lbom._formats.interface import SNIFF_BYTES, ByteSource, Limits
from lbom.model import ModelHeader


@dataclass(frozen=True)
class ReaderEntry:
    """A registered reader. Its module is imported on first use, so sniffing a GGUF file imports only the GGUF
    reader (the pickle, ONNX and Keras readers cost ~40 ms of start-up between them)."""

    format_name: str
    module_name: str

    def module(self) -> ModuleType:
        return importlib.import_module(f"lbom._formats.{self.module_name}")

    def sniff(self, head: bytes, filename: str) -> bool:
        return bool(self.module().sniff(head, filename))

    def read(self, source: ByteSource, limits: Limits) -> ModelHeader:
        header: ModelHeader = self.module().read(source, limits)
        return header


# format_name must equal the module's FORMAT (tests/formats/test_registry.py checks it).
READERS: tuple[ReaderEntry, ...] = (
    ReaderEntry("gguf", "gguf"),
    ReaderEntry("safetensors", "safetensors"),
    ReaderEntry("git-lfs-pointer", "lfs_pointer"),
    ReaderEntry("keras", "keras"),
    ReaderEntry("numpy", "numpy"),
    ReaderEntry("pytorch", "pickle"),
    ReaderEntry("onnx", "onnx"),
)


def pick_reader(head: bytes, filename: str) -> ReaderEntry | None:
    """The first reader whose sniff accepts the file's first bytes, or None for an unknown file."""
    for entry in READERS:
        if entry.sniff(head, filename):
            return entry
    return None


__all__ = ["READERS", "SNIFF_BYTES", "ReaderEntry", "pick_reader"]
