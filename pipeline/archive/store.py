"""Content-addressed, compressed raw archive under ``<data_dir>/raw/``.

Every body the crawler fetches is kept here, gzip-compressed, at
``raw/<aa>/<bb>/<sha256>.gz`` where ``sha256`` is the digest of the *uncompressed* body.
Files are written atomically (temporary file in the same directory, fsync, rename), so a
crash leaves either the whole file or none. An index (SQLite, WAL) records which URL
each body came from, its kind (listing, report, attachment), Content-Type and fetch
time; re-extraction reads it through :func:`list_bodies` and :func:`read_body` and never
needs the network.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.datadir import raw_dir
from pipeline.errors import ArchiveError

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS bodies (
    sha256 TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT,
    fetched_at TEXT NOT NULL,
    size INTEGER NOT NULL,
    http_status INTEGER,
    headers TEXT,
    PRIMARY KEY (sha256, url)
);
CREATE INDEX IF NOT EXISTS bodies_kind ON bodies(kind);
"""


@dataclass(frozen=True, slots=True)
class ArchivedBody:
    sha256: str
    url: str
    kind: str
    content_type: str | None
    fetched_at: datetime
    size: int
    http_status: int | None = None  # None: not fetched over HTTP (a local file), or not kept
    headers: tuple[tuple[str, str], ...] = ()  # the response headers as received


def body_path(data_dir: Path, sha256: str) -> Path:
    if not _SHA_RE.match(sha256):
        raise ArchiveError(f"not a sha256 digest: {sha256!r}")
    return raw_dir(data_dir) / sha256[:2] / sha256[2:4] / f"{sha256}.gz"


_LOCK = threading.Lock()
_CONNECTIONS: dict[tuple[str, int], sqlite3.Connection] = {}


def _connect(data_dir: Path) -> sqlite3.Connection:
    root = raw_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(root / "index.sqlite", timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(bodies)")}
    for name, kind in (("http_status", "INTEGER"), ("headers", "TEXT")):
        if name not in columns:  # an index written before the column existed
            conn.execute(f"ALTER TABLE bodies ADD COLUMN {name} {kind}")
    return conn


def _shared(data_dir: Path) -> sqlite3.Connection:
    """One index connection per data directory and process (used under ``_LOCK``)."""
    key = (str(Path(data_dir).resolve()), os.getpid())
    conn = _CONNECTIONS.get(key)
    if conn is None:
        conn = _CONNECTIONS[key] = _connect(data_dir)
    return conn


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_body(
    data_dir: Path,
    body: bytes,
    *,
    url: str,
    kind: str,
    content_type: str | None,
    fetched_at: datetime,
    http_status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Store ``body`` (idempotent) and index it under ``url`` with its fetch time and the
    response's status and headers (for the WARC export); return its SHA-256."""
    sha = hashlib.sha256(body).hexdigest()
    path = body_path(data_dir, sha)
    if not path.is_file():
        _atomic_write(path, gzip.compress(body, compresslevel=6, mtime=0))
    with _LOCK:
        conn = _shared(data_dir)
        with conn:
            conn.execute(
                "INSERT INTO bodies (sha256, url, kind, content_type, fetched_at, size, "
                "http_status, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256, url) DO UPDATE SET "
                "kind = excluded.kind, content_type = excluded.content_type, "
                "fetched_at = excluded.fetched_at, http_status = excluded.http_status, "
                "headers = excluded.headers",
                (
                    sha,
                    url,
                    kind,
                    content_type,
                    fetched_at.isoformat(),
                    len(body),
                    http_status,
                    json.dumps(list(headers.items()), ensure_ascii=False) if headers else None,
                ),
            )
    return sha


def read_body(data_dir: Path, sha256: str) -> bytes:
    """The uncompressed body with this digest; :class:`ArchiveError` if missing or corrupt."""
    path = body_path(data_dir, sha256)
    try:
        data = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise ArchiveError(f"no archived body {sha256} under {raw_dir(data_dir)}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"archived body {sha256} is unreadable: {exc}") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArchiveError(f"archived body {sha256} does not match its digest")
    return data


def list_bodies(
    data_dir: Path, kinds: Iterable[str] | None = ("report", "attachment")
) -> Iterator[ArchivedBody]:
    """Archived bodies with their URL, kind, Content-Type and fetch time (oldest first).

    ``kinds=None`` lists every kind (listing pages included). A body fetched from two
    URLs is listed twice, once per URL.
    """
    if not (raw_dir(data_dir) / "index.sqlite").is_file():
        return
    conn = _connect(data_dir)
    try:
        query = (
            "SELECT sha256, url, kind, content_type, fetched_at, size, http_status, headers "
            "FROM bodies"
        )
        params: list[str] = []
        if kinds is not None:
            wanted = list(kinds)
            query += f" WHERE kind IN ({','.join('?' * len(wanted))})"
            params = wanted
        query += " ORDER BY fetched_at, url"
        rows = conn.execute(query, params).fetchall()
    finally:
        conn.close()
    for sha, url, kind, content_type, fetched_at, size, http_status, headers in rows:
        yield ArchivedBody(
            sha256=sha,
            url=url,
            kind=kind,
            content_type=content_type,
            fetched_at=datetime.fromisoformat(fetched_at),
            size=size,
            http_status=http_status,
            headers=tuple((str(k), str(v)) for k, v in json.loads(headers)) if headers else (),
        )
