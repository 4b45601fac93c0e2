"""Log lines carry text from servers: whatever module logs it, no raw control character."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.cli import logs


def test_every_log_line_escapes_what_a_server_sent(tmp_path: Path) -> None:
    path = tmp_path / "crawl.log"
    logs.configure(log_file=path)
    try:
        title = "柯城区\x1b[2J年报\u202e\r\nFAKE event=staged"
        logging.getLogger("pipeline.crawl").warning("event=listing title=%s n=%s", title, 3)
        logging.getLogger("pipeline.flows").warning("bare \x1b]0;owned\x07 message")
    finally:
        logs.configure()  # back to stderr, file closed
    text = path.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert text.count("\n") == 2  # no forged second line
    assert "柯城区\\x1b[2J年报\\u202e\\r\\nFAKE" in text and "n=3" in text
