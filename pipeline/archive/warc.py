"""Export the raw archive to WARC (ISO 28500), so others can check the figures against the
pages as they were served: one ``response`` record per archived body, with its URL, fetch
time, HTTP status and headers; a ``resource`` record where no HTTP answer was kept (a local
file staged with ``extract --stage``, or a body archived before headers were kept)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.archive.store import ArchivedBody, list_bodies, read_body
from pipeline.errors import ArchiveError

# The body is kept decoded, so headers that describe the encoding on the wire are dropped
# and the length is the stored body's.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


@dataclass(frozen=True, slots=True)
class WarcSummary:
    records: int
    responses: int
    resources: int
    missing: int  # indexed bodies whose file is missing or corrupt (left out)


def export_warc(data_dir: Path, path: Path, *, kinds: Iterable[str] | None = None) -> WarcSummary:
    """Write every archived body (of ``kinds``; all kinds when ``None``) to the gzipped WARC
    file ``path``, oldest first; the file appears whole or not at all."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    responses = resources = missing = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for body in list_bodies(data_dir, kinds=tuple(kinds) if kinds else None):
                try:
                    content = read_body(data_dir, body.sha256)
                except ArchiveError:
                    missing += 1
                    continue
                if body.http_status is not None:
                    writer.write_record(_response(writer, body, content))
                    responses += 1
                else:
                    writer.write_record(_resource(writer, body, content))
                    resources += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return WarcSummary(responses + resources, responses, resources, missing)


def _warc_headers(body: ArchivedBody) -> dict[str, str]:
    return {
        "WARC-Date": body.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "WARC-Payload-Digest": f"sha256:{body.sha256}",
        "WARC-Source-Kind": body.kind,  # listing, report or attachment (ours, not the standard's)
    }


def _response(writer: WARCWriter, body: ArchivedBody, content: bytes) -> object:
    headers = [(k, v) for k, v in body.headers if k.lower() not in _WIRE_HEADERS]
    headers.append(("Content-Length", str(len(content))))
    http = StatusAndHeaders(f"{body.http_status} OK", headers, protocol="HTTP/1.1")
    return writer.create_warc_record(
        body.url,
        "response",
        payload=io.BytesIO(content),
        length=len(content),
        http_headers=http,
        warc_headers_dict=_warc_headers(body),
    )


def _resource(writer: WARCWriter, body: ArchivedBody, content: bytes) -> object:
    return writer.create_warc_record(
        body.url,
        "resource",
        payload=io.BytesIO(content),
        length=len(content),
        warc_content_type=body.content_type or "application/octet-stream",
        warc_headers_dict=_warc_headers(body),
    )
