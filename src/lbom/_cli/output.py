"""Writing command output: to stdout, or atomically to a file (temp file in the same folder, then rename)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable
from typing import Any

from lbom.errors import OutputError


def write_output(text: str | Iterable[str], output: str | None) -> None:
    """Write ``text`` (or its pieces, as they are produced: large scans stream out model by model)."""
    chunks = (text,) if isinstance(text, str) else text
    if output is None or output == "-":
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(output))
    try:
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".l-bom-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(output, exc.strerror or str(exc)) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(output, exc.strerror or str(exc)) from exc


def output_option(function: Any) -> Any:
    """The ``-o/--output FILE`` option every document-writing command shares."""
    import click

    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=str),
        help="Write to FILE (atomically) instead of stdout.",
    )(function)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
