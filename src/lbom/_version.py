"""The installed version of l-bom, read from the package metadata (never hard-coded twice)."""

from __future__ import annotations


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("l-bom")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"
