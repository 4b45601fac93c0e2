"""printable: text from the web made safe for one log line (issue 8 §6)."""

from __future__ import annotations

from pipeline.logsafe import printable


def test_escape_sequences_and_line_breaks_are_escaped() -> None:
    title = "柯城区2023年报\x1b[2J\x1b]0;pwned\x07\r\nevent=forged\u202eabc\x9b31m\u2028"
    assert printable(title) == (
        "柯城区2023年报\\x1b[2J\\x1b]0;pwned\\x07\\r\\nevent=forged\\u202eabc\\x9b31m\\u2028"
    )


def test_printable_text_is_kept_and_long_text_cut() -> None:
    text = "http://www.kecheng.gov.cn/art/2024/1/20/art_1229_1.html?a=年报 全角　空格"
    assert printable(text) == text
    assert printable("x" * 1000) == "x" * 300 + "…"
    assert printable("年" * 20, limit=5) == "年年年年年…"
    assert printable("\x00" * 3, limit=2) == "\\x00\\x00…"


def test_surrogates_and_unassigned_code_points() -> None:
    broken = b"abc\xff".decode("utf-8", errors="surrogateescape")
    assert printable(broken) == "abc\\udcff"
    assert printable("\U000e0001tag") == "\\U000e0001tag"
