"""Format readers, one module per format, and the registry that picks one by magic bytes.

Adding a format = one new module with ``FORMAT``, ``sniff(head, filename)`` and ``read(source, limits)``, plus
one line in ``READERS``. Order matters only where magics could overlap: more specific readers come first.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from lbom._formats.interface import SNIFF_BYTES, ByteSource, Limits
from lbom._records import dataclass
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


def pick_reader_for(source: ByteSource, head: bytes, filename: str, limits: Limits) -> ReaderEntry | None:
    """:func:`pick_reader`, then one look deeper for zip archives no sniff claimed.

    ``torch.load`` finds ``data.pkl`` by name wherever it sits, under any file name: a zip that opens with another
    member and is named ``weights.dat`` is still a checkpoint that runs its pickle when loaded. Its central
    directory (bounded like every zip read) says so.
    """
    entry = pick_reader(head, filename)
    if entry is None and head[:4] == b"PK\x03\x04":  # ziparchive.ZIP_MAGIC, without importing zipfile for every file
        from lbom._formats.pickle import zip_lists_pickle

        if zip_lists_pickle(source, limits):
            entry = next(e for e in READERS if e.module_name == "pickle")
    return entry


__all__ = ["READERS", "SNIFF_BYTES", "ReaderEntry", "pick_reader", "pick_reader_for"]
