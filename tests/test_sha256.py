"""lbom._sha256: the same digests as hashlib, from CPython's own SHA-256 module, and hashlib when that is absent."""

from __future__ import annotations

import builtins
import hashlib
from typing import Any

import pytest

from lbom import _sha256


@pytest.mark.parametrize(
    "data",
    [b"", b"abc", b"\x00" * 1000, "chat template ✓ \U0001f600".encode(), bytes(range(256)) * 300],
)
def test_digests_equal_hashlib(data: bytes) -> None:
    assert _sha256.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    incremental = _sha256.sha256(data[:7])
    incremental.update(data[7:])
    assert incremental.digest() == hashlib.sha256(data).digest()


def test_it_is_not_hashlib_where_cpython_has_its_own_module() -> None:
    # The point of the module: on CPython the constructor comes from _sha2/_sha256, so OpenSSL stays unloaded.
    assert _sha256.sha256.__module__ in ("_sha2", "_sha256")


def test_falls_back_to_hashlib_without_the_builtin_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_builtin_sha(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("_sha2", "_sha256"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_builtin_sha)
    constructor = _sha256._constructor()
    assert constructor is hashlib.sha256
    assert constructor(b"abc").hexdigest() == hashlib.sha256(b"abc").hexdigest()
