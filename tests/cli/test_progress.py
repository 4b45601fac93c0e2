"""The crawl's progress bar: drawn on a terminal (a pseudo-terminal here), never through
a log line; not drawn at all when stderr is not a terminal (see test_options)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

from tests.portals import Site, build_trs_site

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) \S+: ")


def read_all(fd: int, into: bytearray) -> None:
    """Drain the terminal until the child closes it (so the child never blocks on it)."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child's side is closed
            return
        if not chunk:
            return
        into.extend(chunk)


def test_progress_bar_on_a_terminal_and_log_lines_above_it(serve, tmp_path) -> None:
    site = serve(build_trs_site(Site()))
    config = tmp_path / "portals.toml"
    config.write_text(
        "[defaults]\ndelay = 0\nretries = 2\ntimeout = 2\n"
        f'[[portal]]\nname = "p0"\nstart_urls = ["{site.url("/")}"]\n',
        encoding="utf-8",
    )
    master, slave = pty.openpty()
    output = bytearray()
    reader = threading.Thread(target=read_all, args=(master, output), daemon=True)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    env.pop("NO_COLOR", None)
    try:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "pipeline", "crawl", "--config", str(config),
                "--data-dir", str(tmp_path / "d"),
            ],
            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
            cwd=ROOT, env=env, text=True,
        )  # fmt: skip
        os.close(slave)
        reader.start()
        out, _ = proc.communicate(timeout=60)
        reader.join(timeout=10)
    finally:
        os.close(master)
    assert proc.returncode == 0, output.decode(errors="replace")
    assert "p0: listing pages 3, reports new 6" in out
    screen = output.decode("utf-8", errors="replace")
    assert "━" in screen  # the bar was drawn
    # Every log line starts a line of its own: what the terminal last shows on a line is
    # after its last carriage return, and no bar text is in front of a log line's time.
    lines = [ANSI.sub("", line).rstrip("\r").split("\r")[-1] for line in screen.split("\n")]
    logged = [line for line in lines if "event=" in line]
    assert any("event=portal_done" in line for line in logged)
    assert logged and all(LOG_LINE.match(line) for line in logged), logged
