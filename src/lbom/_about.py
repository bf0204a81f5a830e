"""The l-bom version: the single source the package metadata is built from (pyproject reads it)."""

__version__ = "0.3.0"
