"""Entry point of the extractor (stub until the table parser lands)."""

from __future__ import annotations

import hashlib

from pipeline.model import Report, ReportMeta

EXTRACTOR_VERSION = "0.1.0"


def extract_document(content: bytes, *, source: str, content_type: str | None = None) -> Report:
    meta = ReportMeta(
        source=source,
        sha256=hashlib.sha256(content).hexdigest(),
        extractor_version=EXTRACTOR_VERSION,
    )
    return Report(meta=meta)
