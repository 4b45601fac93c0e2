"""Extraction in worker processes, each document bounded in time and memory.

A hostile document (a 100-digit glued run, tables nested a thousand deep, a PDF that
inflates) must not hang or exhaust the nightly run, and extraction should use every core,
not the event loop's one. :class:`BoundedExtractor` keeps a few worker processes; each
document goes to an idle one with a deadline, under an address-space limit. A worker that
runs past the deadline is killed and replaced; one that dies (out of memory) is replaced.
Either way the document gets a report of status ``unreadable`` with a ``budget_exceeded``
finding, once: an unreadable report is staged as such and never retried.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import queue
import resource
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from pipeline.extract import EXTRACTOR_VERSION, extract_document
from pipeline.model import Finding, Report, ReportMeta

#: Seconds one document may take (a 100-page PDF takes about 20 s on this hardware).
SECONDS = 120.0
#: Address space of one worker (the interpreter and its libraries take ~400 MiB of it).
MEMORY = 3 * 2**30


@dataclass(frozen=True, slots=True)
class _Job:
    content: bytes
    source: str
    content_type: str | None
    images: dict[str, bytes] | None = None  # a pictured page's pictures, by src


def _serve(conn: Connection, memory: int) -> None:
    """A worker's loop: extract what the parent sends, send back the Report."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            result: object = extract_document(
                job.content, source=job.source, content_type=job.content_type, images=job.images
            )
        except MemoryError:
            result = MemoryError("out of memory")
        except Exception as exc:  # sent back and raised in the parent, as in-process
            result = exc
        conn.send(result)


class _Worker:
    def __init__(self, context: mp.context.ForkServerContext, memory: int) -> None:
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, memory), name="ogi-extract", daemon=True
        )
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class BoundedExtractor:
    """``extract_document`` in worker processes with a deadline and a memory limit per
    document; callable like it, from several threads at once (one document per worker)."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        seconds: float = SECONDS,
        memory: int = MEMORY,
    ) -> None:
        self.seconds = seconds
        self.memory = memory
        self.size = max(1, workers or os.cpu_count() or 1)
        # a fork server (started once per process, with the extractor imported) forks each
        # worker: fast, and never a fork of this process's threads and event loop. A main
        # script (a benchmark, ``python script.py``) is imported there too: otherwise each
        # worker imports it again as it starts (0.3-0.8 s of CPU each, with the crawl and
        # staging modules it imports); ``python -m pipeline`` has no main script to import.
        self._context = mp.get_context("forkserver")
        self._context.set_forkserver_preload(["__main__", "pipeline.flows.bounded"])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._started = 0
        self._lock = threading.Lock()
        self._closed = False

    def __call__(
        self,
        content: bytes,
        *,
        source: str,
        content_type: str | None = None,
        images: dict[str, bytes] | None = None,
    ) -> Report:
        worker = self._checkout()
        try:
            worker.conn.send(_Job(content, source, content_type, images))
            result = worker.conn.recv() if worker.conn.poll(self.seconds) else None
        except (EOFError, OSError, BrokenPipeError):
            result = MemoryError("the worker died")  # killed by the OS: out of memory
        if result is None or isinstance(result, MemoryError):
            worker.stop()
            self._replace()
            why = (
                f"took longer than {self.seconds:.0f} s"
                if result is None
                else f"needed more than {self.memory // 2**20} MiB ({result})"
            )
            return over_budget(content, source, why)
        self._idle.put(worker)
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the extractor is closed")
            if self._idle.empty() and self._started < self.size:
                self._started += 1
                return _Worker(self._context, self.memory)
        return self._idle.get()

    def _replace(self) -> None:
        with self._lock:
            self._started -= 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
        while not self._idle.empty():
            self._idle.get_nowait().stop()

    def __enter__(self) -> BoundedExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def over_budget(content: bytes, source: str, why: str) -> Report:
    """The report of a document that exceeded its budget: no figure, and why."""
    meta = ReportMeta(
        source=source,
        sha256=hashlib.sha256(content).hexdigest(),
        extractor_version=EXTRACTOR_VERSION,
        status="unreadable",
    )
    finding = Finding(
        check="budget_exceeded",
        status="warning",
        message=f"extraction stopped: the document {why}; it is not tried again",
    )
    return Report(meta=meta, finding_list=[finding])
