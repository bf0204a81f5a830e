"""The one error hierarchy of l-bom.

Readers never raise for malformed content (that becomes findings); these errors are for the cases where no
document can be produced at all: a path that does not exist, a file that cannot be opened, a usage mistake,
a policy file that does not parse. ``diagnostics()`` is the one-line, user-facing message the CLI prints;
the CLI maps each class to its documented exit code (see ``EXIT_CODE``).
"""

from __future__ import annotations


class Error(Exception):
    """Root of every error l-bom raises on purpose."""

    exit_code = 3

    def diagnostics(self) -> str:
        """A one-line message for the user: what went wrong, where, and what to do."""
        return str(self)


class UsageError(Error):
    """The request itself is wrong (bad option combination, unknown format, malformed policy)."""

    exit_code = 2


class InputError(Error):
    """An input cannot be read at all: missing path, permission denied, not a file, I/O failure."""

    exit_code = 3

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class RemoteError(InputError):
    """A remote resource could not be fetched (no network, HTTP error, server without Range support)."""


class OutputError(Error):
    """The output could not be written."""

    exit_code = 3

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: cannot write output: {problem}")
        self.path = path


class GateFailure(Error):
    """A verification or policy gate did not pass. Not a crash: the documented 'failed the gate' outcome."""

    exit_code = 1


class ScanCancelled(Error):
    """The caller asked the scan to stop (``ScanOptions.cancel`` returned True); no result was produced."""

    exit_code = 130


class DependencyMissing(UsageError):
    """An optional feature needs a package that is not installed."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the optional package '{package}': install it with pip install 'l-bom[{extra}]'"
        )
