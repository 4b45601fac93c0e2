"""The data directory: where it is, how it is laid out, and the one writer lock.

Layout under the data directory (``$OGI_DATA_DIR``, else ``./data``)::

    raw/       the raw archive: every fetched body, gzip, addressed by SHA-256 (+ index.sqlite)
    state/     the crawl state (crawl.sqlite) and the writer lock (writer.lock)
    parquet/   the staged datasets: reports, facts, findings, pre2019
    runs/      one JSON summary per crawl (<UTC start>.json) and latest.json

Every command and :mod:`pipeline.load` take their default from :func:`default_data_dir`,
except the demo, which writes to its own directory (:data:`DEMO_DATA_DIR`) so that its
sample reports never mix with crawled data.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pipeline.errors import LockedError

ENV_VAR = "OGI_DATA_DIR"

#: The demo's default data directory (relative to the working directory); it ignores
#: ``$OGI_DATA_DIR`` on purpose: that names the production data.
DEMO_DATA_DIR = Path("data-demo")


def default_data_dir() -> Path:
    """``$OGI_DATA_DIR`` when set, else ``data`` (relative to the working directory)."""
    return Path(os.environ.get(ENV_VAR) or "data")


def resolve(data_dir: str | os.PathLike[str] | None) -> Path:
    """``data_dir`` as a Path, or the default when ``None``."""
    return Path(data_dir) if data_dir is not None else default_data_dir()


def raw_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "raw"


def state_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "state"


def parquet_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "parquet"


def runs_dir(data_dir: Path) -> Path:
    """The crawl summaries: ``<UTC start>.json`` per run and ``latest.json``."""
    return Path(data_dir) / "runs"


class WriterLock:
    """An exclusive ``flock`` on ``<data_dir>/state/writer.lock``, held by every writer of a
    data directory (the nightly crawl, ``reextract``, ``extract --stage``, the demo) for
    its whole run; the OS frees it when the holder dies, even on ``kill -9``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = state_dir(data_dir) / "writer.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(
                f"another crawl or re-extraction is writing to {self.path.parent.parent} "
                f"(lock {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
