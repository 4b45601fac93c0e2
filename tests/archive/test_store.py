"""The content-addressed raw archive."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.archive import ArchiveError, body_path, list_bodies, read_body, write_body

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_roundtrip_dedup_and_listing(tmp_path: Path) -> None:
    body = "柯城区2023年政府信息公开工作年度报告".encode() * 100
    sha = write_body(
        tmp_path, body, url="http://a/1", kind="report", content_type="text/html", fetched_at=WHEN
    )
    again = write_body(
        tmp_path, body, url="http://a/1", kind="report", content_type="text/html", fetched_at=WHEN
    )
    write_body(
        tmp_path,
        b"<html>list</html>",
        url="http://a/",
        kind="listing",
        content_type=None,
        fetched_at=WHEN,
    )
    assert sha == again
    assert read_body(tmp_path, sha) == body
    path = body_path(tmp_path, sha)
    assert path.parent.parent.parent == tmp_path / "raw"
    assert path.stat().st_size < len(body)  # compressed
    listed = list(list_bodies(tmp_path))
    assert [(b.url, b.kind, b.content_type, b.fetched_at) for b in listed] == [
        ("http://a/1", "report", "text/html", WHEN)
    ]
    assert {b.kind for b in list_bodies(tmp_path, kinds=None)} == {"report", "listing"}
    assert not list(tmp_path.joinpath("raw").rglob("*.part"))


def test_missing_and_corrupt_bodies_raise_archive_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no archived body"):
        read_body(tmp_path, "0" * 64)
    with pytest.raises(ArchiveError, match="not a sha256"):
        read_body(tmp_path, "../etc/passwd")
    sha = write_body(tmp_path, b"abc", url="u", kind="report", content_type=None, fetched_at=WHEN)
    body_path(tmp_path, sha).write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(ArchiveError, match="does not match"):
        read_body(tmp_path, sha)
    body_path(tmp_path, sha).write_bytes(b"not gzip")
    with pytest.raises(ArchiveError, match="unreadable"):
        read_body(tmp_path, sha)


def test_empty_archive_lists_nothing(tmp_path: Path) -> None:
    assert list(list_bodies(tmp_path)) == []
