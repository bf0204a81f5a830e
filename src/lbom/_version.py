"""The installed version of l-bom.

The package metadata's version is built from ``lbom._about.__version__`` (pyproject ``dynamic``), so reading
the constant gives the installed version without the ~30 ms import of importlib.metadata at start-up.
"""

from __future__ import annotations


def tool_version() -> str:
    from lbom._about import __version__

    return __version__
