"""Scans as background jobs: each runs ``lbom.scan`` on its own thread, reports progress, can be cancelled,
and stays addressable by id so that reloading the page finds it again."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import field

from lbom._records import dataclass
from lbom.errors import Error, ScanCancelled
from lbom.model import JsonValue, ScanResult
from lbom.scan import ProgressEvent, ScanOptions, scan

MAX_JOBS = 32
"""Finished jobs beyond this many are forgotten, oldest first."""
MAX_RUNNING = 2
MAX_PENDING = 8
"""Scans queued or running at once; more are refused until one finishes."""


@dataclass
class ScanJob:
    """One scan and what is known about it so far. Mutated only under the manager's lock."""

    id: str
    paths: tuple[str, ...]
    hash: bool
    created: float
    state: str = "queued"  # queued, running, done, failed, cancelled
    started: float | None = None
    finished: float | None = None
    progress: ProgressEvent | None = None
    result: ScanResult | None = None
    error: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def status(self) -> dict[str, JsonValue]:
        now = self.finished or time.time()
        elapsed = now - self.started if self.started is not None else 0.0
        progress: dict[str, JsonValue] | None = None
        if self.progress is not None:
            p = self.progress
            progress = {
                "path": p.path,
                "files_done": p.files_done,
                "files_total": p.files_total,
                "bytes_done": p.bytes_done,
                "bytes_total": p.bytes_total,
                "bytes_per_second": p.bytes_done / elapsed if elapsed > 0 else None,
            }
        return {
            "id": self.id,
            "paths": list(self.paths),
            "hash": self.hash,
            "state": self.state,
            "created": self.created,
            "elapsed": round(elapsed, 3),
            "progress": progress,
            "error": self.error,
            "models": len(self.result.models) if self.result is not None else None,
        }


class TooBusy(Exception):
    """Too many scans are queued or running."""


class JobManager:
    """Starts scans on threads and keeps the recent ones. Scans open files only under ``roots`` (real paths)."""

    def __init__(self, roots: tuple[str, ...], max_running: int = MAX_RUNNING) -> None:
        self._jobs: dict[str, ScanJob] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_running)
        self._roots = roots

    def submit(self, paths: list[str], hash: bool) -> ScanJob:
        job = ScanJob(id=secrets.token_hex(8), paths=tuple(paths), hash=hash, created=time.time())
        with self._lock:
            if sum(j.state in ("queued", "running") for j in self._jobs.values()) >= MAX_PENDING:
                raise TooBusy(f"{MAX_PENDING} scans are already queued or running; wait or cancel one")
            self._prune()
            self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job,), name=f"lbom-scan-{job.id}", daemon=True)
        thread.start()
        return job

    def get(self, job_id: str) -> ScanJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[ScanJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def cancel(self, job_id: str) -> ScanJob | None:
        job = self.get(job_id)
        if job is not None:
            job.cancel_event.set()
        return job

    def cancel_all(self) -> None:
        for job in self.all():
            job.cancel_event.set()

    def _prune(self) -> None:
        finished = sorted(
            (j for j in self._jobs.values() if j.state in ("done", "failed", "cancelled")), key=lambda j: j.created
        )
        while len(self._jobs) >= MAX_JOBS and finished:
            del self._jobs[finished.pop(0).id]

    def _run(self, job: ScanJob) -> None:
        with self._slots:
            with self._lock:
                if job.cancel_event.is_set():
                    job.state, job.finished = "cancelled", time.time()
                    return
                job.state, job.started = "running", time.time()

            def on_progress(event: ProgressEvent) -> None:
                with self._lock:
                    job.progress = event

            # Confined: a symlink under a root that leads out is never opened (not even read and then hidden).
            options = ScanOptions(
                hash=job.hash, progress=on_progress, cancel=job.cancel_event.is_set, confine_to=self._roots
            )
            try:
                result = scan(list(job.paths), options=options)
            except ScanCancelled:
                with self._lock:
                    job.state, job.finished = "cancelled", time.time()
                return
            except Error as exc:
                with self._lock:
                    job.state, job.error, job.finished = "failed", exc.diagnostics(), time.time()
                return
            except Exception as exc:  # a bug in a reader must not kill the server; the page shows it
                with self._lock:
                    job.state, job.error, job.finished = "failed", f"internal error: {type(exc).__name__}", time.time()
                return
            with self._lock:
                job.result, job.state, job.finished = result, "done", time.time()
