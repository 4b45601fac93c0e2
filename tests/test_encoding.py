"""Decoding pages: header, byte-order mark, <meta>, strict UTF-8, GB18030."""

from __future__ import annotations

import pytest

from pipeline.encoding import decode

TEXT = "<html><body>柯城区政府信息公开年报 行政处罚</body></html>"
META = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (TEXT.encode("gbk"), "text/html; charset=GBK", TEXT),  # the header
        ((META + TEXT).encode("gbk"), "text/html", META + TEXT),  # <meta>
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), None, TEXT),  # byte-order mark
        (TEXT.encode("utf-8"), None, TEXT),  # strict UTF-8
        (TEXT.encode("gbk"), None, TEXT),  # undeclared GBK: GB18030
        (TEXT.encode("gbk"), "text/html; charset=utf-8", TEXT),  # declared UTF-8, GBK bytes
        (TEXT.encode("utf-8"), "text/html; charset=gbk", TEXT),  # declared GBK, UTF-8 bytes
        ((META + TEXT).encode("utf-8"), None, META + TEXT),  # stale <meta gb2312>
        (TEXT.encode("gbk"), "text/html; charset=ISO-8859-1", TEXT),  # server default
        ("行政許可".encode("big5"), "text/html; charset=big5", "行政許可"),
    ],
)
def test_decode(body: bytes, content_type: str | None, expected: str) -> None:
    assert decode(body, content_type) == expected


def test_undecodable_bytes_are_replaced_not_raised() -> None:
    assert "\ufffd" in decode(b"\x81\x30\xff\xff", None)
