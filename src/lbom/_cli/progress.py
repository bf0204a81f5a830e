"""The scan progress display on stderr: a Rich bar on a terminal, plain lines when forced into a pipe or log.

By default the bar appears only when stderr is a terminal and the scan has run for more than a moment, so quick
scans and piped runs print nothing extra. ``--progress`` shows it from the start (as one line a second when
stderr is not a terminal); ``--no-progress`` never shows it. Rich is imported only once a bar is drawn.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from lbom.scan import ProgressEvent

SHOW_AFTER_S = 0.75
"""A scan that finishes sooner never draws a bar."""
_LINE_EVERY_S = 1.0


class ProgressDisplay:
    """A ``ScanOptions.progress`` callback that draws the progress; call :meth:`close` when the scan ends."""

    def __init__(self, forced: bool, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._forced = forced
        self._terminal = _is_terminal(self._stream)
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._last_line = 0.0
        self._last_event: ProgressEvent | None = None
        self._line_printed = False

    def __call__(self, event: ProgressEvent) -> None:
        self._last_event = event
        now = time.monotonic()
        if self._terminal:
            if self._bar is None and (self._forced or now - self._started >= SHOW_AFTER_S):
                self._start_bar()
            if self._bar is not None:
                self._update_bar(event)
        elif self._forced and (now - self._last_line >= _LINE_EVERY_S or event.files_done == event.files_total):
            self._last_line = now
            self._print_line(event, now)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self._forced and not self._terminal and self._last_event is not None and not self._line_printed:
            self._print_line(self._last_event, time.monotonic())

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self._stream),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("scanning", total=None)

    def _update_bar(self, event: ProgressEvent) -> None:
        self._bar.update(
            self._task,
            description=f"{event.files_done}/{event.files_total} files",
            completed=event.bytes_done,
            total=max(event.bytes_total, 1),
        )

    def _print_line(self, event: ProgressEvent, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        rate = event.bytes_done / elapsed
        remaining = event.bytes_total - event.bytes_done
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        self._stream.write(
            f"l-bom: {event.files_done}/{event.files_total} files, "
            f"{_size(event.bytes_done)}/{_size(event.bytes_total)}, {_size(rate)}/s, ETA {eta}\n"
        )
        self._stream.flush()
        self._line_printed = event.files_done == event.files_total


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:.1f} {unit}" if unit != "B" else f"{count:.0f} B"
        count /= 1024
    return f"{count:.1f} TiB"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
